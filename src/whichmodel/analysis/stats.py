"""Bootstrap confidence intervals and paired tests for metrics of several models on one dataset.

Every model is scored on the same bootstrap resamples (the same weight matrix), so the difference
of two models' replicates is a paired bootstrap of the difference. Intervals are percentile
intervals. Paired tests: the exact McNemar test (a binomial test on the discordant pairs) for
classifiers, the Wilcoxon signed-rank test on absolute errors for regressors.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from whichmodel.tasks.base import Predictions, Task


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


def bootstrap_weights(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """(B, n) float64: how often each example is drawn in each of B resamples of size n."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float64)


def common_rows(preds: Mapping[str, Predictions]) -> np.ndarray:
    """The example ids every model has a prediction for, ascending."""
    rows = [p.rows for p in preds.values()]
    return (
        np.asarray(sorted(set.intersection(*(set(r.tolist()) for r in rows))))
        if rows
        else np.array([])
    )


def compute_statistics(
    task: Task,
    y_true: np.ndarray,
    preds: Mapping[str, Predictions],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Statistics:
    """Metrics with CIs for each model, and every pairwise difference and paired test.

    Args:
        task: the task that defines the metrics and per-example outcomes.
        y_true: (N,) labels of the whole dataset, indexed by example id.
        preds: model name -> its predictions. Only examples every model predicted are used.
        n_resamples: bootstrap resamples B.
        confidence: the interval's coverage.
        seed: seeds the resampling; the same seed gives the same numbers.
    """
    rows = common_rows(preds)
    aligned = {name: p.take(np.searchsorted(p.rows, rows)) for name, p in preds.items()}
    y = y_true[rows]
    weights = bootstrap_weights(len(rows), n_resamples, seed)
    alpha = (1.0 - confidence) / 2.0
    results: list[MetricResult] = []
    replicates: dict[tuple[str, str], np.ndarray] = {}
    point: dict[tuple[str, str], float] = {}
    directions: dict[str, bool] = {}
    for name, p in aligned.items():
        for metric in task.metrics(y, p):
            value = metric.score(y, p, None)
            reps = metric.replicate(y, p, weights)
            low, high = np.quantile(reps, [alpha, 1 - alpha])
            results.append(
                MetricResult(
                    name, metric.name, value, float(low), float(high), metric.higher_is_better
                )
            )
            replicates[(name, metric.name)], point[(name, metric.name)] = reps, value
            directions[metric.name] = metric.higher_is_better
    differences: list[Difference] = []
    tests: list[PairedTest] = []
    for a, b in itertools.combinations(aligned, 2):
        for metric_name, higher in directions.items():
            if (a, metric_name) in point and (b, metric_name) in point:
                delta = replicates[(a, metric_name)] - replicates[(b, metric_name)]
                low, high = np.quantile(delta, [alpha, 1 - alpha])
                differences.append(
                    Difference(
                        metric_name,
                        a,
                        b,
                        point[(a, metric_name)] - point[(b, metric_name)],
                        float(low),
                        float(high),
                        higher,
                    )
                )
        tests.append(paired_test(task, y, aligned[a], aligned[b], a, b))
    return Statistics(
        tuple(results), tuple(differences), tuple(tests), len(rows), n_resamples, confidence, seed
    )


def paired_test(
    task: Task, y: np.ndarray, a: Predictions, b: Predictions, name_a: str, name_b: str
) -> PairedTest:
    """McNemar (exact) for binary outcomes, Wilcoxon signed-rank for continuous ones."""
    out_a, out_b = task.outcome(y, a), task.outcome(y, b)
    if task.outcome_kind == "binary":
        return mcnemar_exact(out_a, out_b, name_a, name_b)
    return wilcoxon_errors(out_a, out_b, name_a, name_b)


def mcnemar_exact(
    correct_a: np.ndarray, correct_b: np.ndarray, name_a: str = "a", name_b: str = "b"
) -> PairedTest:
    """Exact McNemar test: under H0 the discordant pairs split 50/50 (two-sided binomial test)."""
    from scipy.stats import binomtest

    a_only = int(np.sum(correct_a & ~correct_b))
    b_only = int(np.sum(~correct_a & correct_b))
    discordant = a_only + b_only
    p = 1.0 if discordant == 0 else float(binomtest(a_only, discordant, 0.5).pvalue)
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


def wilcoxon_errors(
    error_a: np.ndarray, error_b: np.ndarray, name_a: str = "a", name_b: str = "b"
) -> PairedTest:
    """Wilcoxon signed-rank test on paired absolute errors (ties dropped, SciPy's default)."""
    from scipy.stats import wilcoxon

    diff = error_a - error_b
    a_better, b_better = int(np.sum(diff < 0)), int(np.sum(diff > 0))
    if a_better + b_better == 0:
        return PairedTest(name_a, name_b, "wilcoxon", 0.0, 1.0, 0, 0, len(diff))
    result = wilcoxon(error_a, error_b)
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
