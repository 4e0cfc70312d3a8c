"""A spec sheet as text rows and as one HTML table: what a notebook shows for a sheet.

Notebooks ask the object itself for its HTML (:meth:`SpecSheet._repr_html_`), so this rendering
lives in ``spec/`` rather than in :mod:`whichmodel.report` (a stage never imports one to its
right); :mod:`whichmodel.report.spec` reuses it for the terminal. It needs the sheet's types only
for annotations, so :mod:`.base` can import it without a cycle. Every string that came from a
model (names, config values, token strings) is escaped in HTML.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from whichmodel.units import human_bytes, human_count

if TYPE_CHECKING:
    from whichmodel.spec.base import SpecSheet


def fmt(key: str, value: Any) -> str:
    """A fact's value as short text: bytes as KB/MB/GB, counts as k/M/B, FLOPs with 'FLOPs'."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    name = key.rsplit(".", 1)[-1]
    if isinstance(value, dict):
        if name == "bytes_at":
            return ", ".join(f"{k} {human_bytes(v)}" for k, v in value.items())
        return ", ".join(f"{k} {fmt(key, v)}" for k, v in list(value.items())[:12]) + (
            " …" if len(value) > 12 else "")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value[:20]) + (" …" if len(value) > 20 else "")
    if isinstance(value, float):
        return f"{int(value):,}" if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int):
        if "bytes" in name:
            return human_bytes(value)
        if "flops" in name:
            return f"{human_count(value)} FLOPs"
        if key.startswith(("size.", "adapter.parameters")) and value >= 10_000:
            return f"{human_count(value)} ({value:,})"
    return str(value)


def sheet_rows(sheet: SpecSheet) -> list[tuple[str, str, str, str]]:
    """(key, value text, source, note) for every known fact, in section order."""
    rows: list[tuple[str, str, str, str]] = []
    for key, fact in sheet.facts().items():
        if fact.value is None and not fact.note:
            continue
        rows.append((key, fmt(key, fact.value), fact.source, fact.note))
    return rows


def context_line(sheet: SpecSheet) -> str:
    """What the compute and memory figures assume (context, dtype, batch)."""
    parts = []
    if sheet.compute is not None:
        c = sheet.compute
        parts.append(f"FLOPs per {c.unit}" + (f" at {c.context:,} tokens of context"
                                                if c.context else ""))
    if sheet.memory is not None:
        m = sheet.memory
        stored = sheet.storage is not None and sheet.storage.bits_per_weight.value is not None
        at = f"weights as stored, KV cache at {m.dtype}" if stored else f"memory at {m.dtype}"
        parts.append(f"{at}, batch {m.batch}" + (f", {m.context:,} tokens" if m.context else ""))
    return "; ".join(parts)


_SOURCE_COLOUR = {"config": "#0550ae", "weights": "#1a7f37", "graph": "#8250df",
                  "formula": "#9a6700", "unknown": "#656d76"}


def render_sheet_html(sheet: SpecSheet) -> str:
    """The sheet as one HTML table (what a notebook shows for a sheet); all text escaped."""
    title = escape(f"{sheet.identity.name} — {sheet.identity.architecture.value}")
    body = []
    for key, value, source, note in sheet_rows(sheet):
        colour = _SOURCE_COLOUR.get(source, "#656d76")
        body.append(
            f"<tr><td><code>{escape(key)}</code></td><td>{escape(value)}</td>"
            f'<td style="color:{colour}">{escape(source)}</td>'
            f'<td style="color:#656d76">{escape(note)}</td></tr>'
        )
    return (
        f"<div><strong>{title}</strong><br><small>{escape(context_line(sheet))}</small>"
        "<table><thead><tr><th>fact</th><th>value</th><th>source</th><th>note</th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
