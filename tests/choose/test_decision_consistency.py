"""The decision never contradicts the tables it cites (issue 18).

Every claim of the decision's sentences is read back with a regular expression (direction,
significance, each number quoted) and held against the results' tables: the metrics, the
paired differences and their CIs, the Holm-adjusted paired tests (``paired_tests``), the
trade-offs matrix. The fixtures are every task kind's golden results (tests/golden/*.json, made
by the real pipeline), decided again by the code as it is now, plus constructed results with a
cost and an adjusted test that contradicts an unadjusted interval.

The checker can fail: ``test_the_checker_catches_the_old_sentences`` feeds it sentences the
decision printed before this test existed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from helpers.results import cost, results
from whichmodel.choose import choose
from whichmodel.choose.decision import Decision
from whichmodel.choose.evidence import ALPHA, METHODS
from whichmodel.choose.explain import POINT_METRICS

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.json"))

_METHOD = "|".join(re.escape(m) for m in METHODS.values())
QUALITY = re.compile(
    r"it (?P<verb>gains|loses) (?P<size>[\d.]+) (?:points of )?(?P<metric>\S+?)[ ,(;]"
    r"|it (?P<match>matches) (?P<other>\S+) on (?P<metric2>\S+?)[ ,(;]"
)
INTERVAL = re.compile(
    r"(?P<pct>\d+)% CI of (?P<a>\S+) − (?P<b>\S+) \[(?P<lo>[-+][\d.]+), (?P<hi>[-+][\d.]+)\]"
)
VERDICT = re.compile(
    rf"(?P<holm>Holm-adjusted )?(?P<method>{_METHOD}) p (?P<op>[=<]) (?P<p>[\d.]+)"
    r"(?: over (?P<pairs>\d+) pairs)?: (?P<word>not significant|significant) at (?P<alpha>\d+)%"
)
TIE_BREAK = re.compile(
    r"^(?P<pick>\S+) ties with (?P<other>\S+) on (?P<metric>\S+) \((?P<value>[\d.]+) each\); "
    r"its (?P<dir>lower|higher) (?P<second>\S+) breaks the tie "
    r"\((?P<vp>[\d.]+) vs (?P<vo>[\d.]+)\)\.$"
)
LISTED_FIRST = re.compile(r"^(?P<pick>\S+) ties with (?P<others>.+?) on .*is listed first")
SPEED = re.compile(
    r"is (?P<r>[\d.]+)× (?P<dir>faster|slower) at batch \d+.*?\((?P<lp>[\d.]+) vs "
    r"(?P<lo>[\d.]+) ms, p\d+\)"
)
MEMORY = re.compile(
    r"needs (?:(?P<pct>\d+)% (?P<dir>less|more) memory|(?P<times>[\d.]+)× the memory|"
    r"about the same memory) \((?P<mp>[\d.]+) vs (?P<mo>[\d.]+) MB\)"
)


class Tables:
    """What a results.json's tables say, for the checker."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.value = {(m["model"], m["name"]): m["value"] for m in data["metrics"]}
        self.higher = {m["name"]: m["higher_is_better"] for m in data["metrics"]}
        self.metric_names = list(dict.fromkeys(m["name"] for m in data["metrics"]))
        self.diffs = {(d["name"], d["model_a"], d["model_b"]): d for d in data["differences"]}
        self.tests = {(t["metric"], t["model_a"], t["model_b"]): t
                      for t in data.get("paired_tests", [])}  # fmt: skip
        self.confidence = data["bootstrap"]["confidence"]

    def difference(self, metric: str, a: str, b: str) -> tuple[float, float, float]:
        """a − b, with its CI, whichever order the table stores."""
        if (metric, a, b) in self.diffs:
            d = self.diffs[(metric, a, b)]
            return d["diff"], d["ci_low"], d["ci_high"]
        d = self.diffs[(metric, b, a)]
        return -d["diff"], -d["ci_high"], -d["ci_low"]

    def test(self, metric: str, a: str, b: str) -> dict[str, Any] | None:
        return self.tests.get((metric, a, b)) or self.tests.get((metric, b, a))

    def pairs(self, metric: str) -> int:
        return sum(1 for m, _, _ in self.tests if m == metric)


def _close(text: str, true: float) -> bool:
    """``text`` is ``true`` at the precision it is printed with."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(float(text) - true) <= 0.5 * 10**-decimals + 1e-9


def contradictions(sentences: list[str], data: dict[str, Any], pick: str | None) -> list[str]:
    """Each claim of ``sentences`` that the tables of ``data`` contradict, in words."""
    t = Tables(data)
    found: list[str] = []
    for s in sentences:
        if re.search(r"\bp ?= ?0(?![.\d])|\bp=", s):
            found.append(f"a p-value written as 'p=' or 'p = 0': {s}")
        if "1.00×" in s:
            found.append(f"a ratio of 1.00× cited as a difference: {s}")
        versus = re.match(r"^(\S+) vs (\S+): ", s)
        if versus and "from the spec sheets" not in s:
            found += _versus(s, versus.group(1), versus.group(2), t)
        found += _ties(s, t, pick)
    return found


def _versus(s: str, p: str, o: str, t: Tables) -> list[str]:
    found = []
    q = QUALITY.search(s)
    if q is None:
        return [f"no quality claim in: {s}"] if "is unknown for one of them" not in s else []
    metric = q["metric"] or q["metric2"]
    diff, lo, hi = t.difference(metric, p, o)
    scale = 100.0 if metric in POINT_METRICS and q["size"] and "points of" in s else 1.0
    gain = diff if t.higher[metric] else -diff
    if q["match"]:
        if abs(diff) > 1e-12:
            found.append(f"'matches' but {p} − {o} = {diff}: {s}")
    else:
        if (q["verb"] == "gains") != (gain > 0):
            found.append(f"'{q['verb']}' but {p} − {o} on {metric} is {diff}: {s}")
        if not _close(q["size"], abs(gain) * scale):
            found.append(f"size {q['size']} is not |{diff}| × {scale:g}: {s}")
    interval = INTERVAL.search(s)
    if interval:
        if (interval["a"], interval["b"]) != (p, o) or int(interval["pct"]) != round(
            t.confidence * 100
        ):
            found.append(f"the interval names another pair or level: {s}")
        if not (_close(interval["lo"], lo * scale) and _close(interval["hi"], hi * scale)):
            found.append(f"CI [{interval['lo']}, {interval['hi']}] is not [{lo}, {hi}]: {s}")
    return found + _significance(s, metric, p, o, t, (lo, hi))


def _significance(
    s: str, metric: str, p: str, o: str, t: Tables, ci: tuple[float, float]
) -> list[str]:
    """The verdict words against the Holm-adjusted test the tables show (or, without one,
    against the interval)."""
    found = []
    test = t.test(metric, p, o)
    v = VERDICT.search(s)
    apart = "cannot tell them apart" in s
    excludes = "excludes 0" in s
    if test is None:
        if v is not None:
            found.append(f"a test is cited that the tables do not hold: {s}")
        if apart == (ci[0] > 0 or ci[1] < 0) or excludes == (ci[0] <= 0 <= ci[1]):
            found.append(f"the verdict does not follow the interval {ci}: {s}")
        return found
    significant = test["p_holm"] < ALPHA
    if v is None:
        found.append(f"no test named, though the tables hold {test['method']}: {s}")
    else:
        pairs = t.pairs(metric)
        if v["method"] != METHODS[test["method"]]:
            found.append(f"method {v['method']} is not the table's {test['method']}: {s}")
        if bool(v["holm"]) != (pairs > 1) or int(v["pairs"] or 1) != pairs:
            found.append(f"the adjustment is not Holm over the table's {pairs} pairs: {s}")
        if v["op"] == "<" and not test["p_holm"] < float(v["p"]):
            found.append(f"p < {v['p']} but the table's Holm p is {test['p_holm']}: {s}")
        if v["op"] == "=" and float(v["p"]) != float(f"{test['p_holm']:.2g}"):
            found.append(f"p = {v['p']} but the table's Holm p is {test['p_holm']}: {s}")
        if (v["word"] == "significant") != significant or float(v["alpha"]) != ALPHA * 100:
            found.append(f"'{v['word']}' but the table's Holm p is {test['p_holm']}: {s}")
    if excludes and not significant:
        found.append(f"'excludes 0' where the adjusted test (p {test['p_holm']}) is not: {s}")
    if apart and significant:
        found.append(f"'cannot tell them apart' where the adjusted test is significant: {s}")
    if not significant and not apart:
        found.append(f"a non-significant difference not said to be one: {s}")
    return found


def _ties(s: str, t: Tables, pick: str | None) -> list[str]:
    found = []
    m = TIE_BREAK.match(s)
    if m:
        a, b, metric, second = m["pick"], m["other"], m["metric"], m["second"]
        if a != pick:
            found.append(f"the tie-break names {a}, the pick is {pick}: {s}")
        if t.value[(a, metric)] != t.value[(b, metric)]:
            found.append(f"{a} and {b} are not tied on {metric}: {s}")
        if not _close(m["value"], t.value[(a, metric)]):
            found.append(f"the tied value {m['value']} is not the table's: {s}")
        va, vb = t.value[(a, second)], t.value[(b, second)]
        if not (_close(m["vp"], va) and _close(m["vo"], vb)):
            found.append(f"the {second} values quoted are not the table's {va}, {vb}: {s}")
        if (m["dir"] == "lower") != (va < vb) or (va > vb) != t.higher[second]:
            found.append(f"{a}'s {second} {va} does not beat {b}'s {vb}: {s}")
    first = LISTED_FIRST.match(s)
    if first:
        second = next((n for n in t.metric_names[1:]), None)
        for other in first["others"].split(", "):
            for metric in [t.metric_names[0], *([second] if second else [])]:
                if t.value[(first["pick"], metric)] != t.value[(other, metric)]:
                    found.append(f"'listed first' but {other} differs on {metric}: {s}")
    return found


def cost_contradictions(d: Decision) -> list[str]:
    """Speed and memory claims against the trade-offs matrix the decision carries."""
    found = []
    rows = d.tradeoffs.rows
    for s in d.sentences:
        versus = re.match(r"^(\S+) vs (\S+): ", s)
        if not versus:
            continue
        p, o = versus.groups()
        speed, memory = SPEED.search(s), MEMORY.search(s)
        if speed:
            lp, lo = rows[p]["latency"].value, rows[o]["latency"].value
            assert isinstance(lp, float) and isinstance(lo, float)
            if not (_close(speed["lp"], lp) or speed["lp"] in rows[p]["latency"].text):
                found.append(f"latency {speed['lp']} is not the table's {lp}: {s}")
            if (speed["dir"] == "faster") != (lp < lo):
                found.append(f"'{speed['dir']}' but the table has {lp} vs {lo} ms: {s}")
        if memory:
            mp, mo = rows[p]["memory"].value, rows[o]["memory"].value
            assert isinstance(mp, float) and isinstance(mo, float)
            if not (_close(memory["mp"], mp) and _close(memory["mo"], mo)):
                found.append(f"memory {memory['mp']} vs {memory['mo']} is not the table's: {s}")
            if memory["dir"] and (memory["dir"] == "less") != (mp < mo):
                found.append(f"'{memory['dir']} memory' but the table has {mp} vs {mo}: {s}")
    return found


def golden_results(case: str) -> dict[str, Any]:
    """A golden case's results.json without its recorded decision, with the machine-dependent
    keys record.py drops put back (so the schema reads it)."""
    data: dict[str, Any] = json.loads((GOLDEN / f"{case}.json").read_text(encoding="utf-8"))
    r = data["results"]
    r.pop("decision", None)
    r["run_id"] = f"golden-{case}"
    r["provenance"].update(hardware={}, threads={}, command="", versions=data["versions"])
    for m in r["models"]:
        m["fingerprint"] = "f" * 16
    return r


def test_the_golden_cases_cover_every_task_kind() -> None:
    from whichmodel.tasks import TASKS

    kinds = {n for n in TASKS.names() if not any(n.startswith(k + "-") for k in TASKS.names())}
    assert len(kinds) == 12
    assert kinds <= set(CASES), sorted(kinds - set(CASES))


@pytest.mark.parametrize("case", CASES)
def test_the_decision_never_contradicts_the_tables(case: str) -> None:
    r = golden_results(case)
    d = choose(r)
    assert d.sentences and any(s.startswith(f"{d.pick} vs ") for s in d.sentences)
    assert contradictions(list(d.sentences), r, d.pick) == []


def test_the_pick_is_best_on_its_metric_or_wins_the_tie_break() -> None:
    """Speech: ctc-masked and whisper tie on WER; whisper's CER (0.97 against 12.9) picks it."""
    d = choose(golden_results("speech-to-text"))
    assert d.pick == "whisper" and d.ties == ()
    assert (
        "whisper ties with ctc-masked on wer (1.0000 each); its lower cer breaks the tie "
        "(0.9660 vs 12.9184)." in d.sentences
    )


def _three(p_holm: float, diff_ci: tuple[float, float]) -> dict[str, Any]:
    """a, b, c with costs, a's CI against b excluding 0 and the adjusted test ``p_holm``."""
    r = results(
        [
            ("a", {"accuracy": 0.95}, cost(2.0, 100)),
            ("b", {"accuracy": 0.935}, cost(0.5, 40)),
            ("c", {"accuracy": 0.90}, cost(0.4, 200, framework="torch", architecture="CNN")),
        ],
        diff_ci={("accuracy", "a", "b"): diff_ci},
    )
    tests = [("a", "b", p_holm), ("a", "c", 0.0004), ("b", "c", 0.02)]
    r["paired_tests"] = [
        {"metric": "accuracy", "model_a": a, "model_b": b, "method": "mcnemar_exact",
         "diff": 0.0, "p_value": p / 3, "p_holm": p, "n_resamples": 0, "n": 500}
        for a, b, p in tests
    ]  # fmt: skip
    r.update(disagreements=[], slices=[], calibration=[], error_clusters=[])
    return r


@pytest.mark.parametrize("p_holm", [0.28, 0.012])
def test_an_unadjusted_interval_is_no_verdict_when_the_adjusted_test_says_otherwise(
    p_holm: float,
) -> None:
    r = _three(p_holm, (0.004, 0.026))
    d = choose(r)
    text = " ".join(d.sentences)
    assert contradictions(list(d.sentences), r, d.pick) == []
    assert cost_contradictions(d) == []
    if p_holm > ALPHA:
        assert "Holm-adjusted McNemar p = 0.28 over 3 pairs: not significant at 5%, so the data " \
            "cannot tell them apart on accuracy" in text
        assert "excludes 0" not in text
    else:
        assert "Holm-adjusted McNemar p = 0.012 over 3 pairs: significant at 5%" in text


def test_the_checker_catches_the_old_sentences() -> None:
    """What the decision printed before issue 18, each caught: an unadjusted 'excludes 0' next
    to a Holm p of 0.28, a WER tie given to the first listed model, 'p=0', a 1.00× ratio, a
    'faster' against the table, a wrong CI."""
    r = _three(0.28, (0.004, 0.026))
    old = (
        "a vs b: a is 4.0× slower at batch 1 (2.00 vs 0.50 ms, p50) and needs 2.5× the memory "
        "(100.0 vs 40.0 MB); it gains 1.5 points of accuracy, and the 95% CI of a − b "
        "[+0.4, +2.6] excludes 0."
    )
    found = contradictions([old], r, "a")
    assert any("excludes 0" in f for f in found) and any("no test named" in f for f in found)
    wrong = old.replace("slower", "faster").replace("[+0.4, +2.6]", "[+0.4, +3.6]")
    wrong = wrong.replace("excludes 0.", "excludes 0; mcnemar p=0.")
    d = choose(r)
    from dataclasses import replace

    found = contradictions([wrong], r, "a") + cost_contradictions(replace(d, sentences=(wrong,)))
    for what in ("'faster' but", "CI [+0.4, +3.6]", "'p=' or 'p = 0'"):
        assert any(what in f for f in found), what
    speech = golden_results("speech-to-text")
    tie = "ctc-masked ties with whisper on quality; ctc-masked is listed first, so it is picked."
    assert any("differs on cer" in f for f in contradictions([tie], speech, "ctc-masked"))
    ranking = golden_results("ranking")
    bold = (
        "lgbm vs logreg: the cost of logreg or lgbm is unknown; it gains 0.0958 ndcg@1 (95% CI "
        "of lgbm − logreg [-0.0002, +0.2127]); paired bootstrap p = 0.0057: significant at 5%."
    )
    found = contradictions([bold], ranking, "lgbm")
    assert any("p = 0.0057 but" in f for f in found)
    assert any("'significant' but" in f for f in found)
    assert contradictions(["x: parameters 1.00× smaller than y"], ranking, "lgbm")


def test_ties_are_marked_alike_in_the_terminal_markdown_and_html() -> None:
    """Speech's WER tie: both models are best in the wer column everywhere, not one of them."""
    from helpers.results import outcome
    from whichmodel.report.html import render_html
    from whichmodel.report.markdown import render_markdown
    from whichmodel.report.summary import summarize

    r = golden_results("speech-to-text")
    r["decision"] = choose(r).to_dict()
    o = outcome(r)
    summary = summarize(o.results)
    assert summary.winners["wer"] == ("ctc-masked", "whisper")
    assert summary.best == "whisper"  # the decision's tie-break
    md = render_markdown(o)
    assert md.count("**1.0000 [") == 2
    page = render_html(o)
    assert page.count("1.0000 [1.0000, 1.0000] ★") >= 2
