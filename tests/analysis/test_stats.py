import numpy as np
import pytest
from scipy.stats import binomtest, wilcoxon

from whichmodel.analysis.stats import (
    bootstrap_weights,
    compute_statistics,
    mcnemar_exact,
    wilcoxon_errors,
)
from whichmodel.tasks import Predictions, get_task


def test_mcnemar_exact_matches_the_textbook_value_and_scipy():
    # 1 discordant pair one way, 9 the other: p = 2 * P(X <= 1 | n=10, 1/2) = 2 * 11 / 1024.
    a = np.array([True] * 1 + [False] * 9 + [True] * 20)
    b = np.array([False] * 1 + [True] * 9 + [True] * 20)
    test = mcnemar_exact(a, b)
    assert (test.a_only, test.b_only, test.n) == (1, 9, 30)
    assert test.p_value == pytest.approx(22 / 1024)
    assert test.p_value == pytest.approx(binomtest(1, 10, 0.5).pvalue)


def test_mcnemar_without_discordant_pairs_is_one():
    same = np.array([True, False, True])
    assert mcnemar_exact(same, same).p_value == 1.0


def test_wilcoxon_matches_scipy():
    rng = np.random.default_rng(0)
    ea, eb = rng.exponential(1.0, 80), rng.exponential(1.3, 80)
    test = wilcoxon_errors(ea, eb)
    assert test.p_value == pytest.approx(wilcoxon(ea, eb).pvalue)
    assert test.a_only == int(np.sum(ea < eb))


def test_wilcoxon_counts_errors_equal_to_rounding_as_ties():
    # nDCGs of one query computed in two orders: 1e-16 apart. The disagreements count them as
    # ties; the test's counts and statistic must too (the README's ranking example printed
    # "smaller error: 21 vs 7" beside "21, logreg on 6").
    rng = np.random.default_rng(1)
    ea, eb = rng.exponential(1.0, 40), rng.exponential(1.3, 40)
    eb[:5] = ea[:5] * (1 + 1e-15)
    test = wilcoxon_errors(ea, eb)
    exact = ea[5:] - eb[5:]
    assert (test.a_only, test.b_only) == (int(np.sum(exact < 0)), int(np.sum(exact > 0)))
    tied = eb.copy()
    tied[:5] = ea[:5]  # what SciPy gives when the five are exactly equal
    assert test.p_value == pytest.approx(wilcoxon(ea, tied).pvalue)
    assert test.p_value != pytest.approx(wilcoxon(ea, eb).pvalue)  # they were not, here


def test_bootstrap_weights_are_resamples_of_size_n():
    w = bootstrap_weights(50, 7, seed=3)
    assert w.shape == (7, 50)
    assert (w.sum(axis=1) == 50).all()
    np.testing.assert_array_equal(w, bootstrap_weights(50, 7, seed=3))
    assert not np.array_equal(w, bootstrap_weights(50, 7, seed=4))


def _two_classifiers(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(["x", "y", "z"], size=n)
    good = np.where(rng.random(n) < 0.9, y, "x")
    bad = np.where(rng.random(n) < 0.7, y, "y")
    return y, {"good": Predictions(np.arange(n), good), "bad": Predictions(np.arange(n), bad)}


def test_statistics_are_deterministic_under_a_seed_and_cover_the_point():
    y, preds = _two_classifiers()
    task = get_task("classification")
    s1 = compute_statistics(task, y, preds, n_resamples=300, seed=7)
    s2 = compute_statistics(task, y, preds, n_resamples=300, seed=7)
    assert s1 == s2
    for m in s1.metrics:
        assert m.ci_low <= m.value <= m.ci_high
    (diff,) = [d for d in s1.differences if d.name == "accuracy"]
    assert diff.model_a == "good" and diff.diff > 0 and diff.excludes_zero
    (test,) = s1.tests
    assert test.test == "mcnemar_exact" and test.p_value < 1e-6


def test_accuracy_interval_width_is_close_to_the_normal_approximation():
    y, preds = _two_classifiers(n=2000)
    stats = compute_statistics(
        get_task("classification"), y, {"good": preds["good"]}, n_resamples=2000, seed=0
    )
    acc = next(m for m in stats.metrics if m.name == "accuracy")
    expected = 2 * 1.959964 * np.sqrt(acc.value * (1 - acc.value) / 2000)
    assert (acc.ci_high - acc.ci_low) == pytest.approx(expected, rel=0.15)


def test_only_rows_every_model_predicted_are_scored():
    y, preds = _two_classifiers(n=100)
    keep = np.arange(100) % 10 != 0  # "bad" failed on every tenth example
    preds["bad"] = preds["bad"].take(np.flatnonzero(keep))
    stats = compute_statistics(get_task("classification"), y, preds, n_resamples=50)
    assert stats.n_examples == 90


def test_bootstrap_weights_count_the_documented_draws():
    # Resample b draws rng.integers(0, n, n) in turn; the counts are those draws, whatever the
    # dtype the implementation draws with (so a seed keeps meaning the same resamples).
    rng = np.random.default_rng(11)
    draws = rng.integers(0, 60, size=(9, 60))  # one chunk at this size
    expected = np.stack([np.bincount(d, minlength=60) for d in draws])
    np.testing.assert_array_equal(bootstrap_weights(60, 9, seed=11), expected)


@pytest.mark.parametrize("task_name", ["classification", "regression"])
def test_shared_products_give_each_metrics_own_replicates(task_name, monkeypatch):
    """_replicates multiplies the resample weights once for all models' metrics; every model's
    replicates must equal what its metric computes alone, over several chunks of resamples, and
    a metric with neither ``sums`` nor ``replicates`` must still go its own way."""
    from whichmodel.analysis import stats
    from whichmodel.tasks.base import Metric

    monkeypatch.setattr(stats, "_WEIGHTS_PER_CHUNK", 300 * 7)  # 7 resamples per chunk
    rng = np.random.default_rng(5)
    task, n = get_task(task_name), 300
    if task_name == "classification":
        y, preds = _two_classifiers(n=n)
        proba = rng.dirichlet(np.ones(3), size=n)
        pred = np.array(["x", "y", "z"])[proba.argmax(1)]
        preds["proba"] = Predictions(np.arange(n), pred, proba, ("x", "y", "z"))
    else:
        y = rng.normal(100.0, 3.0, n)
        noise = {"a": 1.0, "b": 2.0}
        preds = {k: Predictions(np.arange(n), y + rng.normal(0, s, n)) for k, s in noise.items()}
    metrics = {name: task.metrics(y, p) for name, p in preds.items()}
    first = next(iter(metrics))
    plain = Metric("plain", True, lambda _y, p, w: float(np.average(p.rows, weights=w)))
    metrics[first].append(plain)
    got = stats._replicates(y, preds, metrics, 30, seed=2)
    weights = bootstrap_weights(n, 30, seed=2)
    for name, ms in metrics.items():
        for m in ms:
            np.testing.assert_allclose(
                got[(name, m.name)], m.replicate(y, preds[name], weights), rtol=1e-12,
                err_msg=f"{name} {m.name}",
            )


@pytest.mark.parametrize(("n", "n_resamples"), [(7, 50), (540, 300), (5000, 40)])
def test_bootstrap_resamples_do_not_depend_on_the_chunk_size(n, n_resamples, monkeypatch):
    # The chunk size is a memory and speed setting: a seed gives the same resamples at any.
    from whichmodel.analysis import stats

    def weights(per_chunk: int) -> np.ndarray:
        monkeypatch.setattr(stats, "_WEIGHTS_PER_CHUNK", per_chunk)
        return np.concatenate(list(stats.iter_bootstrap_weights(n, n_resamples, seed=3)))

    reference = weights(1 << 22)
    assert reference.shape == (n_resamples, n) and (reference.sum(axis=1) == n).all()
    for per_chunk in (n, 3 * n + 1, 1 << 16):
        np.testing.assert_array_equal(weights(per_chunk), reference)
