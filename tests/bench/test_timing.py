"""The timing harness: structure and invariants only (timings themselves are never asserted)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.stats import binom

from whichmodel.bench.base import CostProfile, latency_from_dict
from whichmodel.bench.timing import Latency, median_ci, time_calls, timer_overhead_s, warm_up


def test_median_ci_is_the_order_statistics_the_binomial_picks() -> None:
    # 1..99 shuffled: the k-th smallest sample is k, so the bounds name the order statistics.
    samples = np.random.default_rng(0).permutation(np.arange(1.0, 100.0))
    low, high = median_ci(samples)
    n = len(samples)
    # Distribution-free CI of the median (Conover, Practical Nonparametric Statistics, 3.2):
    # [X_(l), X_(u)] with P(l <= B < u) >= 0.95 for B ~ Binomial(n, 1/2).
    assert low in samples and high in samples
    coverage = binom.cdf(high - 1, n, 0.5) - binom.cdf(low - 1, n, 0.5)
    assert coverage >= 0.95
    assert low < np.median(samples) < high
    narrower = binom.cdf(high - 2, n, 0.5) - binom.cdf(low, n, 0.5)
    assert narrower < 0.95  # the interval is the shortest such pair, not any wide one


def test_median_ci_is_nan_with_too_few_samples() -> None:
    low, high = median_ci(np.array([1.0]))
    assert np.isnan(low) and np.isnan(high)


def test_latency_summaries_come_from_the_kept_samples() -> None:
    samples = [0.003, 0.001, 0.002, 0.010, 0.002, 0.0025, 0.0021, 0.0019]
    lat = Latency.from_samples(samples)
    assert lat.samples_s == tuple(samples) and lat.n == 8
    assert lat.p50_s == pytest.approx(np.percentile(samples, 50))
    assert lat.p99_s == pytest.approx(np.percentile(samples, 99))
    assert lat.mean_s == pytest.approx(np.mean(samples))
    assert lat.ci_low_s <= lat.p50_s <= lat.ci_high_s


def test_time_calls_converges_or_says_why_not() -> None:
    calls = []
    lat = time_calls(lambda: calls.append(1), budget_s=0.5, min_runs=20)
    assert lat.n >= 20 and len(calls) == lat.n + lat.warmup_runs
    assert lat.warmup_runs >= 10  # at least two windows of 5 to compare
    assert lat.stop_reason in ("converged", "budget", "max_runs")  # a no-op may hit max_runs
    if lat.stop_reason == "converged":  # the stopping rule held when it stopped
        assert lat.ci_half_width_rel <= lat.target_rel
    assert min(lat.samples_s) <= lat.p50_s <= max(lat.samples_s)


def test_convergence_waits_for_the_minimum_sampling_time() -> None:
    # Sleeps of 2 ms agree within ±2% after a handful of calls; sampling still spans 0.1 s
    # (or, on a machine too noisy to converge, runs to the budget); the samples sum to a
    # little less than the wall time, the harness runs between them.
    lat = time_calls(lambda: time.sleep(0.002), budget_s=1.0, min_time_s=0.1, warmup=False)
    assert lat.stop_reason in ("converged", "budget") and sum(lat.samples_s) >= 0.09  # minus gaps


def test_an_unreachable_target_stops_at_the_budget_after_min_runs() -> None:
    rng = np.random.default_rng(0)

    def noisy() -> None:  # work of a random size: the CI never gets within 0.01%
        np.ones(int(rng.integers(1, 20_000))).sum()

    lat = time_calls(noisy, budget_s=0.1, target_rel=1e-4, min_runs=12)
    assert lat.stop_reason == "budget" and lat.n >= 12


def test_max_runs_caps_the_samples() -> None:
    rng = np.random.default_rng(0)

    def noisy() -> None:  # never within 1e-9: max_runs ends it
        np.ones(int(rng.integers(1, 20_000))).sum()

    lat = time_calls(noisy, budget_s=5, target_rel=1e-9, min_runs=10, max_runs=30)
    assert lat.stop_reason == "max_runs" and lat.n == 30


def test_the_sync_function_runs_inside_every_sample() -> None:
    synced = []
    lat = time_calls(lambda: None, sync=lambda: synced.append(1), budget_s=0.2, warmup=False)
    assert len(synced) == lat.n and lat.warmup_runs == 0


def test_warm_up_reports_calls_and_whether_it_settled() -> None:
    calls, settled = warm_up(lambda: None, budget_s=5, max_windows=3)
    assert calls in (10, 15) if settled else calls == 15


def test_a_slow_call_ends_warm_up_at_its_budget() -> None:
    import time

    calls, settled = warm_up(lambda: time.sleep(0.02), budget_s=0.01)
    assert (calls, settled) == (2, False)


def test_timer_overhead_is_a_positive_duration() -> None:
    assert 0 < timer_overhead_s(runs=200) < 1.0


def test_cost_profile_round_trips_through_json_data() -> None:
    lat = Latency.from_samples([0.01, 0.012, 0.011, 0.013, 0.01, 0.011])
    profile = CostProfile(
        framework="torch", architecture="MLP", parameters=10, size_on_disk_bytes=40,
        load_time_s=0.1, first_call_s=0.01, latency={1: lat}, peak_rss_bytes=100,
        model_memory_bytes=50, threads=2, activation_bytes={1: 64}, tokens={1: 7},
    )
    nested = CostProfile.from_dict({**profile.to_dict(), "variant": "int8"})
    outer = CostProfile.from_dict({**profile.to_dict(), "variants": [nested.to_dict()]})
    assert outer.variant_named("int8").latency[1] == lat
    assert outer.tokens_per_s(1) == pytest.approx(7 / lat.p50_s)
    assert latency_from_dict({**lat.__dict__, "n": 6}) == lat
