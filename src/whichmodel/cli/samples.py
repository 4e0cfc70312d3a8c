"""``whichmodel compare-samples``: whichmodel's paired statistics on two lm-evaluation-harness
``--log_samples`` files of the same task (:mod:`whichmodel.analysis.samples`)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from whichmodel.cli import render


def compare_samples_command(
    a: Annotated[str, typer.Argument(metavar="A.jsonl", help="lm-eval samples file of model A.")],
    b: Annotated[str, typer.Argument(metavar="B.jsonl", help="lm-eval samples file of model B.")],
    metric: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="A metric to compare (repeatable; default: every "
                     "per-document metric both files log)."),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME", help="The models' names, A's then B's (give it twice; "
                     "default: lm-eval's model folder names, else the file names)."),
    ] = None,
    bootstrap: Annotated[
        int, typer.Option(metavar="N", help="Bootstrap resamples (default: 1000).")
    ] = 1000,
    seed: Annotated[int, typer.Option(metavar="N", help="Bootstrap seed (default: 0).")] = 0,
    out_dir: Annotated[
        str | None, typer.Option("--out", metavar="DIR", help="Write samples.json here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Paired tests (McNemar, Wilcoxon), paired bootstrap CIs, Holm and disagreements on two
    lm-eval --log_samples files of the same task."""
    from whichmodel.analysis.samples import compare_samples

    result = compare_samples(a, b, names=name, metrics=metric, n_resamples=bootstrap, seed=seed)
    data = asdict(result)
    if out_dir is not None:
        import json

        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "samples.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if as_json:
        render.print_json(data)
    else:
        render.print_samples(result)
