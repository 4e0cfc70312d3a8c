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
