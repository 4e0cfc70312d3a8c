import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

from whichmodel.analysis.stats import bootstrap_weights
from whichmodel.errors import DataError, TaskError
from whichmodel.sources.base import RawOutput
from whichmodel.tasks import Predictions, get_task

TASK = get_task("regression")


def _fixture(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, size=n)
    return y, Predictions(np.arange(n), y + rng.normal(0, 1, size=n))


def test_point_metrics_are_scikit_learns():
    y, p = _fixture()
    values = {m.name: m.score(y, p, None) for m in TASK.metrics(y, p)}
    assert values == {
        "mae": mean_absolute_error(y, p.pred),
        "rmse": root_mean_squared_error(y, p.pred),
        "r2": r2_score(y, p.pred),
    }


@pytest.mark.parametrize("seed", [0, 1])
def test_vectorized_replicates_equal_sklearn_with_sample_weight(seed):
    y, p = _fixture(seed=seed)
    weights = bootstrap_weights(len(y), 20, seed)
    for metric in TASK.metrics(y, p):
        np.testing.assert_allclose(
            metric.replicate(y, p, weights),
            [metric.score(y, p, w) for w in weights],
            rtol=1e-9,
            err_msg=metric.name,
        )


def test_r2_replicates_follow_sklearn_on_a_constant_target():
    y = np.full(6, 2.0)
    weights = np.ones((2, 6))
    for pred in (np.full(6, 2.0), np.arange(6.0)):
        p = Predictions(np.arange(6), pred)
        metric = next(m for m in TASK.metrics(y, p) if m.name == "r2")
        np.testing.assert_allclose(
            metric.replicate(y, p, weights), [metric.score(y, p, w) for w in weights]
        )


def test_directions():
    y, p = _fixture()
    assert {m.name: m.higher_is_better for m in TASK.metrics(y, p)} == {
        "mae": False,
        "rmse": False,
        "r2": True,
    }


def test_text_labels_and_class_outputs_are_refused():
    with pytest.raises(DataError, match="numeric labels"):
        TASK.read_labels(np.array(["a", "b"], dtype=object))
    with pytest.raises(TaskError, match="use --task classification"):
        TASK.interpret(RawOutput("proba", np.full((2, 2), 0.5)), ("a", "b"))
    pred, _, _ = TASK.interpret(RawOutput("values", np.array([[1.0], [2.0]])), None)
    assert pred.tolist() == [1.0, 2.0]


def test_r2_replicates_stay_exact_for_large_targets():
    rng = np.random.default_rng(0)
    y = 1e8 + rng.normal(size=300)
    p = Predictions(np.arange(300), y + rng.normal(0, 0.5, size=300))
    weights = bootstrap_weights(300, 20, 1)
    metric = next(m for m in TASK.metrics(y, p) if m.name == "r2")
    np.testing.assert_allclose(
        metric.replicate(y, p, weights), [metric.score(y, p, w) for w in weights], rtol=1e-6
    )
