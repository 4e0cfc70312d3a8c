"""The conditions a cost was measured under, and whether the measurement can be trusted.

A latency measured while other processes took the CPU it ran on is a measurement of the machine,
not of the model (one such CNN read 32.9 ms where a quiet run read 0.08 ms). Each cost profile
therefore records its conditions: the thread count, the CPUs the process may use, the load
average before and after, and how many CPUs *other* processes kept busy while it ran (from the
kernel's CPU counters, ``/proc/stat``, minus the CPU time of this process and its probes). It is
**unreliable**, with every reason said, when:

- a latency stopped on its time budget (or run cap) before its median was pinned down
  (``Latency.stop_reason`` is not ``converged``), or its warm-up never settled;
- its runs vary too much: a coefficient of variation above :data:`MAX_CV`, in its robust form
  (1.4826 · median absolute deviation / median: the standard deviation over the mean for normal
  runs, but blind to the rare slow call; a logistic regression's 2,315 runs at 77 µs, median
  known to ±2%, had a plain CV of 95% from a handful of millisecond pauses);
- its first and second half of runs disagree: their medians' 95% intervals do not overlap and
  the medians differ by more than :data:`MAX_DRIFT` (the machine changed while it ran: a slow
  spell hit part of the runs);
- other processes kept more CPUs busy than the ones the probe left free
  (``cpus - threads``), so the probe's threads competed for a core.

An unreliable cost is never cached as final (the next run measures again) and no decision rests
on its latency (``choose`` treats it as unknown and says why, and what to do).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from whichmodel.bench.timing import Latency

T = TypeVar("T")

#: Runs that vary more than this (robust coefficient of variation) say the machine interfered.
MAX_CV = 0.5

#: The two halves of a latency's runs may differ by this much (relative) before they disagree.
MAX_DRIFT = 0.10

#: Other processes' CPU use above the free CPUs that still counts as quiet (kernel threads, the
#: parent process waiting on its probe, the counters' own granularity of 1/100 s).
NOISE_CPUS = 0.25

#: What a user can do about an unreliable measurement.
FIX = "measure again on a quieter machine (--refresh-cost), or with fewer --threads"


@dataclass(frozen=True)
class Conditions:
    """What the machine was doing while a cost was measured.

    Args:
        threads: the intra-op threads every runtime was set to.
        cpus: the CPUs this process may run on (its affinity mask).
        load_before / load_after: the 1-minute load average before and after the measurement.
        other_busy_cpus: CPUs kept busy by other processes during the measurement, on average
            (the machine's busy CPU time minus this process's and its probes', over the wall
            time); None where the kernel does not tell (not Linux).
        wall_s: how long the measurement took.
    """

    threads: int
    cpus: int
    load_before: float
    load_after: float
    other_busy_cpus: float | None
    wall_s: float

    @property
    def free_cpus(self) -> int:
        """The CPUs the measurement left to everything else."""
        return max(self.cpus - self.threads, 0)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conditions:
        return cls(**data)


def measured(
    threads: int, work: Callable[[], T], *, children_cpu: Callable[[], float] | None = None
) -> tuple[T, Conditions]:
    """Run ``work()`` and return its result with the conditions it ran under.
    ``children_cpu()``: CPU seconds of child processes that are still running (the kernel
    counts a child's time as this process's only once it has been waited for)."""

    def own() -> float:
        return _own_cpu_s() + (children_cpu() if children_cpu is not None else 0.0)

    load_before, busy_before, own_before = _load(), _busy_cpu_s(), own()
    start = time.perf_counter()
    result = work()
    wall = time.perf_counter() - start
    busy_after, own_after = _busy_cpu_s(), own()
    other = None
    if busy_before is not None and busy_after is not None and wall > 0:
        other = max((busy_after - busy_before) - (own_after - own_before), 0.0) / wall
    conditions = Conditions(threads, _cpus(), load_before, _load(), other, wall)
    return result, conditions


def unreliable_reasons(latency: dict[int, Latency], conditions: Conditions | None) -> list[str]:
    """Why the latencies of one profile cannot be trusted (empty: they can), one sentence each,
    naming the batch size and the figures."""
    reasons = [r for b, lat in sorted(latency.items()) for r in latency_reasons(f"batch {b}", lat)]
    busy = None if conditions is None else busy_reason(conditions)
    return reasons if busy is None else [*reasons, busy]


def busy_reason(conditions: Conditions) -> str | None:
    """Why the machine was too busy for ``conditions``' measurement, or None: other processes
    kept more CPUs busy than the measurement left free."""
    other = conditions.other_busy_cpus
    if other is None or other <= conditions.free_cpus + NOISE_CPUS:
        return None
    return (
        f"other processes kept {other:.1f} CPUs busy where {conditions.free_cpus} of "
        f"{conditions.cpus} were free (load {conditions.load_before:.1f} before, "
        f"{conditions.load_after:.1f} after)"
    )


def latency_reasons(label: str, lat: Latency) -> list[str]:
    """Why one latency (``label``: what was timed, e.g. ``batch 1``) cannot be trusted: the
    criteria of the module docstring that one latency carries, one sentence each."""
    reasons = []
    if lat.stop_reason != "converged":
        half = lat.ci_half_width_rel
        known = "unknown" if not np.isfinite(half) else f"±{half:.1%}"
        stop = "time budget" if lat.stop_reason == "budget" else "run cap"
        reasons.append(
            f"{label}: stopped on its {stop} with the median known to {known} "
            f"(aimed for ±{lat.target_rel:.0%}, {lat.n} runs)"
        )
    if not lat.warmup_settled:
        reasons.append(f"{label}: the warm-up never settled")
    drift = _halves_disagree(lat.samples_s)
    if drift is not None:
        reasons.append(f"{label}: {drift}")
    cv = robust_cv(lat.samples_s)
    if cv is not None and cv > MAX_CV:
        reasons.append(f"{label}: runs vary by {cv:.0%} (robust CV, 1.4826·MAD/median)")
    return reasons


def _halves_disagree(samples: tuple[float, ...]) -> str | None:
    """Why the first and second half of the runs disagree, or None (also for too few runs to
    tell: each half needs the 6 runs a 95% interval of its median takes)."""
    from whichmodel.bench.timing import median_ci

    half = len(samples) // 2
    if half < 6:
        return None
    first, second = (np.asarray(s, dtype=np.float64) for s in (samples[:half], samples[half:]))
    (lo1, hi1), (lo2, hi2) = median_ci(first), median_ci(second)
    m1, m2 = float(np.median(first)), float(np.median(second))
    apart = hi1 < lo2 or hi2 < lo1
    if not apart or abs(m2 - m1) <= MAX_DRIFT * min(m1, m2):
        return None
    return (
        f"its first and second half of runs disagree (median {m1 * 1e3:.3g} vs {m2 * 1e3:.3g} "
        "ms, 95% intervals apart): the machine changed while it ran"
    )


def robust_cv(samples: tuple[float, ...]) -> float | None:
    """1.4826 · MAD / median of ``samples`` (None for fewer than 2): the coefficient of
    variation of normally distributed runs, unmoved by a few outliers.

    >>> round(robust_cv((1.0, 1.1, 0.9, 1.0, 50.0)), 3)
    0.148
    """
    if len(samples) < 2:
        return None
    a = np.asarray(samples, dtype=np.float64)
    median = float(np.median(a))
    mad = float(np.median(np.abs(a - median)))
    return 1.4826 * mad / median if median > 0 else None


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this system
        return float("nan")


def _busy_cpu_s() -> float | None:
    """Seconds of CPU time the whole machine has spent busy (not idle or waiting on I/O), from
    the first line of ``/proc/stat``; None where there is no such file."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    """CPU seconds of this process and the children it has waited for (the probes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
