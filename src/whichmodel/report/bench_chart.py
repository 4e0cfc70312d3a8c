"""The latency-vs-batch chart: one line per model (and variant), log-log axes, inline SVG.

Every interpolated string passes through :func:`html.escape`; the result is marked safe only
because of that.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from markupsafe import Markup

_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 760, 320, 70, 190, 12, 44
_COLOURS = ("#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#1b7c83", "#6e7781")


def latency_series(models: list[dict[str, Any]]) -> list[tuple[str, list[tuple[int, float]]]]:
    """(label, [(batch size, p50 seconds), ...]) for each model and variant with ≥1 point."""
    series = []
    for m in models:
        cost = m.get("cost")
        if not cost:
            continue
        for p in (cost, *cost.get("variants", ())):
            points = sorted((int(b), lat["p50_s"]) for b, lat in p["latency"].items())
            label = m["name"] if p is cost else f"{m['name']} {p['variant']}"
            if points:
                series.append((label, points))
    return series


def _log_ticks(lo: float, hi: float) -> list[float]:
    return [10.0**k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]


def _fmt_seconds(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:g} {unit}"
    return f"{s / 1e-9:g} ns"


def latency_chart(models: list[dict[str, Any]]) -> Markup | None:
    """An SVG chart of median latency per call against batch size, or None without data."""
    series = latency_series(models)
    if not series:
        return None
    batches = [b for _, pts in series for b, _ in pts]
    times = [t for _, pts in series for _, t in pts if t > 0]
    if not times:
        return None
    xt = _log_ticks(min(batches), max(max(batches), 2))
    yt = _log_ticks(min(times), max(times))
    x0, x1, y0, y1 = _LEFT, _W - _RIGHT, _H - _BOTTOM, _TOP

    def x(b: float) -> float:
        span = math.log10(xt[-1]) - math.log10(xt[0]) or 1
        return x0 + (math.log10(b) - math.log10(xt[0])) / span * (x1 - x0)

    def y(t: float) -> float:
        span = math.log10(yt[-1]) - math.log10(yt[0]) or 1
        return y0 - (math.log10(t) - math.log10(yt[0])) / span * (y0 - y1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img" font-family="system-ui, sans-serif" font-size="12">',
        "<title>median latency per call against batch size (log-log)</title>",
    ]
    for t in yt:
        parts.append(
            f'<line x1="{x0}" x2="{x1}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#d8dee4"/>'
            f'<text x="{x0 - 6}" y="{y(t) + 4:.1f}" text-anchor="end" fill="#656d76">'
            f"{escape(_fmt_seconds(t))}</text>"
        )
    for b in xt:
        parts.append(
            f'<line x1="{x(b):.1f}" x2="{x(b):.1f}" y1="{y1}" y2="{y0}" stroke="#d8dee4"/>'
            f'<text x="{x(b):.1f}" y="{y0 + 16}" text-anchor="middle" fill="#656d76">'
            f"{b:g}</text>"
        )
    parts.append(
        f'<text x="{(x0 + x1) / 2:.1f}" y="{_H - 8}" text-anchor="middle" fill="#1f2328">'
        "batch size (examples per call)</text>"
    )
    for i, (label, points) in enumerate(series):
        colour = _COLOURS[i % len(_COLOURS)]
        path = " ".join(
            f"{'M' if j == 0 else 'L'}{x(b):.1f} {y(t):.1f}" for j, (b, t) in enumerate(points)
        )
        parts.append(f'<path d="{path}" stroke="{colour}" stroke-width="2" fill="none"/>')
        parts += [
            f'<circle cx="{x(b):.1f}" cy="{y(t):.1f}" r="3.5" fill="{colour}">'
            f"<title>{escape(label)}: b={b}, p50 {escape(_fmt_seconds(t))}</title></circle>"
            for b, t in points
        ]
        ly = _TOP + 14 + i * 18
        parts.append(
            f'<rect x="{x1 + 16}" y="{ly - 9}" width="12" height="3" fill="{colour}"/>'
            f'<text x="{x1 + 34}" y="{ly - 4}" fill="#1f2328">{escape(label[:24])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # every interpolated string above is escaped
