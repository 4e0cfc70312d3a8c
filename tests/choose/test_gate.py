"""The regression gate on constructed differences with known answers."""

from __future__ import annotations

import pytest

from helpers.results import cost, outcome, results
from whichmodel.choose.constraints import Constraints
from whichmodel.choose.gate import GATE_FAILED_EXIT_CODE, gate
from whichmodel.errors import ConfigError
from whichmodel.results import Results


def _pair(ci: tuple[float, float]) -> Results:
    return outcome(_pair_data(ci)).results


def _pair_data(ci: tuple[float, float]) -> dict:
    # candidate − baseline on accuracy is -0.03 with the given CI.
    return results(
        [("cand", {"accuracy": 0.90}, cost(1.0, 10)), ("base", {"accuracy": 0.93}, cost(2.0, 20))],
        diff_ci={("accuracy", "cand", "base"): ci},
    )


def test_significantly_worse_fails_with_the_reason() -> None:
    g = gate(_pair((-0.05, -0.01)), baseline="base", candidate="cand")
    assert not g.passed
    assert g.to_dict()["exit_code"] == GATE_FAILED_EXIT_CODE != 2
    assert g.failures == (
        "accuracy: cand − base = -0.0300, 95% CI [-0.0500, -0.0100] (higher is better; "
        "tolerated loss 0): significantly worse by more than the tolerated loss.",
    )


def test_a_loss_within_the_tolerance_or_not_significant_passes() -> None:
    assert gate(_pair((-0.05, -0.01)), baseline="base", candidate="cand", min_delta=0.02).passed
    assert gate(_pair((-0.05, 0.01)), baseline="base", candidate="cand").passed
    # The tolerance is per metric when given as a mapping.
    assert not gate(
        _pair((-0.05, -0.03)), baseline="base", candidate="cand", min_delta={"accuracy": 0.02}
    ).passed


def test_a_broken_or_unknown_constraint_fails() -> None:
    r = _pair_data((-0.05, 0.01))
    limit = Constraints(max_latency_ms=0.5)
    g = gate(outcome(r).results, baseline="base", candidate="cand", constraints=limit)
    assert not g.passed and "breaks the limit 0.5 ms" in g.failures[0]
    r["models"][0]["cost"] = None
    limit = Constraints(max_memory_mb=100)
    g = gate(outcome(r).results, baseline="base", candidate="cand", constraints=limit)
    assert not g.passed and "memory: unknown" in g.failures[0]


def test_lower_is_better_metric_direction() -> None:
    data = results(
        [("cand", {"rmse": 2.0}, None), ("base", {"rmse": 1.5}, None)],
        higher={"rmse": False},
        diff_ci={("rmse", "cand", "base"): (0.3, 0.7)},
    )
    r = outcome(data).results
    assert not gate(r, baseline="base", candidate="cand").passed
    assert gate(r, baseline="base", candidate="cand", min_delta=0.4).passed  # 0.3 < 0.4


def test_unknown_names_are_user_errors() -> None:
    with pytest.raises(ConfigError, match="No model named 'nope'"):
        gate(_pair((-0.05, -0.01)), baseline="nope", candidate="cand")
    with pytest.raises(ConfigError, match="metric 'f1'"):
        gate(_pair((-0.05, -0.01)), baseline="base", candidate="cand", metrics=("f1",))
