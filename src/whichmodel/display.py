"""What a notebook shows for a result: one short line (``repr``) and a small HTML card
(``_repr_html_``).

Results ask themselves for their HTML, and most of them sit left of :mod:`whichmodel.report`
(a stage never imports one to its right), so the card is built here, from plain rows the result
gives: a title, facts as (label, value) pairs, an optional table and lines of text. Every string
is escaped with :func:`html.escape`, as the report's charts escape theirs: names come from the
user's data and models (a model named ``<script>`` is shown, never run).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

#: Rows of a card's table shown before "… and N more".
MAX_ROWS = 20


def names_text(names: Sequence[str], limit: int = 4) -> str:
    """``a, b, c`` or ``a, b, c, d and 5 more``: a list that keeps a repr short."""
    shown = ", ".join(str(n)[:40] for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def card(
    title: str,
    facts: Sequence[tuple[str, str]] = (),
    *,
    header: Sequence[str] = (),
    rows: Sequence[Sequence[str]] = (),
    lines: Sequence[str] = (),
) -> str:
    """An HTML card: ``title``, a facts table, a table of ``rows`` under ``header``, then
    ``lines`` as paragraphs; every string escaped."""
    parts = [f"<div><strong>{escape(title)}</strong>"]
    if facts:
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
            for k, v in facts
        )
        parts.append(f"<table>{body}</table>")
    if rows:
        head = "".join(f"<th>{escape(h)}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
            for row in rows[:MAX_ROWS]
        )
        more = len(rows) - MAX_ROWS
        tail = f"<p>… and {more} more rows</p>" if more > 0 else ""
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{tail}")
    parts += [f"<p>{escape(line)}</p>" for line in lines]
    parts.append("</div>")
    return "".join(parts)


def number(value: float | None, digits: int = 4) -> str:
    """A value for a card: ``0.9815``, ``—`` for None or NaN."""
    if value is None or value != value:
        return "—"
    return f"{value:.{digits}g}"


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds for a card."""
    return "—" if seconds is None else f"{seconds * 1e3:.3g} ms"
