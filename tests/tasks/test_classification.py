import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, log_loss

from whichmodel.analysis.stats import bootstrap_weights
from whichmodel.errors import DataError, TaskError
from whichmodel.sources.base import RawOutput
from whichmodel.tasks import Predictions, get_task

TASK = get_task("classification")


def _fixture(n=300, k=5, seed=0, outside=True):
    rng = np.random.default_rng(seed)
    labels = [f"c{i}" for i in range(k)]
    y = rng.choice(labels, size=n)
    proba = rng.dirichlet(np.ones(k), size=n)
    pred = np.asarray(labels)[proba.argmax(axis=1)]
    pred[: n // 3] = y[: n // 3]  # make it better than chance
    if outside:
        pred[-5:] = "never-in-data"  # a predicted class the data does not have
    return y, Predictions(np.arange(n), pred, proba, tuple(labels))


def test_point_metrics_are_scikit_learns():
    y, p = _fixture()
    by_name = {m.name: m.score(y, p, None) for m in TASK.metrics(y, p)}
    labels = sorted(set(y))
    assert by_name["accuracy"] == accuracy_score(y, p.pred)
    assert by_name["macro_f1"] == f1_score(
        y, p.pred, labels=labels, average="macro", zero_division=0
    )
    assert by_name["log_loss"] == log_loss(y, p.proba, labels=list(p.classes))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorized_replicates_equal_sklearn_with_sample_weight(seed):
    y, p = _fixture(seed=seed, k=4 + seed)
    weights = bootstrap_weights(len(y), 25, seed)
    for metric in TASK.metrics(y, p):
        fast = metric.replicate(y, p, weights)
        slow = np.array([metric.score(y, p, w) for w in weights])
        np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12, err_msg=metric.name)


def test_macro_f1_replicates_handle_classes_absent_from_a_resample():
    y = np.array(["a"] * 50 + ["b"] * 2)
    p = Predictions(np.arange(52), np.array(["a"] * 51 + ["b"]))
    weights = np.zeros((3, 52))
    weights[:, :50] = 1.0  # no "b" in any resample: sklearn gives F1(b) = 0 (zero_division=0)
    metric = next(m for m in TASK.metrics(y, p) if m.name == "macro_f1")
    np.testing.assert_allclose(
        metric.replicate(y, p, weights), [metric.score(y, p, w) for w in weights]
    )


def test_log_loss_is_left_out_when_the_data_has_classes_the_model_lacks():
    y = np.array(["a", "b", "z"])
    p = Predictions(np.arange(3), np.array(["a", "b", "a"]), np.full((3, 2), 0.5), ("a", "b"))
    assert [m.name for m in TASK.metrics(y, p)] == ["accuracy", "macro_f1"]


def test_interpret_softmaxes_logits_and_names_classes():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 3.0, 0.0]])
    pred, proba, classes = TASK.interpret(RawOutput("logits", logits), None)
    assert classes == ("0", "1", "2")
    assert pred.tolist() == ["0", "1"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba[0, 0] == pytest.approx(np.exp(2) / (np.exp(2) + 1 + np.exp(-1)))


def test_interpret_rejects_values_and_mismatched_class_names():
    with pytest.raises(TaskError, match="output=logit"):
        TASK.interpret(RawOutput("values", np.zeros(3)), None)
    with pytest.raises(TaskError, match="3 class scores but names 2"):
        TASK.interpret(RawOutput("proba", np.full((2, 3), 1 / 3)), ("a", "b"))


def test_labels_are_strings_and_integral_floats_match_int_classes():
    assert TASK.read_labels(np.array([1.0, 2.0, 3.0])).tolist() == ["1", "2", "3"]
    assert TASK.read_labels(np.array([1, 2], dtype=np.int64)).tolist() == ["1", "2"]
    with pytest.raises(DataError, match="missing values"):
        TASK.read_labels(np.array(["a", None], dtype=object))


def test_check_refuses_models_whose_classes_share_nothing_with_the_data():
    y = np.array(["cat", "dog"])
    p = Predictions(np.arange(2), np.array(["0", "1"]), np.full((2, 2), 0.5), ("0", "1"))
    with pytest.raises(TaskError, match="classes="):
        TASK.check(y, p, "m")


def test_per_class_table_matches_sklearn():
    from sklearn.metrics import precision_recall_fscore_support

    y, p = _fixture(outside=False)
    table = TASK.tables(y, p)["per_class"]
    _prec, _rec, f1, sup = precision_recall_fscore_support(y, p.pred, labels=sorted(set(y)))
    assert [r["class"] for r in table] == sorted(set(y))
    np.testing.assert_allclose([r["f1"] for r in table], f1)
    assert [r["support"] for r in table] == sup.tolist()


def test_macro_f1_replicates_with_many_classes_are_chunked_and_still_exact():
    y, p = _fixture(n=800, k=300, seed=5)  # 300 * 301 cells: several chunks of resamples
    weights = bootstrap_weights(len(y), 60, 5)
    metric = next(m for m in TASK.metrics(y, p) if m.name == "macro_f1")
    np.testing.assert_allclose(
        metric.replicate(y, p, weights), [metric.score(y, p, w) for w in weights], rtol=1e-10
    )


@pytest.mark.parametrize("classes", [("pos", "neg"), tuple(str(i) for i in range(12))])
def test_log_loss_reads_columns_by_class_name_not_position(classes):
    rng = np.random.default_rng(3)
    proba = rng.dirichlet(np.ones(len(classes)), size=200)
    y = np.asarray(classes)[rng.integers(0, len(classes), size=200)]
    p = Predictions(np.arange(200), np.asarray(classes)[proba.argmax(1)], proba, classes)
    metric = next(m for m in TASK.metrics(y, p) if m.name == "log_loss")
    index = {c: i for i, c in enumerate(classes)}
    expected = -np.mean(np.log(proba[np.arange(200), [index[v] for v in y]]))
    assert metric.score(y, p, None) == pytest.approx(expected, rel=1e-12)
    weights = bootstrap_weights(200, 20, 0)
    np.testing.assert_allclose(
        metric.replicate(y, p, weights), [metric.score(y, p, w) for w in weights], rtol=1e-10
    )


def test_float_class_labels_match_integer_data_labels():
    from whichmodel.sources.base import label_text

    assert [label_text(v) for v in (1.0, np.float64(2.0), np.int64(3), "a", 2.5)] == [
        "1",
        "2",
        "3",
        "a",
        "2.5",
    ]
