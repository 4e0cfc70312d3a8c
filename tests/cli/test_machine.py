"""``whichmodel machine`` in-process: the table, the JSON, the unreliable line, the cache.

Tiny sizes (the defaults replaced) and a harness that runs each call once and reports the stop
reason the test asks for: what is checked is what the command prints, not the timings.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from whichmodel.bench import machine as machine_module
from whichmodel.bench import timing

TINY = machine_module.MachineSizes(min_call_s=0.0, max_matmul_n=128, stream_bytes=3 * 8 * 1000,
                                   budget_s=0.1, dtypes=("fp32", "bf16"))


@pytest.fixture
def harness(monkeypatch) -> list[str]:
    """Tiny sizes; returns the list whose last entry is the stop reason the harness reports
    (``converged`` unless a test appends another), one entry added per timed figure."""
    reasons = ["converged"]

    def time_calls(fn, **kwargs):
        fn()
        lat = timing.Latency.from_samples([1e-3] * 6)
        reasons.append(reasons[-1])
        return replace(lat, stop_reason=reasons[-1], warmup_settled=True)

    monkeypatch.setattr(machine_module, "DEFAULT_SIZES", TINY)
    monkeypatch.setattr(timing, "time_calls", time_calls)
    return reasons


def test_machine_prints_the_table_then_reads_the_store(invoke, harness) -> None:
    ran = invoke("machine")
    assert ran.exit_code == 0, ran.stderr
    assert "1 thread;" in ran.stdout and "load average" in ran.stdout
    for text in ("peak matmul", "fp32", "bf16", "memory bandwidth", "copy", "triad"):
        assert text in ran.stdout
    assert "unreliable" not in ran.stdout
    timed = len(harness)
    again = invoke("machine", "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert len(harness) == timed  # read from the default store, nothing measured
    data = json.loads(again.stdout)
    assert data["threads"] == 1 and data["reliable"] is True
    assert data["peak_flops"]["fp32"]["flops_per_s"] == pytest.approx(2 * 128**3 / 1e-3)
    assert data["copy"]["bytes_per_s"] == pytest.approx(2 * 8 * 1000 / 1e-3)
    assert "samples_s" not in data["triad"]["latency"]
    invoke("machine", "--refresh")
    assert len(harness) == 2 * timed - 1  # measured again


def test_an_unreliable_measurement_says_so_and_why(invoke, harness) -> None:
    harness.append("budget")
    ran = invoke("machine", "--threads", "2")
    assert ran.exit_code == 0, ran.stderr
    assert "2 threads;" in ran.stdout
    assert "unreliable: fp32 matmul: stopped on its time budget with the median" in ran.stdout
    assert "not cached" in ran.stdout
