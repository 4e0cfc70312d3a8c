"""Bootstrap confidence intervals and paired tests for metrics of several models on one dataset.

Every model is scored on the same bootstrap resamples (the same weight matrix), so the difference
of two models' replicates is a paired bootstrap of the difference. Intervals are percentile
intervals. Paired tests: the exact McNemar test (a binomial test on the discordant pairs) for
classifiers, the Wilcoxon signed-rank test on absolute errors for regressors.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from whichmodel.errors import TaskError
from whichmodel.tasks.base import Metric, Predictions, Task, WeightedSums, weighted_sums

if TYPE_CHECKING:
    from scipy.sparse import spmatrix


@dataclass(frozen=True)
class MetricResult:
    """One metric of one model, with a bootstrap confidence interval."""

    model: str
    name: str
    value: float
    ci_low: float
    ci_high: float
    higher_is_better: bool


@dataclass(frozen=True)
class Difference:
    """``model_a``'s metric minus ``model_b``'s, with a paired bootstrap interval."""

    name: str
    model_a: str
    model_b: str
    diff: float
    ci_low: float
    ci_high: float
    higher_is_better: bool

    @property
    def excludes_zero(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


@dataclass(frozen=True)
class PairedTest:
    """A paired significance test of two models on the same examples.

    For McNemar, ``a_only`` counts examples A gets right and B wrong, ``b_only`` the reverse; for
    Wilcoxon they count examples where A's error is smaller, and where B's is.
    """

    model_a: str
    model_b: str
    test: str
    statistic: float
    p_value: float
    a_only: int
    b_only: int
    n: int


@dataclass(frozen=True)
class Statistics:
    metrics: tuple[MetricResult, ...]
    differences: tuple[Difference, ...]
    tests: tuple[PairedTest, ...]
    n_examples: int
    n_resamples: int
    confidence: float
    seed: int


# Resample counts held in memory at once (8 MiB of float64). Smaller chunks are faster to make and
# use (likely: their buffers are reused from the heap, not mapped and faulted in afresh): 1,000
# resamples of 20k examples, with the products compare makes, took 340 ms at 1 << 22 and 225 ms
# at this size; 540 examples, 5 ms at either.
_WEIGHTS_PER_CHUNK = 1 << 20


def iter_bootstrap_weights(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Bootstrap resamples of n examples as count vectors, in chunks of shape (b, n).

    Row b counts how often each example is drawn in resample b (each row sums to n). Chunks keep
    memory flat for any n; the chunk size depends on n only, so a seed always gives the same
    resamples.
    """
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _WEIGHTS_PER_CHUNK // max(n, 1))
    for start in range(0, n_resamples, per_chunk):
        b = min(per_chunk, n_resamples - start)
        # (b, n) example indices. int32 halves the memory traffic and draws the same numbers as
        # int64 for n < 2**31 (NumPy's bounded generator uses 32-bit draws for such ranges).
        dtype = np.int32 if b * n < 2**31 else np.int64
        flat = rng.integers(0, n, size=(b, n), dtype=dtype)
        # Row r's draws are counted into cells r*n..r*n+n-1: each row scatters into its own
        # n counts, which stay in cache (counting into an (n, b) layout instead, row-interleaved,
        # made every draw a cache miss: 3x slower at n = 20k).
        flat += (np.arange(b) * n).astype(flat.dtype)[:, None]
        yield np.bincount(flat.ravel(), minlength=b * n).astype(np.float64).reshape(b, n)


def iter_resample_weights(
    n: int, n_resamples: int, seed: int, units: np.ndarray | None = None
) -> Iterator[np.ndarray]:
    """Bootstrap weights (b, n) of n examples, drawing whole units when ``units`` is given.

    ``units`` (n,) names each example's resampling unit (e.g. a ranking query's rows). A
    resample then draws units with replacement and every example of a unit drawn c times gets
    weight c: the cluster bootstrap (Davison & Hinkley, Bootstrap Methods and their
    Application, 1997, §3.8), which keeps the examples of a unit together as the data came.
    Without units this is :func:`iter_bootstrap_weights`.
    """
    index = UnitIndex.of(units, n)
    for unit_weights in iter_bootstrap_weights(index.n_units, n_resamples, seed):  # (b, G)
        yield from index.example_weights(unit_weights)


@dataclass(frozen=True)
class UnitIndex:
    """Which unit each of n examples belongs to: ``inverse`` (n,) unit indices 0..G-1 (in
    sorted unit order), or None when each example is its own unit (then G = n)."""

    inverse: np.ndarray | None
    n_units: int

    @classmethod
    def of(cls, units: np.ndarray | None, n: int) -> UnitIndex:
        if units is None:
            return cls(None, n)
        inverse = np.unique(units, return_inverse=True)[1].astype(np.int64)
        return cls(inverse, int(inverse.max()) + 1 if n else 0)

    def sizes(self) -> np.ndarray:
        """(G,) examples per unit."""
        if self.inverse is None:
            return np.ones(self.n_units)
        return np.bincount(self.inverse, minlength=self.n_units).astype(np.float64)

    def sum_terms(self, terms: np.ndarray | spmatrix) -> np.ndarray | spmatrix:
        """(n, k) per-example terms -> (G, k) their sums per unit. Under unit weights,
        ``w_units @ sum_terms(t)`` equals ``w_examples @ t`` exactly, with G instead of n
        columns of weights to draw and multiply."""
        if self.inverse is None:
            return terms
        from scipy.sparse import csr_matrix

        n = len(self.inverse)
        indicator = csr_matrix((np.ones(n), (self.inverse, np.arange(n))), (self.n_units, n))
        summed = indicator @ terms
        return np.asarray(summed) if isinstance(terms, np.ndarray) else summed.tocsr()

    def example_weights(self, unit_weights: np.ndarray) -> Iterator[np.ndarray]:
        """(b, G) unit weights -> chunks of (b', n) example weights, each example its unit's,
        at most ``_WEIGHTS_PER_CHUNK`` cells per chunk."""
        if self.inverse is None:
            yield unit_weights
            return
        step = max(1, _WEIGHTS_PER_CHUNK // max(len(self.inverse), 1))
        for i in range(0, len(unit_weights), step):
            yield np.asarray(unit_weights[i : i + step][:, self.inverse])


def unit_means(values: np.ndarray, units: np.ndarray | None) -> np.ndarray:
    """(n,) per-example values -> (G,) their mean per unit (in sorted unit order), or the
    values unchanged without units."""
    if units is None:
        return values
    _, inverse = np.unique(units, return_inverse=True)
    sums = np.bincount(inverse, weights=np.asarray(values, dtype=np.float64))
    return np.asarray(sums / np.bincount(inverse))


def bootstrap_weights(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """All resamples at once: (B, n) float64 draw counts (see :func:`iter_bootstrap_weights`)."""
    return np.concatenate(list(iter_bootstrap_weights(n, n_resamples, seed)))


def common_rows(preds: Mapping[str, Predictions]) -> np.ndarray:
    """The example ids every model has a prediction for, ascending."""
    rows = [p.rows for p in preds.values()]
    if not rows:
        return np.empty(0, dtype=np.int64)
    common = rows[0]
    for r in rows[1:]:
        if not np.array_equal(common, r):  # the usual case, every model predicted every row
            common = np.intersect1d(common, r)
    return common.astype(np.int64)


def align(
    preds: Mapping[str, Predictions], rows: np.ndarray, units: np.ndarray | None
) -> dict[str, Predictions]:
    """Each model's predictions on ``rows`` (example ids, ascending, every model has them),
    with the (N,) ``units`` of those rows attached (see :attr:`Predictions.units`)."""
    unit_of = None if units is None else units[rows]
    return {
        name: p.take(np.searchsorted(p.rows, rows)).with_units(unit_of)
        for name, p in preds.items()
    }


def with_units(
    preds: Mapping[str, Predictions], units: np.ndarray | None
) -> dict[str, Predictions]:
    """``preds`` (aligned, n each) with the (n,) ``units`` attached; the same objects where
    they have them already."""
    return {name: p.with_units(units) for name, p in preds.items()}


def compute_statistics(
    task: Task,
    y_true: np.ndarray,
    preds: Mapping[str, Predictions],
    *,
    units: np.ndarray | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Statistics:
    """Metrics with CIs for each model, and every pairwise difference and paired test.

    Args:
        task: the task that defines the metrics and per-example outcomes.
        y_true: (N,) labels of the whole dataset, indexed by example id.
        preds: model name -> its predictions. Only examples every model predicted are used.
        units: (N,) resampling unit of each example (``Dataset.units``) or None; drawn whole.
        n_resamples: bootstrap resamples B.
        confidence: the interval's coverage.
        seed: seeds the resampling; the same seed gives the same numbers.
    """
    rows = common_rows(preds)
    if len(rows) == 0:
        raise TaskError("No example was predicted by every model, so there is nothing to compare.")
    aligned, y, alpha = align(preds, rows, units), y_true[rows], (1.0 - confidence) / 2.0
    units = None if units is None else units[rows]
    metrics = {name: task.metrics(y, p) for name, p in aligned.items()}
    replicates = _replicates(y, aligned, metrics, n_resamples, seed, units)
    results = [
        _metric_result(name, metric, metric.score(y, p, None), replicates, alpha)
        for name, p in aligned.items()
        for metric in metrics[name]
    ]
    point = {(m.model, m.name): m.value for m in results}
    directions = {m.name: m.higher_is_better for m in results}
    differences: list[Difference] = []
    tests: list[PairedTest] = []
    for a, b in itertools.combinations(aligned, 2):
        for metric_name, higher in directions.items():
            if (a, metric_name) in point and (b, metric_name) in point:
                delta = replicates[(a, metric_name)] - replicates[(b, metric_name)]
                low, high = np.quantile(delta, [alpha, 1 - alpha])
                diff = point[(a, metric_name)] - point[(b, metric_name)]
                differences.append(
                    Difference(metric_name, a, b, diff, float(low), float(high), higher)
                )
        tests.append(paired_test(task, y, aligned[a], aligned[b], a, b, units=units))
    return Statistics(
        tuple(results), tuple(differences), tuple(tests), len(rows), n_resamples, confidence, seed
    )


def _metric_result(
    model: str,
    metric: Metric,
    value: float,
    replicates: dict[tuple[str, str], np.ndarray],
    alpha: float,
) -> MetricResult:
    """A model's metric with its percentile bootstrap interval."""
    low, high = np.quantile(replicates[(model, metric.name)], [alpha, 1 - alpha])
    return MetricResult(
        model, metric.name, value, float(low), float(high), metric.higher_is_better
    )


def _replicates(
    y: np.ndarray,
    preds: Mapping[str, Predictions],
    metrics: Mapping[str, list[Metric]],
    n_resamples: int,
    seed: int,
    units: np.ndarray | None = None,
) -> dict[tuple[str, str], np.ndarray]:
    """(model, metric) -> (B,) the metric on each bootstrap resample; every model sees the same
    resamples, so differences of replicates are paired.

    Metrics written as weighted sums (``Metric.sums``) of every model share one product with
    each chunk of resample weights, one for dense terms and one for sparse: the weights, the
    largest array here, are read twice per chunk instead of once per model and metric. With
    ``units``, those terms are summed per unit first and multiplied by the unit weights.
    """
    index = UnitIndex.of(units, len(y))
    sizes = index.sizes()  # (G,)

    out: dict[tuple[str, str], list[np.ndarray]] = {
        (name, m.name): [] for name, ms in metrics.items() for m in ms
    }
    groups, other = _sum_groups(y, preds, metrics, index)
    for weights in iter_bootstrap_weights(index.n_units, n_resamples, seed):  # (b, G)
        total = weights @ sizes  # (b,) examples drawn
        for members, terms in groups:
            for rows, sums in weighted_sums(weights, terms):
                start = 0
                for key, metric_sums, t in members:
                    width = t.shape[1]
                    out[key].append(metric_sums.finish(sums[:, start : start + width], total[rows]))
                    start += width
        for name, m in other:
            for chunk in index.example_weights(weights):
                out[(name, m.name)].append(m.replicate(y, preds[name], chunk))
    return {k: np.concatenate(v) for k, v in out.items()}


_Members = list[tuple[tuple[str, str], WeightedSums, Any]]


def _sum_groups(
    y: np.ndarray,
    preds: Mapping[str, Predictions],
    metrics: Mapping[str, list[Metric]],
    index: UnitIndex,
) -> tuple[list[tuple[_Members, Any]], list[tuple[str, Metric]]]:
    """([(members, their terms side by side (G, sum of k))] for dense then sparse terms, the
    (model, metric) pairs not written as weighted sums)."""
    from scipy.sparse import hstack

    dense: _Members = []  # terms (n, k) ndarray
    sparse: _Members = []  # terms (n, k) sparse
    other: list[tuple[str, Metric]] = []
    for name, ms in metrics.items():
        for m in ms:
            if m.sums is None:
                other.append((name, m))
                continue
            terms = index.sum_terms(m.sums.terms(y, preds[name]))  # (G, k): n x k summed
            group = dense if isinstance(terms, np.ndarray) else sparse
            group.append(((name, m.name), m.sums, terms))
    groups = [(members, np.hstack([t for *_, t in members])) for members in [dense] if members]
    if sparse:
        groups.append((sparse, hstack([t for *_, t in sparse], format="csr")))
    return groups, other


def paired_test(
    task: Task,
    y: np.ndarray,
    a: Predictions,
    b: Predictions,
    name_a: str,
    name_b: str,
    *,
    units: np.ndarray | None = None,
) -> PairedTest:
    """McNemar (exact) for binary outcomes, Wilcoxon signed-rank for continuous ones. With
    ``units`` (n,), the Wilcoxon test pairs each unit's mean outcome (e.g. per ranking query)."""
    out_a, out_b = task.outcome(y, a), task.outcome(y, b)
    if units is not None:
        return wilcoxon_errors(unit_means(out_a, units), unit_means(out_b, units), name_a, name_b)
    if task.outcome_kind == "binary":
        return mcnemar_exact(out_a, out_b, name_a, name_b)
    return wilcoxon_errors(out_a, out_b, name_a, name_b)


def mcnemar_exact(
    correct_a: np.ndarray, correct_b: np.ndarray, name_a: str = "a", name_b: str = "b"
) -> PairedTest:
    """Exact McNemar test: under H0 the discordant pairs split 50/50 (two-sided binomial test)."""
    a_only = int(np.sum(correct_a & ~correct_b))
    b_only = int(np.sum(~correct_a & correct_b))
    p = _binomial_half_p(a_only, a_only + b_only)
    return PairedTest(
        name_a,
        name_b,
        "mcnemar_exact",
        float(min(a_only, b_only)),
        p,
        a_only,
        b_only,
        len(correct_a),
    )


@functools.lru_cache(maxsize=1024)
def _binomial_half_p(k: int, n: int) -> float:
    """SciPy's two-sided exact binomial p-value of k successes in n trials at p = 1/2 (1 for
    n = 0). Cached: the statistics and the findings test the same pairs (~0.6 ms a call)."""
    from scipy.stats import binomtest

    return 1.0 if n == 0 else float(binomtest(k, n, 0.5).pvalue)


def wilcoxon_errors(
    error_a: np.ndarray, error_b: np.ndarray, name_a: str = "a", name_b: str = "b"
) -> PairedTest:
    """Wilcoxon signed-rank test on paired absolute errors (ties dropped, SciPy's default).
    Errors equal up to rounding are ties, as the disagreements count them (two orderings of one
    query's items give nDCGs 1e-16 apart): they are neither side's win nor in the test."""
    from scipy.stats import wilcoxon

    diff = np.asarray(error_a - error_b, dtype=np.float64)
    diff[np.isclose(error_a, error_b, rtol=1e-12, atol=0.0)] = 0.0
    a_better, b_better = int(np.sum(diff < 0)), int(np.sum(diff > 0))
    if a_better + b_better == 0:
        return PairedTest(name_a, name_b, "wilcoxon", 0.0, 1.0, 0, 0, len(diff))
    result = wilcoxon(diff)  # as wilcoxon(error_a, error_b) with those errors made equal
    return PairedTest(
        name_a,
        name_b,
        "wilcoxon",
        float(result.statistic),
        float(result.pvalue),
        a_better,
        b_better,
        len(diff),
    )


def statistics_to_dict(stats: Statistics) -> dict[str, Any]:
    return asdict(stats)


def statistics_from_dict(d: dict[str, Any]) -> Statistics:
    """The inverse of :func:`statistics_to_dict` (for the store's cache)."""
    return Statistics(
        metrics=tuple(MetricResult(**m) for m in d["metrics"]),
        differences=tuple(Difference(**x) for x in d["differences"]),
        tests=tuple(PairedTest(**t) for t in d["tests"]),
        n_examples=int(d["n_examples"]),
        n_resamples=int(d["n_resamples"]),
        confidence=float(d["confidence"]),
        seed=int(d["seed"]),
    )
