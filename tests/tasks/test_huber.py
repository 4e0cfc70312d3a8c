"""The one-module task: regression-huber's loss equals PyTorch's, its bootstrap replicates equal
the weighted reference, and it runs end to end through compare with no other edit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import whichmodel
from whichmodel.errors import TaskError
from whichmodel.tasks import Predictions, get_task


@pytest.mark.parametrize("delta", [0.3, 1.0, 4.0])
def test_huber_loss_equals_torch(delta):
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=200) * 3, rng.normal(size=200) * 3
    task = get_task(f"regression-huber?delta={delta}")
    preds = Predictions(np.arange(200), p, None, None, ())
    (metric,) = [m for m in task.metrics(y, preds) if m.name == "huber_loss"]
    expected = torch.nn.functional.huber_loss(
        torch.tensor(p), torch.tensor(y), delta=delta, reduction="mean"
    )
    assert metric.score(y, preds, None) == pytest.approx(float(expected), rel=1e-12)
    assert not metric.higher_is_better
    weights = rng.poisson(1.0, size=(5, 200)).astype(np.float64)
    np.testing.assert_allclose(
        metric.replicate(y, preds, weights),
        [metric.score(y, preds, w) for w in weights],
        rtol=1e-12,
    )


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "big"])
def test_a_bad_delta_is_one_task_error(bad):
    with pytest.raises(TaskError, match="'delta' option of the 'regression-huber' task"):
        get_task(f"regression-huber?delta={bad}")


def test_compare_scores_it_like_regression_plus_huber(tmp_path):
    import skops.io as sio
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    x, y = load_diabetes(return_X_y=True, as_frame=True)
    frame = x.assign(label=y)
    frame.to_csv(tmp_path / "diabetes.csv", index=False)
    sio.dump(Ridge().fit(x, y), tmp_path / "ridge.skops")
    options = {"measure_cost": False, "n_resamples": 50, "store": str(tmp_path / "s.db")}
    data, ref = tmp_path / "diabetes.csv", [f"sklearn:{tmp_path}/ridge.skops"]
    huber = whichmodel.compare(ref, data, task="regression-huber?delta=50", **options)
    plain = whichmodel.compare(ref, data, task="regression", **options)
    assert huber.metric("ridge", "mae") == plain.metric("ridge", "mae")
    r = np.abs(y.to_numpy() - Ridge().fit(x, y).predict(x))
    expected = np.mean(np.where(r <= 50, 0.5 * r**2, 50 * (r - 25)))
    assert huber.metric("ridge", "huber_loss") == pytest.approx(expected, rel=1e-9)
    assert huber.task == "regression-huber?delta=50"
