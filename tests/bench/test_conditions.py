"""Whether a cost measurement can be trusted: its stop reasons, its spread and what the rest of
the machine was doing; structure and invariants only (timing is never a pass/fail test)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

import pytest

from whichmodel.bench.conditions import (
    MAX_CV,
    Conditions,
    measured,
    robust_cv,
    unreliable_reasons,
)
from whichmodel.bench.timing import Latency

QUIET = Conditions(threads=1, cpus=2, load_before=0.1, load_after=0.2, other_busy_cpus=0.05,
                   wall_s=1.0)  # fmt: skip


def _converged(samples: list[float]) -> Latency:
    lat = Latency.from_samples(samples)
    return replace(lat, stop_reason="converged", warmup_settled=True)


def test_a_converged_quiet_measurement_is_reliable() -> None:
    lat = _converged([1e-3 * (1 + (i % 5) / 100) for i in range(200)])
    assert unreliable_reasons({1: lat, 64: lat}, QUIET) == []


def test_a_budget_stop_an_unsettled_warm_up_and_a_wide_spread_each_say_why() -> None:
    lat = _converged([1e-3 * (1 + (i % 5) / 100) for i in range(40)])
    budget = replace(lat, stop_reason="budget", warmup_settled=False)
    reasons = unreliable_reasons({1: budget}, QUIET)
    assert len(reasons) == 2
    assert reasons[0].startswith("batch 1: stopped on its time budget with the median known to ±")
    assert "(aimed for ±2%, 40 runs)" in reasons[0]
    assert reasons[1] == "batch 1: the warm-up never settled"
    spread = _converged([1e-3, 3e-3] * 50)
    assert robust_cv(spread.samples_s) > MAX_CV
    (reason,) = unreliable_reasons({8: spread}, QUIET)
    assert reason.startswith("batch 8: runs vary by ")


def test_a_slow_spell_over_half_the_runs_makes_it_unreliable() -> None:
    steady = [1e-3 * (1 + (i % 7) / 200) for i in range(60)]
    slowed = steady[:30] + [2 * t for t in steady[30:]]  # the second half twice as slow
    (reason,) = unreliable_reasons({1: _converged(slowed)}, QUIET)
    assert reason.startswith("batch 1: its first and second half of runs disagree (median 1.01")
    nudged = steady[:30] + [1.03 * t for t in steady[30:]]  # apart, but within 10%: the same
    assert unreliable_reasons({1: _converged(nudged)}, QUIET) == []


def test_rare_slow_calls_do_not_make_a_measurement_unreliable() -> None:
    """The plain CV of these runs is above 100%; the median is pinned down all the same."""
    samples = [1e-4] * 990 + [5e-3] * 10
    cv = robust_cv(tuple(samples))
    assert cv is not None and cv < 0.01
    assert unreliable_reasons({1: _converged(samples)}, QUIET) == []


def test_other_processes_on_the_probes_cores_make_it_unreliable() -> None:
    busy = replace(QUIET, other_busy_cpus=1.8, load_before=2.5, load_after=2.7)
    lat = _converged([1e-3] * 50)
    (reason,) = unreliable_reasons({1: lat}, busy)
    assert reason == (
        "other processes kept 1.8 CPUs busy where 1 of 2 were free (load 2.5 before, 2.7 after)"
    )
    assert unreliable_reasons({1: lat}, replace(busy, other_busy_cpus=1.1)) == []  # one is free


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")
def test_measured_counts_the_cpu_another_process_takes_but_not_its_own() -> None:
    spin = "import time\nt = time.time()\nwhile time.time() - t < 1.5: pass\n"
    other = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.2)  # the spinner is running
        _, idle_here = measured(1, lambda: time.sleep(0.8))
    finally:
        other.wait(timeout=30)
    assert idle_here.other_busy_cpus is not None and idle_here.other_busy_cpus > 0.5
    assert idle_here.threads == 1 and idle_here.cpus >= 1 and idle_here.wall_s >= 0.8



def test_the_cpu_time_left_out_includes_the_probes_it_waited_for() -> None:
    """A probe runs in a child process: its CPU time is this process's, not the machine's."""
    from whichmodel.bench.conditions import _own_cpu_s

    before = _own_cpu_s()
    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    subprocess.run([sys.executable, "-c", spin], check=True, timeout=60)
    assert _own_cpu_s() - before >= 0.3
