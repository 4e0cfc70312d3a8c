"""Ranking and recommendation: nDCG@k, recall@k and hit rate@k of each query's ranked items.

Data: long format, one row per (query, item), the layout LightGBM's ``LGBMRanker``, XGBoost's
``XGBRanker`` and recommender evaluations use::

    query_id,price,clicks_7d,...,label
    q1,12.5,3,...,2
    q1,8.0,0,...,0

- a query id column (option ``query``, default ``query_id``): groups the rows; it is not a model
  input, and it is the resampling unit of the bootstrap and the paired tests (query-level);
- the item's features: the model inputs (every other column by default, or ``--input-cols``);
- the label column: graded relevance, a number >= 0 (0 = not relevant). Every query needs at
  least one relevant item, or its nDCG and recall are undefined.

The model scores each row (a ranker's or regressor's ``predict``, or a binary classifier's
probability of class 1); within a query, items are ranked by descending score (ties by row
order for recall and hit rate; scikit-learn averages ties for nDCG). Options: ``query`` and
``k`` (cutoffs, default ``5,10``): ``--task "ranking?query=qid&k=1,5,10"``.

Metrics, each the mean over queries:

- ``ndcg@k``: scikit-learn's ``ndcg_score`` (linear gains, log2 discount; Järvelin & Kekäläinen
  2002), the same as trec_eval's ``ndcg_cut.k``;
- ``recall@k``: the share of the query's relevant items (relevance > 0) in its top k;
- ``hit_rate@k``: 1 when at least one relevant item is in the top k, else 0.

Tests check all three against ir-measures (trec_eval) on the same rankings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from whichmodel.errors import DataError, TaskError
from whichmodel.sources.base import RawOutput
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.options import TaskOptions
from whichmodel.tasks.scoring import sums_metric

_CACHED_MATRICES = 8  # (y, preds) pairs whose query matrix is kept: a few models' worth
# A memo of the pure function QueryMatrix.build(preds.units, y, preds.pred), the last few
# (y, preds, matrix), keyed by identity: every metric of a model reads the same matrix, and
# building it sorts all rows. Entries hold y and preds, so their ids stay theirs; y and
# Predictions are never changed in place. Not task state: tasks keep only their options.
# (Replaced whole, never appended to, so a reader in another thread sees a finished list.)
_matrices: list[tuple[np.ndarray, Predictions, QueryMatrix]] = []
PerQuery = Callable[["QueryMatrix", int], np.ndarray]  # (matrix, k) -> (Q,) value per query
Columns = Callable[[np.ndarray, Predictions], np.ndarray]  # (y, preds) -> (n, S) row terms


class RankingTask(Task):
    outcome_kind = "continuous"  # per query 1 - nDCG at the largest cutoff: paired Wilcoxon
    outcome_per_unit = True
    takes_options = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("ranking", {})
        self.query_column = options.text("query", "query_id")
        self.cutoffs = options.integers("k", (5, 10))
        self.name = options.finish()

    def unit_column(self) -> str | None:
        return self.query_column

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        """(N,) graded relevance, float64 >= 0."""
        try:
            relevance = np.asarray(labels, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(
                "Ranking needs numeric relevance labels (0 = not relevant); the label column "
                "holds text."
            ) from None
        bad = ~np.isfinite(relevance) | (relevance < 0)
        if bad.any():
            first = int(np.argmax(bad))
            raise DataError(
                f"The relevance at row {first} is {labels[first]!r}; relevance must be a number "
                ">= 0 (0 = not relevant)."
            )
        return relevance

    def check_units(self, y_true: np.ndarray, units: np.ndarray, names: np.ndarray) -> None:
        """Raise DataError for a query without a relevant item."""
        best = np.zeros(len(names))
        np.maximum.at(best, units, y_true)
        if (best == 0).any():
            raise DataError(
                f"Query {names[int(np.argmin(best))]!r} has no relevant item (every "
                f"relevance is 0), so its nDCG and recall are undefined; "
                f"{int((best == 0).sum())} of {len(names)} queries are like this. Drop them."
            )

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        array = np.asarray(raw.array)
        if raw.kind == "proba" and array.ndim == 2 and array.shape[1] == 2:
            return array[:, 1].astype(np.float64), None, None  # P(relevant) as the score
        if raw.kind in ("values", "logits") and array.ndim and array.size == len(array):
            return array.reshape(len(array)).astype(np.float64), None, None
        raise TaskError(
            f"The model returned {raw.kind} of shape {array.shape}; ranking needs one score per "
            "row (a ranker or regressor, or a binary classifier's probabilities)."
        )

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        metrics = [_ndcg_metric(self, k) for k in self.cutoffs]
        metrics += [_query_mean(self, f"recall@{k}", _recall, k) for k in self.cutoffs]
        metrics += [_query_mean(self, f"hit_rate@{k}", _hit, k) for k in self.cutoffs]
        return metrics

    def metric_names(self) -> tuple[str, ...]:
        return tuple(f"{m}@{k}" for m in ("ndcg", "recall", "hit_rate") for k in self.cutoffs)

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        """(n,) per row: 1 - nDCG@(largest k) of its query (paired tests take one per query)."""
        matrix = self.matrix(y_true, preds)
        # A perfect ranking can come out 1 + 1e-16 from the tie-averaged path (NumPy 1.26): at 1,
        # nDCG's maximum, it ties with the other path's exact 1 (disagreement ties are relative).
        per_query = np.minimum(_ndcg_per_query(matrix, max(self.cutoffs)), 1.0)
        return np.asarray(1.0 - per_query[matrix.query_of_row])

    def matrix(self, y: np.ndarray, preds: Predictions) -> QueryMatrix:
        """The rows of ``preds`` as one padded row per query (see :class:`QueryMatrix`), the
        queries being ``preds.units`` (the dataset's, attached by the analysis)."""
        global _matrices
        for seen_y, seen_preds, matrix in _matrices:
            if seen_y is y and seen_preds is preds:
                return matrix
        if preds.units is None:
            raise TaskError(
                f"The ranking task needs each row's query id (the '{self.query_column}' "
                "column); whichmodel compare reads it, this command does not."
            )
        matrix = QueryMatrix.build(preds.units, y, preds.pred.astype(np.float64))
        _matrices = [*_matrices[-(_CACHED_MATRICES - 1) :], (y, preds, matrix)]
        return matrix


@dataclass(frozen=True)
class QueryMatrix:
    """Rows grouped by query and padded to one width: ``relevance`` and ``scores`` (Q, m),
    where padding has relevance 0 and a score below every real one (so it never changes a
    metric); ``query_of_row`` (n,) each row's query index, ``rows_per_query`` (Q,), and
    ``has_ties``: two items of one query share a score."""

    relevance: np.ndarray
    scores: np.ndarray
    query_of_row: np.ndarray
    rows_per_query: np.ndarray
    has_ties: bool

    @classmethod
    def build(cls, queries: np.ndarray, relevance: np.ndarray, scores: np.ndarray) -> QueryMatrix:
        _, inverse, counts = np.unique(queries, return_inverse=True, return_counts=True)
        order = np.argsort(inverse, kind="stable")  # rows grouped by query, row order within
        starts = np.cumsum(counts) - counts
        column = np.arange(len(order)) - np.repeat(starts, counts)  # (n,) position in query
        width = max(2, int(counts.max(initial=0)))  # ndcg_score needs two items per query
        rel = np.zeros((len(counts), width))
        pad = (scores.min(initial=0.0) - 1.0) if len(scores) else -1.0
        sco = np.full((len(counts), width), pad)
        rel[inverse[order], column] = relevance[order]
        sco[inverse[order], column] = scores[order]
        by_score = np.lexsort((scores, inverse))  # by query, then score
        same = (np.diff(inverse[by_score]) == 0) & (np.diff(scores[by_score]) == 0)
        return cls(rel, sco, inverse, counts, bool(same.any()))

    def top(self, k: int) -> np.ndarray:
        """(Q, min(k, m)) relevance of each query's top k items, by descending score."""
        order = np.argsort(-self.scores, axis=1, kind="stable")[:, :k]
        return np.asarray(np.take_along_axis(self.relevance, order, axis=1))


def _ndcg_per_query(matrix: QueryMatrix, k: int) -> np.ndarray:
    """(Q,) nDCG@k of each query, from the function scikit-learn's ndcg_score averages. Its
    tie-averaging loops over queries in Python (~0.4 ms each); without ties, its vectorized
    ``ignore_ties`` path gives the same values."""
    from sklearn.metrics._ranking import _ndcg_sample_scores

    return np.asarray(
        _ndcg_sample_scores(
            matrix.relevance, matrix.scores, k=k, ignore_ties=not matrix.has_ties
        )
    )


def _recall(matrix: QueryMatrix, k: int) -> np.ndarray:
    found = (matrix.top(k) > 0).sum(axis=1)
    return np.asarray(found / (matrix.relevance > 0).sum(axis=1))


def _hit(matrix: QueryMatrix, k: int) -> np.ndarray:
    return np.asarray((matrix.top(k) > 0).any(axis=1).astype(np.float64))


def _query_terms(task: RankingTask, per_query: PerQuery, k: int) -> Columns:
    """(n, 2) per row: its query's value / rows in the query, and 1 / rows in the query. Summed
    under weights that give every row of a query the query's weight (the query-level
    bootstrap), they are the weighted sum of query values and the weighted query count."""

    def columns(y: np.ndarray, p: Predictions) -> np.ndarray:
        matrix = task.matrix(y, p)
        share = 1.0 / matrix.rows_per_query[matrix.query_of_row]  # (n,)
        values = per_query(matrix, k)[matrix.query_of_row]
        return np.stack([values * share, share], axis=1)

    return columns


def _query_mean(task: RankingTask, name: str, per_query: PerQuery, k: int) -> Metric:
    return sums_metric(name, True, _query_terms(task, per_query, k), lambda s: s[:, 0] / s[:, 1])


def _ndcg_metric(task: RankingTask, k: int) -> Metric:
    mean = _query_mean(task, f"ndcg@{k}", _ndcg_per_query, k)

    def score(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
        from sklearn.metrics import ndcg_score

        matrix = task.matrix(y, p)
        weights = None
        if w is not None:  # a query's weight: that of its rows (equal under a query bootstrap)
            weights = np.zeros(len(matrix.rows_per_query))
            weights[matrix.query_of_row] = np.asarray(w, dtype=np.float64)
        return float(
            ndcg_score(
                matrix.relevance,
                matrix.scores,
                k=k,
                sample_weight=weights,
                ignore_ties=not matrix.has_ties,  # scikit-learn's shortcut, exact without ties
            )
        )

    return Metric(mean.name, True, score, sums=mean.sums)
