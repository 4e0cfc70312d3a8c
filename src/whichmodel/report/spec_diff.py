"""The spec diff of a comparison's models, for the HTML and Markdown reports.

Built from each model's compact spec (``models[].spec`` in results.json): one row per fact of
:data:`whichmodel.spec.compact.SPEC_KEYS`, the facts that differ first (those whose difference
has a computed consequence, such as "B: parameters 1.6× smaller than A", before the rest), then
the facts all models share. A fact unknown for some models shows "unknown" with the reason;
facts unknown for every model are listed by name, not dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from whichmodel.report.spec import fmt
from whichmodel.spec.compact import SPEC_KEYS, compact_diff

if TYPE_CHECKING:
    from whichmodel.results import Results
    from whichmodel.spec.base import Fact
    from whichmodel.spec.compact import CompactSpec


@dataclass(frozen=True)
class SpecCell:
    text: str
    source: str
    note: str


@dataclass(frozen=True)
class SpecRow:
    """One fact across the models. ``differs``: two models know different values; ``partial``:
    some models know it and others do not; ``consequences``: what the difference from the
    reference model costs, one line per model that differs (empty when no number allows one)."""

    key: str
    label: str
    cells: tuple[SpecCell, ...]
    differs: bool
    partial: bool
    consequences: tuple[str, ...]


@dataclass(frozen=True)
class SpecTable:
    """``reference``: the model the others are compared with (the pick, else the first)."""

    models: tuple[str, ...]
    reference: str
    rows: tuple[SpecRow, ...]
    unknown_for_all: tuple[str, ...]
    errors: tuple[tuple[str, str], ...]  # (model, why its sheet could not be made)
    flops_note: str

    @property
    def differing(self) -> tuple[SpecRow, ...]:
        """Rows whose values differ, then rows known for only some models."""
        return tuple(r for r in self.rows if r.differs or r.partial)

    @property
    def shared(self) -> tuple[SpecRow, ...]:
        """Rows every model knows, with the same value."""
        return tuple(r for r in self.rows if not (r.differs or r.partial))


def spec_table(results: Results, *, pick: str | None = None) -> SpecTable | None:
    """The spec diff of ``results`` against ``pick`` (the decision's pick; else the first model
    with a spec), or None when no model has a spec (older results, or every sheet failed and no
    error was recorded)."""
    specs = {m.name: m.spec for m in results.models}
    errors = tuple((m.name, str(m.spec_error)) for m in results.models if m.spec_error)
    if all(spec is None for spec in specs.values()) and not errors:
        return None
    names = tuple(specs)
    with_spec = [n for n in names if specs[n] is not None]
    reference = pick if pick in with_spec else (with_spec[0] if with_spec else names[0])
    consequences = _consequences(specs, reference)
    rows, unknown_for_all = [], []
    for key, label in SPEC_KEYS.items():
        if key == "size.active" and not _experts(specs):
            continue  # without experts every parameter is active: "per token" is LLM talk
        facts = [None if spec is None else spec.facts.get(key) for spec in specs.values()]
        known = [f.value for f in facts if f is not None and f.source != "unknown"]
        if not known:
            unknown_for_all.append(label)
            continue
        cells = tuple(_cell(key, f) for f in facts)
        differs = any(v != known[0] for v in known[1:])
        partial = len(known) < len(names)
        rows.append(SpecRow(key, label, cells, differs, partial, consequences.get(key, ())))
    # differences with a consequence, other differences, partly known facts, shared facts;
    # the sort is stable, so SPEC_KEYS order holds within each group
    rows.sort(key=lambda r: (not r.differs, not r.consequences, not r.partial))
    return SpecTable(
        names, reference, tuple(rows), tuple(unknown_for_all), errors, _flops_note(specs)
    )


def _experts(specs: dict[str, CompactSpec | None]) -> bool:
    """Whether any sheet knows of experts (a mixture of experts)."""
    facts = [spec.facts.get("size.experts") for spec in specs.values() if spec is not None]
    return any(f is not None and f.source != "unknown" and f.value for f in facts)


def _cell(key: str, fact: Fact[Any] | None) -> SpecCell:
    if fact is None:
        return SpecCell("—", "unknown", "no spec sheet")
    if fact.source == "unknown":
        return SpecCell("unknown", "unknown", str(fact.note or ""))
    return SpecCell(fmt(key, fact.value), str(fact.source), str(fact.note or ""))


def _consequences(
    specs: dict[str, CompactSpec | None], reference: str
) -> dict[str, tuple[str, ...]]:
    """key -> each other model's consequence line against ``reference``."""
    out: dict[str, list[str]] = {}
    ref = specs.get(reference)
    if ref is None:
        return {}
    for name, spec in specs.items():
        if name == reference or spec is None:
            continue
        found, _ = compact_diff(ref, spec, (reference, name))
        for d in found:
            if d.consequence:
                out.setdefault(d.key, []).append(d.consequence)
    return {k: tuple(v) for k, v in out.items()}


def _flops_note(specs: dict[str, CompactSpec | None]) -> str:
    """What the FLOPs row counts: per token at N tokens of context, or per example."""
    parts = []
    for name, spec in specs.items():
        if spec is None or spec.flops_per is None:
            continue
        if spec.flops_per == "token":
            parts.append(f"{name}: per token at {spec.context or '?'} tokens of context")
        else:
            shape = "×".join(str(s) for s in spec.input_shape or ()) or "?"
            parts.append(f"{name}: per example of shape {shape}")
    return "; ".join(parts)
