"""Markdown summary and the HTML decision section on constructed results: escaped, complete."""

from __future__ import annotations

import re

from helpers.results import cost, outcome, results
from whichmodel.choose import choose
from whichmodel.report.html import render_html
from whichmodel.report.markdown import md, render_markdown

HOSTILE = "<script>x</script>|*a*"


def _with_decision(**kwargs: object) -> dict:
    r = results(
        [
            (HOSTILE, {"accuracy": 0.95}, cost(2.0, 100)),
            ("b", {"accuracy": 0.942}, cost(0.5, 40)),
            ("nocost", {"accuracy": 0.9}, None),
        ]
    )
    r["decision"] = choose(r, **kwargs).to_dict()  # type: ignore[arg-type]
    return r


def test_markdown_escapes_names_and_keeps_tables_rectangular() -> None:
    text = render_markdown(outcome(_with_decision(max_latency_ms=1)))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "**Pick: b**" in text
    tables: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    tables = [t for t in tables if t]
    assert len(tables) == 2  # quality, trade-offs
    for table in tables:
        pipes = {len(re.findall(r"(?<!\\)\|", line)) for line in table}
        assert len(pipes) == 1, table  # the name's "|" is escaped: no row gains a column
    assert md("a|b") == "a\\|b" and md("x\ny") == "x y"


def test_html_decision_first_with_pareto_plot_and_unknown_cells() -> None:
    page = render_html(outcome(_with_decision(max_latency_ms=1)))
    assert page.index('<section id="decision">') < page.index('<section id="summary">')
    assert '<figure id="pareto">' in page and page.count('class="point"') == 2  # nocost unplaced
    assert "&lt;script&gt;x&lt;/script&gt;|*a*" in page and "<script>x" not in page
    assert 'class="n  unknown"' in page  # nocost's latency cell is marked unknown
    assert "nocost cannot be shown to meet the latency (p50, batch 1) limit" in page


def test_html_without_a_decision_has_no_decision_section() -> None:
    r = results([("a", {"accuracy": 0.9}, cost(1.0, 10))])
    page = render_html(outcome(r))
    assert 'id="decision"' not in page and 'id="gate"' not in page


def test_an_unreliable_latency_is_marked_everywhere_and_wins_no_column() -> None:
    from whichmodel.report.summary import summarize

    data = results([("a", {"accuracy": 0.95}, cost(2.0, 100)), ("b", {"accuracy": 0.94},
                                                                 cost(0.5, 40))])  # fmt: skip
    data["models"][1]["cost"]["unreliable"] = ["batch 1: the warm-up never settled"]
    data["decision"] = choose(data).to_dict()
    typed = outcome(data)
    summary = summarize(typed.results)
    b = next(row for row in summary.rows if row.model == "b")
    assert b.cost["p50 b=1"] == "0.50 ms (unreliable)"
    assert "p50 b=1" not in summary.winners  # b's faster figure wins nothing: no star
    note = next(n for n in summary.notes if n.startswith("b: "))
    assert "unreliable (batch 1: the warm-up never settled)" in note and "--refresh-cost" in note
    text = render_markdown(typed)
    assert "| b | 0.9400 \\[0.9200, 0.9600\\] | unknown | unknown |" in text  # latency, throughput
    assert "The latency of b was measured unreliably" in text
    page = render_html(typed)
    assert "0.50 ms (unreliable)" in page and "the warm-up never settled" in page
