"""``whichmodel inspect`` and ``whichmodel diff``: spec sheets, read from the artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from whichmodel.cli import render
from whichmodel.cli.options import AllowPickleOpt, TrustRemoteCodeOpt, parse_shape
from whichmodel.refs import kinds_help

# The weight diff's options (whichmodel.cli.weights).
WeightsOpt = Annotated[
    bool,
    typer.Option("--weights", help="Compare the weights tensor by tensor instead: what "
                 "fine-tuning changed, per block and module."),
]
BaseOpt = Annotated[
    str | None,
    typer.Option(metavar="REF", help="With --weights: the base model of an adapter folder "
                 "(default: the base its config names, else the other model)."),
]
OutOpt = Annotated[
    str | None,
    typer.Option("--out", metavar="DIR", help="With --weights: write weight_diff.json, .md and "
                 ".html here."),
]


def inspect_command(
    ref: Annotated[str, typer.Argument(metavar="REF", help=f"A model reference: {kinds_help()}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the sheet as JSON.")] = False,
    text: Annotated[
        str | None, typer.Option(metavar="FILE", help="Measure the tokenizer on this text file.")
    ] = None,
    context: Annotated[
        int | None, typer.Option(metavar="N", help="Tokens of context for FLOPs and KV cache.")
    ] = None,
    dtype: Annotated[
        str | None,
        typer.Option(metavar="DTYPE", help="dtype for memory: fp32, fp16, bf16, int8, int4."),
    ] = None,
    batch: Annotated[int, typer.Option(metavar="N", help="Sequences in the KV cache.")] = 1,
    input_shape: Annotated[
        str | None,
        typer.Option(metavar="SHAPE", help="One example's shape for torch FLOPs, e.g. 1,8,8."),
    ] = None,
    training_tokens: Annotated[
        int | None,
        typer.Option(metavar="N", help="Training tokens D for the 6·N·D estimate."),
    ] = None,
    allow_pickle: AllowPickleOpt = False,
    trust_remote_code: TrustRemoteCodeOpt = False,
) -> None:
    """Print a model's spec sheet: size, FLOPs, memory, KV cache, design, tokenizer, files."""
    from whichmodel.sources import inspect
    from whichmodel.sources.base import LoadOptions
    from whichmodel.spec import InspectOptions

    options = InspectOptions(
        context=context, dtype=dtype, batch=batch, text=Path(text) if text else None,
        input_shape=parse_shape(input_shape), training_tokens=training_tokens,
        load=LoadOptions(allow_pickle=allow_pickle, trust_remote_code=trust_remote_code),
    )
    sheet = inspect(ref, options)
    if as_json:
        render.print_json(sheet.to_dict())
    else:
        render.print_sheet(sheet)


def diff_command(
    a: Annotated[str, typer.Argument(metavar="REF_A", help="First model reference.")],
    b: Annotated[str, typer.Argument(metavar="REF_B", help="Second model reference.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
    context: Annotated[
        int | None,
        typer.Option(metavar="N", help="Tokens of context for FLOPs and KV cache (both models)."),
    ] = None,
    dtype: Annotated[
        str | None, typer.Option(metavar="DTYPE", help="dtype for memory (both models).")
    ] = None,
    allow_pickle: AllowPickleOpt = False,
    trust_remote_code: TrustRemoteCodeOpt = False,
    weights: WeightsOpt = False,
    base: BaseOpt = None,
    out_dir: OutOpt = None,
) -> None:
    """Two spec sheets side by side: the differences first, each with what it costs. With
    --weights: the weight diff of two checkpoints."""
    if weights or base is not None or out_dir is not None:
        from whichmodel.cli.weights import weight_diff_command

        spec_only = context is not None or dtype is not None or trust_remote_code
        weight_diff_command(a, b, weights=weights, base=base, allow_pickle=allow_pickle,
                            as_json=as_json, out_dir=out_dir, spec_only=spec_only)
        return
    from whichmodel.report.spec import diff_to_dict
    from whichmodel.sources import inspect
    from whichmodel.sources.base import LoadOptions
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.diff import diff

    load = LoadOptions(allow_pickle=allow_pickle, trust_remote_code=trust_remote_code)
    options = InspectOptions(context=context, dtype=dtype, load=load)
    result = diff(inspect(a, options), inspect(b, options))
    if as_json:
        render.print_json(diff_to_dict(result))
    else:
        render.print_diff(result)
