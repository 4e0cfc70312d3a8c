"""Constraints, ranking and sentences on constructed results with known answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from helpers.results import cost, results
from whichmodel.choose import choose
from whichmodel.choose.decision import Decision
from whichmodel.errors import ConfigError


def _zoo() -> dict[str, Any]:
    """a: best quality, slow, big; b: 4× faster, 60% less memory, 0.8 points lower (CI spans 0);
    c: dominated (worse and slower than a); d: no cost measured."""
    return results(
        [
            ("a", {"accuracy": 0.95}, cost(2.0, 100)),
            ("b", {"accuracy": 0.942}, cost(0.5, 40, architecture="DecisionTreeClassifier")),
            ("c", {"accuracy": 0.90}, cost(3.0, 200, framework="torch", architecture="CNN")),
            ("d", {"accuracy": 0.93}, None),
        ]
    )


def test_no_constraints_prefers_quality_and_compares_with_the_rest_of_the_front() -> None:
    d = choose(_zoo())
    assert d.pick == "a"
    assert d.front.members == ("a", "b")
    assert d.ranking == ("a", "b", "d", "c")  # d: best remaining quality, cost unknown
    assert d.eligible == ("a", "b", "c", "d")
    assert d.sentences[1] == (
        "a vs b: a is 4.0× slower at batch 1 (2.00 vs 0.50 ms, p50) and needs 2.5× the memory "
        "(100.0 vs 40.0 MB); it gains 0.8 points of accuracy, within the 95% CI of a − b "
        "[-2.2, +3.8], so the data cannot tell them apart on accuracy."
    )


def test_latency_constraint_picks_the_only_model_that_meets_it_and_says_why_others_fail() -> None:
    d = choose(_zoo(), max_latency_ms=1, min_metrics={"accuracy": 0.92})
    assert d.pick == "b"
    assert d.eligible == ("b",)
    status = {(c.model, c.kind): c.status for c in d.checks}
    assert status[("a", "latency")] == "breaks"
    assert status[("d", "latency")] == "unknown"  # unknown never passes
    assert status[("d", "min")] == "meets"
    assert status[("c", "min")] == "breaks"
    text = "\n".join(d.sentences)
    assert "Pick b: it is the only model that meets every constraint." in text
    assert (
        "a breaks the latency (p50, batch 1) limit: 2.00 ms against 1.00 ms, 1.00 ms over." in text
    )
    assert "c breaks min accuracy: 0.9000 against 0.9200, 0.0200 below." in text
    assert (
        "d cannot be shown to meet the latency (p50, batch 1) limit (1.00 ms): cost was not" in text
    )
    assert "treated as not meeting it" in text


def test_nothing_meets_the_constraints_every_model_gets_its_reason() -> None:
    d = choose(_zoo(), max_latency_ms=0.1, max_memory_mb=50)
    assert d.pick is None and d.eligible == ()
    assert d.sentences[0] == "No model meets every constraint."
    text = "\n".join(d.sentences)
    for name in "abc":
        assert f"{name} breaks the latency (p50, batch 1) limit" in text
    assert "a breaks the memory limit: 100.0 MB against 50.0 MB, 50.0 MB over." in text
    assert "b breaks" in text and "b breaks the memory" not in text  # 40 MB meets 50 MB
    assert "d cannot be shown to meet the memory limit" in text


def test_prefer_latency_and_memory() -> None:
    assert choose(_zoo(), prefer="latency").pick == "b"
    assert choose(_zoo(), prefer="memory").pick == "b"
    assert choose(_zoo(), prefer="accuracy").pick == "a"


def test_weights_score_on_a_log_scale_and_rank_unknowns_last() -> None:
    d = choose(_zoo(), weights={"accuracy": 1, "latency": 1})
    # quality positions: a 1, b 0.84, c 0; latency (log): b 1, a 1 - log4/log6, c 0.
    assert d.scores["a"] == pytest.approx((1 + 1 - 0.7737) / 2, abs=1e-4)
    assert d.scores["b"] == pytest.approx((0.84 + 1) / 2, abs=1e-4)
    assert d.pick == "b" and d.ranking[-1] == "d" and "d" not in d.scores


def test_ties_are_reported_and_broken_by_listing_order() -> None:
    r = results([("x", {"accuracy": 0.9}, cost(1.0, 10)), ("y", {"accuracy": 0.9}, cost(1.0, 10))])
    d = choose(r)
    assert d.pick == "x" and d.ties == ("y",)
    assert d.front.ties == (("x", "y"),)
    assert "x ties with y on quality, latency, memory" in " ".join(d.sentences)


def test_cost_per_1k_from_throughput_and_price() -> None:
    # a: 64 examples in 20 ms -> 3200/s -> 1000 predictions 0.3125 s -> at 3.6/h: 0.0003125.
    d = choose(_zoo(), max_cost_per_1k=0.0002, price_per_hour=3.6)
    cells = d.tradeoffs.rows
    assert cells["a"]["cost"].value == pytest.approx(0.0003125)
    assert cells["b"]["cost"].value == pytest.approx(0.0003125 / 4)
    assert d.eligible == ("b",)
    assert cells["d"]["cost"].source == "unknown"


def test_tradeoffs_matrix_marks_sources_and_interpretability() -> None:
    d = choose(_zoo())
    rows = d.tradeoffs.rows
    assert rows["a"]["interpretability"].value == "yes"  # LogisticRegression
    assert rows["b"]["interpretability"].value == "yes"  # a single tree
    assert rows["c"]["interpretability"].value == "no"  # torch CNN
    assert rows["d"]["interpretability"].value == "unknown"
    assert "CNN" in rows["c"]["interpretability"].note
    assert rows["a"]["latency"].source == "measured" and rows["a"]["parameters"].source == "read"
    assert rows["d"]["latency"].text == "unknown" and rows["d"]["latency"].value is None
    assert d.tradeoffs.best["latency"] == ("b",) and d.tradeoffs.best["quality"] == ("a",)


def test_lower_is_better_quality_metric_and_max_limit() -> None:
    r = results(
        [("lin", {"rmse": 3.0}, cost(1.0, 10)), ("gbm", {"rmse": 2.5}, cost(4.0, 30))],
        higher={"rmse": False},
        diff_ci={("rmse", "lin", "gbm"): (0.2, 0.8)},
    )
    d = choose(r)
    assert d.pick == "gbm"
    assert "it gains 0.5000 rmse (lower rmse is better)" in d.sentences[1]
    assert "[-0.8000, -0.2000] excludes 0" in d.sentences[1]
    assert choose(r, max_metrics={"rmse": 2.8}).eligible == ("gbm",)
    with pytest.raises(ConfigError, match="lower-is-better: limit it with --max rmse"):
        choose(r, min_metrics={"rmse": 2.8})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_latency_ms": -1}, "'max_latency_ms' limit must be a positive number"),
        ({"max_cost_per_1k": 1.0}, "--max-cost-per-1k needs --price-per-hour"),
        ({"prefer": "sped"}, "Did you mean 'speed'"),
        ({"min_metrics": {"acc": 0.9}}, "names the metric 'acc'"),
        ({"metric": "f2"}, "quality metric 'f2' is not in the results"),
        ({"latency_percentile": "p95"}, "percentile must be one of p50, p90, p99"),
    ],
)
def test_invalid_choices_are_one_clear_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        choose(_zoo(), **kwargs)


NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*")


def numbers_in_sentences(d: Decision, names: list[str]) -> list[float]:
    """Every number a reader sees, with model names, metric names and p50/p90/p99 removed."""
    text = " ".join(d.sentences)
    for token in sorted(names, key=len, reverse=True):
        text = text.replace(token, " ")
    text = re.sub(r"\bp(50|90|99)\b", " ", text)
    return [float(n.replace(",", "")) for n in NUMBER.findall(text)]


def numbers_in(value: Any) -> set[float]:
    """Every number in a JSON value: numbers, and numbers written inside strings."""
    if isinstance(value, dict):
        return set().union(*(numbers_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(numbers_in(v) for v in value)) if value else set()
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, int | float):
        return {float(value)}
    return {float(n.replace(",", "")) for n in NUMBER.findall(str(value))}


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"max_latency_ms": 1, "min_metrics": {"accuracy": 0.92}},
        {"max_latency_ms": 0.1, "max_memory_mb": 50},
        {"weights": {"accuracy": 2, "memory": 1}},
        {"max_cost_per_1k": 0.0002, "price_per_hour": 3.6},
    ],
)
def test_every_number_in_the_sentences_is_a_stored_figure(kwargs: dict[str, Any]) -> None:
    r = _zoo()
    d = choose(r, **kwargs)
    r["decision"] = json.loads(json.dumps(d.to_dict()))  # what results.json stores
    figures = numbers_in(list(r["decision"]["figures"].values()))
    seen = numbers_in_sentences(d, ["a", "b", "c", "d", "accuracy"])
    assert seen, "the sentences should state measured numbers"
    assert set(seen) <= figures | numbers_in([m["cost_error"] for m in r["models"]])


def test_top_level_api_is_lazy_and_reads_a_results_file(tmp_path: Any) -> None:
    import whichmodel

    path = tmp_path / "results.json"
    path.write_text(json.dumps(_zoo()))
    d = whichmodel.choose(path, prefer="latency")
    assert isinstance(d, whichmodel.Decision) and d.pick == "b"
    (tmp_path / "bad.json").write_text('{"schema": 9, "models": [], "metrics": []}')
    with pytest.raises(ConfigError, match="schema 9"):
        whichmodel.choose(tmp_path / "bad.json")


def test_a_single_model_is_picked_and_said_to_be_alone() -> None:
    d = choose(results([("only", {"accuracy": 0.9}, cost(1.0, 10))]))
    assert d.pick == "only" and d.front.members == ("only",)
    assert d.sentences == ("Pick only: it is the only model compared.",)


def test_an_unreliable_latency_decides_nothing_and_the_decision_says_how_to_fix_it() -> None:
    """b's 4× speed-up was measured while the machine was busy: no limit is met on it, no
    sentence calls b faster, and the decision names the fix. Its memory still counts."""
    zoo = _zoo()
    disturbed = "batch 1: stopped on its time budget with the median known to ±23%"
    zoo["models"][1]["cost"]["unreliable"] = [disturbed]
    d = choose(zoo, max_latency_ms=1)
    assert d.pick is None and d.eligible == ()  # b was the only model under 1 ms
    b_latency = next(c for c in d.checks if (c.model, c.kind) == ("b", "latency"))
    assert b_latency.status == "unknown" and "measured unreliably" in (b_latency.reason or "")
    text = "\n".join(d.sentences)
    assert "The latency of b was measured unreliably, so nothing here rests on it" in text
    assert "--refresh-cost" in text and "--threads" in text
    # Every number the decision prints is one of its figures: the machine's own figures (runs,
    # loads) stay in the cost profile.
    numbers = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", text.replace("p50", ""))}
    printed = {float(n) for v in d.figures.values() for n in re.findall(r"\d+(?:\.\d+)?", v)}
    assert numbers <= printed, numbers - printed
    free = choose(zoo)
    assert free.pick == "a"
    assert not any("slower" in s or "faster" in s for s in free.sentences if "b" in s)
    memory = free.tradeoffs.rows["b"]["memory"]
    assert memory.source == "measured" and memory.value is not None
    assert free.tradeoffs.rows["b"]["latency"].source == "unknown"
