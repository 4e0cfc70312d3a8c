"""Metrics built from per-example scores (:attr:`Predictions.scores`), with bootstrap replicates.

A corpus-level metric that is a function of sums over examples (perplexity = exp(sum NLL / sum
tokens); BLEU from summed n-gram counts) decomposes: each bootstrap replicate sums the per-example
terms under its weights, (B, n) @ (n, S), and applies the function. That is exact, not an
approximation: replicate b equals the metric on the resample b draws.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from whichmodel.tasks.base import Metric, Predictions, WeightedSums

# f(sums) -> value: sums is (S,) for a point value, (B, S) for replicates (then returns (B,)).
FromSums = Callable[[np.ndarray], np.ndarray]


def sums_metric(
    name: str,
    higher_is_better: bool,
    columns: Callable[[np.ndarray, Predictions], np.ndarray],
    from_sums: FromSums,
) -> Metric:
    """A metric that is ``from_sums`` of weighted column sums of ``columns(y, preds)`` (n, S)."""

    def score(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
        terms = columns(y, p)
        weights = np.ones(len(terms)) if w is None else np.asarray(w, dtype=np.float64)
        return float(from_sums((weights @ terms)[None, :])[0])

    # Metric.sums: compare_statistics multiplies every model's terms by each chunk of resample
    # weights at once, (B, n) @ (n, S) -> (B, S), then calls finish.
    sums = WeightedSums(columns, lambda totals, _weight: np.asarray(from_sums(totals)))
    return Metric(name, higher_is_better, score, sums=sums)


def score_columns(*names: str) -> Callable[[np.ndarray, Predictions], np.ndarray]:
    """``columns`` for :func:`sums_metric`: the named columns of the predictions' scores."""

    def columns(y: np.ndarray, p: Predictions) -> np.ndarray:
        return np.stack([p.score(n) for n in names], axis=1)

    return columns


def mean_metric(
    name: str, higher_is_better: bool, per_example: Callable[[np.ndarray, Predictions], np.ndarray]
) -> Metric:
    """The (weighted) mean of a per-example value, e.g. exact match or per-sentence ROUGE."""

    def columns(y: np.ndarray, p: Predictions) -> np.ndarray:
        values = np.asarray(per_example(y, p), dtype=np.float64)
        return np.stack([values, np.ones_like(values)], axis=1)

    return sums_metric(name, higher_is_better, columns, lambda s: s[:, 0] / s[:, 1])


def accuracy_metric(
    name: str,
    chosen: Callable[[Predictions], np.ndarray],
    truth: Callable[[np.ndarray], np.ndarray] = lambda y: y,
    *,
    mcnemar: bool = False,
) -> Metric:
    """Accuracy of the answers ``chosen(preds)`` (n,) against ``truth(y)``: scikit-learn's
    accuracy_score, and vectorized replicates (the weighted share of right answers).
    ``mcnemar``: these answers are the ones the task's outcome counts right (see
    :attr:`Metric.mcnemar`)."""

    def score(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(_labels(truth(y)), _labels(chosen(p)), sample_weight=w))

    def replicates(y: np.ndarray, p: Predictions, weights: np.ndarray) -> np.ndarray:
        right = (_labels(chosen(p)) == _labels(truth(y))).astype(np.float64)  # (n,)
        return np.asarray((weights @ right) / weights.sum(axis=1))

    return Metric(name, True, score, replicates, mcnemar=mcnemar)


def _labels(values: np.ndarray) -> np.ndarray:
    """Answers as comparable labels: integral floats (stored scores) as ints."""
    array = np.asarray(values)
    return array.astype(np.int64) if array.dtype.kind == "f" else array
