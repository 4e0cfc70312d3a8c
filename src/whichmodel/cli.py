"""The command line: parse, call the API, render. The only module that knows about the terminal."""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from whichmodel.errors import ConfigError, WhichModelError
from whichmodel.refs import kinds_help

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Why do two models behave differently, and which one should you ship?",
)


class _Console(Console):
    """A rich console that never sends a control character from data (a model's name, a class
    label, an example's text) to the terminal: each is shown as ``\\xNN`` (see printable)."""

    def render_str(self, text: str, **kwargs: Any) -> Any:
        return super().render_str(printable(text), **kwargs)


out = _Console()
err = _Console(stderr=True)

RefsArg = Annotated[
    list[str],
    typer.Argument(
        help=f"Model references ({kinds_help()}), or one whichmodel.yaml.",
        show_default=False,
    ),
]


# Constraint and objective flags, shared by compare, choose and gate (see whichmodel.choose).
MaxLatencyOpt = Annotated[
    float | None,
    typer.Option(
        "--max-latency-ms", help="Latency limit: one call at --latency-batch examples (ms)."
    ),
]
MaxMemoryOpt = Annotated[
    float | None, typer.Option("--max-memory-mb", help="Model memory limit (MB of 2^20 bytes).")
]
MinOpt = Annotated[
    list[str] | None,
    typer.Option("--min", help="Lowest allowed value of a metric: METRIC=VALUE (repeatable)."),
]
MaxOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--max", help="Highest allowed value of a lower-is-better metric: METRIC=VALUE."
    ),
]
MaxCostOpt = Annotated[
    float | None,
    typer.Option("--max-cost-per-1k", help="Cost limit per 1,000 predictions (needs a price)."),
]
PriceOpt = Annotated[
    float | None, typer.Option("--price-per-hour", help="What an hour of this machine costs.")
]
PreferOpt = Annotated[
    str | None, typer.Option("--prefer", help="Rank by accuracy (quality), latency or memory.")
]
WeightsOpt = Annotated[
    str | None, typer.Option("--weights", help="Rank by weights, e.g. accuracy=2,latency=1.")
]
LatencyBatchOpt = Annotated[
    int | None, typer.Option("--latency-batch", help="Batch size of the latency limit (1).")
]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="text, markdown (for pull requests) or json.")
]


@app.command()
def compare(
    refs: RefsArg,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            "-d",
            help="CSV, JSONL or Parquet file, a datasets save_to_disk folder, an image folder, "
            "or an audio folder (audio files + metadata.csv).",
        ),
    ] = None,
    task: Annotated[
        str | None,
        typer.Option(
            help="classification, regression, multilabel, language-modeling, multiple-choice, "
            "generation, retrieval or speech-to-text; options as 'name?key=value&...'."
        ),
    ] = None,
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
    max_latency_ms: MaxLatencyOpt = None,
    max_memory_mb: MaxMemoryOpt = None,
    min_metric: MinOpt = None,
    max_metric: MaxOpt = None,
    max_cost_per_1k: MaxCostOpt = None,
    price_per_hour: PriceOpt = None,
    prefer: PreferOpt = None,
    weights: WeightsOpt = None,
    latency_batch: LatencyBatchOpt = None,
    output_format: FormatOpt = None,
    slice_by: Annotated[
        list[str] | None,
        typer.Option(help="A data column to slice the metrics by (repeatable; need not be input)."),
    ] = None,
) -> None:
    """Compare models on your data: metrics with confidence intervals, paired tests, cost, and
    which one to ship under your constraints."""
    from whichmodel.api import run
    from whichmodel.comparison import CompareConfig
    from whichmodel.report.json import comparison_to_dict

    choice = {
        "max_latency_ms": max_latency_ms,
        "max_memory_mb": max_memory_mb,
        "min_metrics": min_metric,
        "max_metrics": max_metric,
        "max_cost_per_1k": max_cost_per_1k,
        "price_per_hour": price_per_hour,
        "prefer": prefer,
        "weights": weights,
        "latency_batch_size": latency_batch,
    }
    fmt = _output_format("json" if as_json and output_format is None else output_format)
    yaml_choice: Any = None

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
        yaml_choice = (extras.get("choose"), refs[0])
    elif "data" not in overrides:
        raise ConfigError("Missing --data: the file to evaluate the models on.")
    else:
        config = CompareConfig(refs=tuple(refs), **overrides)
    constraints, objective = _choice(choice, yaml_choice)  # bad flags fail before any work
    with _report_run(out_dir):
        comparison = _with_progress(lambda progress: run(config, progress=progress))
        results = comparison_to_dict(comparison)
        _add_decision(results, constraints, objective)
        _emit(results, fmt, out_dir)


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
    from whichmodel.api import run
    from whichmodel.demo import prepare_demo
    from whichmodel.report.json import comparison_to_dict

    config = _with_progress(lambda progress: prepare_demo(Path(workdir), progress=progress))
    if no_cost:
        config = replace(config, measure_cost=False)
    comparison = _with_progress(lambda progress: run(config, progress=progress))
    results = comparison_to_dict(comparison)
    _add_decision(results, *_choice({}, None))
    from whichmodel.report.files import write_report

    written = write_report(results, Path(workdir) / "report")
    _print_comparison(results)
    _print_decision(results)
    out.print(f"\nReport: {written[-1]}", markup=False)
    out.print(
        "The same comparison by hand: whichmodel compare "
        + " ".join(f"'{r}'" for r in config.refs)
        + f" --data {config.data}",
        markup=False,
    )


@app.command("inspect")
def inspect_command(
    ref: Annotated[str, typer.Argument(help=f"A model reference: {kinds_help()}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the sheet as JSON.")] = False,
    text: Annotated[
        str | None, typer.Option(help="Measure the tokenizer on this text file.")
    ] = None,
    context: Annotated[
        int | None, typer.Option(help="Tokens of context for FLOPs and KV cache.")
    ] = None,
    dtype: Annotated[
        str | None, typer.Option(help="dtype for memory: fp32, fp16, bf16, int8, int4.")
    ] = None,
    batch: Annotated[int, typer.Option(help="Sequences in the KV cache.")] = 1,
    input_shape: Annotated[
        str | None, typer.Option(help="One example's shape for torch FLOPs, e.g. 1,8,8.")
    ] = None,
    training_tokens: Annotated[
        int | None, typer.Option(help="Training tokens D for the 6·N·D estimate.")
    ] = None,
    allow_pickle: Annotated[
        bool, typer.Option(help="Allow pickle/joblib files (they can run code).")
    ] = False,
    trust_remote_code: Annotated[
        bool, typer.Option(help="Allow code shipped in Hugging Face folders.")
    ] = False,
) -> None:
    """Print a model's spec sheet: size, FLOPs, memory, KV cache, design, tokenizer, files."""
    from whichmodel.sources import inspect
    from whichmodel.sources.base import LoadOptions
    from whichmodel.spec import InspectOptions

    options = InspectOptions(
        context=context, dtype=dtype, batch=batch, text=Path(text) if text else None,
        input_shape=_shape(input_shape), training_tokens=training_tokens,
        load=LoadOptions(allow_pickle=allow_pickle, trust_remote_code=trust_remote_code),
    )
    sheet = inspect(ref, options)
    if as_json:
        sys.stdout.write(json.dumps(sheet.to_dict(), indent=2, default=str) + "\n")
        return
    from whichmodel.report.spec import context_line, sheet_rows

    table = Table(box=box.SIMPLE_HEAD, title=escape(f"{sheet.identity.name}: "
                                                    f"{sheet.identity.architecture.value}"),
                  caption=escape(context_line(sheet)))
    for col in ("fact", "value", "source", "note"):
        table.add_column(col, overflow="fold")
    for key, value, source, note in sheet_rows(sheet):
        table.add_row(escape(key), escape(value), escape(source), f"[dim]{escape(note)}[/]")
    out.print(table)
    for note in sheet.notes:
        out.print(f"[yellow]{escape(note)}[/]", highlight=False)


def _shape(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--input-shape must be integers separated by commas. Got {text!r}."
        ) from None


@app.command("diff")
def diff_command(
    a: Annotated[str, typer.Argument(help="First model reference.")],
    b: Annotated[str, typer.Argument(help="Second model reference.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
    context: Annotated[
        int | None, typer.Option(help="Tokens of context for FLOPs and KV cache (both models).")
    ] = None,
    dtype: Annotated[str | None, typer.Option(help="dtype for memory (both models).")] = None,
) -> None:
    """Two spec sheets side by side: the differences first, each with what it costs."""
    from whichmodel.report.spec import diff_rows, diff_to_dict
    from whichmodel.sources import inspect
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.diff import diff

    options = InspectOptions(context=context, dtype=dtype)
    result = diff(inspect(a, options), inspect(b, options))
    if as_json:
        sys.stdout.write(json.dumps(diff_to_dict(result), indent=2, default=str) + "\n")
        return
    a_name, b_name = result.a.identity.name, result.b.identity.name
    out.print(f"{a_name} vs {b_name}: {len(result.differences)} differences, "
              f"{len(result.same)} facts the same", markup=False, highlight=False)
    rows = diff_rows(result)
    for *_, consequence in rows:
        if consequence:
            out.print(f"  • {consequence}", markup=False, highlight=False)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("fact", no_wrap=True)
    table.add_column(escape(a_name), overflow="fold")
    table.add_column(escape(b_name), overflow="fold")
    for key, va, vb, _ in rows:
        table.add_row(escape(key), escape(va), escape(vb))
    out.print(table)
def _ints(text: str | None, option: str) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise ConfigError(
            f"The '{option}' option must be comma-separated integers, e.g. 1,8,32. Got {text!r}."
        ) from exc


@app.command("windows")
def windows_command(
    data: Annotated[str, typer.Argument(help="Long data: CSV, JSONL or Parquet.")],
    out_path: Annotated[str, typer.Option("--out", help="Windows file (.jsonl or .parquet).")],
    history: Annotated[int, typer.Option(min=1, help="Values a model sees per window.")],
    horizon: Annotated[int, typer.Option(min=1, help="Values it forecasts per window.")],
    step: Annotated[
        int | None, typer.Option(min=1, help="Between window origins (default: horizon).")
    ] = None,
    last: Annotated[
        int | None, typer.Option(min=1, help="Keep each series' last N windows (default: all).")
    ] = None,
    series_col: Annotated[str, typer.Option(help="Series id column.")] = "unique_id",
    time_col: Annotated[str, typer.Option(help="Time column (sorts each series).")] = "ds",
    value_col: Annotated[str, typer.Option(help="Value column.")] = "y",
) -> None:
    """Cut long time series (series id, time, value) into forecast windows for
    --task forecasting (one row per window: series, origin, history, target)."""
    from whichmodel.data.tables import read_table
    from whichmodel.tasks.forecast_windows import windows_frame, write_windows

    frame = windows_frame(
        read_table(data),
        history=history,
        horizon=horizon,
        step=step,
        last=last,
        series_col=series_col,
        time_col=time_col,
        value_col=value_col,
    )
    write_windows(frame, out_path)
    out.print(
        f"{len(frame)} windows of {frame['series'].nunique()} series -> {out_path}; compare with "
        f"--input-cols history --label-col target --task 'forecasting?horizon={horizon}"
        "&series=series&season=...'",
        markup=False,
        highlight=False,
    )


@app.command("bench")
def bench_command(
    refs: RefsArg,
    batch: Annotated[str, typer.Option(help="Batch sizes to time, comma-separated.")] = "1,8,32",
    variant: Annotated[
        str,
        typer.Option(
            help="Variants: original, fp32, bf16, fp16, int8, int8-torchao, onnx, compile. "
            "The first is the reference for quality deltas."
        ),
    ] = "original",
    threads: Annotated[
        int | None, typer.Option(help="Intra-op threads (default: all usable CPUs).")
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", "-d", help="Time your examples; score each variant.")
    ] = None,
    task: Annotated[
        str, typer.Option(help="classification, regression, or lm (text, no labels).")
    ] = "classification",
    label_col: Annotated[str, typer.Option(help="Label column of --data.")] = "label",
    input_shape: Annotated[
        str | None, typer.Option(help="Without --data: one example's shape, e.g. 1,28,28.")
    ] = None,
    prompt_tokens: Annotated[str, typer.Option(help="LLMs: prompt lengths.")] = "32",
    new_tokens: Annotated[str, typer.Option(help="LLMs: tokens to generate.")] = "16",
    gen_batch: Annotated[str, typer.Option(help="LLMs: generation batch sizes.")] = "1",
    budget: Annotated[float, typer.Option(help="Seconds per timed configuration.")] = 1.0,
    store: Annotated[str, typer.Option(help="Run store.")] = ".whichmodel/store.db",
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False,
    allow_pickle: Annotated[bool, typer.Option(help="Allow pickle/joblib files.")] = False,
    trust_remote_code: Annotated[bool, typer.Option(help="Allow code in HF folders.")] = False,
) -> None:
    """Latency, throughput and memory of models and their variants, on this machine."""
    from whichmodel.bench.base import GenerationConfig
    from whichmodel.bench.run import BenchConfig, run
    from whichmodel.refs import parse_ref
    from whichmodel.report.bench import cost_to_dict

    config = BenchConfig(
        refs=tuple(refs),
        batch_sizes=_ints(batch, "--batch") or (),
        variants=tuple(v.strip() for v in variant.split(",") if v.strip()),
        threads=threads,
        data=data,
        task=task,
        label_col=label_col,
        input_shape=_ints(input_shape, "--input-shape"),
        generation=GenerationConfig(
            prompt_tokens=_ints(prompt_tokens, "--prompt-tokens") or (32,),
            new_tokens=_ints(new_tokens, "--new-tokens") or (16,),
            batch_sizes=_ints(gen_batch, "--gen-batch") or (1,),
        ),
        budget_s=budget,
        store=store,
        allow_pickle=allow_pickle,
        trust_remote_code=trust_remote_code,
    )
    profiles = _with_progress(lambda progress: run(config, progress=progress))
    names = [parse_ref(r).name for r in config.refs]
    results = [cost_to_dict(p, name=n) for p, n in zip(profiles, names, strict=True)]
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2, default=str) + "\n")
        return
    for result in results:
        _print_bench(result)


def _print_bench(result: dict[str, Any]) -> None:
    from whichmodel.report.bench import generation_rows, latency_rows, memory_rows, notes

    title = f"{result['name']} ({result['architecture']}) on {result['hardware'].get('cpu', '?')}"
    for rows, caption in (
        (latency_rows(result), title + ": latency of one call on b examples"),
        (memory_rows(result), "memory and cold start"),
        (generation_rows(result), "generation (greedy)"),
    ):
        if not rows:
            continue
        table = Table(box=box.SIMPLE_HEAD, title=escape(caption))
        for col in rows[0]:
            table.add_column(col, justify="left" if col == "variant" else "right")
        for row in rows:
            table.add_row(*[escape(v) for v in row.values()])
        out.print(table)
    for line in notes(result):
        out.print(line, highlight=False, markup=False)


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


@app.command()
def choose(
    source: Annotated[
        str | None,
        typer.Argument(help="A results.json, or a run id in the store (default: the latest run)."),
    ] = None,
    store: Annotated[
        str, typer.Option(help="Run store to read runs from.")
    ] = ".whichmodel/store.db",
    max_latency_ms: MaxLatencyOpt = None,
    max_memory_mb: MaxMemoryOpt = None,
    min_metric: MinOpt = None,
    max_metric: MaxOpt = None,
    max_cost_per_1k: MaxCostOpt = None,
    price_per_hour: PriceOpt = None,
    prefer: PreferOpt = None,
    weights: WeightsOpt = None,
    latency_batch: LatencyBatchOpt = None,
    metric: Annotated[
        str | None, typer.Option(help="Quality metric (default: the task's first).")
    ] = None,
    output_format: FormatOpt = None,
    out_dir: Annotated[
        str | None, typer.Option("--out", help="Write results.json and report.html here.")
    ] = None,
) -> None:
    """Decide which model to ship from a saved comparison, without measuring anything again."""
    from whichmodel.choose import load_results

    fmt = _output_format(output_format)
    choice = {
        "max_latency_ms": max_latency_ms,
        "max_memory_mb": max_memory_mb,
        "min_metrics": min_metric,
        "max_metrics": max_metric,
        "max_cost_per_1k": max_cost_per_1k,
        "price_per_hour": price_per_hour,
        "prefer": prefer,
        "weights": weights,
        "latency_batch_size": latency_batch,
        "metric": metric,
    }
    constraints, objective = _choice(choice, None)
    with _report_run(out_dir):
        results = load_results(source, store=store)
        _add_decision(results, constraints, objective)
        _emit(results, fmt, out_dir)


@app.command()
def gate(
    baseline: Annotated[str, typer.Argument(help="The model in production now (a reference).")],
    candidate: Annotated[str, typer.Argument(help="The model that would replace it.")],
    data: Annotated[str, typer.Option("--data", "-d", help="CSV, JSONL or Parquet file.")],
    task: Annotated[str, typer.Option(help="classification or regression.")] = "classification",
    label_col: Annotated[str, typer.Option(help="Label column.")] = "label",
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="Metric that must not regress (repeatable; default: all)."),
    ] = None,
    min_delta: Annotated[
        list[str] | None,
        typer.Option(
            "--min-delta",
            help="Tolerated loss: a number for every metric, or METRIC=VALUE (repeatable).",
        ),
    ] = None,
    no_cost: Annotated[bool, typer.Option("--no-cost", help="Skip cost measurement.")] = False,
    store: Annotated[str, typer.Option(help="Run store.")] = ".whichmodel/store.db",
    max_latency_ms: MaxLatencyOpt = None,
    max_memory_mb: MaxMemoryOpt = None,
    min_metric: MinOpt = None,
    max_metric: MaxOpt = None,
    max_cost_per_1k: MaxCostOpt = None,
    price_per_hour: PriceOpt = None,
    latency_batch: LatencyBatchOpt = None,
    output_format: FormatOpt = None,
    out_dir: Annotated[
        str | None, typer.Option("--out", help="Write results.json and report.html here.")
    ] = None,
) -> None:
    """CI regression gate: exit 3 when CANDIDATE is significantly worse than BASELINE on a
    metric (beyond --min-delta) or breaks a limit; exit 0 when it passes."""
    from whichmodel.api import run
    from whichmodel.choose.gate import GATE_FAILED_EXIT_CODE
    from whichmodel.choose.gate import gate as run_gate
    from whichmodel.comparison import CompareConfig
    from whichmodel.report.json import comparison_to_dict

    fmt = _output_format(output_format)
    choice = {
        "max_latency_ms": max_latency_ms,
        "max_memory_mb": max_memory_mb,
        "min_metrics": min_metric,
        "max_metrics": max_metric,
        "max_cost_per_1k": max_cost_per_1k,
        "price_per_hour": price_per_hour,
        "latency_batch_size": latency_batch,
    }
    constraints, objective = _choice(choice, None)
    tolerance = _min_delta(min_delta or [])
    config = CompareConfig(
        refs=(baseline, candidate),
        data=data,
        task=task,
        label_col=label_col,
        measure_cost=not no_cost,
        store=store,
    )
    with _report_run(out_dir):
        comparison = _with_progress(lambda progress: run(config, progress=progress))
        results = comparison_to_dict(comparison)
        base, cand = (m["name"] for m in results["models"])
        verdict = run_gate(
            results,
            baseline=base,
            candidate=cand,
            metrics=tuple(metric or ()),
            min_delta=tolerance,
            constraints=constraints,
        )
        results["gate"] = verdict.to_dict()
        _add_decision(results, constraints, objective)
        _emit(results, fmt, out_dir)
    if not verdict.passed:
        raise typer.Exit(GATE_FAILED_EXIT_CODE)


@contextlib.contextmanager
def _report_run(out_dir: str | None) -> Iterator[None]:
    """Checks ``--out`` before any work; if the work then fails, removes the report files an
    earlier run left there, so that none looks like this run's."""
    from whichmodel.report.files import check_report_folder, discard_report

    folder = Path(out_dir) if out_dir else None
    if folder is not None:
        check_report_folder(folder)
    try:
        yield
    except BaseException:
        if folder is not None and folder.is_dir():
            discard_report(folder)
        raise


def _output_format(name: str | None) -> str:
    fmt = (name or "text").lower()
    if fmt not in ("text", "markdown", "json"):
        raise ConfigError(f"--format must be text, markdown or json. Got {name!r}.")
    return fmt


def _choice(flags: dict[str, Any], from_yaml: Any) -> tuple[Any, Any]:
    """(Constraints, Objective) from a whichmodel.yaml's 'choose' block and the flags given."""
    from whichmodel.choose.constraints import (
        Constraints,
        Objective,
        from_mapping,
        parse_pairs,
        preferred,
        weights_from,
    )

    constraints, objective = Constraints(), Objective()
    if from_yaml is not None:
        constraints, objective = from_mapping(from_yaml[0], where=from_yaml[1])
    given = {k: v for k, v in flags.items() if v is not None}
    for key in ("min_metrics", "max_metrics"):
        if key in given:
            given[key] = parse_pairs(given[key], option=f"--{key[:3]}")
    limits = {k: v for k, v in given.items() if k not in ("prefer", "weights", "metric")}
    constraints = replace(constraints, **limits).validate()
    if "prefer" in given:
        objective = replace(objective, prefer=preferred(given["prefer"]))
    if "weights" in given:
        objective = replace(objective, weights=weights_from([given["weights"]]))
    if "metric" in given:
        objective = replace(objective, metric=given["metric"])
    return constraints, objective.validate()


def _min_delta(items: list[str]) -> dict[str, float] | float:
    from whichmodel.choose.constraints import parse_pairs

    if len(items) == 1 and "=" not in items[0]:
        try:
            tolerance: dict[str, float] | float = float(items[0])
        except ValueError:
            tolerance = math.nan
    else:
        tolerance = dict(parse_pairs(items, option="--min-delta"))
    values = tolerance.values() if isinstance(tolerance, dict) else [tolerance]
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise ConfigError(
            "--min-delta takes a number >= 0 (the tolerated loss) or METRIC=NUMBER. "
            f"Got {' '.join(items)!r}."
        )
    return tolerance


def _add_decision(results: dict[str, Any], constraints: Any, objective: Any) -> None:
    from whichmodel.choose import decide

    decision = decide(results, constraints, objective).to_dict()
    decision["command"] = " ".join(sys.argv)  # compare's own command is in provenance
    results["decision"] = decision


def _emit(results: dict[str, Any], fmt: str, out_dir: str | None) -> None:
    """Write the report folder if asked, then print in the chosen format."""
    if out_dir:
        from whichmodel.report.files import write_report

        written = write_report(results, Path(out_dir))
        err.print(f"Wrote {', '.join(str(p) for p in written)}", markup=False)
    if fmt == "json":
        sys.stdout.write(json.dumps(results, indent=2, default=str) + "\n")
    elif fmt == "markdown":
        from whichmodel.report.markdown import render_markdown

        sys.stdout.write(printable(render_markdown(results)))
    else:
        _print_comparison(results)
        _print_decision(results)


def _print_decision(results: dict[str, Any]) -> None:
    gate_result = results.get("gate")
    if gate_result:
        word = "[bold green]PASS[/]" if gate_result["passed"] else "[bold red]FAIL[/]"
        out.print(f"\ngate {escape(gate_result['candidate'])} vs "
                  f"{escape(gate_result['baseline'])}: {word}")
        for line in gate_result["lines"]:
            mark = "✗" if line in gate_result["failures"] else "✓"
            out.print(f"  {mark} {line}", markup=False, highlight=False)
    decision = results.get("decision")
    if not decision:
        return
    out.print("\n[bold]Decision[/]")
    for line in decision["sentences"]:
        out.print(f"  {line}", markup=False, highlight=False)


INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT, as a shell reports Ctrl-C


def main() -> None:
    """Console entry point. Whatever happens, the terminal gets one line, never a traceback:

    - a user error (:class:`WhichModelError`, a bad option): what is wrong and what to do, exit 2;
    - Ctrl-C: what was kept, exit 130;
    - anything else is a bug: ``internal error: ...`` and the path of a saved report, exit 1.
    """
    if os.getcwd() not in sys.path:  # as with `python -m`: factories in the current folder import
        sys.path.insert(0, os.getcwd())
    try:
        code = app(standalone_mode=False)
    except WhichModelError as exc:
        _fail(str(exc), exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        code = INTERRUPTED_EXIT_CODE
    except Exception as exc:
        if _is_click_error(exc):  # a bad option or argument; typer would draw a box of 6 lines
            _usage_error(exc)
        if isinstance(exc, OSError) and exc.errno in _USER_ERRNOS:
            # A path the user gave, or the machine's disk, not a bug: say which and why.
            where = f" {exc.filename}" if exc.filename else ""
            _fail(f"cannot use{where}: {exc.strerror}. Check the path, its permissions and the "
                  "free space.", 2)
        from whichmodel.crash import one_line, save_report

        report = save_report(exc, sys.argv)
        where = f"; report saved to {report}" if report else " (no report: nowhere to write it)"
        _fail(f"{one_line(exc)}{where}. Please report it with that file.", 1,
              label="internal error")
    if code == INTERRUPTED_EXIT_CODE:  # newer typer turns Ctrl-C into this exit code itself
        _fail("interrupted; what finished is in the store, and the same command resumes from it",
              INTERRUPTED_EXIT_CODE, label="stopped")
    sys.exit(code if isinstance(code, int) else 0)


_USER_ERRNOS = frozenset({errno.ENAMETOOLONG, errno.EACCES, errno.EPERM, errno.ENOSPC,
                          errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EISDIR, errno.ENOTDIR})


def _is_click_error(exc: Exception) -> bool:
    # By class name: typer >= 0.2x raises its vendored copy of click's exceptions, older typer
    # click's own.
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__)


def _usage_error(exc: Any) -> NoReturn:
    message = exc.format_message() if type(exc).__name__ != "NoArgsIsHelpError" else ""
    if not message.strip():  # no arguments at all: click printed the help already
        sys.exit(exc.exit_code)
    ctx = getattr(exc, "ctx", None)
    hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
    _fail(message.strip() + hint, exc.exit_code)


def _fail(message: str, code: int, *, label: str = "error") -> NoReturn:
    err.print(f"[red]{label}:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(code)


def printable(text: str) -> str:
    """``text`` with control characters (terminal escapes among them) shown as ``\\xNN``
    instead of sent to the terminal; newlines and tabs stay."""
    return "".join(
        ch if ch in "\n\t" or (ch.isprintable() and not 0x80 <= ord(ch) < 0xA0) else
        f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
        for ch in text
    )
