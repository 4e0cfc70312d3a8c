"""Everything the command line prints: tables, decisions, progress bars, one-line errors.

The only module that knows about the terminal. Every string from data or models goes through
:func:`printable` (the consoles here apply it to all they render), so a control character in a
model's name or an example's text is shown as ``\\xNN``, never sent to the terminal.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from whichmodel.analysis.samples import SamplesComparison
    from whichmodel.analysis.stats import MetricResult
    from whichmodel.bench.base import CostProfile
    from whichmodel.bench.load import LoadProfile
    from whichmodel.bench.machine import MachineLimits
    from whichmodel.bench.roofline import ModelRoofline
    from whichmodel.comparison import Outcome
    from whichmodel.report.summary import Summary
    from whichmodel.results import Results
    from whichmodel.spec.base import SpecSheet
    from whichmodel.spec.diff import SpecDiff

T = TypeVar("T")
Progress = Callable[[str, int, int], None]  # (what, done, total)


def printable(text: str) -> str:
    """``text`` with control characters (terminal escapes among them) shown as ``\\xNN``
    instead of sent to the terminal; newlines and tabs stay."""
    return "".join(
        ch if ch in "\n\t" or (ch.isprintable() and not 0x80 <= ord(ch) < 0xA0) else
        f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
        for ch in text
    )


class _Console(Console):
    """A rich console that never sends a control character from data (a model's name, a class
    label, an example's text) to the terminal: each is shown as ``\\xNN`` (see printable)."""

    def render_str(self, text: str, **kwargs: Any) -> Any:
        return super().render_str(printable(text), **kwargs)


out = _Console()
err = _Console(stderr=True)


def fail(message: str, code: int, *, label: str = "error") -> NoReturn:
    """Print ``label: message`` as one line on stderr and exit with ``code``."""
    err.print(f"[red]{label}:[/] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def plain(line: str) -> None:
    """One line of text as it is: no markup, no highlighting."""
    out.print(line, markup=False, highlight=False)


def indented(prefix: str, text: str) -> None:
    """``prefix`` then ``text``, wrapped to the terminal's width between words (never inside a
    word or at a hyphen) with every wrapped line indented under the text's start."""
    import textwrap

    lines = textwrap.wrap(
        text, width=max(out.width, 40), initial_indent=prefix,
        subsequent_indent=" " * len(prefix), break_on_hyphens=False, break_long_words=False,
    ) or [prefix]  # fmt: skip
    out.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


QUIET, NORMAL, VERBOSE = 0, 1, 2  # how much --quiet, neither, or --verbose prints
_level = NORMAL
_steps: dict[str, tuple[int, int]] = {}  # the latest (done, total) of every step this run


def set_verbosity(level: int) -> None:
    """QUIET: the result and errors only; NORMAL: also progress and notes; VERBOSE: also a
    line when each step starts and ends. Set once per command, by the app's callback."""
    global _level
    _level = level
    _steps.clear()


def is_quiet() -> bool:
    return _level == QUIET


def kept() -> str:
    """What the predictions of this run reached, as ``predict lr: 9/40 batches, ...`` (``""``
    before any): the Ctrl-C message says it, since finished batches are in the store."""
    return ", ".join(
        _step_line(what, done, total) for what, (done, total) in _steps.items()
        if what.startswith("predict ")
    )


def _step_line(what: str, done: int, total: int) -> str:
    if what.startswith("predict "):  # the driver counts batches
        return f"{what}: {done}/{total} batches"
    if total == 1:  # a step of one unit (a cached computation): it starts, then it is done
        return f"{what}: {'done' if done else 'started'}"
    return f"{what}: {done}/{total}"


class PlainProgress:
    """Progress as plain lines, ``[whichmodel] predict lr: 3/8 batches``, for a log or a pipe:
    a line when a step finishes, and while it runs at most one line per ``every_s`` seconds
    (so a run of a million batches writes a few lines a minute, not a million). ``verbose``
    adds a line when each step starts."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        verbose: bool = False,
        every_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write, self.verbose, self.every_s, self.clock = write, verbose, every_s, clock
        self._last: dict[str, float | None] = {}  # when a step last printed; None: finished

    def __call__(self, what: str, done: int, total: int) -> None:
        now = self.clock()
        finished = done >= total
        last = self._last.get(what)
        if last is None:  # a step not seen yet, or seen to its end and now starting again
            if finished and what in self._last:
                return  # its end again (a cached step reported twice): said already
            self._last[what] = now
            if self.verbose and not finished:
                self._print(what, done, total)
            last = now
        if finished:
            self._print(what, done, total)
            self._last[what] = None
        elif now - last >= self.every_s:
            self._print(what, done, total)
            self._last[what] = now

    def _print(self, what: str, done: int, total: int) -> None:
        self.write(f"[whichmodel] {printable(_step_line(what, done, total))}")


def with_progress(work: Callable[[Progress], T]) -> T:
    """Run ``work(progress)`` while showing its progress on stderr; ``progress(what, done,
    total)`` reports step ``what``. A bar per step on a terminal; plain lines
    (:class:`PlainProgress`) in a log or a pipe; nothing under --quiet."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    def remember(what: str, done: int, total: int) -> None:
        _steps[what] = (done, total)

    if _level == QUIET:
        return work(remember)
    if not err.is_terminal:
        lines = PlainProgress(_write_err, verbose=_level == VERBOSE)

        def logged(what: str, done: int, total: int) -> None:
            remember(what, done, total)
            lines(what, done, total)

        return work(logged)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}
        # --verbose on a terminal: the bars, and above them a line as each step ends
        ends = PlainProgress(lambda line: bar.console.print(line, markup=False, highlight=False),
                             every_s=math.inf)

        def progress(what: str, done: int, total: int) -> None:
            remember(what, done, total)
            if what not in tasks:
                tasks[what] = bar.add_task(escape(printable(what)), total=total)
            bar.update(tasks[what], completed=done, total=total)
            if _level == VERBOSE:
                ends(what, done, total)

        return work(progress)


def _write_err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def emit(outcome: Outcome, fmt: str, out_dir: str | None) -> None:
    """Write the report folder if asked, then print ``outcome`` in the chosen format
    (text, markdown or json)."""
    if out_dir:
        write_folder(outcome, Path(out_dir))
    if fmt == "json":
        print_json(outcome.to_dict())
    elif fmt == "markdown":
        from whichmodel.report.markdown import render_markdown

        sys.stdout.write(printable(render_markdown(outcome)))
    else:
        if not is_quiet():  # --quiet: the decision is the result
            print_comparison(outcome.results)
        print_decision(outcome)


def write_folder(outcome: Outcome, folder: Path) -> list[Path]:
    """Write ``outcome``'s report folder (see :func:`whichmodel.report.files.write_report`) and
    say which files it wrote (on stderr, unless --quiet); returns their paths."""
    from whichmodel.report.files import write_report

    written = write_report(outcome, folder)
    if not is_quiet():
        err.print(f"Wrote {', '.join(str(p) for p in written)}", markup=False)
    return written


def print_demo(outcome: Outcome, report: Path, refs: Sequence[str], data: str) -> None:
    """The demo's comparison and decision, where its report is, and the command that does the
    same comparison by hand (--quiet: the decision and where the report is)."""
    if not is_quiet():
        print_comparison(outcome.results)
    print_decision(outcome)
    out.print(f"\nReport: {report}", markup=False)
    if is_quiet():
        return
    out.print(
        "The same comparison by hand: whichmodel compare "
        + " ".join(f"'{r}'" for r in refs)
        + f" --data {data}",
        markup=False,
    )


def _fmt_metric(m: MetricResult, won: bool) -> str:
    value = _star(f"{m.value:.4f}", won)
    return f"{value}\n[dim][{m.ci_low:.4f}, {m.ci_high:.4f}][/]"


def _star(text: str, won: bool) -> str:
    return f"[bold green]★{text}[/]" if won else text


def print_comparison(results: Results) -> None:
    """The quality table (metrics with their CIs, the best starred), the cost table, the paired
    tests, notes and findings of a comparison's results."""
    from whichmodel.report.findings import finding_lines
    from whichmodel.report.roofline import summary_lines
    from whichmodel.report.rounds import rounds_lines
    from whichmodel.report.summary import summarize

    summary = summarize(results)
    out.print(_quality_table(results, summary))
    if summary.cost_columns:
        out.print(_cost_table(summary))
    for line in summary_lines(results):
        plain(f"roofline: {line}")
    for line in rounds_lines(results):
        plain(line)
    for line in summary.significance:
        plain(line)
    for line in summary.notes:
        out.print(f"[yellow]{escape(line)}[/]", highlight=False)
    for line in finding_lines(results):
        plain(line)


def _quality_table(results: Results, summary: Summary) -> Table:
    table = Table(
        box=box.SIMPLE_HEAD,
        title=f"{results.task}, n={results.data.n_scored}, {summary.confidence_pct}% bootstrap CI",
    )
    table.add_column("model")
    for name in summary.metric_names:
        table.add_column(name + (" ↑" if summary.higher_is_better[name] else " ↓"), justify="right")
    for row in summary.rows:
        table.add_row(
            escape(row.model),
            *[
                _fmt_metric(row.metrics[n], summary.won(n, row.model))
                if n in row.metrics
                else "—"
                for n in summary.metric_names
            ],
        )
    return table


def _cost_table(summary: Summary) -> Table:
    """The cost columns but the roofline's (a line per model says those: the table would not
    fit a terminal's width with them)."""
    from whichmodel.report.roofline import COLUMNS

    table = Table(
        box=box.SIMPLE_HEAD,
        title="cost on this machine (p50: median latency of one call on b examples)",
    )
    table.add_column("model")
    columns = [c for c in summary.cost_columns if c not in COLUMNS]
    for col in columns:
        table.add_column(col, justify="right")
    for row in summary.rows:
        table.add_row(
            escape(row.model),
            *[_star(row.cost.get(c, "—"), summary.won(c, row.model)) for c in columns],
        )
    return table


def print_decision(outcome: Outcome) -> None:
    """The gate's verdict (if any) with a mark per check, then the decision's sentences."""
    verdict = outcome.gate
    if verdict is not None:
        word = "[bold green]PASS[/]" if verdict.passed else "[bold red]FAIL[/]"
        out.print(f"\ngate {escape(verdict.candidate)} vs {escape(verdict.baseline)}: {word}")
        for line in verdict.lines:
            indented(f"  {'✗' if line in verdict.failures else '✓'} ", line)
    if outcome.decision is None:
        return
    out.print("[bold]Decision[/]" if is_quiet() and verdict is None else "\n[bold]Decision[/]")
    for line in outcome.decision.sentences:
        indented("  ", line)


def print_sheet(sheet: SpecSheet) -> None:
    """A spec sheet as a table of (fact, value, source, note), then its notes."""
    from whichmodel.report.spec import context_line, sheet_rows

    table = Table(box=box.SIMPLE_HEAD, title=escape(f"{sheet.identity.name}: "
                                                    f"{sheet.identity.architecture.value}"),
                  caption=escape(context_line(sheet)))
    # A fact's name and its source never wrap (at 80 columns "identity.architecture" used to
    # break as "identity.architectur/e"); a value folds only when one word is wider than its
    # column (a long path or hash); notes wrap between words.
    table.add_column("fact", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source", no_wrap=True)
    table.add_column("note", overflow="fold")
    for key, value, source, note in sheet_rows(sheet):
        table.add_row(escape(key), escape(value), escape(source), f"[dim]{escape(note)}[/]")
    out.print(table)
    for note in sheet.notes:
        out.print(f"[yellow]{escape(note)}[/]", highlight=False)


def print_diff(result: SpecDiff) -> None:
    """Two spec sheets: a count, what each difference costs, then the facts side by side."""
    from whichmodel.report.spec import diff_rows

    a_name, b_name = result.a.identity.name, result.b.identity.name
    plain(f"{a_name} vs {b_name}: {len(result.differences)} differences, "
          f"{len(result.same)} facts the same")
    rows = diff_rows(result)
    for *_, consequence in rows:
        if consequence:
            indented("  • ", consequence)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("fact", no_wrap=True)
    table.add_column(escape(a_name), overflow="fold")
    table.add_column(escape(b_name), overflow="fold")
    for key, va, vb, _ in rows:
        table.add_row(escape(key), escape(va), escape(vb))
    out.print(table)


def print_bench(cost: CostProfile, *, name: str, roofline: ModelRoofline | None = None) -> None:
    """Model ``name``'s benchmark: latency (with the roofline's columns when given), memory and
    generation tables, then its notes."""
    from whichmodel.report.bench import generation_rows, latency_rows, memory_rows, notes

    where = cost.hardware.get("gpu") or cost.hardware.get("cpu", "?")
    title = f"{name} ({cost.architecture}) on {where}"
    for rows, caption in (
        (latency_rows(cost, roofline), title + ": latency of one call on b examples"),
        (memory_rows(cost), "memory and cold start"),
        (generation_rows(cost), "generation (greedy)"),
    ):
        if rows:
            out.print(_rows_table(rows, caption, left="variant"))
    for line in notes(cost, roofline):
        plain(line)


def _rows_table(rows: list[dict[str, str]], caption: str, *, left: str) -> Table:
    """A table of ``rows`` (column -> cell text), column ``left`` left-aligned."""
    table = Table(box=box.SIMPLE_HEAD, title=escape(caption))
    for col in rows[0]:
        table.add_column(col, justify="left" if col == left else "right")
    for row in rows:
        table.add_row(*[escape(v) for v in row.values()])
    return table


def print_load(profile: LoadProfile) -> None:
    """A served model's latency under load (per request, then throughput; a row per
    concurrency), then each level's first errors."""
    from whichmodel.report.bench import load_tables

    for caption, rows in load_tables(profile):
        out.print(_rows_table(rows, caption, left="concurrency"))
    for level in profile.levels:
        for error in level.errors:
            plain(f"concurrency {level.concurrency}: {error}")


def print_machine(limits: MachineLimits) -> None:
    """The machine's limits: peak matmul rate per dtype, copy and triad bandwidth, then why a
    dtype has no figure and, where so, why the measurement is unreliable."""
    hw = limits.hardware
    if limits.sizes.device != "cpu":
        plain(f"on {limits.sizes.device}: the matmuls and copies ran on the GPU")
    plain(f"{hw.get('cpu', '?')} ({hw.get('cpus', '?')} CPUs usable), {limits.threads} "
          f"thread{'s' if limits.threads != 1 else ''}; measured {limits.measured_at}, load "
          f"average {limits.load_average[0]:.2f} before, {limits.load_average[1]:.2f} after")
    peaks = Table(box=box.SIMPLE_HEAD, title="peak matmul (n × n, 2·n³ FLOPs per call)")
    for col in ("dtype", "n", "peak GFLOP/s", "95% CI", "runs"):
        peaks.add_column(col, justify="left" if col == "dtype" else "right")
    for p in limits.peak_flops.values():
        ci = p.ci_flops_per_s
        peaks.add_row(p.dtype, str(p.matmul_n or "-"),
                      f"{p.flops_per_s / 1e9:.1f}" if p.flops_per_s else "unknown",
                      f"[{ci[0] / 1e9:.1f}, {ci[1] / 1e9:.1f}]" if ci else "-",
                      str(p.latency.n) if p.latency else "-")
    out.print(peaks)
    bands = Table(box=box.SIMPLE_HEAD, title="memory bandwidth (STREAM's byte counts)")
    for col in ("kernel", "GB/s", "95% CI", "runs", "array"):
        bands.add_column(col, justify="left" if col == "kernel" else "right")
    for b in (limits.copy, limits.triad):
        lat = b.latency
        bands.add_row(b.kernel, f"{b.bytes_per_s / 1e9:.1f}",
                      f"[{b.bytes_per_call / lat.ci_high_s / 1e9:.1f}, "
                      f"{b.bytes_per_call / lat.ci_low_s / 1e9:.1f}]",
                      str(lat.n), f"{b.array_bytes / 2**20:.0f} MiB")
    out.print(bands)
    for p in limits.peak_flops.values():
        if p.unknown:
            plain(f"{p.dtype}: unknown, {p.unknown}")
    for why in limits.unreliable:
        plain(f"unreliable: {why} (not cached; run again on a quieter machine)")


def print_samples(result: SamplesComparison) -> None:
    """compare-samples: each metric's values with CIs (the better starred) and the paired
    test, then the documents on which the two models disagree."""
    a, b = result.models
    pct = round(result.confidence * 100)
    table = Table(
        box=box.SIMPLE_HEAD,
        title=f"{result.task or 'lm-eval samples'}, n={result.n_documents}, {pct}% bootstrap CI",
    )
    table.add_column("metric", no_wrap=True)
    for column in (a, b, f"{a} − {b}", "test", "p", "p Holm"):
        table.add_column(escape(column), justify="right", no_wrap=column == "test")
    for m in result.metrics:
        d = m.difference
        better = (d.diff > 0) == m.a.higher_is_better if d.excludes_zero else None
        table.add_row(
            escape(m.name) + (" ↑" if m.a.higher_is_better else " ↓"),
            *[_star(_with_ci(r.value, r.ci_low, r.ci_high), better is w)
              for r, w in ((m.a, True), (m.b, False))],
            _with_ci(d.diff, d.ci_low, d.ci_high),
            m.test.test.removesuffix("_exact"),
            f"{m.test.p_value:.3g}",
            f"{m.p_holm:.3g}",
        )
    out.print(table)
    for name in result.skipped:
        plain(f"skipped {name}: logged as a corpus-level pair, with no per-document value")
    if result.disagreement_metric is None:
        return
    plain(f"{result.n_disagreements} documents where one model is right on "
          f"{result.disagreement_metric} and the other wrong"
          + (f" (first {len(result.disagreements)}):" if result.disagreements else "."))
    for s in result.disagreements:
        right = a if s.a_right else b
        indented(f"  doc {s.doc_id} ({right} right, target {s.target!r}): ", repr(s.prompt)[:120])


def _with_ci(value: float, low: float, high: float) -> str:
    return f"{value:.4g}\n[dim][{low:.3g}, {high:.3g}][/]"
