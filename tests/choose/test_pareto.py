"""Pareto front on constructed points with known answers: dominance, ties, missing values."""

from __future__ import annotations

from whichmodel.choose.pareto import pareto_front

HIGHER = {"quality": True, "latency": False, "memory": False}


def test_front_keeps_exactly_the_non_dominated_models() -> None:
    points = {
        "best": {"quality": 0.95, "latency": 2.0, "memory": 100.0},
        "fast": {"quality": 0.90, "latency": 0.5, "memory": 100.0},
        "small": {"quality": 0.90, "latency": 2.0, "memory": 10.0},
        "worse": {"quality": 0.90, "latency": 2.0, "memory": 100.0},  # dominated by all three
        "slow": {"quality": 0.95, "latency": 3.0, "memory": 100.0},  # dominated by best only
    }
    front = pareto_front(points, higher_is_better=HIGHER)
    assert front.members == ("best", "fast", "small")
    assert set(front.dominated_by["worse"]) == {"best", "fast", "small"}
    assert front.dominated_by["slow"] == ("best",)
    assert front.ties == ()
    assert front.unplaced == {} and front.dropped == ()


def test_direction_of_a_lower_is_better_quality_metric() -> None:
    points = {
        "low_rmse": {"quality": 1.0, "latency": 2.0, "memory": 5.0},
        "high_rmse": {"quality": 2.0, "latency": 2.0, "memory": 5.0},
    }
    front = pareto_front(points, higher_is_better={**HIGHER, "quality": False})
    assert front.members == ("low_rmse",)


def test_exact_ties_stay_on_the_front_together() -> None:
    same = {"quality": 0.9, "latency": 1.0, "memory": 50.0}
    points = {
        "a": dict(same),
        "b": dict(same),
        "c": {"quality": 0.8, "latency": 1.0, "memory": 50.0},
    }
    front = pareto_front(points, higher_is_better=HIGHER)
    assert front.members == ("a", "b")
    assert front.ties == (("a", "b"),)
    assert set(front.dominated_by["c"]) == {"a", "b"}


def test_a_model_missing_a_measurement_is_not_placed_and_not_counted_as_zero() -> None:
    # Counted as a zero latency, "nocost" would dominate everything; as infinity, nothing. Neither.
    points = {
        "a": {"quality": 0.9, "latency": 2.0, "memory": 100.0},
        "b": {"quality": 0.8, "latency": 1.0, "memory": 100.0},
        "nocost": {"quality": 0.95, "latency": None, "memory": None},
    }
    front = pareto_front(points, higher_is_better=HIGHER)
    assert front.members == ("a", "b")
    assert front.unplaced == {"nocost": ("latency", "memory")}
    assert "nocost" not in front.dominated_by
    assert front.dimensions == ("quality", "latency", "memory")


def test_a_dimension_no_model_has_is_dropped() -> None:
    points = {
        "a": {"quality": 0.9, "latency": None, "memory": None},
        "b": {"quality": 0.8, "latency": None, "memory": None},
    }
    front = pareto_front(points, higher_is_better=HIGHER)
    assert front.dropped == ("latency", "memory")
    assert front.dimensions == ("quality",)
    assert front.members == ("a",)
