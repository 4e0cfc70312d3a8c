"""Spec sheets and spec diffs as text rows (for the terminal) and as an HTML table (notebooks).

Every string that came from a model (names, config values, token strings) is escaped in HTML.
"""

from __future__ import annotations

from html import escape
from typing import Any

from whichmodel.report.summary import human_bytes, human_count
from whichmodel.spec.base import Fact, SpecSheet
from whichmodel.spec.diff import SpecDiff


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
        parts.append(f"memory at {m.dtype}, batch {m.batch}"
                     + (f", {m.context:,} tokens" if m.context else ""))
    return "; ".join(parts)


def diff_rows(d: SpecDiff) -> list[tuple[str, str, str, str]]:
    """(key, A text, B text, consequence) for each difference, consequential ones first."""
    return [(x.key, fmt(x.key, x.a), fmt(x.key, x.b), x.consequence) for x in d.differences]


def diff_to_dict(d: SpecDiff) -> dict[str, Any]:
    """JSON-ready diff: both sheets and the differences."""
    return {
        "a": d.a.to_dict(),
        "b": d.b.to_dict(),
        "differences": [{"key": x.key, "a": x.a, "b": x.b, "consequence": x.consequence}
                        for x in d.differences],
        "same": list(d.same),
    }


_SOURCE_COLOUR = {"config": "#0550ae", "weights": "#1a7f37", "graph": "#8250df",
                  "formula": "#9a6700", "unknown": "#656d76"}


def render_sheet_html(sheet: SpecSheet) -> str:
    """The sheet as one HTML table (used by ``SpecSheet._repr_html_``); all text escaped."""
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


__all__ = ["Fact", "context_line", "diff_rows", "diff_to_dict", "fmt", "render_sheet_html",
           "sheet_rows"]
