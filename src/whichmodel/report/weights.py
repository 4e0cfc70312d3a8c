"""A weight diff (:class:`~whichmodel.analysis.weights.WeightDiff`) as rows, Markdown and a
report folder: ``weight_diff.json``, ``weight_diff.md`` and ``weight_diff.html`` (the heatmap of
relative change by block × module, :mod:`whichmodel.report.weights_html`).

Every name comes from a model file, so every name is escaped (:func:`md` here, autoescaping and
:func:`html.escape` in the HTML).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from whichmodel.errors import ConfigError
from whichmodel.report.markdown import md

if TYPE_CHECKING:
    from whichmodel.analysis.weights.groups import GroupDiff
    from whichmodel.analysis.weights.result import WeightDiff

#: The columns of :func:`group_rows`.
GROUP_HEADER = ("group", "verdict", "‖ΔW‖/‖W‖", "identical", "stable · 90% · eff rank")
#: Changed groups the Markdown lists; the HTML report lists all.
MARKDOWN_ROWS = 20
WEIGHT_FILES = ("weight_diff.json", "weight_diff.md", "weight_diff.html")


def rel_text(value: float | None) -> str:
    """A relative change: ``0``, ``3.1e-05``, ``0.432``; ``inf`` when the base is zero."""
    if value is None:
        return "inf"
    return "0" if value == 0 else f"{value:.3g}"


def ranks_text(diff: WeightDiff, group: GroupDiff) -> str:
    """The spectral ranks of the group's most changed matrix: ``4.0 · 4 · 4.0``, or ``—``."""
    by_name = {t.name: t for t in diff.tensors}
    spectra = [by_name[n] for n in group.tensors if by_name[n].spectrum is not None]
    if not spectra:
        return "—"
    s = max(spectra, key=lambda t: t.norm_delta).spectrum
    assert s is not None
    energy = str(s.energy_rank) if s.energy_rank is not None else f"> {s.computed}"
    return f"{s.stable_rank:.3g} · {energy} · {s.effective_rank:.3g}"


def group_rows(diff: WeightDiff, groups: tuple[GroupDiff, ...]) -> list[tuple[str, ...]]:
    """One row of :data:`GROUP_HEADER` per group."""
    by_name = {t.name: t for t in diff.tensors}
    rows: list[tuple[str, ...]] = []
    for g in groups:
        n = sum(by_name[t].numel for t in g.tensors)
        same = sum(by_name[t].n_identical for t in g.tensors)
        share = f"{same / n:.1%}" if n else "—"
        rows.append((g.label, g.text, rel_text(g.rel_change), share, ranks_text(diff, g)))
    return rows


def render_markdown(diff: WeightDiff) -> str:
    """The diff as GitHub-flavoured Markdown, ending in a newline."""
    lines = [f"### whichmodel: weight diff of {md(diff.a)} and {md(diff.b)}", "",
             f"**{md(diff.verdict)}**", ""]
    lines += [f"- {md(n)}" for n in diff.notes]
    changed = diff.changed
    if changed:
        rows = group_rows(diff, changed[:MARKDOWN_ROWS])
        lines += [""] * bool(diff.notes) + _table(GROUP_HEADER, rows)
        more = len(changed) - MARKDOWN_ROWS
        if more > 0:
            lines += ["", f"{more} more changed groups in the HTML report."]
    unchanged = len(diff.groups) - len(changed)
    lines += ["", f"{len(diff.tensors)} tensors in {len(diff.groups)} groups compared; "
                  f"{unchanged} groups unchanged."]
    return "\n".join(lines) + "\n"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    out = ["| " + " | ".join(md(h) for h in header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]


def write_weight_report(diff: WeightDiff, folder: Path) -> list[Path]:
    """Write :data:`WEIGHT_FILES` into ``folder`` (each under a temporary name first, then
    renamed into place); returns their paths.

    Raises:
        ConfigError: the folder cannot be written.
    """
    from whichmodel.report.weights_html import render_weights_html

    texts = (json.dumps(diff.to_dict(), indent=2) + "\n", render_markdown(diff),
             render_weights_html(diff))
    paths = [folder / name for name in WEIGHT_FILES]
    temps = [p.with_name(f".{p.name}.{os.getpid()}.tmp") for p in paths]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for tmp, text in zip(temps, texts, strict=True):
            tmp.write_text(text, encoding="utf-8")
        for tmp, path in zip(temps, paths, strict=True):
            os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"Cannot write the weight diff into {folder}: "
                          f"{exc.strerror or exc}.") from exc
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
    return paths
