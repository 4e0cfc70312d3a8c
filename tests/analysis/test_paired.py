"""Per-metric paired tests against their reference libraries: SciPy's permutation_test and
binomtest, statsmodels' Holm, and the foundation's paired bootstrap intervals."""

import numpy as np
import pytest
from scipy.stats import binomtest, permutation_test
from sklearn.metrics import (
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)

from whichmodel.analysis.paired import (
    MetricTest,
    holm_adjusted,
    paired_metric_tests,
)
from whichmodel.analysis.stats import compute_statistics
from whichmodel.tasks import Metric, Predictions, get_task
from whichmodel.tasks.base import WeightedSums
from whichmodel.tasks.classification import LOG_LOSS, MACRO_F1_PERMUTATION
from whichmodel.tasks.regression import RegressionTask
from whichmodel.tasks.statistics import sum_statistic

# What the classification task's metrics declare they are made of.
PERMUTATION_STATISTICS = {"macro_f1": MACRO_F1_PERMUTATION, "log_loss": LOG_LOSS.permutation}

CLASSES = ("a", "b", "c")


def _classifier(rng, y, skill):
    """Predictions that copy y with probability ``skill``, with probabilities that agree."""
    pred = np.where(rng.random(len(y)) < skill, y, rng.choice(CLASSES, len(y)))
    proba = rng.dirichlet(np.ones(3), len(y)) * 0.5
    proba[np.arange(len(y)), np.searchsorted(CLASSES, pred)] += 0.5
    return Predictions(np.arange(len(y)), pred.astype(str), proba, CLASSES)


@pytest.fixture(scope="module")
def three_classifiers():
    rng = np.random.default_rng(0)
    y = rng.choice(CLASSES, 400).astype(str)
    return y, {name: _classifier(rng, y, s) for name, s in (("x", 0.9), ("y", 0.8), ("z", 0.78))}


def test_each_metric_gets_its_test_and_holm_matches_statsmodels(three_classifiers):
    from statsmodels.stats.multitest import multipletests

    y, preds = three_classifiers
    tests = paired_metric_tests(get_task("classification"), y, preds, n_resamples=300, seed=1)
    methods = {t.metric: t.method for t in tests}
    assert methods == {
        "accuracy": "mcnemar_exact",
        "macro_f1": "permutation",
        "log_loss": "permutation",
    }
    assert len(tests) == 3 * 3  # 3 pairs x 3 metrics
    for metric in methods:
        family = [t for t in tests if t.metric == metric]
        expected = multipletests([t.p_value for t in family], method="holm")[1]
        assert [t.p_holm for t in family] == pytest.approx(list(expected))
    xy = next(t for t in tests if t.metric == "accuracy" and t.model_b == "y")
    right_x, right_y = preds["x"].pred == y, preds["y"].pred == y
    a_only, b_only = int(np.sum(right_x & ~right_y)), int(np.sum(~right_x & right_y))
    assert xy.p_value == pytest.approx(binomtest(a_only, a_only + b_only, 0.5).pvalue)
    assert xy.diff == pytest.approx(right_x.mean() - right_y.mean())


def test_holm_is_the_textbook_step_down():
    # Holm 1979: sorted p (0.01, 0.03, 0.04) times (3, 2, 1), running max, capped at 1.
    tests = [
        MetricTest("m", "a", "b", "permutation", 0.1, p, 0.0, 100, 50) for p in (0.01, 0.04, 0.03)
    ]
    tests.append(MetricTest("other", "a", "b", "permutation", 0.1, 0.02, 0.0, 100, 50))
    adjusted = holm_adjusted(tests)
    assert [t.p_holm for t in adjusted[:3]] == pytest.approx([0.03, 0.06, 0.06])
    assert adjusted[3].p_holm == 0.02  # alone in its family: unadjusted


def test_two_models_are_not_adjusted(three_classifiers):
    y, preds = three_classifiers
    two = {k: preds[k] for k in ("x", "y")}
    tests = paired_metric_tests(get_task("classification"), y, two, n_resamples=200)
    assert all(t.p_holm == t.p_value for t in tests)


def _reference_statistic(metric, y):
    """The metric from scikit-learn on the per-example outputs scipy hands over."""
    if metric == "macro_f1":
        labels = np.unique(y)
        return lambda codes: f1_score(
            y,
            np.append(labels, "other")[codes.astype(int)],
            labels=list(labels),
            average="macro",
            zero_division=0,
        )
    raise AssertionError(metric)


def _macro_f1_ours_and_scipy(y, a, b, *, n_resamples, rng=None):
    """Our macro-F1 test of a vs b, and SciPy's permutation_test (1,000 resamples) with
    scikit-learn's f1_score as the statistic."""
    ours = next(
        t
        for t in paired_metric_tests(
            get_task("classification"), y, {"a": a, "b": b}, n_resamples=n_resamples
        )
        if t.metric == "macro_f1"
    )
    spec = PERMUTATION_STATISTICS["macro_f1"]
    f1 = _reference_statistic("macro_f1", y)
    ref = permutation_test(
        (spec.terms(y, a), spec.terms(y, b)),
        lambda x, z: f1(x) - f1(z),
        permutation_type="samples",
        n_resamples=1000,
        rng=rng,
    )
    return ours, ref


def test_macro_f1_permutation_equals_scipy_with_sklearn_statistic_exactly():
    # 9 examples: 2^9 = 512 sign patterns <= n_resamples, so both tests are exact (no draws).
    y = np.array(list("aabbccabc"))
    a = Predictions(np.arange(9), np.array(list("aabbccaaa")))
    b = Predictions(np.arange(9), np.array(list("abcbacbbc")))
    ours, ref = _macro_f1_ours_and_scipy(y, a, b, n_resamples=1000)
    assert ours.p_value == pytest.approx(ref.pvalue)
    assert ours.diff == pytest.approx(
        f1_score(y, a.pred, average="macro") - f1_score(y, b.pred, average="macro")
    )


@pytest.mark.parametrize(
    ("metric", "reference"),
    [
        ("mae", mean_absolute_error),
        ("rmse", root_mean_squared_error),
        ("r2", r2_score),
    ],
)
def test_regression_permutation_equals_scipy_with_sklearn_statistic(metric, reference):
    rng = np.random.default_rng(3)
    y = rng.normal(size=9)
    a = Predictions(np.arange(9), y + rng.normal(0, 0.3, 9))
    b = Predictions(np.arange(9), y + rng.normal(0, 0.9, 9))
    ours = next(
        t
        for t in paired_metric_tests(RegressionTask(), y, {"a": a, "b": b}, n_resamples=1000)
        if t.metric == metric
    )
    assert ours.method == "permutation"
    # scipy swaps the two models' predictions per example; the metric comes from scikit-learn.
    ref = permutation_test(
        (a.pred, b.pred),
        lambda pa, pb: reference(y, pa) - reference(y, pb),
        permutation_type="samples",
        n_resamples=1000,
    )
    assert ours.p_value == pytest.approx(ref.pvalue)
    assert ours.diff == pytest.approx(reference(y, a.pred) - reference(y, b.pred))


def test_vectorized_statistics_equal_sklearn_on_random_data():
    rng = np.random.default_rng(7)
    y = rng.choice(CLASSES, 300).astype(str)
    p = _classifier(rng, y, 0.6)
    spec = PERMUTATION_STATISTICS["macro_f1"]
    assert spec.metric(spec.terms(y, p)[None], y)[0] == pytest.approx(
        f1_score(y, p.pred, average="macro")
    )
    nll = PERMUTATION_STATISTICS["log_loss"]
    assert nll.metric(nll.terms(y, p), y) == pytest.approx(log_loss(y, p.proba, labels=CLASSES))


def test_large_sample_log_loss_p_value_agrees_with_scipy_on_raw_terms(three_classifiers):
    y, preds = three_classifiers
    two = {k: preds[k] for k in ("y", "z")}
    ours = next(
        t
        for t in paired_metric_tests(get_task("classification"), y, two, n_resamples=2000)
        if t.metric == "log_loss"
    )
    spec = PERMUTATION_STATISTICS["log_loss"]
    ref = permutation_test(
        (spec.terms(y, two["y"]), spec.terms(y, two["z"])),
        lambda x, z, axis: np.mean(x, axis=axis) - np.mean(z, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=2000,
        rng=np.random.default_rng(99),  # other draws: the p-values agree within Monte Carlo error
    )
    assert abs(ours.p_value - ref.pvalue) < 0.04


class _MedianTask(RegressionTask):
    """A task with a metric that declares no permutation statistic."""

    def metrics(self, y_true, preds):
        from sklearn.metrics import median_absolute_error

        return [
            Metric(
                "median_ae",
                False,
                lambda y, p, w: median_absolute_error(y, p.pred, sample_weight=w),
            )
        ]


class _CubicTask(RegressionTask):
    """A new task whose own metric, the mean cubed absolute error, is a sum of per-example terms,
    and says so; one metric called "mae" that declares nothing, to show names do not count."""

    def metrics(self, y_true, preds):
        def cubes(y, p):
            return np.abs(y - p.pred) ** 3

        def mean(y, p, w):
            return float(np.average(cubes(y, p), weights=w))

        sums = WeightedSums(lambda y, p: cubes(y, p)[:, None], lambda s, t: s[:, 0] / t)
        return [
            Metric("cubic_error", False, mean, sums=sums, permutation=sum_statistic(cubes)),
            Metric("mae", False, lambda y, p, w: float(np.average(np.abs(y - p.pred), weights=w))),
        ]


def test_a_new_tasks_sum_metric_gets_the_permutation_test_it_declares():
    rng = np.random.default_rng(8)
    y = rng.normal(size=9)  # 2^9 = 512 swap patterns <= n_resamples: both tests are exact
    a = Predictions(np.arange(9), y + rng.normal(0, 0.4, 9))
    b = Predictions(np.arange(9), y + rng.normal(0, 1.0, 9))
    tests = {
        t.metric: t
        for t in paired_metric_tests(_CubicTask(), y, {"a": a, "b": b}, n_resamples=1000)
    }
    assert tests["cubic_error"].method == "permutation"
    assert tests["mae"].method == "paired_bootstrap"  # a name alone buys no test

    def cubic(pred):
        return np.mean(np.abs(y - pred) ** 3)

    ref = permutation_test(
        (a.pred, b.pred),
        lambda pa, pb: cubic(pa) - cubic(pb),
        permutation_type="samples",
        n_resamples=1000,
    )
    assert tests["cubic_error"].p_value == pytest.approx(ref.pvalue)
    assert 0 < ref.pvalue < 1
    assert tests["cubic_error"].diff == pytest.approx(cubic(a.pred) - cubic(b.pred))


def test_huber_loss_gets_the_permutation_test():
    from whichmodel.tasks.huber import HuberRegressionTask

    rng = np.random.default_rng(9)
    y = rng.normal(size=9)
    a = Predictions(np.arange(9), y + rng.normal(0, 0.5, 9))
    b = Predictions(np.arange(9), y + rng.normal(0, 2.0, 9))
    (huber,) = (
        t
        for t in paired_metric_tests(HuberRegressionTask(), y, {"a": a, "b": b}, n_resamples=1000)
        if t.metric == "huber_loss"
    )

    def loss(pred):
        r = np.abs(y - pred)
        return np.mean(np.where(r <= 1.0, 0.5 * r**2, r - 0.5))

    ref = permutation_test(
        (a.pred, b.pred), lambda pa, pb: loss(pa) - loss(pb), permutation_type="samples"
    )
    assert huber.method == "permutation"
    assert huber.p_value == pytest.approx(ref.pvalue)


def test_unregistered_metrics_fall_back_to_the_paired_bootstrap_consistent_with_the_ci():
    rng = np.random.default_rng(5)
    y = rng.normal(size=60)
    a = Predictions(np.arange(60), y + rng.normal(0, 0.2, 60))
    b = Predictions(np.arange(60), y + rng.normal(0, 0.6, 60))
    close = Predictions(np.arange(60), y + rng.normal(0, 0.2, 60))  # as good as a
    task = _MedianTask()
    for other, significant in ((b, True), (close, False)):
        (test,) = paired_metric_tests(task, y, {"a": a, "b": other}, n_resamples=300, seed=2)
        stats = compute_statistics(task, y, {"a": a, "b": other}, n_resamples=300, seed=2)
        (diff,) = stats.differences
        assert test.method == "paired_bootstrap"
        # The p-value and the foundation's 95% percentile interval give the same verdict.
        assert (test.p_value < 0.05) == diff.excludes_zero == significant


def test_many_differing_terms_of_a_mean_metric_use_the_paired_t_test(monkeypatch):
    from scipy.stats import ttest_rel

    import whichmodel.analysis.paired as paired

    rng = np.random.default_rng(4)
    y = rng.normal(size=300)
    a = Predictions(np.arange(300), y + rng.normal(0, 0.5, 300))
    b = Predictions(np.arange(300), y + rng.normal(0, 0.6, 300))
    monkeypatch.setattr(paired, "MAX_PERMUTED_FOR_MEANS", 100)  # 300 differing examples
    tests = {t.metric: t for t in paired_metric_tests(RegressionTask(), y, {"a": a, "b": b})}
    assert {t.method for t in tests.values()} == {"paired_t"}
    assert tests["mae"].p_value == pytest.approx(
        ttest_rel(np.abs(y - a.pred), np.abs(y - b.pred)).pvalue
    )
    assert tests["rmse"].p_value == pytest.approx(
        ttest_rel((y - a.pred) ** 2, (y - b.pred) ** 2).pvalue
    )
    # the permutation test it stands in for agrees
    monkeypatch.setattr(paired, "MAX_PERMUTED_FOR_MEANS", 10**9)
    perm = {
        t.metric: t
        for t in paired_metric_tests(RegressionTask(), y, {"a": a, "b": b}, n_resamples=4000)
    }
    assert perm["mae"].method == "permutation"
    assert abs(perm["mae"].p_value - tests["mae"].p_value) < 0.03


@pytest.mark.parametrize("seed", range(5))
def test_holm_equals_statsmodels_with_ties_and_caps(seed):
    from statsmodels.stats.multitest import multipletests

    from whichmodel.analysis.paired import holm

    rng = np.random.default_rng(seed)
    p = rng.choice([0.001, 0.01, 0.02, 0.2, 0.5, 0.9], size=4 + seed)  # ties, and caps at 1
    np.testing.assert_allclose(holm(list(p)), multipletests(p, method="holm")[1], rtol=1e-12)


def test_models_that_differ_on_one_example_get_p_one_not_an_error():
    # SciPy's permutation_test needs two observations; one differing example has two equally
    # likely arrangements, +d and -d, so the two-sided p-value is exactly 1.
    y = np.array(["a", "b", "c", "a", "b", "c"])
    a = Predictions(np.arange(6), y.copy())
    b_pred = y.copy()
    b_pred[0] = "b"
    tests = paired_metric_tests(
        get_task("classification"), y, {"a": a, "b": Predictions(np.arange(6), b_pred)}
    )
    macro = next(t for t in tests if t.metric == "macro_f1")
    assert macro.method == "permutation" and macro.p_value == 1.0 and macro.diff > 0


def test_macro_f1_random_permutations_agree_with_scipy_within_monte_carlo_error():
    # 2^m > n_resamples: both draw random swaps (other generators), so the p-values agree only
    # within Monte Carlo error: a two-sided p (twice a tail) has sd <= 1 / sqrt(resamples):
    # 0.032 for SciPy's 1,000, 0.011 for our 8,000.
    rng = np.random.default_rng(11)
    y = rng.choice(CLASSES, 150).astype(str)
    a, b = _classifier(rng, y, 0.8), _classifier(rng, y, 0.7)
    ours, ref = _macro_f1_ours_and_scipy(y, a, b, n_resamples=8000, rng=np.random.default_rng(5))
    assert 0.001 < ref.pvalue < 0.5  # a p-value whose Monte Carlo error can be told apart
    assert abs(ours.p_value - ref.pvalue) < 0.07


@pytest.mark.parametrize("metric", ["macro_f1", "log_loss"])
def test_shortcut_statistics_equal_the_general_permutation_path(three_classifiers, metric):
    # Sums and confusion counts shift by one matrix product per batch of swaps; any other
    # statistic recomputes its summary from the swapped terms. The same draws give the same null.
    from whichmodel.analysis.paired import permutation_p_value
    from whichmodel.tasks.statistics import PermutationStatistic, labels_as_codes

    y, preds = three_classifiers
    spec = PERMUTATION_STATISTICS[metric]
    general = PermutationStatistic(
        spec.terms, lambda t, y, rows: spec.reduce(t, y, rows), spec.finish, spec.codes
    )
    y_spec = labels_as_codes(y) if spec.codes else y
    terms = (spec.terms(y, preds["y"]), spec.terms(y, preds["z"]))
    fast, slow = (
        permutation_p_value(s, y_spec, terms, n_resamples=500, seed=3) for s in (spec, general)
    )
    assert 0.0 < fast < 1.0
    assert fast == pytest.approx(slow, abs=1e-12)


def test_models_that_differ_on_every_example_are_tested():
    # No example where both agree: the fixed part of the confusion counts is empty.
    y = np.array(list("abcabcabc"))
    a = Predictions(np.arange(9), y.copy())
    b = Predictions(np.arange(9), np.roll(y, 1))
    assert (a.pred != b.pred).all()
    macro = next(
        t
        for t in paired_metric_tests(get_task("classification"), y, {"a": a, "b": b})
        if t.metric == "macro_f1"
    )
    assert macro.method == "permutation" and 0 < macro.p_value < 0.05 and macro.diff == 1.0


def test_rmse_against_a_perfect_model_takes_no_square_root_of_a_rounding_error():
    # Swapping every term of a perfect model B into A leaves A's squared errors summing to 0,
    # which the shortcut's rounding could make -1e-17 (NaN and a warning from the sqrt).
    import warnings

    for seed in range(60):  # 8 examples: all 256 swap patterns, the full swap among them
        rng = np.random.default_rng(seed)
        y = rng.normal(size=8)
        a = Predictions(np.arange(8), y + rng.normal(0, 0.5, 8))
        perfect = Predictions(np.arange(8), y.copy())
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tests = paired_metric_tests(
                RegressionTask(), y, {"a": a, "b": perfect}, n_resamples=1000
            )
        rmse = next(t for t in tests if t.metric == "rmse")
        assert 0 < rmse.p_value <= 1
