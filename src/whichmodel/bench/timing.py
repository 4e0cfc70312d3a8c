"""The timing harness: warm up until timings settle, then repeat until the median is pinned down.

Method (the same for every model and variant, so comparisons are fair):

1. **Warm-up until settled.** Calls run in windows of ``WARMUP_WINDOW``; warm-up ends when a
   window's median is within ``settle_rel`` of the previous window's (caches, allocator and thread
   pool have reached steady state), or when a quarter of the budget is spent (then
   ``warmup_settled`` is False in the result).
2. **Adaptive repeats.** Each sample is ``time.perf_counter_ns`` around one call followed by the
   synchronization function (``torch.cpu.synchronize`` for torch; work on CPU is synchronous, the
   call keeps the harness honest for asynchronous backends). After ``min_runs`` samples the 95%
   confidence interval of the median is computed (distribution-free, from order statistics:
   ``scipy.stats.quantile_test``); sampling stops when its half-width is within ``target_rel`` of
   the median (``stop_reason="converged"``), when the budget runs out (``"budget"``) or at
   ``max_runs`` (``"max_runs"``). Convergence counts only once sampling has lasted ``min_time_s``
   (a fifth of the budget by default), as Timer's ``blocked_autorange`` runs for a minimum time:
   six fast calls that agree within ±2% can all fall in one slow spell of a few milliseconds
   (on a 256² matmul such stops read 5-15% high; see ``benchmarks/bench_harness.py``).
3. **Overhead.** :func:`timer_overhead_s` times a no-op through the same loop: what the harness
   adds to every sample. It is reported next to the latencies, never subtracted silently.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

StopReason = Literal["converged", "budget", "max_runs"]
WARMUP_WINDOW = 5
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Latency:
    """Wall-clock latency of repeated calls, in seconds; the raw samples are kept.

    Args:
        samples_s: every timed call, in order.
        p50_s, p90_s, p99_s, mean_s: summaries of ``samples_s`` (``numpy.percentile``, linear).
        ci_low_s, ci_high_s: 95% confidence interval of the median (order statistics).
        stop_reason: why sampling stopped (see the module docstring).
        target_rel: the relative CI half-width sampling aimed for (0.02 = ±2%).
        warmup_runs: untimed calls before the first sample.
        warmup_settled: whether warm-up ended because timings settled (else: its budget ran out).
        n: how many calls were timed (results.json keeps it and leaves the samples out).
    """

    samples_s: tuple[float, ...]
    p50_s: float
    p90_s: float
    p99_s: float
    mean_s: float
    ci_low_s: float = float("nan")
    ci_high_s: float = float("nan")
    stop_reason: StopReason = "budget"
    target_rel: float = 0.02
    warmup_runs: int = 0
    warmup_settled: bool = False
    n: int = 0  # how many calls were timed: len(samples_s) while the samples are kept

    @classmethod
    def from_samples(cls, samples_s: list[float] | tuple[float, ...]) -> Latency:
        """Summaries of raw samples; the CI is filled in when there are enough samples."""
        a = np.asarray(samples_s, dtype=np.float64)
        p50, p90, p99 = np.percentile(a, [50, 90, 99])
        low, high = median_ci(a)
        return cls(
            tuple(float(s) for s in samples_s),
            float(p50),
            float(p90),
            float(p99),
            float(a.mean()),
            low,
            high,
            n=len(samples_s),
        )

    def __repr__(self) -> str:  # the samples are kept, not printed: there may be thousands
        return (
            f"Latency(p50={self.p50_s * 1e3:.4g} ms, p90={self.p90_s * 1e3:.4g} ms, "
            f"p99={self.p99_s * 1e3:.4g} ms, n={self.n or len(self.samples_s)})"
        )

    @property
    def ci_half_width_rel(self) -> float:
        """Half the CI's width over the median (0.02 = the median is known to ±2%)."""
        return (self.ci_high_s - self.ci_low_s) / 2 / self.p50_s if self.p50_s > 0 else np.inf


def median_ci(samples: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Distribution-free confidence interval of the median: the order statistics the binomial
    distribution picks (``scipy.stats.quantile_test(...).confidence_interval``). NaN bounds when
    too few samples exist for that confidence (fewer than 6 at 95%)."""
    from scipy.stats import quantile_test

    if len(samples) < 2:
        return float("nan"), float("nan")
    ci = quantile_test(samples, q=float(np.median(samples)), p=0.5).confidence_interval(confidence)
    return float(ci.low), float(ci.high)


def _no_sync() -> None:
    return None


def timed_call(fn: Callable[[], object], sync: Callable[[], object]) -> float:
    """Seconds of one ``fn()`` followed by ``sync()``: one sample of the harness."""
    start = time.perf_counter_ns()
    fn()
    sync()
    return (time.perf_counter_ns() - start) / 1e9


def warm_up(
    fn: Callable[[], object],
    *,
    sync: Callable[[], object] = _no_sync,
    budget_s: float = 0.5,
    settle_rel: float = 0.05,
    max_windows: int = 20,
) -> tuple[int, bool]:
    """Call ``fn`` in windows until two consecutive window medians agree within ``settle_rel``.

    A slow call ends warm-up early: once ``budget_s`` is spent (after at least 2 calls), it stops
    mid-window, unsettled.

    Returns:
        (calls made, whether timings settled before ``budget_s`` or ``max_windows`` ran out).
    """
    deadline = time.perf_counter() + budget_s
    previous: float | None = None
    calls = 0
    for _ in range(max_windows):
        window = []
        for _ in range(WARMUP_WINDOW):
            window.append(timed_call(fn, sync))
            calls += 1
            if calls >= 2 and time.perf_counter() > deadline:
                return calls, False
        median = float(np.median(window))
        if previous is not None and abs(median - previous) <= settle_rel * previous:
            return calls, True
        previous = median
    return calls, False


def time_calls(
    fn: Callable[[], object],
    *,
    sync: Callable[[], object] = _no_sync,
    budget_s: float = 1.0,
    target_rel: float = 0.02,
    min_runs: int = 6,
    max_runs: int = 100_000,
    warmup: bool = True,
    min_time_s: float | None = None,
) -> Latency:
    """Time ``fn``: warm up until settled, then sample until the median's 95% CI is within
    ``±target_rel`` (checked once sampling has lasted ``min_time_s``, default ``budget_s / 5``)
    or ``budget_s`` (seconds, warm-up included) or ``max_runs`` is reached.

    At least ``min_runs`` calls are timed whatever the budget (6: the fewest for which a 95%
    order-statistic CI of the median exists), so a slow call still gets a distribution, and the
    result says the budget, not convergence, ended it.
    """
    import scipy.stats  # noqa: F401  (imported now, not inside the first timed budget)

    start = time.perf_counter()
    warmup_runs, settled = (0, False)
    if warmup:
        warmup_runs, settled = warm_up(fn, sync=sync, budget_s=budget_s / 4)
    deadline = start + budget_s
    settle_until = time.perf_counter() + (budget_s / 5 if min_time_s is None else min_time_s)
    samples, reason = _sample_until(
        fn,
        sync,
        deadline=deadline,
        settle_until=settle_until,
        target_rel=target_rel,
        min_runs=min_runs,
        max_runs=max_runs,
    )
    latency = Latency.from_samples(samples)
    if reason == "max_runs" and latency.ci_half_width_rel <= target_rel:
        reason = "converged"  # a call so fast that max_runs came before the minimum time
    return replace(
        latency,
        stop_reason=reason,
        target_rel=target_rel,
        warmup_runs=warmup_runs,
        warmup_settled=settled,
    )


def _sample_until(
    fn: Callable[[], object],
    sync: Callable[[], object],
    *,
    deadline: float,
    settle_until: float,
    target_rel: float,
    min_runs: int,
    max_runs: int,
) -> tuple[list[float], StopReason]:
    """The sampling loop of :func:`time_calls` (its step 2), after warm-up: timed calls until
    the median's CI is within ``target_rel`` (checked from ``settle_until`` on, a
    ``time.perf_counter`` instant), ``deadline`` passes or ``max_runs`` is reached.

    Returns:
        (the samples in seconds, in order; why sampling stopped).
    """
    samples: list[float] = []
    check_at = min_runs
    reason: StopReason = "max_runs"
    while len(samples) < max_runs:
        samples.append(timed_call(fn, sync))
        if len(samples) < min_runs:
            continue
        if len(samples) >= check_at and time.perf_counter() >= settle_until:
            # The CI costs ~0.1 ms: check at geometrically spaced counts, outside the timed call.
            check_at = len(samples) + max(1, len(samples) // 10)
            low, high = median_ci(np.asarray(samples))
            if (high - low) / 2 <= target_rel * float(np.median(samples)):
                reason = "converged"
                break
        if time.perf_counter() > deadline:
            reason = "budget"
            break
    return samples, reason


def timer_overhead_s(*, sync: Callable[[], object] = _no_sync, runs: int = 2000) -> float:
    """Median seconds the harness adds to one sample: a no-op timed through the same path."""

    def noop() -> None:
        return None

    for _ in range(100):
        timed_call(noop, sync)
    return float(np.median([timed_call(noop, sync) for _ in range(runs)]))
