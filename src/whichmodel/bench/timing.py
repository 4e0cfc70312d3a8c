"""Timing a callable: warm-up, then repeated calls until a run count or time budget is reached."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Latency:
    """Wall-clock latency of repeated calls, in seconds; the raw samples are kept."""

    samples_s: tuple[float, ...]
    p50_s: float
    p90_s: float
    p99_s: float
    mean_s: float

    @classmethod
    def from_samples(cls, samples_s: list[float]) -> Latency:
        a = np.asarray(samples_s)
        p50, p90, p99 = np.percentile(a, [50, 90, 99])
        return cls(tuple(samples_s), float(p50), float(p90), float(p99), float(a.mean()))

    @property
    def n(self) -> int:
        return len(self.samples_s)


def time_calls(
    fn: Callable[[], object],
    *,
    warmup: int = 3,
    min_runs: int = 5,
    max_runs: int = 100,
    budget_s: float = 1.0,
) -> Latency:
    """Call ``fn`` ``warmup`` times untimed, then time calls until ``max_runs`` or ``budget_s``.

    At least ``min_runs`` calls are timed whatever the budget. Each sample is
    ``perf_counter_ns`` around one call.
    """
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < max_runs and (len(samples) < min_runs or time.perf_counter() < deadline):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e9)
    return Latency.from_samples(samples)
