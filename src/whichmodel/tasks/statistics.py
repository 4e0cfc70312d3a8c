"""What a metric is made of, as the paired permutation test needs it: a task declares it on its
:class:`~whichmodel.tasks.base.Metric` (``permutation=``), and ``analysis.paired`` reads it, so
the analysis never names a metric.

A :class:`PermutationStatistic` says which per-example terms each model contributes (an absolute
error, a negative log-likelihood, a predicted label), how a batch of them sums up (a sum, confusion
counts), and the metric from that summary. Most metrics are a function of a sum of per-example
terms: :func:`sum_statistic` declares one from its terms and its finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from whichmodel.tasks.base import Predictions

# Per-example terms (n,) of one model.
PermutationTermsFn = Callable[[np.ndarray, Predictions], np.ndarray]
# (terms (..., m), y (n,) all labels, rows (m,) positions of the m examples in y) -> (..., s):
# an additive summary of the m examples (sums, confusion counts).
ReduceFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
# (summary (..., s) of all n examples, y (n,)) -> (...): the metric.
SummaryFinishFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
# (A's terms (m,), B's terms (m,), y (n,), rows (m,)) -> (A's summary (s,), B's summary (s,),
# step (m, s), dense or sparse): swapping example i adds step[i] to A's summary and takes it
# from B's, so a batch of swap patterns changes the summaries by one matrix product.
TradeFn = Callable[
    [np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, Any]
]


@dataclass(frozen=True)
class PermutationStatistic:
    """How to permutation-test one metric: the per-example terms each model contributes, an
    additive summary of a batch of (possibly swapped) terms, and the metric from a summary.

    Additivity is what makes the test cheap: swapping two equal terms changes nothing, so only
    the examples where A's and B's terms differ are permuted, on top of the fixed summary of the
    others (for classifiers that agree on 95% of 20k examples, 1k examples, not 20k)."""

    terms: PermutationTermsFn
    reduce: ReduceFn
    finish: SummaryFinishFn
    # reduce and finish take y as codes 0..k-1 into the sorted labels of all of y (see
    # ``labels_as_codes``), so a batch of resamples needs no sort of y.
    codes: bool = False
    # reduce as a trade (see TradeFn), when it can be written so; else every batch of swap
    # patterns is reduced from the swapped terms.
    trade: TradeFn | None = None

    @property
    def of_term_sum(self) -> bool:
        """Whether the metric is a function of the sum of its terms (as :func:`sum_statistic`
        declares): then with many differing terms the paired t-test on the terms stands in for
        the permutation test, whose null distribution is normal by then."""
        return self.reduce is sum_terms

    def metric(self, terms: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The metric from a batch of terms (..., n) over all n examples (y as given to
        ``terms``)."""
        y = labels_as_codes(y) if self.codes else y
        return self.finish(self.reduce(terms, y, np.arange(len(y))), y)


def labels_as_codes(y: np.ndarray) -> np.ndarray:
    """(n,) labels -> (n,) int64 indices into their sorted distinct values (each occurs)."""
    return np.unique(y, return_inverse=True)[1].astype(np.int64)


def sum_terms(terms: np.ndarray, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The summary of a sum statistic: the terms' sum, (..., m) -> (..., 1)."""
    return np.asarray(terms.sum(axis=-1, keepdims=True))


def mean_of_sum(sums: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The mean term over all n examples from their sum: (..., 1) -> (...)."""
    return np.asarray(sums[..., 0] / len(y))


def _sum_trade(
    terms_a: np.ndarray, terms_b: np.ndarray, y: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sums: a swap moves B's - A's term of the example from A's sum to B's."""
    return np.array([terms_a.sum()]), np.array([terms_b.sum()]), (terms_b - terms_a)[:, None]


def sum_statistic(
    terms: PermutationTermsFn, finish: SummaryFinishFn = mean_of_sum
) -> PermutationStatistic:
    """A metric that is ``finish`` of the sum of per-example ``terms`` (n,): by default their
    mean (MAE, log loss, a mean Huber loss); RMSE finishes with a square root of the mean."""
    return PermutationStatistic(terms, sum_terms, finish, trade=_sum_trade)
