"""The machine's limits: structure and invariants only (timings themselves are never asserted).

Sizes are tiny (a 128 × 128 matmul, 2 MiB of arrays) so each measurement takes a fraction of a
second. Where a test needs the harness to say "converged" or "budget" whatever the machine does,
it replaces ``time_calls`` by one that runs the call once and reports that stop reason.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch

import whichmodel
from whichmodel.bench import machine as machine_module
from whichmodel.bench import timing
from whichmodel.bench.machine import MachineLimits, MachineSizes, PeakFlops, measure
from whichmodel.errors import ConfigError
from whichmodel.provenance import hardware
from whichmodel.store import Store
from whichmodel.store.cache import cache_key

TINY = MachineSizes(min_call_s=0.0, max_matmul_n=128, stream_bytes=3 * 8 * 100_000,
                    budget_s=0.1, target_rel=0.5, dtypes=("fp32", "fp64"))


def fake_harness(monkeypatch, stop_reason: str, calls: list[int]) -> None:
    """``time_calls`` that runs ``fn`` once (real work) and reports ``stop_reason``."""

    def time_calls(fn, **kwargs):
        calls.append(torch.get_num_threads())
        fn()
        lat = timing.Latency.from_samples([1e-3] * 6)
        return replace(lat, stop_reason=stop_reason, warmup_settled=True, warmup_runs=5)

    monkeypatch.setattr(timing, "time_calls", time_calls)


def test_figures_are_positive_finite_and_counted_as_stream_and_2n3() -> None:
    limits = measure(threads=1, sizes=TINY)
    assert set(limits.peak_flops) == {"fp32", "fp64"}
    for peak in limits.peak_flops.values():
        assert peak.matmul_n == 128 and peak.flops_per_call == 2 * 128**3
        assert peak.unknown is None and peak.latency is not None and peak.latency.n >= 6
        assert peak.flops_per_s is not None and 0 < peak.flops_per_s < math.inf
        low, high = peak.ci_flops_per_s or (math.nan, math.nan)
        assert low <= peak.flops_per_s <= high  # a longer call, a lower rate
    assert limits.copy.array_bytes == 100_000 * 8 == limits.triad.array_bytes
    assert limits.copy.bytes_per_call == 2 * limits.copy.array_bytes  # STREAM: read b, write a
    assert limits.triad.bytes_per_call == 3 * limits.triad.array_bytes  # read b, c; write a
    for band in (limits.copy, limits.triad):
        assert 0 < band.bytes_per_s < math.inf and band.latency.n >= 6
    assert limits.threads == 1 and limits.hardware == hardware()
    assert all(load >= 0 for load in limits.load_average)
    assert limits.reliable == (limits.unreliable == ())
    again = MachineLimits.from_dict(json.loads(json.dumps(limits.to_dict())))
    assert again == limits
    short = limits.to_dict(samples=False)
    assert "samples_s" not in short["copy"]["latency"] and short["reliable"] == limits.reliable


def test_the_matmul_grows_until_a_call_is_long_enough_and_stops_at_the_cap() -> None:
    assert machine_module.matmul_size("fp32", replace(TINY, max_matmul_n=4096)) == 128
    slow = replace(TINY, min_call_s=10.0, max_matmul_n=300)  # never long enough: the cap
    assert machine_module.matmul_size("fp32", slow) == 300


def test_threads_are_set_while_measuring_and_restored_after(monkeypatch) -> None:
    seen: list[int] = []
    fake_harness(monkeypatch, "converged", seen)
    before = torch.get_num_threads()
    limits = measure(threads=2, sizes=TINY)
    assert seen == [2, 2, 2, 2] and limits.threads == 2  # fp32, fp64, copy, triad
    assert torch.get_num_threads() == before


def test_an_unreliable_result_says_why_and_is_measured_again(monkeypatch, tmp_path) -> None:
    calls: list[int] = []
    fake_harness(monkeypatch, "budget", calls)
    store = tmp_path / "s.db"
    first = whichmodel.machine(threads=1, store=store, sizes=TINY)
    assert not first.reliable
    labels = {why.split(":")[0] for why in first.unreliable}  # every figure says why
    assert labels == {"fp32 matmul", "fp64 matmul", first.copy.kernel, first.triad.kernel}
    assert first.unreliable[0].startswith("fp32 matmul: stopped on its time budget")
    assert Store.open(store).get_cached("machine", _key(1)) is None
    whichmodel.machine(threads=1, store=store, sizes=TINY)
    assert len(calls) == 8  # every figure measured twice


def test_a_reliable_result_is_read_back_until_refresh(monkeypatch, tmp_path) -> None:
    calls: list[int] = []
    fake_harness(monkeypatch, "converged", calls)
    store = tmp_path / "s.db"
    first = whichmodel.machine(threads=1, store=store, sizes=TINY)
    assert first.reliable and len(calls) == 4
    assert whichmodel.machine(threads=1, store=store, sizes=TINY) == first
    assert len(calls) == 4  # nothing measured again
    whichmodel.machine(threads=2, store=store, sizes=TINY)  # another thread count: its own
    assert len(calls) == 8
    whichmodel.machine(threads=1, store=store, sizes=TINY, refresh=True)
    assert len(calls) == 12


def test_a_reduced_precision_dtype_far_below_fp32_is_unknown_not_a_number(monkeypatch) -> None:
    fake_harness(monkeypatch, "converged", [])
    fast = timing.Latency.from_samples([1e-9] * 6)  # an fp32 rate no bf16 path comes near
    fp32 = PeakFlops("fp32", 128, 2 * 128**3, fast)
    bf16 = machine_module._peak("bf16", TINY, reference=fp32)
    assert bf16.flops_per_s is None and bf16.ci_flops_per_s is None
    assert bf16.unknown is not None and bf16.unknown.startswith("emulated: ")
    assert bf16.latency is not None  # kept, for the record


@pytest.mark.parametrize("threads", [0, -1, 1.5, True])
def test_threads_must_be_a_positive_integer(threads, tmp_path) -> None:
    with pytest.raises(ConfigError, match="Threads must be at least 1"):
        whichmodel.machine(threads=threads, store=tmp_path / "s.db")
    assert not (tmp_path / "s.db").exists()



def _key(threads: int) -> str:
    return cache_key("machine", *machine_module.cache_parts(threads, TINY))
