"""What every rendering of a comparison shows: columns, winners, significance sentences.

Works on the typed :class:`~whichmodel.results.Results`, so the terminal, Markdown and HTML say
the same thing and every number they print is in ``results.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from whichmodel.bench.conditions import FIX
from whichmodel.choose.evidence import ALPHA, verdict
from whichmodel.units import human_bytes, human_count, p_text

if TYPE_CHECKING:
    from whichmodel.analysis.stats import MetricResult
    from whichmodel.bench.base import CostProfile
    from whichmodel.bench.roofline import ModelRoofline
    from whichmodel.results import Results



@dataclass(frozen=True)
class Row:
    """One model's row: its metrics by name, its cost cells as text and as numbers (the numbers
    pick each cost column's winner)."""

    model: str
    metrics: dict[str, MetricResult]
    cost: dict[str, str]
    cost_values: dict[str, float]


@dataclass(frozen=True)
class Summary:
    metric_names: list[str]
    higher_is_better: dict[str, bool]
    cost_columns: list[str]
    rows: list[Row]
    winners: dict[str, tuple[str, ...]]  # column -> its best models, ties kept
    significance: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    confidence_pct: int = 95
    best: str | None = None

    def won(self, column: str, model: str) -> bool:
        """Whether ``model`` is best (or tied best) in ``column``: every renderer marks the
        same set."""
        return model in self.winners.get(column, ())


def _cost_cells(
    cost: CostProfile | None, batch_size: int, roofline: ModelRoofline | None = None
) -> tuple[dict[str, str], dict[str, float]]:
    from whichmodel.report.roofline import cells

    if cost is None:
        return {}, {}
    values: dict[str, float] = {}
    text: dict[str, str] = {}
    # An unreliable timing is shown as such and wins no column (see bench/conditions.py).
    mark = "" if cost.reliable else " (unreliable)"
    for b in sorted(cost.latency):
        col = f"p50 b={b}"
        if cost.reliable:
            values[col] = cost.latency[b].p50_s
        text[col] = f"{cost.latency[b].p50_s * 1e3:.2f} ms{mark}"
    if batch_size in cost.latency:
        if cost.reliable:
            values["items/s"] = cost.throughput(batch_size)
        text["items/s"] = f"{cost.throughput(batch_size):,.0f}{mark}"
    if batch_size in cost.energy_j_per_example:  # only where RAPL counted it
        values["J/example"] = cost.energy_j_per_example[batch_size]
        text["J/example"] = f"{cost.energy_j_per_example[batch_size]:.3g}"
    if roofline is not None:  # next to latency; no winner: a higher % is not a better model
        text |= cells(roofline.call(cost.variant, batch_size))
    if cost.parameters is not None:
        values["params"] = cost.parameters
        text["params"] = human_count(cost.parameters)
    values["size"] = cost.size_on_disk_bytes
    text["size"] = human_bytes(cost.size_on_disk_bytes)
    values["memory"] = cost.model_memory_bytes
    text["memory"] = human_bytes(cost.model_memory_bytes)
    return text, values


def summarize(results: Results) -> Summary:
    """What the terminal, Markdown and HTML show of a comparison's results."""
    metrics = results.statistics.metrics
    names: list[str] = []
    higher: dict[str, bool] = {}
    for m in metrics:
        if m.name not in higher:
            names.append(m.name)
            higher[m.name] = m.higher_is_better
    rows: list[Row] = []
    cost_columns: list[str] = []
    for model in results.models:
        text, values = _cost_cells(model.cost, results.config.batch_size, model.roofline)
        cost_columns += [c for c in text if c not in cost_columns]
        by_name = {m.name: m for m in metrics if m.model == model.name}
        rows.append(Row(model.name, by_name, text, values))
    winners: dict[str, tuple[str, ...]] = {}
    for name in names:
        scored = {r.model: r.metrics[name].value for r in rows if name in r.metrics}
        if len(scored) > 1:
            winners[name] = _best(scored, higher[name])
    for col in cost_columns:
        scored = {r.model: r.cost_values[col] for r in rows if col in r.cost_values}
        if len(scored) > 1:
            winners[col] = _best(scored, col == "items/s")
    best = _first(winners.get(names[0], ()), rows, names, higher) if names else None
    return Summary(
        metric_names=names,
        higher_is_better=higher,
        cost_columns=cost_columns,
        rows=rows,
        winners=winners,
        significance=_significance(results, names[0], best) if names and best else [],
        notes=_notes(results),
        confidence_pct=round(results.statistics.confidence * 100),
        best=best,
    )


def _best(scored: dict[str, float], higher: bool) -> tuple[str, ...]:
    """The models with the best value, ties kept (in row order)."""
    target = (max if higher else min)(scored.values())
    return tuple(m for m, v in scored.items() if v == target)


def _first(
    tied: tuple[str, ...], rows: list[Row], names: list[str], higher: dict[str, bool]
) -> str | None:
    """The best of ``tied`` as the decision breaks ties: by the next metric (CER for WER),
    then the order of the rows."""
    if len(tied) < 2 or len(names) < 2:
        return tied[0] if tied else None
    second = names[1]
    by_name = {r.model: r.metrics.get(second) for r in rows}

    def key(model: str) -> tuple[bool, float]:
        m = by_name.get(model)
        return m is None, 0.0 if m is None else (-m.value if higher[second] else m.value)

    return sorted(tied, key=key)[0]


def signed(x: float, digits: int = 4) -> str:
    """``+0.0123``; a value that rounds to zero prints as ``+0.0000``, never ``-0.0000``."""
    rounded = round(x, digits)
    return f"{rounded if rounded != 0 else 0.0:+.{digits}f}"


def _significance(results: Results, metric: str, best: str) -> list[str]:
    """A line per difference of ``best`` with another model on ``metric``: the difference, its
    CI, and the verdict of the metric's (Holm-adjusted) paired test, the one the decision
    cites; the per-example counts of the outcome test beside it are descriptive."""
    lines = []
    tests = {(t.model_a, t.model_b): t for t in results.statistics.tests}
    for d in results.statistics.differences:
        if d.name != metric or best not in (d.model_a, d.model_b):
            continue
        sign = 1 if d.model_a == best else -1
        other = d.model_b if sign == 1 else d.model_a
        low, high = sorted((sign * d.ci_low, sign * d.ci_high))
        test = tests.get((d.model_a, d.model_b))
        counts = ""
        if test:
            a_only, b_only = (test.a_only, test.b_only)[::sign]
            counts = (
                f"right where the other is wrong: {a_only} vs {b_only}"
                if test.test == "mcnemar_exact"
                else f"smaller error: {a_only} vs {b_only} examples"
            )
        v = verdict(results, metric, best, other)
        verdict_text = ""
        if v is not None:
            word = "significant" if v.significant else "not significant"
            p = p_text(v.p, floor=v.floor)
            verdict_text = f"; {v.name()} {p}{v.over()} ({word} at {ALPHA:.0%}"
            verdict_text += f"; {counts})" if counts else ")"
        elif test:
            word = "significant" if test.p_value < ALPHA else "not significant"
            verdict_text = f"; {test.test} {p_text(test.p_value)} ({word} at {ALPHA:.0%}; {counts})"
        lines.append(
            f"{best} − {other}: {metric} {signed(sign * d.diff)} "
            f"[{signed(low)}, {signed(high)}]{verdict_text}"
        )
    return lines


SMALL_N = 30


def _notes(results: Results) -> list[str]:
    notes = []
    n = results.data.n_scored
    if n < SMALL_N:
        notes.append(f"Only {n} examples were scored: the intervals and tests say little.")
    for m in results.models:
        if m.n_failed:
            notes.append(
                f"{m.name} failed on {m.n_failed} examples; all models are scored "
                "on the examples every model predicted."
            )
        if m.cost_error:
            notes.append(f"{m.name}: no cost figures ({m.cost_error}).")
        if m.cost is not None and not m.cost.reliable:
            notes.append(
                f"{m.name}: the latency measurement is unreliable ({'; '.join(m.cost.unreliable)})"
                f": {FIX}."
            )
        if m.store_note:
            notes.append(f"{m.name}: {m.store_note}.")
        if m.n_not_most_probable:
            notes.append(
                f"{m.name}: its own predictions (which accuracy scores) are not its most "
                f"probable class on {m.n_not_most_probable} of {m.n_predicted} examples; "
                "log loss and calibration read its probabilities."
            )
    from whichmodel.report.roofline import results_notes

    return notes + results_notes(results)
