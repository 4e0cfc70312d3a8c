"""A weight diff (:class:`~whichmodel.analysis.weights.WeightDiff`) as table rows and Markdown;
the HTML page and the report folder are :mod:`whichmodel.report.weights_html`'s.

Every name comes from a model file, so every name is escaped (:func:`md` here, autoescaping and
:func:`html.escape` in the HTML).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whichmodel.report.markdown import md

if TYPE_CHECKING:
    from whichmodel.analysis.weights.groups import GroupDiff
    from whichmodel.analysis.weights.result import WeightDiff

#: The columns of :func:`group_rows`.
GROUP_HEADER = ("group", "verdict", "‖ΔW‖/‖W‖", "identical", "stable · 90% · eff rank")
#: Changed groups the Markdown lists; the HTML report lists all.
MARKDOWN_ROWS = 20


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
