"""``whichmodel compare`` and ``whichmodel demo``: run a comparison, decide, print and report."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from whichmodel.cli import render
from whichmodel.cli.config import Overrides, read_file, resolve, resolve_choice
from whichmodel.cli.options import (
    NO_CHOICE,
    AllowPickleOpt,
    ChoiceFlags,
    FormatOpt,
    NoCostOpt,
    OptionGroup,
    OutDirOpt,
    RefsArg,
    TrustRemoteCodeOpt,
    parse_format,
    parse_ints,
    tasks_help,
    with_groups,
)

if TYPE_CHECKING:
    from whichmodel.choose.constraints import Constraints, Objective
    from whichmodel.comparison import CompareConfig, Outcome


@dataclass(frozen=True)
class CompareFlags(OptionGroup):
    """compare's own options. ``None`` (a switch: off) is a flag not given, which leaves a
    whichmodel.yaml's value as it is (see :mod:`whichmodel.cli.config`)."""

    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            "-d",
            metavar="PATH",
            help="CSV, JSONL or Parquet file, a datasets save_to_disk folder, an image folder, "
            "or an audio folder (audio files + metadata.csv).",
        ),
    ] = None
    task: Annotated[
        str | None,
        typer.Option(
            metavar="TASK", help=tasks_help("One of", "; options as 'name?key=value&...'.")
        ),
    ] = None
    input_cols: Annotated[
        str | None,
        typer.Option(
            metavar="COLS", help="Comma-separated input columns (default: all but the label)."
        ),
    ] = None
    label_col: Annotated[
        str | None, typer.Option(metavar="COLUMN", help="Label column (default: label).")
    ] = None
    batch_size: Annotated[
        int | None, typer.Option(metavar="N", help="Evaluation batch size (default: 64).")
    ] = None
    seed: Annotated[
        int | None, typer.Option(metavar="N", help="Bootstrap seed (default: 0).")
    ] = None
    bootstrap: Annotated[
        int | None, typer.Option(metavar="N", help="Bootstrap resamples (default: 1000).")
    ] = None
    input_shape: Annotated[
        str | None,
        typer.Option(
            metavar="SHAPE",
            help="One example's shape for torch: and onnx: models, e.g. 1,8,8: each batch of "
            "rows is reshaped to it.",
        ),
    ] = None
    no_cost: NoCostOpt = False
    threads: Annotated[
        int | None,
        typer.Option(metavar="N", help="Threads every model's cost is measured with (default: 1)."),
    ] = None
    refresh_cost: Annotated[
        bool,
        typer.Option("--refresh-cost", help="Measure the cost again, not from the store."),
    ] = False
    store: Annotated[
        str | None,
        typer.Option(metavar="FILE", help="Run store (default: ./.whichmodel/store.db)."),
    ] = None
    out_dir: OutDirOpt = None
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False
    allow_pickle: AllowPickleOpt = False
    trust_remote_code: TrustRemoteCodeOpt = False

    def overrides(self, *, slice_by: list[str] | None) -> dict[str, Any]:
        """The CompareConfig fields these flags (and ``--slice-by``) set, and only those."""
        options: dict[str, Any] = {
            "data": self.data,
            "task": self.task,
            "label_col": self.label_col,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "n_resamples": self.bootstrap,
            "store": self.store,
            "input_cols": tuple(c.strip() for c in self.input_cols.split(","))
            if self.input_cols
            else None,
            "measure_cost": False if self.no_cost else None,
            "threads": self.threads,
            "refresh_cost": True if self.refresh_cost else None,
            "allow_pickle": True if self.allow_pickle else None,
            "trust_remote_code": True if self.trust_remote_code else None,
            "slice_by": tuple(slice_by) if slice_by else None,
            "input_shape": parse_ints(self.input_shape, "--input-shape"),
        }
        return {k: v for k, v in options.items() if v is not None}


NO_FLAGS = CompareFlags()
SliceByOpt = Annotated[
    list[str] | None,
    typer.Option(
        metavar="COLUMN",
        help="A data column to slice the metrics by (repeatable; need not be input).",
    ),
]


@with_groups
def compare(
    refs: RefsArg,
    flags: CompareFlags = NO_FLAGS,
    choice: ChoiceFlags = NO_CHOICE,
    output_format: FormatOpt = None,
    slice_by: SliceByOpt = None,
) -> None:
    """Compare models on your data: metrics with confidence intervals, paired tests, cost, and
    which one to ship under your constraints."""
    from whichmodel.report.files import report_guard

    fmt = parse_format("json" if flags.as_json and output_format is None else output_format)
    overrides = Overrides(tuple(refs), flags.overrides(slice_by=slice_by), flags.out_dir, choice)
    config = resolve(read_file(refs), overrides)  # bad flags fail before any work
    with report_guard(Path(config.out) if config.out else None):
        outcome = compared(config.compare, config.constraints, config.objective)
        render.emit(outcome, fmt, config.out)


def demo(
    workdir: Annotated[
        str,
        typer.Option(metavar="DIR", help="Where the demo keeps models, data, store and report."),
    ] = ".whichmodel/demo",
    no_cost: NoCostOpt = False,
) -> None:
    """Train six models of different families on digits (once), compare them, write a report."""
    from whichmodel.demo import prepare_demo
    from whichmodel.report.files import write_report

    config = render.with_progress(lambda progress: prepare_demo(Path(workdir), progress=progress))
    if no_cost:
        config = replace(config, measure_cost=False)
    outcome = compared(config, *resolve_choice())
    written = write_report(outcome, Path(workdir) / "report")
    render.print_demo(outcome, written[-1], config.refs, config.data)


def compared(config: CompareConfig, constraints: Constraints, objective: Objective) -> Outcome:
    """Run a comparison under a progress bar: its results, with the decision the run made under
    ``constraints`` and ``objective`` and the command that asked."""
    from whichmodel import api
    from whichmodel.comparison import Outcome

    result = render.with_progress(
        lambda progress: api.run(
            config, progress=progress, constraints=constraints, objective=objective
        )
    )
    return Outcome(result.results(), result.decision, command_line())


def command_line() -> str:
    """The command as the user typed it, which a decision records (compare's own command is
    also in the provenance)."""
    return " ".join(sys.argv)
