"""The weight diff's report folder (:func:`write_weight_report`: ``weight_diff.json``, ``.md``
and ``.html``) and its HTML page: the verdict, a heatmap of relative change by block × module
(hand-written SVG, as :mod:`whichmodel.report.plots`), the changed groups and tensors, and the
tensors that do not match. Rendered by Jinja2 with autoescaping; the SVG is built here with
every name through :func:`html.escape`, and marked safe only because of that.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

from whichmodel.analysis.weights.groups import UNCHANGED
from whichmodel.report.weights import GROUP_HEADER, group_rows, rel_text, render_markdown

if TYPE_CHECKING:
    from jinja2 import Environment

    from whichmodel.analysis.weights.result import WeightDiff

#: The colour scale's range of log10(‖ΔW‖/‖W‖): 10⁻⁶ (pale) to 10⁰ (dark).
LOG_LO, LOG_HI = -6.0, 0.0
_INK, _MUTED, _SAME = "#1f2328", "#656d76", "#eef1f4"
_LEFT, _TOP, _LEGEND = 64, 150, 44
WEIGHT_FILES = ("weight_diff.json", "weight_diff.md", "weight_diff.html")


def _colour(rel: float | None) -> str:
    """White-to-red by log10 of the relative change; black for a change of a zero base."""
    if rel is None:
        return "#000000"
    t = (min(max(math.log10(rel), LOG_LO), LOG_HI) - LOG_LO) / (LOG_HI - LOG_LO)
    g = round(235 - 200 * t)
    return f"#{round(255 - 80 * t):02x}{g:02x}{round(225 - 200 * t):02x}"


def heatmap(diff: WeightDiff) -> Markup | None:
    """Relative change by block (rows) × module (columns), or None when no tensor is in a
    numbered block. Unchanged cells are grey; each cell's tooltip gives its group and value."""
    cells = {(g.block, g.module): g for g in diff.groups if g.block is not None}
    if not cells:
        return None
    blocks = sorted({b for b, _ in cells if b is not None})
    modules = list(dict.fromkeys(m for _, m in cells))
    w = 30 if len(modules) <= 16 else 18
    h = 18 if len(blocks) <= 40 else 8
    width = _LEFT + w * len(modules) + 16
    height = _TOP + h * len(blocks) + _LEGEND
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" font-size="11" '
           'font-family="system-ui, sans-serif" role="img" '
           'aria-label="relative change by block and module">']
    for j, module in enumerate(modules):
        x = _LEFT + w * j + w / 2
        out.append(f'<text transform="translate({x:.1f} {_TOP - 6}) rotate(-60)" '
                   f'fill="{_INK}">{escape(module[-28:])}</text>')
    for i, block in enumerate(blocks):
        y = _TOP + h * i
        if h >= 12 or i % 5 == 0:
            out.append(f'<text x="{_LEFT - 6}" y="{y + h - 4}" text-anchor="end" '
                       f'fill="{_MUTED}">{block}</text>')
        for j, module in enumerate(modules):
            g = cells.get((block, module))
            if g is None:
                continue
            fill = _SAME if g.verdict == UNCHANGED else _colour(g.rel_change)
            tip = f"block {block} {module}: {g.text}, ‖ΔW‖/‖W‖ {rel_text(g.rel_change)}"
            out.append(f'<rect x="{_LEFT + w * j}" y="{y}" width="{w - 1}" height="{h - 1}" '
                       f'fill="{fill}"><title>{escape(tip)}</title></rect>')
    out += _legend(_TOP + h * len(blocks) + 14)
    out.append("</svg>")
    return Markup("".join(out))


def _legend(y: int) -> list[str]:
    """The colour scale: grey for unchanged, then 10⁻⁶ … 10⁰."""
    out = [f'<rect x="{_LEFT}" y="{y}" width="14" height="12" fill="{_SAME}"/>',
           f'<text x="{_LEFT + 18}" y="{y + 10}" fill="{_MUTED}">unchanged</text>']
    for k, exp in enumerate(range(int(LOG_LO), int(LOG_HI) + 1)):
        x = _LEFT + 90 + 40 * k
        out.append(f'<rect x="{x}" y="{y}" width="40" height="12" '
                   f'fill="{_colour(10.0**exp)}"/><text x="{x}" y="{y + 26}" '
                   f'fill="{_MUTED}">1e{exp}</text>')
    return out


def tensor_rows(diff: WeightDiff) -> list[tuple[str, ...]]:
    """One row per changed tensor: name, shape, dtypes, ‖ΔW‖/‖W‖, cosine, identical, max |ΔW|,
    and for matrices the stable, 90%-energy, effective and low rank."""
    rows: list[tuple[str, ...]] = []
    for t in sorted((t for t in diff.tensors if t.changed), key=lambda t: -t.norm_delta):
        s = t.spectrum
        dtypes = t.dtype_a if t.dtype_a == t.dtype_b else f"{t.dtype_a} → {t.dtype_b}"
        spectral = ("—",) * 4 if s is None else (
            f"{s.stable_rank:.3g}",
            str(s.energy_rank) if s.energy_rank is not None else f"> {s.computed}",
            f"{s.effective_rank:.3g}" + ("*" if s.method != "svdvals" else ""),
            str(s.low_rank) if s.low_rank is not None else "no",
        )
        cos = "—" if t.cosine is None else f"{t.cosine:.6f}"
        rows.append((t.name, "×".join(map(str, t.shape)), dtypes, rel_text(t.rel_change), cos,
                     f"{t.identical_share:.1%}", f"{t.max_abs_delta:.3g}", *spectral))
    return rows


TENSOR_HEADER = ("tensor", "shape", "dtype", "‖ΔW‖/‖W‖", "cosine", "identical", "max |ΔW|",
                 "stable rank", "90% rank", "eff. rank", "low rank")


def render_weights_html(diff: WeightDiff) -> str:
    """The page, self-contained and offline."""
    return _environment().get_template("weights.html").render(
        d=diff, heatmap=heatmap(diff), group_header=GROUP_HEADER,
        groups=group_rows(diff, diff.changed), tensor_header=TENSOR_HEADER,
        tensors=tensor_rows(diff), n_unchanged=len(diff.groups) - len(diff.changed),
    )


@lru_cache(maxsize=1)
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("whichmodel.report", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def write_weight_report(diff: WeightDiff, folder: Path) -> list[Path]:
    """Write :data:`WEIGHT_FILES` into ``folder`` (each under a temporary name first, then
    renamed into place); returns their paths.

    Raises:
        ConfigError: the folder cannot be written.
    """
    texts = (json.dumps(diff.to_dict(), indent=2) + "\n", render_markdown(diff),
             render_weights_html(diff))
    from whichmodel.report.files import write_together

    return write_together(
        folder, dict(zip(WEIGHT_FILES, texts, strict=True)), "the weight diff"
    )
