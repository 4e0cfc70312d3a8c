"""The roofline's invariants on hand-made numbers (no timing is ever asserted), and one real tiny
torch model benchmarked end to end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers.roofline import COPY, PEAK, lat, limits, spec
from whichmodel.bench.base import CostProfile, GenerationCost, KVCacheGrowth
from whichmodel.bench.roofline import (
    ModelRoofline,
    decode_bound,
    model_roofline,
    needed_dtypes,
)


def cost(p50_s: float = 0.01, *, weights: int = 4 * 10**6, **kw: Any) -> CostProfile:
    values: dict[str, Any] = dict(
        framework="torch", architecture="X", parameters=weights // 4, size_on_disk_bytes=1,
        load_time_s=0.1, first_call_s=0.1, latency={1: lat(p50_s)}, peak_rss_bytes=1,
        model_memory_bytes=1, threads=1, weight_bytes=weights)
    return CostProfile(**(values | kw))


def test_a_model_at_exactly_the_peak_and_the_copy_bandwidth_reads_100_percent() -> None:
    # 1 GFLOP in 10 ms = 100 GFLOP/s (the peak); 0.1 GB in 10 ms = 10 GB/s (the copy rate)
    roof = model_roofline(cost(weights=10**8), spec=spec(), limits=limits()).calls[0]
    assert roof.flops_pct == pytest.approx(100.0)
    assert roof.bandwidth_pct == pytest.approx(100.0)
    assert roof.intensity == pytest.approx(10.0) and roof.ridge == pytest.approx(10.0)
    assert roof.bound == "compute"  # at the ridge itself, compute
    assert roof.dtype == "fp32" and roof.bytes_counted == ("weights",) and roof.unknown == {}


def test_below_the_ridge_is_memory_bound_above_is_compute_bound() -> None:
    memory = model_roofline(cost(weights=10**9), spec=spec(), limits=limits()).calls[0]
    assert memory.intensity == pytest.approx(1.0) and memory.bound == "memory"
    compute = model_roofline(cost(weights=10**6), spec=spec(), limits=limits()).calls[0]
    assert compute.intensity == pytest.approx(1000.0) and compute.bound == "compute"


def test_flops_scale_with_the_batch_and_activations_join_the_bytes() -> None:
    profile = cost(latency={1: lat(0.01), 8: lat(0.04)}, activation_bytes={8: 6 * 10**6})
    roof = model_roofline(profile, spec=spec(), limits=limits()).call("original", 8)
    assert roof is not None and roof.flops_per_call == 8e9
    assert roof.bytes_per_call == 4 * 10**6 + 6 * 10**6
    assert roof.bytes_counted == ("weights", "activations")
    assert roof.flops_pct == pytest.approx(100 * 8e9 / 0.04 / PEAK)


def test_per_token_flops_use_the_timed_tokens_or_say_why_not() -> None:
    with_tokens = cost(tokens={1: 50})
    roof = model_roofline(with_tokens, spec=spec("token"), limits=limits()).calls[0]
    assert roof.flops_per_call == 50e9
    roof = model_roofline(cost(), spec=spec("token"), limits=limits()).calls[0]
    assert roof.flops_per_call is None and "tokens" in roof.unknown["flops_per_call"]


def test_an_unreliable_cost_claims_no_percentage_and_says_why() -> None:
    profile = cost(unreliable=("stopped on budget",))
    roof = model_roofline(profile, spec=spec(), limits=limits()).calls[0]
    assert roof.flops_pct is None and roof.bandwidth_pct is None
    assert "unreliable" in roof.unknown["flops_pct"] and "budget" in roof.unknown["flops_pct"]
    assert roof.flops_per_s is not None and roof.bound is not None  # the figures themselves stay


def test_an_unreliable_machine_claims_no_percentage_either() -> None:
    machine = limits(stop="budget")
    roof = model_roofline(cost(), spec=spec(), limits=machine).calls[0]
    assert roof.flops_pct is None and "machine" in roof.unknown["bandwidth_pct"]


def test_unknown_flops_are_unknown_with_the_reason_never_zero() -> None:
    roof = model_roofline(cost(), spec=spec(flops=None), limits=limits()).calls[0]
    assert roof.flops_per_call is None and roof.flops_per_s is None and roof.flops_pct is None
    assert "an estimator" in roof.unknown["flops_per_call"]
    assert roof.bound is None and roof.unknown["bound"]
    assert roof.bandwidth_pct is not None  # the bytes are known all the same
    no_spec = model_roofline(cost(), spec=None, limits=limits()).calls[0]
    assert "no spec sheet" in no_spec.unknown["flops_per_call"]


def test_an_emulated_dtype_has_no_peak_and_says_so() -> None:
    bf16 = cost(variant="bf16", weights=2 * 10**6, parameters=10**6)
    roof = model_roofline(bf16, spec=spec(), limits=limits()).calls[0]
    assert roof.dtype == "bf16" and roof.peak_flops_per_s is None
    assert "emulated" in roof.unknown["peak_flops_per_s"] and roof.flops_pct is None
    fast = model_roofline(bf16, spec=spec(), limits=limits(bf16=4 * PEAK)).calls[0]
    assert fast.peak_flops_per_s == 4 * PEAK and fast.flops_pct == pytest.approx(25.0)
    int8 = model_roofline(cost(variant="int8"), spec=spec(), limits=limits()).calls[0]
    assert int8.dtype is None and int8.flops_pct is None and "int8" in int8.unknown[
        "peak_flops_per_s"]


def test_needed_dtypes_are_fp32_and_each_variants_own() -> None:
    profile = cost(variants=(cost(variant="bf16"), cost(variant="int8")))
    assert needed_dtypes([(profile, spec())]) == ("fp32", "bf16")


def test_the_decode_bound_on_known_numbers() -> None:
    # 1 GB of weights + 1000 tokens × 100 kB of KV = 1.1 GB per step at 11 GB/s: 10 tokens/s
    assert decode_bound(1e9, 1e5, 1000, 11e9) == pytest.approx(10.0)
    # two sequences share the weights: 2 tokens per 1.2 GB
    assert decode_bound(1e9, 1e5, 1000, 12e9, batch_size=2) == pytest.approx(20.0)
    g = GenerationCost(992, 16, 1, True, lat(0.5), lat(0.2), lat(3.0), 5.0)
    profile = cost(weights=10**9 - 8 * 10**7, generation=(g,),
                   kv_cache=KVCacheGrowth(16, 1, 1e5, 1e5, 4))
    # 920 MB weights + 1000 tokens (992 + 16/2) × 100 kB = 1.02 GB per token at 10 GB/s
    (dec,) = model_roofline(profile, spec=spec(), limits=limits()).decode
    assert dec.context == 1000 and dec.kv_source == "measured"
    assert dec.bound_tokens_per_s == pytest.approx(COPY / 1.02e9)
    assert dec.tokens_per_s == pytest.approx(5.0)  # 1 token per 0.2 s inter-token step
    assert dec.pct_of_bound == pytest.approx(100 * 5.0 / (COPY / 1.02e9))
    shares = {s.context: s.share for s in dec.kv_share}
    assert shares[1000] == pytest.approx(1e8 / 1.02e9)
    assert list(shares) == sorted(shares) and shares[32768] > shares[128]


def test_decode_reads_only_the_active_weights_of_a_mixture_of_experts() -> None:
    g = GenerationCost(8, 8, 1, True, lat(0.5), lat(0.1), lat(1.0), 8.0)
    profile = cost(weights=4 * 10**8, generation=(g,))
    moe = spec(**{"size.total": 10**8, "size.active": 2 * 10**7,
                  "memory.kv_cache_bytes_per_token": 1000, "design.context_length": 2048})
    (dec,) = model_roofline(profile, spec=moe, limits=limits()).decode
    assert dec.weight_bytes == 8 * 10**7 and dec.kv_source == "spec sheet"
    assert [s.context for s in dec.kv_share] == [12, 128, 1024, 2048]  # up to the context length
    unknown_kv = model_roofline(profile, spec=spec(), limits=limits()).decode[0]
    assert unknown_kv.bound_tokens_per_s is None and unknown_kv.pct_of_bound is None
    assert "KV" in unknown_kv.unknown["bound_tokens_per_s"]


def test_a_roofline_round_trips_through_json() -> None:
    g = GenerationCost(8, 8, 1, True, lat(0.5), lat(0.1), lat(1.0), 8.0)
    profile = cost(generation=(g,), kv_cache=KVCacheGrowth(8, 1, 512.0, 600.0, 4),
                   variants=(cost(variant="bf16"),))
    roof = model_roofline(profile, spec=spec(), limits=limits(), cache_bytes=32 << 20)
    again = ModelRoofline.from_dict(json.loads(json.dumps(roof.to_dict())))
    assert again == roof
    assert any("cache" in n for n in roof.calls[0].notes)  # 4 MB fit in a 32 MiB cache
    assert any("cache" in n for n in roof.decode[0].notes)


@pytest.mark.slow
def test_the_demo_cnn_benchmarked_in_process_has_a_roofline_with_every_figure_or_a_reason(
    tmp_path,
) -> None:
    from whichmodel.bench.machine import stored
    from whichmodel.bench.run import BenchConfig, rooflines, run

    config = BenchConfig(refs=("torch:whichmodel.demo.zoo:cnn",), input_shape=(8, 8),
                         batch_sizes=(1, 4), budget_s=0.2, store=str(tmp_path / "s.db"))
    (profile,) = run(config)
    (roof,) = rooflines(config, [profile])
    assert [(c.variant, c.batch_size) for c in roof.calls] == [("original", 1), ("original", 4)]
    one, four = roof.calls
    # FLOPs from the spec sheet (FlopCounterMode), per example × the batch
    assert one.flops_per_call and four.flops_per_call == pytest.approx(4 * one.flops_per_call)
    assert four.bytes_counted == ("weights and buffers", "activations")
    assert four.bytes_per_call == profile.weight_bytes + profile.buffer_bytes + \
        profile.activation_bytes[4]
    assert four.dtype == "fp32" and four.ridge and four.bound in ("compute", "memory")
    for call in roof.calls:  # a figure, or why not: never a silent zero
        for name in ("flops_pct", "bandwidth_pct"):
            value = getattr(call, name)
            assert (value is not None and value > 0) or call.unknown[name]
        if not profile.reliable or roof.machine_unreliable:
            assert call.flops_pct is None and call.unknown["flops_pct"].startswith("not claimed")
    # The machine was measured once at the model's threads, and kept only when reliable.
    assert roof.threads == 1 and roof.peak_flops_per_s["fp32"]
    assert stored(threads=1, store=config.store) is None  # whichmodel machine's sizes: not run
