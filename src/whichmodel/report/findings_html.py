"""Inline SVG for the paired-analysis blocks of ``report.html``: image thumbnails of example
inputs and reliability diagrams. Every interpolated string passes through :func:`html.escape`;
only this generated markup is marked safe (the template autoescapes everything else)."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from whichmodel.analysis.calibration import Calibration
    from whichmodel.analysis.disagreements import ExampleInput
    from whichmodel.analysis.slices import SliceMetric, SliceReport

_PX = 4  # thumbnail pixel size (px); a 32x32 thumbnail is 128 px wide
_R_SIZE, _R_PAD = 260, 34  # reliability diagram: plot side and margin (px)


def thumbnail_svg(example: ExampleInput) -> Markup:
    """An ``image`` example input's grey-level grid (0-255, see analysis.disagreements) as SVG;
    other kinds render as nothing (the template shows their text)."""
    pixels = example.pixels
    if example.kind != "image" or not pixels:
        return Markup("")
    h, w = len(pixels), len(pixels[0])
    rects = "".join(
        f'<rect x="{x * _PX}" y="{y * _PX}" width="{_PX}" height="{_PX}" '
        f'fill="rgb({int(v)},{int(v)},{int(v)})"/>'
        for y, row in enumerate(pixels)
        for x, v in enumerate(row)
    )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="thumb" width="{w * _PX}" '
        f'height="{h * _PX}" viewBox="0 0 {w * _PX} {h * _PX}" role="img">'
        f"<title>{escape(str(example.text))}</title>{rects}</svg>"
    )


def reliability_svg(calibration: Calibration) -> Markup:
    """A reliability diagram: mean confidence (x) against fraction right (y) per non-empty bin,
    dot area by example count, the diagonal of perfect calibration dashed."""
    size, pad = _R_SIZE, _R_PAD
    full = size + 2 * pad

    def x(v: float) -> float:
        return pad + v * size

    def y(v: float) -> float:
        return pad + (1 - v) * size

    total = max(1, int(calibration.n or 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{full}" height="{full}" '
        f'viewBox="0 0 {full} {full}" role="img" font-family="system-ui, sans-serif" '
        'font-size="11">',
        f"<title>reliability diagram of {escape(str(calibration.model))}</title>",
        f'<rect x="{pad}" y="{pad}" width="{size}" height="{size}" fill="#f6f8fa" '
        'stroke="#d0d7de"/>',
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="#656d76" '
        'stroke-dasharray="4 3"/>',
    ]
    # ticks and axis titles kept apart: the browser tests measure that no two texts overlap
    for t in (0.0, 0.5, 1.0):
        parts.append(
            f'<text class="tick" x="{x(t):.1f}" y="{pad + size + 14}" text-anchor="middle" '
            f'fill="#656d76">{t:g}</text><text class="tick" x="{pad - 4}" y="{y(t) + 4:.1f}" '
            f'text-anchor="end" fill="#656d76">{t:g}</text>'
        )
    parts.append(
        f'<text x="{pad + size / 2}" y="{full - 2}" text-anchor="middle">confidence</text>'
        f'<text x="8" y="{pad + size / 2}" text-anchor="middle" '
        f'transform="rotate(-90 8 {pad + size / 2})">fraction right</text>'
    )
    points = [(x(b.confidence), y(b.accuracy)) for b in calibration.bins]
    if points:
        path = "M" + "L".join(f"{px:.1f} {py:.1f}" for px, py in points)
        parts.append(f'<path d="{path}" fill="none" stroke="#0969da" stroke-width="1.5"/>')
    for (px, py), b in zip(points, calibration.bins, strict=True):
        r = 2.5 + 6 * (b.n / total) ** 0.5
        tip = f"conf {b.confidence:.3f}, right {b.accuracy:.3f}, n={b.n}"
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="{r:.1f}" fill="#0969da" fill-opacity="0.7">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def slice_table(report: SliceReport) -> dict[str, Any]:
    """A slice report as a table of display cells: its models, and one row per (slice, metric)
    with one ``value [low, high]`` cell per model (``—`` where undefined)."""
    models = list(dict.fromkeys(m.model for sl in report.slices for m in sl.metrics))
    rows = []
    for sl in report.slices:
        metrics = list(dict.fromkeys(m.metric for m in sl.metrics))
        for i, metric in enumerate(metrics):
            by_model = {m.model: m for m in sl.metrics if m.metric == metric}
            cells = [_cell(by_model.get(model)) for model in models]
            rows.append(
                {
                    "value": sl.value if i == 0 else "",
                    "n": sl.n if i == 0 else "",
                    "metric": metric,
                    "cells": cells,
                    "first": i == 0,
                }
            )
    return {"models": models, "rows": rows}


def _cell(m: SliceMetric | None) -> str:
    if m is None or m.value is None:
        return "—"
    if m.ci_low is None or m.ci_high is None:
        return f"{m.value:.4f}"
    return f"{m.value:.4f} [{m.ci_low:.4f}, {m.ci_high:.4f}]"
