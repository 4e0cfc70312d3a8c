"""Resampling units (the cluster bootstrap): whole units are drawn, the same draws as a bootstrap
over the units, in chunks that keep memory flat."""

from __future__ import annotations

import numpy as np

from whichmodel.analysis import stats
from whichmodel.analysis.stats import (
    bootstrap_weights,
    iter_bootstrap_weights,
    iter_resample_weights,
    unit_means,
)


def test_without_units_it_is_the_plain_bootstrap():
    plain = np.concatenate(list(iter_bootstrap_weights(30, 40, seed=2)))
    same = np.concatenate(list(iter_resample_weights(30, 40, seed=2)))
    np.testing.assert_array_equal(plain, same)


def test_units_draw_whole_units_in_small_chunks(monkeypatch):
    units = np.array(["b", "a", "b", "c", "a", "a", "c"])  # 3 units, sorted: a, b, c
    monkeypatch.setattr(stats, "_WEIGHTS_PER_CHUNK", 14)  # two resamples of 7 rows per chunk
    chunks = list(iter_resample_weights(7, 9, seed=4, units=units))
    assert max(len(c) for c in chunks) <= 2
    weights = np.concatenate(chunks)  # (9, 7)
    expected = bootstrap_weights(3, 9, seed=4)[:, [1, 0, 1, 2, 0, 0, 2]]
    np.testing.assert_array_equal(weights, expected)
    assert (bootstrap_weights(3, 9, seed=4).sum(axis=1) == 3).all()  # units, not rows, drawn


def test_unit_means():
    values = np.array([1.0, 2.0, 3.0, 5.0])
    np.testing.assert_allclose(unit_means(values, np.array([7, 3, 7, 3])), [3.5, 2.0])
    assert unit_means(values, None) is values


def test_unit_sums_give_the_replicates_of_example_weights():
    """Statistics and paired bootstrap tests sum each metric's terms per unit and draw unit
    weights; that equals weighting every example by its unit's draw count."""
    from whichmodel.analysis.paired import paired_bootstrap_p_value
    from whichmodel.analysis.stats import _replicates
    from whichmodel.tasks import get_task
    from whichmodel.tasks.base import Predictions

    rng = np.random.default_rng(0)
    n, horizon = 40, 3
    task = get_task(f"forecasting?horizon={horizon}&series=s")
    units = rng.integers(0, 7, n)
    y = rng.normal(10, 2, (n, horizon))
    names = (*(f"forecast_{h + 1}" for h in range(horizon)), "scale")

    def model(noise: float) -> Predictions:
        scores = np.column_stack([y + rng.normal(0, noise, y.shape), rng.uniform(1, 2, n)])
        return Predictions(np.arange(n), scores[:, 0], scores=scores, score_names=names)

    preds = {"a": model(1.0), "b": model(1.5)}
    metrics = {name: task.metrics(y, p) for name, p in preds.items()}
    fast = _replicates(y, preds, metrics, 30, 5, units)
    for name, p in preds.items():
        for metric in metrics[name]:
            slow = np.concatenate(
                [metric.replicate(y, p, w) for w in iter_resample_weights(n, 30, 5, units)]
            )
            np.testing.assert_allclose(fast[(name, metric.name)], slow, rtol=1e-12)
    metric = metrics["a"][2]  # mase
    p_fast = paired_bootstrap_p_value(metric, y, preds["a"], preds["b"], n_resamples=30,
                                      seed=5, units=units)
    replicates = [
        metric.replicate(y, preds["a"], w) - metric.replicate(y, preds["b"], w)
        for w in iter_resample_weights(n, 30, 5, units)
    ]
    deltas = np.concatenate(replicates)
    tail = min(float(np.mean(deltas <= 0)), float(np.mean(deltas >= 0)))
    assert p_fast == min(1.0, 2 * tail)
