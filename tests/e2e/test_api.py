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


def test_an_unreliable_cost_is_measured_again_and_a_reliable_one_is_read_back(
    iris, tmp_path, monkeypatch
):
    """The cost step, end to end with real probe subprocesses: every model is measured at one
    thread; a measurement judged unreliable is used by its run but not stored, and a reliable
    one is stored and read back (--refresh-cost measures it again)."""
    import whichmodel.bench.cost as cost_module

    probes: list[str] = []
    real_measure, real_judge = cost_module.measure_cost, cost_module.unreliable_reasons

    def counted(ref, *args, **kwargs):
        probes.append(ref.name)
        return real_measure(ref, *args, **kwargs)

    monkeypatch.setattr(cost_module, "measure_cost", counted)
    lr = [f"sklearn:{iris}/lr.skops"]
    options = {"label_col": "target", "n_resamples": 50, "store": str(tmp_path / "s.db")}
    monkeypatch.setattr(cost_module, "unreliable_reasons", lambda *a: ["forced for the test"])
    first = whichmodel.compare(lr, iris / "iris.csv", **options)
    cost = first.models[0].cost
    assert cost is not None and cost.unreliable == ("forced for the test",)
    assert cost.threads == 1 and cost.conditions is not None and cost.conditions.threads == 1
    assert first.decision is not None
    assert any("measured unreliably" in s for s in first.decision.sentences)

    monkeypatch.setattr(cost_module, "unreliable_reasons", real_judge)
    second = whichmodel.compare(lr, iris / "iris.csv", **options)
    assert len(probes) == 2  # the unreliable one was not kept
    third = whichmodel.compare(lr, iris / "iris.csv", **options)
    kept = second.models[0].cost is not None and second.models[0].cost.reliable
    assert len(probes) == (2 if kept else 3)  # on a busy machine the second is unreliable too
    if kept:
        assert third.models[0].cost == second.models[0].cost  # read back from the store
    before = len(probes)
    whichmodel.compare(lr, iris / "iris.csv", refresh_cost=True, **options)
    assert len(probes) == before + 1
