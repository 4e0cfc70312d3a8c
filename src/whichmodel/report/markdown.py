"""A Markdown summary of an :class:`~whichmodel.outcome.Outcome` for pull-request comments
(``--format markdown``).

The gate verdict and the decision come first, then quality with CIs, the trade-offs matrix and
the significance lines the terminal prints. Every string from data or models is escaped, so a
model named ``<img onerror=...>`` or ``a|b`` prints as text and cannot break a table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from whichmodel.report.roofline import markdown_lines
from whichmodel.report.rounds import rounds_lines
from whichmodel.report.summary import Summary, summarize

if TYPE_CHECKING:
    from whichmodel.analysis.stats import MetricResult
    from whichmodel.choose.gate import GateResult
    from whichmodel.choose.tradeoffs import Cell, Tradeoffs
    from whichmodel.outcome import Outcome

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~!#])")


def md(text: Any) -> str:
    """Text that renders literally in GitHub Markdown: HTML special characters as entities,
    Markdown punctuation backslash-escaped, newlines as spaces (a cell is one line).

    >>> md("<b>a|b</b>")
    '&lt;b&gt;a\\\\|b&lt;/b&gt;'
    """
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    return " ".join(s.split())


def render_markdown(outcome: Outcome) -> str:
    """The summary as GitHub-flavoured Markdown, ending in a newline."""
    results, decision = outcome.results, outcome.decision
    summary = summarize(results)
    lines = [f"### whichmodel: {md(results.task)} on {md(results.data.path)}", ""]
    lines += _gate(outcome.gate)
    if decision is not None:
        pick = decision.pick
        lines.append(f"**Pick: {md(pick)}**" if pick else "**No model meets every constraint.**")
        lines.append("")
        lines += [f"- {md(s)}" for s in decision.sentences]
        lines.append("")
    pct = summary.confidence_pct
    lines.append(f"**Quality** ({results.data.n_scored} examples, {pct}% bootstrap CI)")
    lines.append("")
    lines += _quality(summary)
    if decision is not None:
        lines += ["", "**Trade-offs**", "", *_tradeoffs(decision.tradeoffs)]
    lines += _spec_diff(outcome)
    lines += markdown_lines(results, md)
    rounds = rounds_lines(results)
    if rounds:
        lines += ["", md(rounds[0]), "", *(f"- {md(s)}" for s in rounds[1:])]
    if summary.significance:
        lines += ["", *(f"- {md(s)}" for s in summary.significance)]
    if summary.notes:
        lines += ["", *(f"> {md(s)}" for s in summary.notes)]
    lines += ["", f"<sub>run {md(results.run_id or '—')} · whichmodel</sub>"]
    return "\n".join(lines) + "\n"


def _quality(summary: Summary) -> list[str]:
    """The quality table: a row per model, a column per metric, the winner in bold."""
    header = [
        "model",
        *(f"{n} {'↑' if summary.higher_is_better[n] else '↓'}" for n in summary.metric_names),
    ]
    return _table(
        header,
        [
            [
                md(row.model),
                *(
                    _metric(row.metrics.get(n), summary.won(n, row.model))
                    for n in summary.metric_names
                ),
            ]
            for row in summary.rows
        ],
    )


def _tradeoffs(tr: Tradeoffs) -> list[str]:
    """The decision's trade-offs matrix as a table, the best cell of each column in bold."""
    return _table(
        ["model", *(md(c.label) for c in tr.columns)],
        [
            [
                md(model),
                *(_cell(cells[c.key], model in tr.best.get(c.key, ())) for c in tr.columns),
            ]
            for model, cells in tr.rows.items()
        ],
    )


def _gate(gate: GateResult | None) -> list[str]:
    if gate is None:
        return []
    word = "✅ PASS" if gate.passed else "❌ FAIL"
    out = [f"**Gate: {word}** ({md(gate.candidate)} vs baseline {md(gate.baseline)})", ""]
    out += [f"- {'❌' if line in gate.failures else '✅'} {md(line)}" for line in gate.lines]
    return [*out, ""]


def _metric(m: MetricResult | None, won: bool) -> str:
    if m is None:
        return "—"
    text = f"{m.value:.4f} [{m.ci_low:.4f}, {m.ci_high:.4f}]"
    return f"**{text}**" if won else text


def _cell(cell: Cell, best: bool) -> str:
    text = md(cell.text)
    return f"**{text}**" if best else text


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


SPEC_ROWS = 10  # a pull-request comment shows the first differences; the HTML report has all


def _spec_diff(outcome: Outcome) -> list[str]:
    """A short table of the facts that differ between the models' spec sheets."""
    from whichmodel.report.spec_diff import spec_table

    pick = None if outcome.decision is None else outcome.decision.pick
    table = spec_table(outcome.results, pick=pick)
    if table is None or not table.differing:
        return []
    rows = [
        [md(r.label), *(md(c.text) for c in r.cells), md("; ".join(r.consequences))]
        for r in table.differing[:SPEC_ROWS]
    ]
    out = ["", "**Spec diff**", ""]
    out += _table(["fact", *(md(m) for m in table.models), "what it costs"], rows)
    more = len(table.differing) - SPEC_ROWS
    return out + (["", f"{more} more in the HTML report."] if more > 0 else [])
