"""The right paired test for each metric, with a Holm correction across model pairs.

Which test, by what the metric declares (:class:`whichmodel.tasks.base.Metric`; this module
names no metric):

- ``mcnemar`` (the share of examples whose binary task outcome is right: classification's
  accuracy): the exact McNemar test (:func:`whichmodel.analysis.stats.mcnemar_exact`).
- a ``permutation`` statistic (:mod:`whichmodel.tasks.statistics`: macro-F1 from confusion
  counts; log loss, MAE, RMSE, R², a Huber loss from sums of per-example terms): a paired
  permutation test as :func:`scipy.stats.permutation_test` with ``permutation_type="samples"``
  defines it (and tested against it; see :func:`permutation_p_value` for why it is vectorized
  here): under H0 the two models are exchangeable on each example, so each resample swaps A's
  and B's per-example outputs at random and recomputes the metric difference. Metrics that are
  a function of the sum of per-example terms (``PermutationStatistic.of_term_sum``) use SciPy's
  paired t-test (``ttest_rel``) on those terms instead when more than 5,000 examples differ:
  the permutation distribution of a mean difference is then normal to within far less than the
  Monte Carlo error.
- any other metric (one that declares neither), and every metric of a task whose examples
  group into resampling units (ranking queries) or whose labels are vectors (forecast
  horizons): a paired bootstrap test read off
  the same paired resamples as the confidence intervals, p = 2 min(P*(Δ ≤ 0), P*(Δ ≥ 0)); its
  verdict at level α agrees with whether the (1 - α) percentile interval of Δ contains 0.

Within each metric, the p-values of all model pairs are adjusted with Holm's step-down method
(equal to statsmodels ``multipletests(method="holm")``, tested) when more than two models are
compared.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from whichmodel.analysis.stats import (
    UnitIndex,
    iter_bootstrap_weights,
    iter_resample_weights,
    mcnemar_exact,
    with_units,
)
from whichmodel.tasks.base import Metric, Predictions, Task, WeightedSums, weighted_sums
from whichmodel.tasks.statistics import PermutationStatistic, labels_as_codes


@dataclass(frozen=True)
class MetricTest:
    """A paired test of one metric between two models on the same examples.

    Args:
        method: ``mcnemar_exact``, ``permutation``, ``paired_t`` or ``paired_bootstrap``.
        diff: metric of A minus metric of B on these examples.
        p_value: the raw two-sided p-value.
        p_holm: Holm-adjusted p-value over the model pairs of this metric (= p_value for 2 models).
        n_resamples: permutations or bootstrap resamples used (0 for McNemar).
    """

    metric: str
    model_a: str
    model_b: str
    method: str
    diff: float
    p_value: float
    p_holm: float
    n_resamples: int
    n: int


# Above this many examples whose terms differ, a metric that is a function of the sum of its
# terms (log loss, MAE, RMSE, R²) is tested with the paired t-test, to which the paired
# permutation test of a mean difference converges (the CLT holds long before), at a fraction of
# the cost of 1,000 random swaps of 20k examples.
MAX_PERMUTED_FOR_MEANS = 5000


def paired_metric_tests(
    task: Task,
    y: np.ndarray,
    preds: Mapping[str, Predictions],
    *,
    units: np.ndarray | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    scores: Mapping[tuple[str, str], float] | None = None,
) -> tuple[MetricTest, ...]:
    """Every metric's paired test for every pair of models, Holm-adjusted per metric.

    Args:
        task: defines the metrics and the per-example outcome.
        y: (n,) true labels of the examples every model predicted.
        preds: model name -> predictions aligned with ``y``.
        units: (n,) resampling unit of each example, aligned with ``y`` (``Dataset.units`` of
            its rows), or None when each example is its own unit.
        n_resamples: permutations (or bootstrap resamples) per test.
        seed: seeds the permutations; the same seed gives the same p-values.
        scores: (model, metric) -> its value on these examples, when the caller has them
            (``compute_statistics`` does); missing ones are computed.
    """
    preds = with_units(preds, units)
    metrics = {name: {m.name: m for m in task.metrics(y, p)} for name, p in preds.items()}
    # Each model's point values once, not once per pair (scikit-learn on 20k string labels
    # takes tens of ms per call).
    known = scores or {}
    point = {
        (name, m.name): known[(name, m.name)]
        if (name, m.name) in known
        else m.score(y, preds[name], None)
        for name, ms in metrics.items()
        for m in ms.values()
    }
    per_model = _PerModelTerms(y, preds)
    raw: list[MetricTest] = []
    for a, b in itertools.combinations(preds, 2):
        for metric_name, metric in metrics[a].items():
            if metric_name in metrics[b]:
                diff = point[(a, metric_name)] - point[(b, metric_name)]
                raw.append(_test(task, per_model, metric, diff, (a, b), n_resamples, seed, units))
    return holm_adjusted(raw)


class _PerModelTerms:
    """Each model's per-example terms of a metric, and y as label codes, computed once for all
    the pairs a model is in (not once per pair)."""

    def __init__(self, y: np.ndarray, preds: Mapping[str, Predictions]) -> None:
        self.y, self.preds = y, preds
        self._terms: dict[tuple[str, str], np.ndarray] = {}
        self._codes: np.ndarray | None = None

    def terms(self, metric: Metric, model: str) -> np.ndarray:
        assert metric.permutation is not None
        key = (metric.name, model)
        if key not in self._terms:
            self._terms[key] = metric.permutation.terms(self.y, self.preds[model])
        return self._terms[key]

    def y_for(self, spec: PermutationStatistic) -> np.ndarray:
        if not spec.codes:
            return self.y
        if self._codes is None:
            self._codes = labels_as_codes(self.y)
        return self._codes


def _test(
    task: Task,
    per_model: _PerModelTerms,
    metric: Metric,
    diff: float,
    names: tuple[str, str],
    n_resamples: int,
    seed: int,
    units: np.ndarray | None = None,
) -> MetricTest:
    y, (pa, pb) = per_model.y, (per_model.preds[n] for n in names)
    if units is not None or y.ndim > 1:  # the per-example tests below assume neither
        p = paired_bootstrap_p_value(
            metric, y, pa, pb, n_resamples=n_resamples, seed=seed, units=units
        )
        return MetricTest(
            metric.name, *names, "paired_bootstrap", diff, p, 0.0, n_resamples, len(y)
        )
    if metric.mcnemar:
        mc = mcnemar_exact(task.outcome(y, pa), task.outcome(y, pb))
        return MetricTest(metric.name, *names, "mcnemar_exact", diff, mc.p_value, 0.0, 0, len(y))
    spec = metric.permutation
    if spec is None:
        p = paired_bootstrap_p_value(metric, y, pa, pb, n_resamples=n_resamples, seed=seed)
        return MetricTest(
            metric.name, *names, "paired_bootstrap", diff, p, 0.0, n_resamples, len(y)
        )
    ta, tb = (per_model.terms(metric, n) for n in names)
    if spec.of_term_sum and np.count_nonzero(ta != tb) > MAX_PERMUTED_FOR_MEANS:
        p = 1.0 if np.array_equal(ta, tb) else float(ttest_rel_p(ta, tb))
        return MetricTest(metric.name, *names, "paired_t", diff, p, 0.0, 0, len(y))
    y_spec = per_model.y_for(spec)
    p = permutation_p_value(spec, y_spec, (ta, tb), n_resamples=n_resamples, seed=seed)
    return MetricTest(metric.name, *names, "permutation", diff, p, 0.0, n_resamples, len(y))


def ttest_rel_p(terms_a: np.ndarray, terms_b: np.ndarray) -> float:
    """Two-sided p-value of SciPy's paired t-test on per-example terms."""
    from scipy.stats import ttest_rel

    return float(ttest_rel(terms_a, terms_b).pvalue)


def permutation_p_value(
    spec: PermutationStatistic,
    y: np.ndarray,
    terms: tuple[np.ndarray, np.ndarray],
    *,
    n_resamples: int,
    seed: int,
) -> float:
    """Two-sided p-value of a paired permutation test of metric(A) - metric(B), defined as
    :func:`scipy.stats.permutation_test` with ``permutation_type="samples"`` defines it (tests
    check equality in the exact case and agreement within Monte Carlo error otherwise): exact,
    over all 2^m swap patterns, when 2^m <= ``n_resamples``; else ``n_resamples`` random ones,
    with the +1 correction. ``y`` is given as codes when ``spec.codes``.

    Done here, not by SciPy, for speed: SciPy draws a random order of each example's two values
    in a Python loop over the examples (~10 ms per test at 540 examples, ~40 ms at 20k); here one
    (b, m) boolean draw says where A's and B's terms trade places."""
    terms_a, terms_b = terms
    moved = np.flatnonzero(terms_a != terms_b)  # swapping equal terms changes nothing
    m = len(moved)
    if m < 2:
        # None: every permutation gives the same statistic. One: its two arrangements give the
        # observed difference and its negative, equally likely, so the two-sided p is 1.
        return 1.0
    statistic, width = _swap_statistic(spec, y, terms_a, terms_b, moved)
    observed = float(statistic(np.zeros((1, m), dtype=bool))[0])
    exact = _is_exact(m, n_resamples)
    # swap patterns per batch: bounds memory (~32 MiB of swapped terms or of summaries)
    rows = max(1, (1 << 22) // max(m, width))
    null = np.concatenate([statistic(s) for s in _swap_patterns(m, n_resamples, seed, rows)])
    gamma = abs(np.finfo(np.float64).eps * 100 * observed)  # SciPy's tolerance for ties
    extra = 0 if exact else 1
    below = (np.count_nonzero(null <= observed + gamma) + extra) / (len(null) + extra)
    above = (np.count_nonzero(null >= observed - gamma) + extra) / (len(null) + extra)
    return float(min(1.0, 2 * min(below, above)))


def _swap_statistic(
    spec: PermutationStatistic,
    y: np.ndarray,
    terms_a: np.ndarray,
    terms_b: np.ndarray,
    moved: np.ndarray,
) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """(metric(A) - metric(B) of each swap pattern: (b, m) bool -> (b,), the summary values
    per pattern). The terms that do not move are summarized once; a metric with ``trade``
    shifts its summaries by the swapped terms instead of reducing them again."""
    same = np.flatnonzero(terms_a == terms_b)
    base = (spec.reduce(terms_a[same], y, same), spec.reduce(terms_b[same], y, same))
    moved_a, moved_b = terms_a[moved], terms_b[moved]
    traded = spec.trade(moved_a, moved_b, y, moved) if spec.trade else None
    width = 1 if traded is None else traded[2].shape[1]  # summary values per swap pattern
    # A summary of terms that are all >= 0 (errors, NLL, counts) is >= 0: a trade's rounding
    # (-1e-17 where A takes every term of a perfect B) must not reach a square root.
    floor = 0.0 if min(terms_a.min(), terms_b.min()) >= 0 else -np.inf

    def statistic(swap: np.ndarray) -> np.ndarray:  # (b, m) bool -> (b,)
        if traded is not None:
            start_a, start_b, step = traded
            shift = np.asarray(swap @ step)  # (b, s)
            summary_a = np.maximum(base[0] + start_a + shift, floor)
            summary_b = np.maximum(base[1] + start_b - shift, floor)
            return np.asarray(spec.finish(summary_a, y) - spec.finish(summary_b, y))
        x, z = np.where(swap, moved_b, moved_a), np.where(swap, moved_a, moved_b)
        metric_a = spec.finish(base[0] + spec.reduce(x, y, moved), y)
        return np.asarray(metric_a - spec.finish(base[1] + spec.reduce(z, y, moved), y))

    return statistic, width


def _is_exact(m: int, n_resamples: int) -> bool:
    """Whether all 2^m swap patterns of m examples fit in the resamples (SciPy's exact test)."""
    return m < 63 and 2**m <= n_resamples


def _swap_patterns(m: int, n_resamples: int, seed: int, rows: int) -> Iterator[np.ndarray]:
    """Batches of (b, m) booleans, True where the two models' terms trade places: each of the
    2^m patterns once when 2^m <= n_resamples, else ``n_resamples`` fair coin flips per example."""
    if _is_exact(m, n_resamples):
        for start in range(0, 2**m, rows):
            codes = np.arange(start, min(2**m, start + rows), dtype=np.int64)
            yield (codes[:, None] >> np.arange(m)) & 1 == 1
        return
    rng = np.random.default_rng(seed)
    for start in range(0, n_resamples, rows):
        # the bits of uniform random bytes: fair, independent coins, 8 per draw (4x faster)
        byte = rng.integers(
            0, 256, size=(min(rows, n_resamples - start), -(-m // 8)), dtype=np.uint8
        )
        yield np.unpackbits(byte, axis=1, count=m).view(np.bool_)


def paired_bootstrap_p_value(
    metric: Metric,
    y: np.ndarray,
    a: Predictions,
    b: Predictions,
    *,
    n_resamples: int,
    seed: int,
    units: np.ndarray | None = None,
) -> float:
    """p = 2 min(P*(Δ ≤ 0), P*(Δ ≥ 0)) over paired bootstrap replicates Δ of metric(A) -
    metric(B) (Efron & Tibshirani, An Introduction to the Bootstrap, §16.4), capped at 1.
    With ``units`` (n,), resamples draw whole units (see
    :func:`whichmodel.analysis.stats.iter_resample_weights`)."""
    if units is not None and metric.sums is not None:
        deltas = _unit_deltas(metric.sums, y, (a, b), n_resamples, seed, units)
    else:
        deltas = np.concatenate(
            [
                metric.replicate(y, a, w) - metric.replicate(y, b, w)
                for w in iter_resample_weights(len(y), n_resamples, seed, units)
            ]
        )
    tail = min(float(np.mean(deltas <= 0)), float(np.mean(deltas >= 0)))
    return min(1.0, 2 * tail)


def _unit_deltas(
    sums: WeightedSums,
    y: np.ndarray,
    pair: tuple[Predictions, Predictions],
    n_resamples: int,
    seed: int,
    units: np.ndarray,
) -> np.ndarray:
    """(B,) replicates of metric(A) - metric(B) under unit resamples, from the terms summed per
    unit (the same draws and values as example weights, see ``UnitIndex.sum_terms``)."""
    index = UnitIndex.of(units, len(y))
    sizes = index.sizes()
    terms = [index.sum_terms(sums.terms(y, p)) for p in pair]  # 2 x (G, k)
    out = []
    for w in iter_bootstrap_weights(index.n_units, n_resamples, seed):  # (b, G)
        total = w @ sizes
        a, b = (
            np.concatenate([sums.finish(s, total[r]) for r, s in weighted_sums(w, t)])
            for t in terms
        )
        out.append(a - b)
    return np.concatenate(out)


def holm_adjusted(tests: list[MetricTest]) -> tuple[MetricTest, ...]:
    """The tests with ``p_holm`` set: Holm's step-down adjustment over the model pairs of each
    metric, in the input order (tests check it equals statsmodels' ``multipletests(method=
    "holm")``, which calls ``gc.collect()`` on every call: ~0.15 s each in a process holding
    torch, once per metric)."""
    from dataclasses import replace

    adjusted = {id(t): t.p_value for t in tests}
    for metric in dict.fromkeys(t.metric for t in tests):
        family = [t for t in tests if t.metric == metric]
        if len(family) > 1:
            p_holm = holm([t.p_value for t in family])
            adjusted.update({id(t): float(p) for t, p in zip(family, p_holm, strict=True)})
    return tuple(replace(t, p_holm=adjusted[id(t)]) for t in tests)


def holm(p_values: list[float]) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, in the input order: the i-th smallest of m is
    multiplied by (m - i), then made non-decreasing in that order and capped at 1."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p))))
    out = np.empty_like(p)
    out[order] = np.minimum(stepped, 1.0)
    return out
