"""The Python API returns what the command line prints: compare() carries the decision, and
evaluate() one model's metrics, equal to that model's part of a comparison."""

from __future__ import annotations

import json

import pytest

import whichmodel
from conftest import run_cli
from helpers.iris import compare_args, save_iris_models


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    return save_iris_models(tmp_path_factory.mktemp("iris"))


def _refs(folder):
    return [f"sklearn:{folder}/lr.skops", f"sklearn:{folder}/tree.skops"]


def test_compare_returns_the_decision_the_terminal_prints(iris, tmp_path):
    from whichmodel.choose import Constraints

    options = {"label_col": "target", "measure_cost": False, "store": str(tmp_path / "s.db")}
    api = whichmodel.compare(
        _refs(iris), iris / "iris.csv", constraints=Constraints(min_metrics=(("accuracy", 0.97),)),
        **options,
    )
    args = [a if a != f"{iris}/store.db" else str(tmp_path / "s.db") for a in compare_args(iris)]
    proc = run_cli(*args, "--no-cost", "--min", "accuracy=0.97", "--json")
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)["decision"]
    assert api.decision is not None
    ours = api.decision.to_dict()
    assert {k: v for k, v in printed.items() if k != "command"} == ours
    assert api.decision.pick == printed["pick"] == "lr"  # the tree misses 0.97 accuracy


def test_evaluate_is_one_models_part_of_a_comparison(iris, tmp_path):
    options = {"label_col": "target", "measure_cost": False, "n_resamples": 200}
    one = whichmodel.evaluate(
        f"sklearn:{iris}/lr.skops", iris / "iris.csv", store=str(tmp_path / "a.db"), **options
    )
    both = whichmodel.compare(_refs(iris), iris / "iris.csv", store=str(tmp_path / "b.db"),
                              **options)
    assert one.metric("accuracy") == both.metric("lr", "accuracy")
    assert one.n_examples == 150 and one.model.computed_batches == 3
    assert one.model.prediction_key == both.model("lr").prediction_key
    (acc,) = [m for m in one.statistics.metrics if m.name == "accuracy"]
    assert acc.ci_low <= acc.value <= acc.ci_high
