"""``whichmodel bench`` (latency, throughput and memory of models and their variants) and
``whichmodel windows`` (long time series cut into forecast windows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from whichmodel.cli import render
from whichmodel.cli.options import OptionGroup, RefsArg, StoreOpt, parse_ints, with_groups

if TYPE_CHECKING:
    from whichmodel.bench.load import LoadConfig, LoadProfile
    from whichmodel.bench.run import BenchConfig


def windows_command(
    data: Annotated[str, typer.Argument(metavar="FILE", help="Long data: CSV, JSONL or Parquet.")],
    out_path: Annotated[
        str, typer.Option("--out", metavar="FILE", help="Windows file (.jsonl or .parquet).")
    ],
    history: Annotated[
        int, typer.Option(min=1, metavar="N", help="Values a model sees per window.")
    ],
    horizon: Annotated[
        int, typer.Option(min=1, metavar="N", help="Values it forecasts per window.")
    ],
    step: Annotated[
        int | None,
        typer.Option(min=1, metavar="N", help="Between window origins (default: horizon)."),
    ] = None,
    last: Annotated[
        int | None,
        typer.Option(min=1, metavar="N", help="Keep each series' last N windows (default: all)."),
    ] = None,
    series_col: Annotated[
        str, typer.Option(metavar="COLUMN", help="Series id column.")
    ] = "unique_id",
    time_col: Annotated[
        str, typer.Option(metavar="COLUMN", help="Time column (sorts each series).")
    ] = "ds",
    value_col: Annotated[str, typer.Option(metavar="COLUMN", help="Value column.")] = "y",
) -> None:
    """Cut long time series (series id, time, value) into forecast windows for
    --task forecasting (one row per window: series, origin, history, target)."""
    from whichmodel.data.tables import read_table
    from whichmodel.tasks.forecast_windows import windows_frame, write_windows

    frame = windows_frame(
        read_table(data), history=history, horizon=horizon, step=step, last=last,
        series_col=series_col, time_col=time_col, value_col=value_col,
    )  # fmt: skip
    write_windows(frame, out_path)
    render.plain(
        f"{len(frame)} windows of {frame['series'].nunique()} series -> {out_path}; compare with "
        f"--input-cols history --label-col target --task 'forecasting?horizon={horizon}"
        "&series=series&season=...'"
    )


@dataclass(frozen=True)
class BenchFlags(OptionGroup):
    """bench's options, as typed; :meth:`config` parses them into a BenchConfig."""

    batch: Annotated[
        str, typer.Option(metavar="SIZES", help="Batch sizes to time, comma-separated.")
    ] = "1,8,32"
    variant: Annotated[
        str,
        typer.Option(
            metavar="NAMES",
            help="Variants: original, fp32, bf16, fp16, int8, int8-torchao, onnx, compile. "
            "The first is the reference for quality deltas."
        ),
    ] = "original"
    threads: Annotated[
        int,
        typer.Option(metavar="N", help="Intra-op threads, the same for every model and variant."),
    ] = 1
    data: Annotated[
        str | None, typer.Option(
            "--data", "-d", metavar="PATH", help="Time your examples; score each variant."
        )
    ] = None
    task: Annotated[
        str,
        typer.Option(metavar="TASK", help="classification, regression, or lm (text, no labels)."),
    ] = "classification"
    label_col: Annotated[
        str, typer.Option(metavar="COLUMN", help="Label column of --data.")
    ] = "label"
    input_shape: Annotated[
        str | None,
        typer.Option(metavar="SHAPE", help="Without --data: one example's shape, e.g. 1,28,28."),
    ] = None
    prompt_tokens: Annotated[
        str, typer.Option(metavar="N,...", help="LLMs: prompt lengths.")
    ] = "32"
    new_tokens: Annotated[
        str, typer.Option(metavar="N,...", help="LLMs: tokens to generate.")
    ] = "16"
    gen_batch: Annotated[
        str, typer.Option(metavar="N,...", help="LLMs: generation batch sizes.")
    ] = "1"
    budget: Annotated[
        float, typer.Option(metavar="SECONDS", help="Seconds per timed configuration.")
    ] = 1.0
    concurrency: Annotated[
        str, typer.Option(metavar="N,...", help="openai: endpoints: requests in flight together.")
    ] = "1,4,16"
    requests: Annotated[
        int, typer.Option(metavar="N", help="openai: endpoints: requests per concurrency level.")
    ] = 16
    deadline: Annotated[
        float, typer.Option(metavar="SECONDS", help="openai: endpoints: seconds per level at most.")
    ] = 60.0
    device: Annotated[
        str,
        typer.Option(
            metavar="DEVICE",
            help="cpu, or cuda / cuda:N (PyTorch modules, transformers classifiers).",
        ),
    ] = "cpu"
    store: StoreOpt = ".whichmodel/store.db"
    as_json: Annotated[bool, typer.Option("--json", help="Print results as JSON.")] = False
    allow_pickle: Annotated[bool, typer.Option(help="Allow pickle/joblib files.")] = False
    trust_remote_code: Annotated[bool, typer.Option(help="Allow code in HF folders.")] = False

    def config(self, refs: list[str]) -> BenchConfig:
        """The benchmark of ``refs`` these flags ask for. Raises ConfigError for a list of
        sizes that is not comma-separated integers."""
        from whichmodel.bench.base import GenerationConfig
        from whichmodel.bench.run import BenchConfig

        return BenchConfig(
            refs=tuple(refs),
            batch_sizes=parse_ints(self.batch, "--batch") or (),
            variants=tuple(v.strip() for v in self.variant.split(",") if v.strip()),
            threads=self.threads,
            data=self.data,
            task=self.task,
            label_col=self.label_col,
            input_shape=parse_ints(self.input_shape, "--input-shape"),
            generation=GenerationConfig(
                prompt_tokens=parse_ints(self.prompt_tokens, "--prompt-tokens") or (32,),
                new_tokens=parse_ints(self.new_tokens, "--new-tokens") or (16,),
                batch_sizes=parse_ints(self.gen_batch, "--gen-batch") or (1,),
            ),
            budget_s=self.budget,
            store=self.store,
            allow_pickle=self.allow_pickle,
            trust_remote_code=self.trust_remote_code,
            device=self.device,
        )


    def load(self) -> LoadConfig:
        """The load sweep of ``openai:`` endpoints these flags ask for: prompts from --data
        (its ``prompt`` or ``text`` column, else its first), else of --prompt-tokens words."""
        from whichmodel.bench.load import LoadConfig, synthetic_prompts

        words = (parse_ints(self.prompt_tokens, "--prompt-tokens") or (32,))[0]
        return LoadConfig(
            concurrency=parse_ints(self.concurrency, "--concurrency") or (),
            requests=self.requests,
            deadline_s=self.deadline,
            max_tokens=(parse_ints(self.new_tokens, "--new-tokens") or (16,))[0],
            prompts=_prompts(self.data) if self.data else synthetic_prompts(words),
        ).validate()


def _prompts(path: str) -> tuple[str, ...]:
    from whichmodel.data.tables import read_table

    frame = read_table(path)
    column = next((c for c in ("prompt", "text") if c in frame.columns), frame.columns[0])
    return tuple(str(v) for v in frame[column])


NO_BENCH_FLAGS = BenchFlags()


@with_groups
def bench_command(refs: RefsArg, flags: BenchFlags = NO_BENCH_FLAGS) -> None:
    """Latency, throughput and memory of models and their variants, on this machine; for an
    openai: endpoint, latency under load (TTFT, inter-token latency, tokens/s) by concurrency."""
    from whichmodel.bench.run import rooflines, run
    from whichmodel.refs import parse_ref
    from whichmodel.report.bench import cost_to_dict

    served = [r for r in refs if r.startswith("openai:")]
    if served:
        _bench_served(served, flags)
        refs = [r for r in refs if not r.startswith("openai:")]
        if not refs:
            return
    config = flags.config(refs)
    profiles = render.with_progress(lambda progress: run(config, progress=progress))
    roofs = render.with_progress(lambda progress: rooflines(config, profiles, progress=progress))
    names = [parse_ref(r).name for r in config.refs]
    if flags.as_json:
        render.print_json([cost_to_dict(p, name=n) | {"roofline": roof.to_dict()}
                           for n, p, roof in zip(names, profiles, roofs, strict=True)])
        return
    for name, profile, roof in zip(names, profiles, roofs, strict=True):
        render.print_bench(profile, name=name, roofline=roof)


def _bench_served(refs: list[str], flags: BenchFlags) -> None:
    """Each endpoint's latency under load, as tables (or JSON with --json)."""
    from whichmodel.bench.load import sweep

    load = flags.load()

    def measure(ref: str) -> LoadProfile:
        return render.with_progress(lambda progress: sweep(ref, load, progress=progress))

    profiles = [measure(r) for r in refs]
    if flags.as_json:
        render.print_json([p.to_dict() for p in profiles])
        return
    for profile in profiles:
        render.print_load(profile)
