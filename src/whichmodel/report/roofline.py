"""The roofline (:mod:`whichmodel.bench.roofline`) as text cells, notes, Markdown lines and an
inline SVG plot. Every renderer reads the same figures from here, so the terminal, Markdown and
HTML say the same; a figure with no value prints as "—" and its reason is a note."""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING

from markupsafe import Markup

from whichmodel.report.axes import Box, log_ticks, overlap, text_box
from whichmodel.report.plots import (
    _BOTTOM,
    _H,
    _LEFT,
    _RIGHT,
    _TOP,
    _W,
    PALETTE,
    _axes,
    _frame,
    _short,
    scale,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from whichmodel.bench.roofline import DecodeRoofline, Roofline
    from whichmodel.results import Results

#: The cost columns a roofline adds, next to latency.
COLUMNS = ("% of peak FLOP/s", "% of bandwidth", "bound")
_ROOF = "#1f2328"


def pct(value: float | None) -> str:
    """A percentage with the digits that matter: 250%, 12.5%, 0.42%; "—" for None."""
    if value is None:
        return "—"
    return f"{value:.0f}%" if value >= 100 else f"{value:.3g}%"


def cells(roof: Roofline | None) -> dict[str, str]:
    """The :data:`COLUMNS` of one call's roofline (empty for None)."""
    if roof is None:
        return {}
    dtype = f" ({roof.dtype})" if roof.dtype and roof.flops_pct is not None else ""
    return {
        COLUMNS[0]: pct(roof.flops_pct) + dtype,
        COLUMNS[1]: pct(roof.bandwidth_pct),
        COLUMNS[2]: roof.bound or "—",
    }


def call_notes(calls: Iterable[tuple[str, Roofline]]) -> list[str]:
    """Why a column has no value (the root cause) and when a % of bandwidth above 100 is cache
    reuse, for (name, roofline) pairs: each sentence once, after every name it applies to."""
    names: dict[str, list[str]] = {}
    for name, roof in calls:
        for sentence in _reasons(roof):
            names.setdefault(sentence, []).append(name)
    return [f"{', '.join(who)}: {sentence}" for sentence, who in names.items()]


def _reasons(roof: Roofline) -> list[str]:
    out = []
    flops = roof.unknown.get("flops_pct")
    if flops is not None and flops.startswith("not claimed"):
        out.append(f"no % claimed: {flops.removeprefix('not claimed: ')}.")
    else:
        if flops is not None:
            why = roof.unknown.get("flops_per_call") or roof.unknown.get("peak_flops_per_s")
            out.append(f"% of peak FLOP/s unknown: {why or flops}.")
        if "bandwidth_pct" in roof.unknown:
            why = roof.unknown.get("bytes_per_call") or roof.unknown["bandwidth_pct"]
            out.append(f"% of bandwidth unknown: {why}.")
    if roof.bandwidth_pct is not None and roof.bandwidth_pct > 100:
        cache = next((n for n in roof.notes if "cache" in n), "the bytes are read from cache")
        out.append(f"{pct(roof.bandwidth_pct)} of the copy bandwidth: {cache}.")
    return out


def decode_line(name: str | None, d: DecodeRoofline) -> str:
    """One decode point as a sentence: measured tokens/s against the bandwidth bound."""
    who = f"{name} ({d.variant})" if name else d.variant
    head = (f"{who} decode at {d.context} tokens of context, batch {d.batch_size}: "
            f"{d.tokens_per_s:,.1f} tokens/s")
    if d.bound_tokens_per_s is None:
        return f"{head}; bandwidth bound unknown: {d.unknown['bound_tokens_per_s']}."
    share = ", ".join(f"{s.share:.1%} at {s.context:,}" for s in d.kv_share)
    claim = (f" = {pct(d.pct_of_bound)} of" if d.pct_of_bound is not None
             else " (no % claimed) against")
    cache = next((f" ({n})" for n in d.notes if "cache" in n), "")
    return (f"{head}{claim} the bound {d.bound_tokens_per_s:,.1f} tokens/s (copy bandwidth / "
            f"{d.bytes_per_step:,.0f} bytes per step: weights {d.weight_bytes:,} + KV "
            f"{d.kv_bytes_per_token:,.0f} B/token × context, {d.kv_source}){cache}; KV share "
            f"of the bytes per token: {share}.")


def summary_lines(results: Results) -> list[str]:
    """One short line per model with a roofline at the comparison's batch size (the terminal's
    form of the cost table's roofline columns)."""
    b = results.config.batch_size
    out = []
    for m in results.models:
        r = None if m.roofline is None else m.roofline.call("original", b)
        if r is None:
            continue
        c = cells(r)
        bound = ""
        if r.bound is not None:
            only = "" if "activations" in r.bytes_counted else " (bytes: weights only)"
            bound = (f", {r.bound}-bound: {_f(r.intensity)} FLOPs/byte{only}, ridge "
                     f"{_f(r.ridge)}")
        out.append(f"{m.name} at b={b}: {c[COLUMNS[0]]} of peak FLOP/s, {c[COLUMNS[1]]} of "
                   f"bandwidth{bound}")
    return out


def results_notes(results: Results) -> list[str]:
    """The roofline notes of a comparison, at its batch size."""
    b = results.config.batch_size
    calls = [(m.name, r) for m in results.models if m.roofline is not None
             and (r := m.roofline.call("original", b)) is not None]
    decode = [decode_line(m.name, d) for m in results.models if m.roofline is not None
              for d in m.roofline.decode]
    return call_notes(calls) + decode


def markdown_lines(results: Results, md: Callable[[object], str]) -> list[str]:
    """A Markdown table of each model's roofline at the comparison's batch size; [] without."""
    b = results.config.batch_size
    rows = [(m.name, r) for m in results.models if m.roofline is not None
            and (r := m.roofline.call("original", b)) is not None]
    if not rows:
        return []
    first = next(m.roofline for m in results.models if m.roofline is not None)
    band = first.bandwidth_bytes_per_s / 1e9 if first else 0.0
    lines = ["", f"**Roofline** (batch {b}; against this machine's peak matmul FLOP/s and "
             f"{first.bandwidth_kernel if first else 'copy'} bandwidth, {band:.1f} GB/s, at "
             f"{first.threads if first else '?'} thread(s))", "",
             "| model | dtype | GFLOP/s | " + " | ".join(COLUMNS) + " | FLOPs/byte | ridge |",
             "|---|---|---:|---:|---:|---|---:|---:|"]
    for name, r in rows:
        c = cells(r)
        lines.append(f"| {md(name)} | {r.dtype or '—'} | {_g(r.flops_per_s)} | "
                     f"{pct(r.flops_pct)} | {c[COLUMNS[1]]} | {c[COLUMNS[2]]} | "
                     f"{_f(r.intensity)} | {_f(r.ridge)} |")
    lines += ["", "Bytes per call: the weights (and buffers) read once, plus the activations "
              "written once where measured (`whichmodel bench` measures them, `compare` does "
              "not); a % of bandwidth above 100 means the bytes stay in cache."]
    return lines


def _g(flops_per_s: float | None) -> str:
    return "—" if flops_per_s is None else f"{flops_per_s / 1e9:.3g}"


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def roofline_plot(results: Results) -> Markup | None:
    """Achieved GFLOP/s (y, log) against arithmetic intensity (x, FLOPs per byte, log): the
    machine's roof per dtype (bandwidth × intensity up to the ridge, then the peak) and one
    point per model at the comparison's batch size; an unreliable one hollow and named so.
    None when no model has both figures."""
    b = results.config.batch_size
    pts = [(m.name, r, m.roofline) for m in results.models if m.roofline is not None
           and (r := m.roofline.call("original", b)) is not None
           and r.intensity and r.flops_per_s]
    if not pts:
        return None
    roof = pts[0][2]
    peaks = {d: p for d, p in roof.peak_flops_per_s.items() if p}
    band = roof.bandwidth_bytes_per_s
    xs = [r.intensity or 1.0 for _, r, _ in pts] + [p / band for p in peaks.values()]
    ys = [(r.flops_per_s or 1.0) / 1e9 for _, r, _ in pts] + [p / 1e9 for p in peaks.values()]
    lx0, lx1 = math.log10(min(xs) / 3), math.log10(max(xs) * 3)
    ly0, ly1 = math.log10(min(ys) / 3), math.log10(max(ys) * 3)
    right, bottom = _W - _RIGHT, _H - _BOTTOM

    x = scale(math.log10, lx0, lx1, _LEFT, right)
    y = scale(math.log10, ly0, ly1, bottom, _TOP)

    parts = _frame("roofline: achieved FLOP/s against arithmetic intensity",
                   "arithmetic intensity (FLOPs per byte moved, log)",
                   "achieved GFLOP/s (log)")
    parts += _axes(log_ticks(10**lx0, 10**lx1), log_ticks(10**ly0, 10**ly1), x, y)
    parts += _roof_lines(peaks, band, x, y, (10**lx0, 10**lx1))
    for i, (name, r, _) in enumerate(pts):
        parts.append(_point(name, r, PALETTE[i % len(PALETTE)], i, x, y))
    parts.append("</svg>")
    return Markup("".join(parts))  # every interpolated string above is escaped


def _roof_lines(
    peaks: dict[str, float], band: float, x: Callable[[float], float],
    y: Callable[[float], float], span: tuple[float, float],
) -> list[str]:
    """Per dtype: the bandwidth slope up to its ridge, then its flat peak, labelled."""
    out = []
    labels: list[Box] = []  # the roof labels so far: a near-equal peak's label goes left of them
    for dtype, peak in sorted(peaks.items(), key=lambda kv: kv[1]):
        ridge = peak / band
        end = x(span[1]) - 4
        box = text_box(end, y(peak / 1e9) - 5, f"{dtype} peak", anchor="end")
        while any(overlap(box, b) for b in labels):
            end = min(b[0] for b in labels if overlap(box, b)) - 10
            box = text_box(end, y(peak / 1e9) - 5, f"{dtype} peak", anchor="end")
        labels.append(box)
        start = span[0]
        path = (f"M{x(start):.1f} {y(band * start / 1e9):.1f}L{x(ridge):.1f} "
                f"{y(peak / 1e9):.1f}L{x(span[1]):.1f} {y(peak / 1e9):.1f}")
        tip = (f"{dtype} peak {peak / 1e9:.1f} GFLOP/s; copy bandwidth {band / 1e9:.1f} GB/s; "
               f"ridge {ridge:.3g} FLOPs/byte")
        # fp32's roof solid, the others dashed
        style = '2"' if dtype == "fp32" else '1" stroke-dasharray="4 3"'
        out.append(f'<g class="roof"><title>{escape(tip)}</title><path d="{path}" '
                   f'stroke="{_ROOF}" fill="none" stroke-width="{style}/><text '
                   f'x="{end:.1f}" y="{y(peak / 1e9) - 5:.1f}" text-anchor="end" '
                   f'fill="{_ROOF}">{escape(f"{dtype} peak")}</text></g>')
    return out


def _point(
    name: str, r: Roofline, colour: str, i: int, x: Callable[[float], float],
    y: Callable[[float], float],
) -> str:
    """One model: filled when its % is claimed, hollow (and named unreliable) when not."""
    claimed = r.flops_pct is not None
    label = name + ("" if claimed else " (no % claimed)")
    intensity, rate = r.intensity or 1.0, (r.flops_per_s or 1.0) / 1e9
    tip = (f"{label}: {r.variant}, batch {r.batch_size}, {rate:.3g} GFLOP/s at "
           f"{intensity:.3g} FLOPs/byte, {pct(r.flops_pct)} of peak, {r.bound or '?'}-bound")
    return (f'<g class="point"><title>{escape(tip)}</title>'
            f'<circle cx="{x(intensity):.1f}" cy="{y(rate):.1f}" r="5" '
            f'fill="{colour if claimed else "none"}" stroke="{colour}" stroke-width="2"/>'
            f'<text x="{_W - _RIGHT + 12}" y="{_TOP + 12 + 18 * i}" fill="{colour}">'
            f"{escape(_short(label))}</text></g>")
