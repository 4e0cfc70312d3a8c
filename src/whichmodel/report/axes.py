"""Axis ticks and label placement for the report's hand-written SVG plots.

Pure geometry, no plotting library: "nice" tick values (1, 2, 2.5 or 5 × 10^k, the steps
Heckbert's "Nice numbers for graph labels" (Graphics Gems, 1990) uses), tick texts with the
fewest decimals that tell them apart, and a greedy pass that puts each point's label where it
overlaps no other label, no point and nothing outside the plot. Text widths are estimated
from the character count (12 px system-ui: at most ~7 px a character), on the generous side,
so a label that fits here fits on the page; the browser tests measure the real boxes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from whichmodel.units import short_number

#: An axis-aligned box in SVG pixels: (x0, y0, x1, y1), y growing downwards.
Box = tuple[float, float, float, float]

_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
CHAR_W, LINE_H = 7.0, 14.0  # px per character and per line of 12 px text, generous


def nice_step(span: float, target: int = 5) -> float:
    """The smallest nice step (1, 2, 2.5, 5 × 10^k) that cuts ``span`` into at most ``target``
    intervals.

    >>> nice_step(1.0), nice_step(0.033), nice_step(470.0)
    (0.2, 0.01, 100.0)
    """
    raw = span / target if span > 0 else 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(f * mag for f in _STEPS if f * mag >= raw * (1 - 1e-9))


def linear_ticks(lo: float, hi: float, *, target: int = 5) -> list[float]:
    """Nice ticks inside [lo, hi]: at least two whenever ``lo < hi`` (the step halves until
    two fit).

    >>> linear_ticks(0.965, 1.002)
    [0.97, 0.98, 0.99, 1.0]
    >>> linear_ticks(40.0, 60.0, target=1)
    [40.0, 60.0]
    """
    if not hi > lo:
        return [lo]
    step = nice_step(hi - lo, target)
    while True:
        first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
        if last > first or step < (hi - lo) * 1e-6:
            return [_clean(i * step) for i in range(first, last + 1)]
        step = nice_step(step / 2, 1)


def enclosing_ticks(values: Sequence[float], *, target: int = 5) -> list[float]:
    """Nice ticks whose ends enclose ``values`` with a small margin (an axis that starts and
    ends on a tick); at least two.

    >>> enclosing_ticks([0.97, 0.99])
    [0.965, 0.97, 0.975, 0.98, 0.985, 0.99, 0.995]
    """
    finite = [v for v in values if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    pad = (hi - lo) * 0.04 or abs(lo) * 0.05 or 0.5  # keep points off the frame
    lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, target)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [_clean(i * step) for i in range(first, max(last, first + 1) + 1)]


def log_ticks(lo: float, hi: float) -> list[float]:
    """Ticks for a log axis over [lo, hi] (both > 0), at least two inside it: 1-2-5 × 10^k
    where 3 to 10 fit, else powers of ten (every other one, and so on, beyond 10), else
    1…9 × 10^k, else nice linear ticks (a narrow range such as 25–96 ms gets 30, 40, …, 90
    rather than a lone 50).

    >>> log_ticks(0.02, 1.0)
    [0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    >>> log_ticks(0.01, 300.0)
    [0.01, 0.1, 1.0, 10.0, 100.0]
    >>> log_ticks(25.0, 96.0)
    [30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
    >>> log_ticks(40.0, 47.0)
    [40.0, 42.0, 44.0, 46.0]
    """
    def within(factors: tuple[int, ...]) -> list[float]:
        exps = range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
        return [
            _clean(f * 10.0**e)
            for e in exps
            for f in factors
            if lo * (1 - 1e-9) <= f * 10.0**e <= hi * (1 + 1e-9)
        ]

    ticks = within((1, 2, 5))
    if 3 <= len(ticks) <= 10:
        return ticks
    tens = within((1,))
    if len(tens) >= 3:
        return tens[:: math.ceil(len(tens) / 10)]
    ticks = within(tuple(range(1, 10)))
    return ticks if len(ticks) >= 2 else linear_ticks(lo, hi, target=4)


def tick_texts(ticks: Sequence[float]) -> list[str]:
    """Tick labels with the fewest decimals that tell them apart (a 2.5 × 10^k step needs one
    more), thousands and up as ``56.1k`` (see :func:`whichmodel.units.short_number`).

    >>> tick_texts([0.0, 0.05, 0.1]), tick_texts([0.02, 0.05, 0.1, 0.2]), tick_texts([0, 20000])
    (['0.00', '0.05', '0.10'], ['0.02', '0.05', '0.1', '0.2'], ['0', '20k'])
    """
    if len(ticks) < 2:
        return [short_number(t) for t in ticks]
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    if max(gaps) > 1.5 * min(gaps):  # a log axis: each tick its own shortest text
        return [short_number(t) for t in ticks]
    step = gaps[0]
    if max(abs(t) for t in ticks) >= 1e4:
        return [short_number(t) for t in ticks]
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
        decimals += 1
    return [f"{t:.{decimals}f}" for t in ticks]


def text_box(x: float, y: float, text: str, *, anchor: str = "start") -> Box:
    """The estimated box of one line of 12 px text drawn at (x, y) (y: its baseline) with
    ``text-anchor`` ``anchor``."""
    w = CHAR_W * len(text)
    x0 = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
    return (x0, y - LINE_H + 3, x0 + w, y + 4)


def overlap(a: Box, b: Box) -> float:
    """The area two boxes share (0 when they only touch)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


@dataclass(frozen=True)
class Placed:
    """Where a label went: draw ``text`` at (x, y) with ``anchor``; ``leader``: a line from the
    point's edge to the label when it had to move away from its point, else None."""

    x: float
    y: float
    anchor: str
    leader: tuple[float, float, float, float] | None


def place_labels(
    points: Sequence[tuple[float, float, float, str]], *, frame: Box, avoid: Sequence[Box] = ()
) -> list[Placed]:
    """Put each point's label (points: (x, y, radius, text), in priority order) next to it:
    right, left, above, below or diagonally, at growing distances, at the first spot that
    stays inside ``frame`` and overlaps no placed label, no point and nothing in ``avoid``;
    where none is free, the spot with the least overlap. Returns one :class:`Placed` per point.
    """
    circles = [(x - r, y - r, x + r, y + r) for x, y, r, _ in points]
    taken: list[Box] = list(avoid)
    out = []
    for x, y, r, text in points:
        best: tuple[float, Placed, Box] | None = None
        for ring in range(6):
            for place in _candidates(x, y, r + 4 + 16 * ring):
                px, py, anchor = place
                box = text_box(px, py, text, anchor=anchor)
                cost = sum(overlap(box, b) for b in (*taken, *circles)) + _outside(box, frame)
                leader = None if ring == 0 else _leader(x, y, r, box)
                if best is None or cost < best[0]:
                    best = (cost, Placed(px, py, anchor, leader), box)
                if cost == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None  # there is always a candidate
        out.append(best[1])
        taken.append(best[2])
    return out


def _candidates(x: float, y: float, d: float) -> list[tuple[float, float, str]]:
    """Label spots at distance ``d`` around (x, y): right, left, above, below, then diagonals."""
    k = d * 0.7
    return [
        (x + d, y + 4, "start"),
        (x - d, y + 4, "end"),
        (x, y - d, "middle"),
        (x, y + d + 10, "middle"),
        (x + k, y - k, "start"),
        (x + k, y + k + 8, "start"),
        (x - k, y - k, "end"),
        (x - k, y + k + 8, "end"),
    ]


def _outside(box: Box, frame: Box) -> float:
    """How much of ``box`` lies outside ``frame`` (an area, weighted to count heavily)."""
    inside = overlap(box, frame)
    return 10 * ((box[2] - box[0]) * (box[3] - box[1]) - inside)


def _leader(x: float, y: float, r: float, box: Box) -> tuple[float, float, float, float]:
    """A line from the circle's edge towards the nearest point of the label's box."""
    tx, ty = min(max(x, box[0]), box[2]), min(max(y, box[1]), box[3])
    d = math.hypot(tx - x, ty - y) or 1.0
    return (x + (tx - x) * r / d, y + (ty - y) * r / d, tx, ty)


def _clean(v: float) -> float:
    """Drop float noise from i × step (0.30000000000000004 -> 0.3)."""
    return float(f"{v:.12g}")
