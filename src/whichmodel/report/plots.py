"""Inline SVG plots for the HTML report: the Pareto plot and latency against batch size.

Pure string building, no plotting library: the page stays one offline file. Every string from
data or models goes through :func:`html.escape`; numbers are formatted here. Returned markup is
marked safe only because of that.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING

from markupsafe import Markup

from whichmodel.report.axes import linear_ticks, log_ticks, place_labels, tick_texts

if TYPE_CHECKING:
    from whichmodel.choose.decision import Decision
    from whichmodel.results import Results

#: One model of the Pareto plot: (name, quality, latency in ms, memory in MB, else its cell's
#: value: None or a reason text).
_Point = tuple[str, float, float, float | str | None]

_W, _H = 760, 380
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 190, 16, 48
_INK, _MUTED, _GRID, _WIN = "#1f2328", "#656d76", "#d8dee4", "#1a7f37"
# No green: green marks the pick.
PALETTE = (
    "#0969da",
    "#cf222e",
    "#8250df",
    "#bf8700",
    "#0a7480",
    "#e16f24",
    "#6e7781",
    "#953800",
    "#a40e26",
    "#0550ae",
)


def scale(
    f: Callable[[float], float], f0: float, f1: float, p0: float, p1: float
) -> Callable[[float], float]:
    """The pixel position of a value on an axis drawn from ``p0`` (where ``f(v) == f0``) to
    ``p1`` (where ``f(v) == f1``): ``f`` is ``math.log10``/``math.log2`` for a log axis, ``float``
    for a linear one; ``p1 < p0`` for a y axis, which grows upwards.

    >>> scale(math.log10, 0.0, 2.0, 100.0, 300.0)(10.0)
    200.0
    """
    return lambda v: p0 + (f(v) - f0) / (f1 - f0) * (p1 - p0)


def _frame(title: str, x_label: str, y_label: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img" font-family="system-ui, sans-serif" '
        f'font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{(_LEFT + _W - _RIGHT) / 2:.0f}" y="{_H - 8}" text-anchor="middle" '
        f'fill="{_INK}">{escape(x_label)}</text>',
        f'<text transform="translate(16 {(_TOP + _H - _BOTTOM) / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle" fill="{_INK}">{escape(y_label)}</text>',
    ]


def _axes(
    xt: Sequence[float],
    yt: Sequence[float],
    x: Callable[[float], float],
    y: Callable[[float], float],
) -> list[str]:
    """Grid lines and tick labels (see :func:`whichmodel.report.axes.tick_texts`), the frame."""
    out = []
    bottom, right = _H - _BOTTOM, _W - _RIGHT
    for t, text in zip(xt, tick_texts(xt), strict=True):
        out.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{_TOP}" y2="{bottom}" '
            f'stroke="{_GRID}"/><text class="tick" x="{x(t):.1f}" y="{bottom + 16}" '
            f'text-anchor="middle" fill="{_MUTED}">{escape(text)}</text>'
        )
    for t, text in zip(yt, tick_texts(yt), strict=True):
        out.append(
            f'<line x1="{_LEFT}" x2="{right}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
            f'stroke="{_GRID}"/><text class="tick" x="{_LEFT - 6}" y="{y(t) + 4:.1f}" '
            f'text-anchor="end" fill="{_MUTED}">{escape(text)}</text>'
        )
    out.append(f'<path d="M{_LEFT} {_TOP}V{bottom}H{right}" stroke="{_MUTED}" fill="none"/>')
    return out


def pareto_plot(decision: Decision) -> Markup | None:
    """Quality (y) against latency (x, log scale); bubble area ∝ memory; the front filled,
    dominated models hollow, the pick in green. None when fewer than one model has both."""
    pts: list[_Point] = []
    for name, cells in decision.tradeoffs.rows.items():
        q, latency, mem = (cells[k].value for k in ("quality", "latency", "memory"))
        if isinstance(q, int | float) and isinstance(latency, int | float) and latency > 0:
            pts.append((name, q, latency, mem))
    if not pts:
        return None
    lat = [p[2] for p in pts]
    qual = [p[1] for p in pts]
    lx0, lx1 = math.log10(min(lat) / 1.6), math.log10(max(lat) * 1.6)
    pad = (max(qual) - min(qual)) * 0.15 or abs(max(qual)) * 0.02 or 0.1
    qy0, qy1 = min(qual) - pad, max(qual) + pad
    right, bottom = _W - _RIGHT, _H - _BOTTOM

    x = scale(math.log10, lx0, lx1, _LEFT, right)
    y = scale(float, qy0, qy1, bottom, _TOP)

    mems = [mem for *_, mem in pts if isinstance(mem, int | float) and mem > 0]
    biggest = max(mems) if mems else 1.0
    cols = decision.tradeoffs.columns
    metric = cols[0].label
    parts = _frame(
        f"{metric} against latency; bubble area is memory",
        f"{cols[1].label} (ms, log scale)",
        f"{metric} ({'higher' if decision.higher_is_better else 'lower'} is better)",
    )
    parts += _axes(log_ticks(10**lx0, 10**lx1), linear_ticks(qy0, qy1), x, y)
    parts += _pareto_marks(pts, decision, metric, biggest, x, y)
    parts += [
        f'<text x="{right + 12}" y="{_TOP + 12 + 18 * i}" fill="{c}">{escape(text)}</text>'
        for i, (text, c) in enumerate(_PARETO_KEY)
    ]
    parts.append("</svg>")
    return Markup("".join(parts))  # every interpolated string above is escaped


def _pareto_marks(
    pts: list[_Point],
    decision: Decision,
    metric: str,
    biggest: float,
    x: Callable[[float], float],
    y: Callable[[float], float],
) -> list[str]:
    """The bubbles of the Pareto plot and their labels, placed in priority order (the pick, the
    front, the rest) so that no two overlap however close the models sit."""
    bubbles = [
        _bubble(p, PALETTE[i % len(PALETTE)], decision, metric, biggest) for i, p in enumerate(pts)
    ]
    front = set(decision.front.members)
    order = sorted(
        range(len(pts)), key=lambda i: (pts[i][0] != decision.pick, pts[i][0] not in front)
    )
    spots = place_labels(
        [(x(pts[i][2]), y(pts[i][1]), bubbles[i][1], bubbles[i][3]) for i in order],
        frame=(_LEFT, _TOP, _W - _RIGHT, _H - _BOTTOM),
    )
    placed = dict(zip(order, spots, strict=True))
    parts = []
    for i, (_, q, latency, _) in enumerate(pts):
        tip, r, colour, label, fill = bubbles[i]
        spot = placed[i]
        parts.append(
            f'<g class="point"><title>{escape(tip)}</title>'
            f'<circle cx="{x(latency):.1f}" cy="{y(q):.1f}" r="{r:.1f}" fill="{fill}" '
            f'fill-opacity="0.35" stroke="{colour}" stroke-width="2"/>'
        )
        if spot.leader is not None:
            x1, y1, x2, y2 = spot.leader
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke="{colour}" stroke-width="1"/>'
            )
        parts.append(
            f'<text class="label" x="{spot.x:.1f}" y="{spot.y:.1f}" '
            f'text-anchor="{spot.anchor}" fill="{colour}">{escape(label)}</text></g>'
        )
    return parts


_PARETO_KEY = (
    ("filled: Pareto front", _MUTED),
    ("hollow: dominated", _MUTED),
    ("★ the pick", _WIN),
    ("area: model memory", _MUTED),
)


def _bubble(
    point: _Point, colour: str, decision: Decision, metric: str, biggest: float
) -> tuple[str, float, str, str, str]:
    """One model of the Pareto plot, (name, quality, latency ms, memory MB or None), as its
    tooltip, radius (area ∝ memory), colour (green for the pick), label (starred for the pick)
    and fill (filled on the front, hollow when dominated)."""
    name, q, latency, mem = point
    known = mem if isinstance(mem, int | float) and mem > 0 else None
    r = 4 + 16 * math.sqrt(known / biggest) if known is not None else 4.0
    colour = _WIN if name == decision.pick else colour
    on_front = name in set(decision.front.members)
    mem_text = "memory unknown" if not isinstance(mem, int | float) else f"{mem:.1f} MB"
    tip = f"{name}: {metric} {q:.4f}, {latency:.3g} ms, {mem_text}" + (
        " (on the Pareto front)" if on_front else " (dominated)"
    )
    label = _short(name) + (" ★" if name == decision.pick else "")
    return tip, r, colour, label, colour if on_front else "none"


Series = list[tuple[str, list[tuple[int, float]]]]


def _latency_series(results: Results) -> tuple[Series, set[int]]:
    """(model name -> sorted (batch size, p50 ms) points; the indexes of unreliable timings,
    which stay on the plot, named as such and dashed)."""
    series: Series = []
    dashed: set[int] = set()  # the series of unreliable timings
    for m in results.models:
        lat = {} if m.cost is None else m.cost.latency
        pts = sorted((b, float(v.p50_s) * 1e3) for b, v in lat.items() if v.p50_s)
        if pts:  # an unreliable timing stays on the plot, named as such (dashed)
            if m.cost is not None and not m.cost.reliable:
                dashed.add(len(series))
            series.append((m.name + (" (unreliable)" if len(series) in dashed else ""), pts))
    return series, dashed


def latency_plot(results: Results) -> Markup | None:
    """Median latency of one call (y, log) against batch size (x, log2), one line per model.
    None when no model has latency at two or more batch sizes."""
    series, dashed = _latency_series(results)
    if not any(len(p) > 1 for _, p in series):
        return None
    bs = [b for _, p in series for b, _ in p]
    ms = [v for _, p in series for _, v in p]
    bx0, bx1 = math.log2(min(bs)) - 0.3, math.log2(max(bs)) + 0.3
    ly0, ly1 = math.log10(min(ms) / 1.5), math.log10(max(ms) * 1.5)
    right, bottom = _W - _RIGHT, _H - _BOTTOM

    x = scale(math.log2, bx0, bx1, _LEFT, right)
    y = scale(math.log10, ly0, ly1, bottom, _TOP)

    parts = _frame(
        "median latency of one call against batch size",
        "batch size (examples per call, log scale)",
        "p50 latency per call (ms, log)",
    )
    parts += _axes(sorted(set(bs)), log_ticks(10**ly0, 10**ly1), x, y)
    for i, (name, pts) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        path = "M" + "L".join(f"{x(b):.1f} {y(v):.1f}" for b, v in pts)
        parts.append(
            f'<g class="series"><title>{escape(name)}</title>'
            f'<path d="{path}" stroke="{colour}" stroke-width="2" fill="none"'
            + (' stroke-dasharray="5 4"' if i in dashed else "")
            + "/>"
        )
        for b, v in pts:
            parts.append(
                f'<circle cx="{x(b):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(f'{name}: batch {b}, {v:.3g} ms')}</title></circle>"
            )
        parts.append(
            f'<text x="{right + 12}" y="{_TOP + 12 + 18 * i}" fill="{colour}">'
            f"{escape(_short(name))}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # every interpolated string above is escaped


def _short(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
