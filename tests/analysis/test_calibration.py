"""Calibration against torchmetrics' MulticlassCalibrationError and scikit-learn's
calibration_curve."""

import numpy as np
import pytest
import torch
from sklearn.calibration import calibration_curve
from torchmetrics.classification import MulticlassCalibrationError

from whichmodel.analysis.calibration import N_BINS, calibrate
from whichmodel.tasks import Predictions, get_task


def _overconfident(n_classes, n=500, seed=0):
    """Labels and probabilities of a model that is right ~70% of the time but ~90% sure."""
    rng = np.random.default_rng(seed)
    classes = tuple(str(c) for c in range(n_classes))
    y = rng.integers(0, n_classes, n)
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, n_classes, n))
    proba = rng.dirichlet(np.ones(n_classes), n) * 0.15
    proba[np.arange(n), pred] += 1.0
    proba /= proba.sum(axis=1, keepdims=True)
    p = Predictions(np.arange(n), np.asarray(classes)[pred], proba, classes)
    return np.asarray(classes)[y], p, y


@pytest.mark.parametrize("n_classes", [2, 10])
def test_ece_equals_torchmetrics_and_the_diagram_equals_sklearn(n_classes):
    y, p, target = _overconfident(n_classes)
    (cal,) = calibrate(get_task("classification"), y, {"m": p})
    reference = MulticlassCalibrationError(num_classes=n_classes, n_bins=N_BINS, norm="l1")
    expected = float(reference(torch.from_numpy(p.proba), torch.from_numpy(target)))
    assert cal.ece == pytest.approx(expected, rel=1e-5)  # torchmetrics sums in float32
    assert cal.ece > 0.05  # overconfident by construction

    confidence = p.proba.max(axis=1)
    right = (p.proba.argmax(axis=1) == target).astype(int)
    frac, mean_conf = calibration_curve(right, confidence, n_bins=N_BINS, strategy="uniform")
    assert [b.accuracy for b in cal.bins] == pytest.approx(list(frac))
    assert [b.confidence for b in cal.bins] == pytest.approx(list(mean_conf))
    assert sum(b.n for b in cal.bins) == len(y) == cal.n


def test_models_without_probabilities_and_regression_get_no_calibration():
    y, p, _ = _overconfident(3)
    labels_only = Predictions(p.rows, p.pred)
    assert [
        c.model for c in calibrate(get_task("classification"), y, {"a": p, "b": labels_only})
    ] == ["a"]
    assert (
        calibrate(
            get_task("regression"), np.zeros(3), {"r": Predictions(np.arange(3), np.zeros(3))}
        )
        == ()
    )


def test_labels_the_model_does_not_know_count_as_wrong():
    y, p, _ = _overconfident(3, n=60)
    y = y.copy()
    y[:10] = "unseen"
    (cal,) = calibrate(get_task("classification"), y, {"m": p})
    right = (p.pred == y).astype(int)
    frac, _ = calibration_curve(right, p.proba.max(axis=1), n_bins=N_BINS, strategy="uniform")
    assert [b.accuracy for b in cal.bins] == pytest.approx(list(frac))
