"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, no network).

The page is built from the typed :class:`~whichmodel.outcome.Outcome` and :func:`summarize`,
so it says what the terminal says. Every string from data or models is escaped: the Jinja2
template autoescapes, and the SVG charts built here pass every interpolated string through
:func:`html.escape`; only that generated markup is marked safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from whichmodel.choose.evidence import ALPHA, p_floor
from whichmodel.report.axes import enclosing_ticks, tick_texts
from whichmodel.report.rounds import rounds_lines
from whichmodel.report.summary import Row, Summary, summarize
from whichmodel.units import (
    P_FLOOR,
    human_bytes,
    human_count,
    p_number,
    resampled_p_floor,
    short_number,
)

if TYPE_CHECKING:
    from whichmodel.analysis.paired import MetricTest
    from whichmodel.analysis.stats import MetricResult
    from whichmodel.bench.base import CostProfile
    from whichmodel.outcome import Outcome
    from whichmodel.report.spec_diff import SpecTable
    from whichmodel.results import CompareConfig, DataSummary, Failure, ModelSummary, Results

# Chart geometry (px) and colours.
_WIDTH, _ROW_H, _TOP, _BOTTOM, _VALUE_W = 760, 26, 6, 44, 190
_INK, _MUTED, _GRID, _STRIPE, _WIN = "#1f2328", "#656d76", "#d8dee4", "#f6f8fa", "#1a7f37"


def render_html(outcome: Outcome) -> str:
    """Render a comparison, its decision and gate verdict as one HTML page that works offline:
    inline CSS and SVG, no scripts, no external references."""
    results = outcome.results
    summary = summarize(results)
    return (
        _environment()
        .get_template("report.html")
        .render(
            r=results,
            s=summary,
            findings=results.findings,
            lead=_lead(summary),
            charts={name: _chart(name, summary) for name in summary.metric_names},
            models=[_model_view(m) for m in results.models],
            provenance=_provenance(results),
            command=results.provenance.get("command"),
            decision=outcome.decision,
            gate=outcome.gate,
            plots=_plots(outcome),
            spec=_spec_table(outcome),
            rounds=rounds_lines(results),
        )
    )


def _spec_table(outcome: Outcome) -> SpecTable | None:
    """The spec-diff section's table (report/spec_diff.py), or None without spec sheets."""
    from whichmodel.report.spec_diff import spec_table

    pick = None if outcome.decision is None else outcome.decision.pick
    return spec_table(outcome.results, pick=pick)


def _plots(outcome: Outcome) -> dict[str, Markup | None]:
    """The decision's Pareto plot, latency against batch size and the roofline (each None when
    there is no data for it)."""
    from whichmodel.report.plots import latency_plot, pareto_plot
    from whichmodel.report.roofline import roofline_plot

    decision = outcome.decision
    return {
        "pareto": None if decision is None else pareto_plot(decision),
        "latency": latency_plot(outcome.results),
        "roofline": roofline_plot(outcome.results),
    }


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """The Jinja2 environment: autoescaping always on, number filters registered."""
    env = Environment(
        loader=PackageLoader("whichmodel.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=_num,
        signed=_signed,
        pval=_pval,
        holm_p=_holm_p,
        stat=_stat,
        metric=_metric_text,
        significant_first=_significant_first,
        nowrap_ci=_nowrap_ci,
    )
    from whichmodel.report.findings_html import reliability_svg, slice_table, thumbnail_svg

    env.filters.update(
        reliability_svg=reliability_svg, thumbnail_svg=thumbnail_svg, slice_table=slice_table
    )
    return env


# ---- numbers as text -------------------------------------------------------------------------


def _num(x: Any, digits: int = 4) -> str:
    """A cell: floats to ``digits`` decimals, None as an em dash, anything else as ``str``."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def _nowrap_ci(text: str) -> str:
    """A cell that may wrap between its value and its interval, never inside the interval or
    between a number and its unit: no-break spaces after a comma and before a unit
    (``0.97 [0.95,\u00a00.98]``, ``0.898\u00a0ms``)."""
    import re

    return re.sub(r"(?<=\d) (?=[A-Za-zµ%])", "\u00a0", text.replace(", ", ",\u00a0"))


def _signed(x: float | None) -> str:
    return "—" if x is None else f"{x:+.4f}"


def _pval(x: float | None, n_resamples: int = 0) -> str:
    """ "0.012" or "< 0.001", as the sentences word it; a resampled 0 is "< 1/(B+1)"."""
    if x is None:
        return "—"
    floor = resampled_p_floor(n_resamples) if x == 0 and n_resamples > 0 else P_FLOOR
    return p_number(x, floor=floor)


def _holm_p(t: MetricTest, tests: tuple[MetricTest, ...]) -> str:
    """A paired test's Holm-adjusted p-value, as the decision words it."""
    pairs = len({(x.model_a, x.model_b) for x in tests if x.metric == t.metric})
    return p_number(t.p_holm, floor=p_floor(t, pairs))


def _stat(x: float | None) -> str:
    """A test statistic: 4 significant digits, large ones as ``123k`` (not ``1.234e+05``)."""
    return "—" if x is None else short_number(x)


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.2f} ms"


def _duration(seconds: float | None) -> str:
    """Milliseconds under a second, seconds above."""
    if seconds is None or seconds < 1:
        return _ms(seconds)
    return f"{seconds:.2f} s"


def _bytes(n: float | None) -> str:
    return "—" if n is None else human_bytes(n)


def _metric_text(m: MetricResult) -> str:
    """``value [ci_low, ci_high]``, as the terminal table prints it."""
    return f"{_num(m.value)} [{_num(m.ci_low)}, {_num(m.ci_high)}]"


@dataclass(frozen=True)
class _Folded:
    """A table's rows, significant ones first, for the template's ``fold`` macro: past
    ``fold_rows`` rows the table is collapsed behind a summary that counts them."""

    rows: list[Any]
    n_significant: int
    fold_rows: int = 12


def _significant_first(rows: Any, key: str) -> _Folded:
    """``rows`` with those significant on ``key`` first, the order kept within each group:
    ``excludes_zero`` is a bool; a p-value (``p_value``, ``p_holm``) counts below 0.05, the
    level the decision and the tables use."""

    def significant(row: Any) -> bool:
        value = getattr(row, key)
        if isinstance(value, bool):
            return value
        return isinstance(value, int | float) and value < ALPHA

    ordered = sorted(rows, key=lambda row: not significant(row))
    return _Folded(ordered, sum(map(significant, ordered)))


# ---- page sections ---------------------------------------------------------------------------


def _lead(summary: Summary) -> dict[str, Any] | None:
    """The headline: the best model on the first metric (else the first model that has it)."""
    if not summary.metric_names:
        return None
    metric = summary.metric_names[0]
    ranked = [r for r in summary.rows if r.model == summary.best]
    row = next(iter(ranked or [r for r in summary.rows if metric in r.metrics]), None)
    if row is None:
        return None
    return {
        "model": row.model,
        "metric": metric,
        "value": _metric_text(row.metrics[metric]),
        "ranked": bool(ranked),
    }


@dataclass(frozen=True)
class _ModelView:
    """What the cost and per-model sections show of one model, numbers as text."""

    name: str
    cost_error: str | None
    facts: list[tuple[str, str]]  # (label, text) of the single-number cost figures
    latency: list[dict[str, str]]  # per batch size: column -> text
    tables: list[dict[str, Any]]  # see _tables
    failures: tuple[Failure, ...]
    n_failed: int


def _model_view(model: ModelSummary) -> _ModelView:
    cost = model.cost
    return _ModelView(
        name=model.name,
        cost_error=model.cost_error,
        facts=[] if cost is None else _cost_facts(cost),
        latency=[] if cost is None else _latency_rows(cost),
        tables=_tables(model.tables),
        failures=model.failures,
        n_failed=model.n_failed,
    )


def _cost_facts(cost: CostProfile) -> list[tuple[str, str]]:
    """The single-number cost figures of one model, as (label, text) pairs."""
    params = cost.parameters
    params_text = "—" if params is None else human_count(params)
    if params is not None and params >= 1000:
        params_text += f" ({params:,})"
    return [
        ("framework", _num(cost.framework)),
        ("architecture", _num(cost.architecture)),
        ("parameters", params_text),
        ("load time", _duration(cost.load_time_s)),
        ("first call", _duration(cost.first_call_s)),
        ("size on disk", _bytes(cost.size_on_disk_bytes)),
        ("model memory", _bytes(cost.model_memory_bytes)),
        ("peak RSS", _bytes(cost.peak_rss_bytes)),
        ("threads", _num(cost.threads)),
    ]


def _latency_rows(cost: CostProfile) -> list[dict[str, str]]:
    """One row per batch size: latency percentiles per call, sample count, throughput."""
    return [
        {
            "batch": str(batch),
            "p50": _ms(lat.p50_s),
            "p90": _ms(lat.p90_s),
            "p99": _ms(lat.p99_s),
            "mean": _ms(lat.mean_s),
            "n": _num(lat.n),
            "throughput": f"{cost.throughput(batch):,.0f}/s",
        }
        for batch, lat in sorted(cost.latency.items())
    ]


def _tables(tables: dict[str, list[dict[str, object]]]) -> list[dict[str, Any]]:
    """Each list-of-records table as a title, its columns and rows of cell texts."""
    out = []
    for key, records in tables.items():
        if not records or not all(isinstance(rec, dict) for rec in records):
            continue
        columns = list(dict.fromkeys(k for rec in records for k in rec))
        out.append(
            {
                "title": key.replace("_", " "),
                "columns": columns,
                "rows": [[_num(rec.get(c)) for c in columns] for rec in records],
            }
        )
    return out


def _plain(value: Any) -> str:
    """A provenance value as text: lists joined, None as an em dash."""
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) or "—"
    return "—" if value is None else str(value)


def _provenance(results: Results) -> list[tuple[str, list[tuple[str, str]]]]:
    """Titled groups of (key, text) pairs: run, data, bootstrap, config, versions, hardware."""
    from whichmodel.results import BOOTSTRAP_METHOD, SCHEMA_VERSION

    prov = results.provenance
    hardware = dict(prov.get("hardware") or {})
    if isinstance(hardware.get("memory_bytes"), int | float):
        hardware["memory"] = human_bytes(hardware.pop("memory_bytes"))
    hardware["torch threads"] = prov.get("threads")
    stats = results.statistics
    groups: dict[str, dict[str, Any]] = {
        "run": {"run id": results.run_id, "task": results.task, "schema": SCHEMA_VERSION},
        "data": _fields(results.data),
        "bootstrap": {
            "n_resamples": stats.n_resamples,
            "confidence": stats.confidence,
            "seed": stats.seed,
            "method": BOOTSTRAP_METHOD,
        },
        "configuration": _fields(results.config),
        "library versions": prov.get("versions") or {},
        "hardware": hardware,
    }
    return [
        (title, [(str(k), _plain(v)) for k, v in pairs.items()]) for title, pairs in groups.items()
    ]


def _fields(value: DataSummary | CompareConfig) -> dict[str, Any]:
    """A dataclass's fields by name, in order (not ``asdict``: its values are shown as they are)."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


# ---- SVG charts ------------------------------------------------------------------------------


def _chart(metric: str, summary: Summary) -> Markup:
    """A dot-and-whisker chart of one metric: one row per model, the dot at the value, the
    whisker over the confidence interval, the column's winner in green."""
    cells = [r.metrics.get(metric) for r in summary.rows]
    ticks = enclosing_ticks(
        [
            float(v)
            for c in cells
            if c
            for v in (c.value, c.ci_low, c.ci_high)
            if isinstance(v, int | float)
        ]
    )
    label_w = min(200, max(72, 16 + 7 * max(len(r.model) for r in summary.rows)))
    x0, x1 = label_w, _WIDTH - _VALUE_W
    bottom = _TOP + len(summary.rows) * _ROW_H
    height = bottom + _BOTTOM

    def x(v: float) -> float:
        return x0 + (v - ticks[0]) / (ticks[-1] - ticks[0]) * (x1 - x0)

    direction = "higher" if summary.higher_is_better[metric] else "lower"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_WIDTH}" '
        f'height="{height}" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(metric)} by model, {summary.confidence_pct}% confidence intervals</title>",
    ]
    parts += [
        f'<rect x="0" y="{_TOP + i * _ROW_H}" width="{_WIDTH}" height="{_ROW_H}" fill="{_STRIPE}"/>'
        for i in range(0, len(summary.rows), 2)
    ]
    for t, text in zip(ticks, tick_texts(ticks), strict=True):
        parts.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{_TOP}" y2="{bottom + 4}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
            f'<text class="tick" x="{x(t):.1f}" y="{bottom + 17}" text-anchor="middle" '
            f'fill="{_MUTED}">{escape(text)}</text>'
        )
    parts.append(
        f'<line x1="{x0}" x2="{x1}" y1="{bottom}" y2="{bottom}" stroke="{_MUTED}"/>'
        f'<text x="{(x0 + x1) / 2:.1f}" y="{bottom + 36}" text-anchor="middle" '
        f'fill="{_INK}">{escape(metric)} ({direction} is better)</text>'
    )
    for i, row in enumerate(summary.rows):
        parts += _row_marks(i, row, metric, summary.won(metric, row.model), x, label_w)
    parts.append("</svg>")
    return Markup("".join(parts))  # every interpolated string above is escaped


def _row_marks(
    i: int, row: Row, metric: str, winner: bool, x: Callable[[float], float], label_w: int
) -> list[str]:
    """The SVG of one model's row: name, whisker with caps, dot and value text."""
    y = _TOP + i * _ROW_H + _ROW_H / 2
    colour, weight = (_WIN, "600") if winner else (_INK, "400")
    max_chars = (label_w - 16) // 7
    name = row.model if len(row.model) <= max_chars else row.model[: max_chars - 1] + "…"
    out = [
        f'<text x="{label_w - 10}" y="{y + 4:.1f}" text-anchor="end" fill="{colour}" '
        f'font-weight="{weight}"><title>{escape(row.model)}</title>{escape(name)}</text>'
    ]
    m = row.metrics.get(metric)
    value_x = _WIDTH - _VALUE_W + 14
    if m is None:
        return [*out, f'<text x="{value_x}" y="{y + 4:.1f}" fill="{_MUTED}">no value</text>']
    lo, hi, v = m.ci_low, m.ci_high, m.value
    if all(isinstance(b, int | float) and math.isfinite(b) for b in (lo, hi)):
        out.append(
            f'<path d="M{x(lo):.1f} {y:.1f}H{x(hi):.1f}M{x(lo):.1f} {y - 5:.1f}v10'
            f'M{x(hi):.1f} {y - 5:.1f}v10" stroke="{colour}" stroke-width="1.5" '
            'fill="none"/>'
        )
    if isinstance(v, int | float) and math.isfinite(v):
        out.append(
            f'<circle cx="{x(v):.1f}" cy="{y:.1f}" r="4.5" fill="{colour}" '
            f'stroke="#fff" stroke-width="1"/>'
        )
    text = _metric_text(m) + (" ★" if winner else "")
    out.append(
        f'<text x="{value_x}" y="{y + 4:.1f}" fill="{colour}" font-weight="{weight}" '
        f'style="font-variant-numeric: tabular-nums">{escape(text)}</text>'
    )
    return out
