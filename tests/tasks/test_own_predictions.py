"""A classifier is scored on its own ``predict``, and its ``predict_proba`` feeds log loss.

``SVC(probability=True)`` fits its probabilities (Platt scaling, with its own cross-validation)
apart from its decision function, so the two disagree on some examples: users ship ``predict``,
and its accuracy is what ``svc.score`` reports.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import log_loss

import whichmodel
from whichmodel.report.summary import summarize
from whichmodel.sources.base import RawOutput
from whichmodel.tasks import Predictions, get_task
from whichmodel.tasks.classification import disagreements


@pytest.fixture(scope="module")
def wine_svc(tmp_path_factory):
    """An unscaled SVC fitted on half the wine data (unscaled, its Platt probabilities and its
    decisions part on ~10 of the 89 held-out examples), saved with skops; the other half as
    CSV."""
    import skops.io as sio
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    root = tmp_path_factory.mktemp("wine")
    x, y = load_wine(return_X_y=True, as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.5, random_state=0, stratify=y
    )
    with warnings.catch_warnings():  # scikit-learn 1.9 deprecates probability=True
        warnings.simplefilter("ignore", FutureWarning)
        svc = SVC(probability=True, random_state=0).fit(x_train, y_train)
    sio.dump(svc, root / "svc.skops")
    x_test.assign(target=y_test).to_csv(root / "wine.csv", index=False)
    return root, svc, x_test, y_test


def test_accuracy_is_the_models_own_predict_and_log_loss_its_probabilities(wine_svc):
    root, svc, x_test, y_test = wine_svc
    proba = svc.predict_proba(x_test)
    expected_disagreements = int((svc.predict(x_test) != svc.classes_[proba.argmax(1)]).sum())
    assert expected_disagreements > 0  # else this data would not tell the two apart

    c = whichmodel.compare(
        [f"sklearn:{root}/svc.skops"], root / "wine.csv", label_col="target",
        measure_cost=False, n_resamples=20, store=str(root / "s.db"),
    )  # fmt: skip
    assert c.metric("svc", "accuracy") == svc.score(x_test, y_test)
    assert c.metric("svc", "log_loss") == pytest.approx(
        log_loss(y_test, proba, labels=svc.classes_), rel=1e-12
    )
    results = c.results()
    assert results.model("svc").n_not_most_probable == expected_disagreements
    assert results.model("svc").to_dict()["n_not_most_probable"] == expected_disagreements
    note = next(n for n in summarize(results).notes if n.startswith("svc: "))
    assert f"on {expected_disagreements} of {len(y_test)} examples" in note


def test_labels_beside_probabilities_decide_and_the_disagreements_are_counted():
    task = get_task("classification")
    proba = np.array([[0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    raw = RawOutput("proba", proba, labels=np.array(["a", "a", "b"]))
    pred, kept, classes = task.interpret(raw, ("a", "b"))
    assert pred.tolist() == ["a", "a", "b"]
    np.testing.assert_array_equal(kept, proba)
    assert disagreements(Predictions(np.arange(3), pred, kept, classes)) == 1
    without = task.interpret(RawOutput("proba", proba), ("a", "b"))[0]
    assert without.tolist() == ["a", "b", "b"]  # the most probable class, as before
    assert disagreements(Predictions(np.arange(3), without, kept, classes)) == 0
    assert disagreements(Predictions(np.arange(3), pred)) is None


def test_a_model_that_agrees_with_its_probabilities_adds_nothing_to_results(tmp_path):
    """Logistic regression's predict is the argmax of its probabilities: results.json keeps
    the shape it had (no key for a count of 0)."""
    import skops.io as sio
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True, as_frame=True)
    sio.dump(LogisticRegression(max_iter=500).fit(x, y), tmp_path / "lr.skops")
    x.assign(target=y).to_csv(tmp_path / "iris.csv", index=False)
    c = whichmodel.compare(
        [f"sklearn:{tmp_path}/lr.skops"], tmp_path / "iris.csv", label_col="target",
        measure_cost=False, n_resamples=20, store=str(tmp_path / "s.db"),
    )  # fmt: skip
    summary = c.results().model("lr")
    assert summary.n_not_most_probable == 0
    assert "n_not_most_probable" not in summary.to_dict()
