"""``whichmodel choose`` (decide from a saved comparison), ``whichmodel report`` (write a saved
comparison's report again) and ``whichmodel gate`` (the CI regression gate: exit 3 when a
candidate is worse than the baseline or breaks a limit)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from whichmodel.cli import render
from whichmodel.cli.compare import command_line, compared
from whichmodel.cli.config import resolve_choice
from whichmodel.cli.options import (
    NO_CHOICE,
    NO_LIMITS,
    ChoiceFlags,
    FormatOpt,
    LimitFlags,
    OptionGroup,
    OutDirOpt,
    StoreOpt,
    parse_format,
    parse_min_delta,
    with_groups,
)
from whichmodel.errors import ConfigError

if TYPE_CHECKING:
    from whichmodel.choose.constraints import Constraints, Objective
    from whichmodel.comparison import CompareConfig, Outcome


@with_groups
def choose(
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="[RUN_ID|FILE]",
            help="A results.json, or a run id in the store (default: the latest run).",
        ),
    ] = None,
    store: StoreOpt = ".whichmodel/store.db",
    choice: ChoiceFlags = NO_CHOICE,
    metric: Annotated[
        str | None,
        typer.Option(metavar="METRIC", help="Quality metric (default: the task's first)."),
    ] = None,
    output_format: FormatOpt = None,
    out_dir: OutDirOpt = None,
) -> None:
    """Decide which model to ship from a saved comparison, without measuring anything again."""
    from whichmodel.choose import load_results
    from whichmodel.choose.decide import decide
    from whichmodel.report.files import report_guard

    fmt = parse_format(output_format)
    constraints, objective = resolve_choice(choice, metric=metric)
    with report_guard(Path(out_dir) if out_dir else None):
        outcome = load_results(source, store=store)
        decision = decide(outcome.results, constraints, objective)
        render.emit(replace(outcome, decision=decision, command=command_line()), fmt, out_dir)


def report_command(
    source: Annotated[
        str,
        typer.Argument(
            metavar="RUN_ID|FILE",
            help="A run id in the store (or its first characters), or a results.json.",
        ),
    ],
    out_dir: Annotated[
        str, typer.Option("--out", metavar="DIR", help="Write results.json and report.html here.")
    ],
    store: StoreOpt = ".whichmodel/store.db",
) -> None:
    """Write the report of a stored run or of a results.json again, measuring nothing: the
    results.json and report.html that compare --out or choose --out write. A results.json keeps
    its decision; a run in the store gets the decision choose gives it without flags."""
    from whichmodel.choose import load_results
    from whichmodel.choose.decide import decide
    from whichmodel.report.files import report_guard

    with report_guard(Path(out_dir)):
        outcome = load_results(source, store=store)
        if outcome.decision is None:  # the store keeps a run's results, not its decision
            decision = decide(outcome.results, *resolve_choice())
            outcome = replace(outcome, decision=decision, command=command_line())
        render.write_folder(outcome, Path(out_dir))


@dataclass(frozen=True)
class GateFlags(OptionGroup):
    """gate's own options: the data, the metrics that must not regress and by how much."""

    data: Annotated[
        str, typer.Option("--data", "-d", metavar="FILE", help="CSV, JSONL or Parquet file.")
    ]
    task: Annotated[
        str, typer.Option(metavar="TASK", help="classification or regression.")
    ] = "classification"
    label_col: Annotated[str, typer.Option(metavar="COLUMN", help="Label column.")] = "label"
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            metavar="METRIC",
            help="Metric that must not regress (repeatable; default: all).",
        ),
    ] = None
    min_delta: Annotated[
        list[str] | None,
        typer.Option(
            "--min-delta",
            metavar="DELTA|METRIC=DELTA",
            help="Tolerated loss: a number for every metric, or METRIC=VALUE (repeatable).",
        ),
    ] = None
    no_cost: Annotated[bool, typer.Option("--no-cost", help="Skip cost measurement.")] = False
    store: StoreOpt = ".whichmodel/store.db"
    baseline_run: Annotated[
        str | None,
        typer.Option(
            "--baseline-run",
            metavar="RUN_ID[:MODEL]",
            help="Take the baseline from a stored run (MODEL: which of its models) on the same "
            "data, not evaluated again; then give CANDIDATE alone.",
        ),
    ] = None

    def config(self, baseline: str, candidate: str) -> CompareConfig:
        """The comparison of ``baseline`` and ``candidate`` (in that order) the gate runs."""
        from whichmodel.comparison import CompareConfig

        return CompareConfig(
            refs=(baseline, candidate),
            data=self.data,
            task=self.task,
            label_col=self.label_col,
            measure_cost=not self.no_cost,
            store=self.store,
        )


NO_GATE_FLAGS = GateFlags(data="")  # a placeholder: typer passes the real --data


@with_groups
def gate(
    models: Annotated[
        list[str],
        typer.Argument(
            metavar="BASELINE CANDIDATE",
            help="The model in production now and the one that would replace it (references); "
            "CANDIDATE alone with --baseline-run.",
            show_default=False,
        ),
    ],
    flags: GateFlags = NO_GATE_FLAGS,
    limits: LimitFlags = NO_LIMITS,
    output_format: FormatOpt = None,
    out_dir: OutDirOpt = None,
) -> None:
    """CI regression gate: exit 3 when CANDIDATE is significantly worse than BASELINE on a
    metric (beyond --min-delta) or breaks a limit; exit 0 when it passes."""
    from whichmodel.choose.gate import GATE_FAILED_EXIT_CODE
    from whichmodel.choose.gate import gate as check_gate
    from whichmodel.report.files import report_guard
    from whichmodel.tasks import get_task
    from whichmodel.tasks.base import check_metric_names

    fmt = parse_format(output_format)
    constraints, objective = resolve_choice(limits)
    tolerance = parse_min_delta(flags.min_delta or [])
    baseline, candidate = _gated(models, flags.baseline_run)
    config = flags.config(baseline, candidate)
    check_metric_names(get_task(config.task), [("--metric", m) for m in flags.metric or ()])
    with report_guard(Path(out_dir) if out_dir else None):
        if flags.baseline_run is None:
            outcome = compared(config, constraints, objective)
        else:
            candidate_only = replace(config, refs=(candidate,))
            outcome = _against_run(flags, candidate_only, constraints, objective)
        first, second = outcome.results.model_names  # the names the comparison gave them
        verdict = check_gate(
            outcome.results, baseline=first, candidate=second,
            metrics=tuple(flags.metric or ()), min_delta=tolerance, constraints=constraints,
        )  # fmt: skip
        render.emit(replace(outcome, gate=verdict), fmt, out_dir)
    if not verdict.passed:
        raise typer.Exit(GATE_FAILED_EXIT_CODE)


def _gated(models: list[str], baseline_run: str | None) -> tuple[str, str]:
    """(baseline, candidate) of gate's arguments; with --baseline-run the baseline is that
    option's value (the run, read later). ConfigError for any other number of models."""
    if baseline_run is not None and len(models) == 1:
        return baseline_run, models[0]
    if baseline_run is None and len(models) == 2:
        return models[0], models[1]
    wanted = "CANDIDATE alone with --baseline-run" if baseline_run else "BASELINE and CANDIDATE"
    raise ConfigError(f"gate takes {wanted}. Got {len(models)} model references instead.")


def _against_run(
    flags: GateFlags, config: CompareConfig, constraints: Constraints, objective: Objective
) -> Outcome:
    """The comparison of the baseline of the stored run --baseline-run names (RUN_ID[:MODEL])
    with the one model of ``config``, which alone is evaluated."""
    from whichmodel.api_baseline import baseline_model, run_against
    from whichmodel.choose import load_results
    from whichmodel.comparison import Outcome

    assert flags.baseline_run is not None
    source, model = flags.baseline_run, None
    if ":" in source and not Path(source).is_file():  # run ids are hex: no colon of their own
        source, _, model = source.rpartition(":")
    stored = load_results(source, store=flags.store).results
    baseline = baseline_model(stored, model or None)
    result = render.with_progress(
        lambda progress: run_against(
            config, stored, baseline, progress=progress, constraints=constraints,
            objective=objective,
        )
    )  # fmt: skip
    return Outcome(result.results(), result.decision, command_line())
