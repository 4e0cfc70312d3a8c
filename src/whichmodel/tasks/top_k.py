"""Top-k accuracy of a classifier's probabilities: scikit-learn's ``top_k_accuracy_score`` for the
point value, per-example hits summed under bootstrap weights for the replicates."""

from __future__ import annotations

import numpy as np

from whichmodel.tasks.base import Metric, Predictions


def top_k_metric(k: int) -> Metric:
    """``top_{k}_accuracy``; needs ``preds.proba`` over classes that include every label."""

    def score(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
        from sklearn.metrics import top_k_accuracy_score

        labels, proba = _sorted(p)
        return float(top_k_accuracy_score(y, proba, k=k, labels=labels, sample_weight=w))

    def replicates(y: np.ndarray, p: Predictions, weights: np.ndarray) -> np.ndarray:
        hits = top_k_hits(y, p, k)  # (n,)
        return np.asarray((weights @ hits) / weights.sum(axis=1))

    return Metric(f"top_{k}_accuracy", True, score, replicates)


def top_k_hits(y: np.ndarray, p: Predictions, k: int) -> np.ndarray:
    """(n,) 1.0 where the true class is among the k highest scores. As scikit-learn does, a
    class tied with the k-th score counts only if it sorts within the first k (stable order)."""
    labels, proba = _sorted(p)
    top = np.argsort(proba, axis=1, kind="mergesort")[:, ::-1][:, :k]  # (n, k) column indices
    true = np.searchsorted(np.asarray(labels), y)  # (n,)
    return np.asarray((top == true[:, None]).any(axis=1), dtype=np.float64)


def _sorted(p: Predictions) -> tuple[list[str], np.ndarray]:
    assert p.proba is not None and p.classes is not None
    order = np.argsort(np.asarray(p.classes))
    return [p.classes[i] for i in order], p.proba[:, order]
