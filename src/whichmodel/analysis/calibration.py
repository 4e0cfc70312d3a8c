"""Calibration: expected calibration error and reliability-diagram data, per model.

Both use the top-label confidence (the largest class probability) against whether the top label
is right, so binary and multiclass models read the same way (Guo et al. 2017, "On Calibration of
Modern Neural Networks", §2).

- Reliability diagram: scikit-learn ``calibration_curve(strategy="uniform")`` with
  :data:`N_BINS` equal-width bins on [0, 1]: per non-empty bin, the mean confidence and the
  fraction right, plus the bin's example count (counted with scikit-learn's own bin assignment).
- ECE: the example-weighted mean over those bins of |fraction right - mean confidence|
  (Guo et al. 2017, eq. 3; Naeini et al. 2015), read off the diagram's bins. The tests check it
  equals torchmetrics' ``MulticlassCalibrationError(n_bins=15, norm="l1")``; it is not computed
  with torchmetrics here because importing torchmetrics costs 1-4 s per comparison and needs
  torch, which scikit-learn-only installs do not have.

Models without probabilities get no calibration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from whichmodel.tasks.base import Predictions, Task

N_BINS = 15


@dataclass(frozen=True)
class ReliabilityBin:
    """One non-empty confidence bin: mean top-label confidence, fraction right, examples."""

    confidence: float
    accuracy: float
    n: int


@dataclass(frozen=True)
class Calibration:
    """A model's calibration (see the module docstring): its top-label ECE, the number of
    equal-width bins, the examples, and the non-empty reliability bins."""

    model: str
    ece: float
    n_bins: int
    n: int
    bins: tuple[ReliabilityBin, ...]


def top_label(y: np.ndarray, p: Predictions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(confidence (n,), right (n,) bool, target index (n,)) from a model's probabilities.

    The target index is the true label's column; a label the model does not know gets a column
    other than the model's top one, so it counts as wrong (as the prediction is)."""
    assert p.proba is not None and p.classes is not None
    proba = p.proba / p.proba.sum(axis=1, keepdims=True)
    top = proba.argmax(axis=1)
    column = {c: i for i, c in enumerate(p.classes)}
    target = np.array([column.get(v, -1) for v in y.tolist()], dtype=np.int64)
    unknown = target < 0
    target[unknown] = (top[unknown] + 1) % proba.shape[1]
    return proba.max(axis=1), target == top, target


def calibrate(
    task: Task, y: np.ndarray, preds: Mapping[str, Predictions]
) -> tuple[Calibration, ...]:
    """Calibration of each model that outputs class probabilities (others are left out)."""
    if task.outcome_kind != "binary":
        return ()
    return tuple(
        _one(name, y, p)
        for name, p in preds.items()
        if p.proba is not None and p.classes is not None and len(p.classes) >= 2
    )


def _one(name: str, y: np.ndarray, p: Predictions) -> Calibration:
    from sklearn.calibration import calibration_curve

    assert p.proba is not None
    confidence, right, _ = top_label(y, p)
    # calibration_curve drops empty bins; counting with its own bin assignment (searchsorted on
    # the inner edges, scikit-learn's calibration.py) gives the counts of the non-empty ones.
    edges = np.linspace(0.0, 1.0, N_BINS + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], confidence), minlength=N_BINS)
    fraction_right, mean_confidence = calibration_curve(
        right.astype(int), confidence, n_bins=N_BINS, strategy="uniform"
    )
    bins = tuple(
        ReliabilityBin(float(c), float(a), int(k))
        for c, a, k in zip(mean_confidence, fraction_right, counts[counts > 0], strict=True)
    )
    return Calibration(name, _ece(bins, len(y)), N_BINS, len(y), bins)


def _ece(bins: tuple[ReliabilityBin, ...], n: int) -> float:
    """Σ_b (n_b / n) |accuracy_b - confidence_b| over the reliability bins (Guo et al. 2017)."""
    return float(sum(b.n / n * abs(b.accuracy - b.confidence) for b in bins))
