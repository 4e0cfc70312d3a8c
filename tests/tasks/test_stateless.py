"""Tasks keep no state: the resampling units travel with the data (``Dataset.units``) and the
predictions (``Predictions.units``), so one task object reads and scores one dataset after
another, each with its own queries, and is left as it was built."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score

from helpers.tiny_ranking import ranking_frame
from whichmodel.analysis.findings import compute_findings
from whichmodel.analysis.stats import compute_statistics
from whichmodel.tasks import get_task
from whichmodel.tasks.base import Predictions


def _mean_ndcg(frame: pd.DataFrame, scores: np.ndarray, k: int) -> float:
    """Mean over queries of scikit-learn's ndcg_score on each query alone."""
    return float(
        np.mean(
            [
                ndcg_score([g["label"].to_numpy()], [scores[g.index.to_numpy()]], k=k)
                for _, g in frame.groupby("query_id")
            ]
        )
    )


def test_one_ranking_task_scores_two_datasets_in_a_row_and_keeps_no_state(tmp_path):
    task = get_task("ranking?k=3")
    built = dict(vars(task))
    frames = {"a": ranking_frame(12, seed=5), "b": ranking_frame(30, seed=6, items=(3, 9))}
    read = {}
    for name, frame in frames.items():  # both read before either is scored
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        read[name] = task.read(str(tmp_path / f"{name}.csv"))
    for name, frame in frames.items():
        dataset, y = read[name]
        assert dataset.units is not None and dataset.unit_names is not None
        assert len(dataset.unit_names) == frame["query_id"].nunique()
        rows = np.arange(len(y))
        preds = {
            "f0": Predictions(rows, frame["f0"].to_numpy()),
            "f1": Predictions(rows, frame["f1"].to_numpy()),
        }
        stats = compute_statistics(task, y, preds, units=dataset.units, n_resamples=50)
        values = {(m.model, m.name): m.value for m in stats.metrics}
        for model in preds:
            expected = _mean_ndcg(frame, frame[model].to_numpy(), 3)
            assert values[(model, "ndcg@3")] == pytest.approx(expected, abs=1e-12)
        (test,) = stats.tests  # the paired Wilcoxon test of the outcomes, by query
        assert test.n == frame["query_id"].nunique()
        findings = compute_findings(
            task, y, preds, dataset.inputs, pd.DataFrame(index=rows),
            units=dataset.units, n_resamples=50,
        )
        (pair,) = findings.disagreements
        assert pair.n == frame["query_id"].nunique()  # one per query of this dataset
    assert vars(task) == built  # nothing set after __init__


def test_forecasting_keeps_no_state_either(tmp_path):
    rng = np.random.default_rng(0)
    task = get_task("forecasting?series=series")
    built = dict(vars(task))
    sizes = {}
    for name, n_series in (("a", 3), ("b", 7)):
        windows = [
            {"series": f"s{i % n_series}", "history": rng.normal(size=6).tolist(),
             "target": rng.normal(size=2).tolist()}
            for i in range(4 * n_series)
        ]
        pd.DataFrame(windows).to_json(tmp_path / f"{name}.jsonl", orient="records", lines=True)
        dataset, _ = task.read(str(tmp_path / f"{name}.jsonl"), label_col="target")
        assert dataset.units is not None
        sizes[name] = len(np.unique(dataset.units))
    assert sizes == {"a": 3, "b": 7}
    assert vars(task) == built
