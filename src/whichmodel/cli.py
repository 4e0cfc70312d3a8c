"""The command line: parse, call the API, render. The only module that knows about the terminal."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from whichmodel.errors import ConfigError, WhichModelError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Why do two models behave differently, and which one should you ship?",
)
out = Console()
err = Console(stderr=True)

RefsArg = Annotated[
    list[str],
    typer.Argument(
        help="Model references (sklearn:m.skops, torch:pkg.mod:factory?weights=w.safetensors,"
        " hf:DIR), or one whichmodel.yaml.",
        show_default=False,
    ),
]


@app.command()
def compare(
    refs: RefsArg,
    data: Annotated[
        str | None, typer.Option("--data", "-d", help="CSV, JSONL or Parquet file.")
    ] = None,
    task: Annotated[str | None, typer.Option(help="classification or regression.")] = None,
    input_cols: Annotated[
        str | None, typer.Option(help="Comma-separated input columns (default: all but the label).")
    ] = None,
    label_col: Annotated[str | None, typer.Option(help="Label column (default: label).")] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Evaluation batch size (default: 64).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Bootstrap seed (default: 0).")] = None,
    bootstrap: Annotated[
        int | None, typer.Option(help="Bootstrap resamples (default: 1000).")
    ] = None,
    no_cost: Annotated[
        bool, typer.Option("--no-cost", help="Skip latency and memory measurement.")
    ] = False,
    store: Annotated[
        str | None, typer.Option(help="Run store (default: ./.whichmodel/store.db).")
    ] = None,
    out_dir: Annotated[
        str | None, typer.Option("--out", help="Write results.json and report.html here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    allow_pickle: Annotated[
        bool, typer.Option(help="Allow pickle/joblib files (they can run code).")
    ] = False,
    trust_remote_code: Annotated[
        bool, typer.Option(help="Allow code shipped in Hugging Face folders.")
    ] = False,
    slice_by: Annotated[
        list[str] | None,
        typer.Option(help="A data column to slice the metrics by (repeatable; need not be input)."),
    ] = None,
) -> None:
    """Compare models on your data: metrics with confidence intervals, paired tests, cost."""
    from whichmodel.comparison import CompareConfig, run
    from whichmodel.report.json import comparison_to_dict

    options: dict[str, Any] = {
        "data": data,
        "task": task,
        "label_col": label_col,
        "batch_size": batch_size,
        "seed": seed,
        "n_resamples": bootstrap,
        "store": store,
        "input_cols": tuple(c.strip() for c in input_cols.split(",")) if input_cols else None,
        # Flags count only when given, so that they do not undo a config file's value.
        "measure_cost": False if no_cost else None,
        "allow_pickle": True if allow_pickle else None,
        "trust_remote_code": True if trust_remote_code else None,
        "slice_by": tuple(slice_by) if slice_by else None,
    }
    overrides = {k: v for k, v in options.items() if v is not None}
    if len(refs) == 1 and refs[0].endswith((".yaml", ".yml")):
        from whichmodel.config import load_config

        config, extras = load_config(refs[0])
        config = replace(config, **overrides)
        out_dir = out_dir or extras.get("out")
    elif "data" not in overrides:
        raise ConfigError("Missing --data: the file to evaluate the models on.")
    else:
        config = CompareConfig(refs=tuple(refs), **overrides)
    comparison = _with_progress(lambda progress: run(config, progress=progress))
    results = comparison_to_dict(comparison)
    if out_dir:
        from whichmodel.report.files import write_report

        written = write_report(results, Path(out_dir))
        err.print(f"Wrote {', '.join(str(p) for p in written)}", markup=False)
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2, default=str) + "\n")
    else:
        _print_comparison(results)


@app.command()
def demo(
    workdir: Annotated[
        str, typer.Option(help="Where the demo keeps models, data, store and report.")
    ] = ".whichmodel/demo",
    no_cost: Annotated[
        bool, typer.Option("--no-cost", help="Skip latency and memory measurement.")
    ] = False,
) -> None:
    """Train six models of different families on digits (once), compare them, write a report."""
    from whichmodel.comparison import run
    from whichmodel.demo import prepare_demo
    from whichmodel.report.json import comparison_to_dict

    config = _with_progress(lambda progress: prepare_demo(Path(workdir), progress=progress))
    if no_cost:
        config = replace(config, measure_cost=False)
    comparison = _with_progress(lambda progress: run(config, progress=progress))
    results = comparison_to_dict(comparison)
    from whichmodel.report.files import write_report

    written = write_report(results, Path(workdir) / "report")
    _print_comparison(results)
    out.print(f"\nReport: {written[-1]}", markup=False)
    out.print(
        "The same comparison by hand: whichmodel compare "
        + " ".join(f"'{r}'" for r in config.refs)
        + f" --data {config.data}",
        markup=False,
    )


def _with_progress(work: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # a progress bar in a log or a pipe is only noise
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        return work(progress)


def _fmt_metric(m: dict[str, Any], won: bool) -> str:
    value = _star(f"{m['value']:.4f}", won)
    return f"{value}\n[dim][{m['ci_low']:.4f}, {m['ci_high']:.4f}][/]"


def _star(text: str, won: bool) -> str:
    return f"[bold green]★{text}[/]" if won else text


def _print_comparison(results: dict[str, Any]) -> None:
    from whichmodel.report.summary import summarize

    summary = summarize(results)
    quality = Table(
        box=box.SIMPLE_HEAD,
        title=f"{results['task']}, n={results['data']['n_scored']}, "
        f"{summary.confidence_pct}% bootstrap CI",
    )
    quality.add_column("model")
    for name in summary.metric_names:
        quality.add_column(
            name + (" ↑" if summary.higher_is_better[name] else " ↓"), justify="right"
        )
    for row in summary.rows:
        quality.add_row(
            escape(row.model),
            *[
                _fmt_metric(row.metrics[n], summary.winners.get(n) == row.model)
                if n in row.metrics
                else "—"
                for n in summary.metric_names
            ],
        )
    out.print(quality)
    if summary.cost_columns:
        cost = Table(
            box=box.SIMPLE_HEAD,
            title="cost on this machine (p50: median latency of one call on b examples)",
        )
        cost.add_column("model")
        for col in summary.cost_columns:
            cost.add_column(col, justify="right")
        for row in summary.rows:
            cost.add_row(
                escape(row.model),
                *[
                    _star(row.cost.get(c, "—"), summary.winners.get(c) == row.model)
                    for c in summary.cost_columns
                ],
            )
        out.print(cost)
    for line in summary.significance:
        out.print(line, highlight=False, markup=False)
    for line in summary.notes:
        out.print(f"[yellow]{escape(line)}[/]", highlight=False)
    from whichmodel.report.findings import finding_lines

    for line in finding_lines(results):
        out.print(line, highlight=False, markup=False)


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit code 2."""
    if os.getcwd() not in sys.path:  # as with `python -m`: factories in the current folder import
        sys.path.insert(0, os.getcwd())
    try:
        app()
    except WhichModelError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
