"""``whichmodel bench`` as a user runs it, and ``whichmodel.bench(...)`` from Python."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import whichmodel
from whichmodel.errors import ConfigError

HELPERS = Path(__file__).parents[1] / "helpers"
MLP = f"torch:{HELPERS / 'tiny_torch.py'}:mlp"
MLP_PARAMS = 64 * 16 + 16 + 16 * 10 + 10
FAST = ("--threads", "1", "--budget", "0.05")


@pytest.mark.slow
def test_bench_json_then_the_store_answers_the_rerun(cli, tmp_path: Path) -> None:
    store = str(tmp_path / "s.db")
    args = ("bench", MLP, "--input-shape", "8,8", "--variant", "original,fp16", "--batch", "1,4")
    proc = cli(*args, *FAST, "--store", store, "--json")
    assert proc.returncode == 0, proc.stderr
    [result] = json.loads(proc.stdout)
    assert result["name"] == "mlp" and result["variant"] == "original"
    assert result["weight_bytes"] == MLP_PARAMS * 4 and result["parameters"] == MLP_PARAMS
    assert set(result["latency"]) == {"1", "4"}
    lat = result["latency"]["4"]
    assert "samples_s" not in lat and lat["n"] >= 6  # raw samples stay in the store
    assert lat["stop_reason"] in ("converged", "budget", "max_runs")
    assert lat["ci_low_s"] <= lat["p50_s"] <= lat["ci_high_s"]
    assert result["throughput"]["4"] == pytest.approx(4 / lat["p50_s"])
    assert result["threads"] == 1 and result["hardware"]["cpus"] >= 1
    [fp16] = result["variants"]
    assert fp16["variant"] == "fp16" and fp16["weight_bytes"] == MLP_PARAMS * 2
    assert fp16["activation_bytes"]["4"] == result["activation_bytes"]["4"] // 2
    # This CPU either computes fp16 natively or the result says it does not.
    assert fp16["notes"] == [] or "fp16" in fp16["notes"][0]
    # The roofline of every variant and batch size, each % a figure or unknown with a reason.
    roof = result["roofline"]
    calls = {(c["variant"], c["batch_size"]): c for c in roof["calls"]}
    assert set(calls) == {(v, b) for v in ("original", "fp16") for b in (1, 4)}
    assert calls["original", 4]["dtype"] == "fp32" and calls["fp16", 4]["dtype"] == "fp16"
    flops = 2 * (64 * 16 + 16 * 10)  # two linear layers, a multiply-add is 2 FLOPs
    assert calls["original", 4]["flops_per_call"] == pytest.approx(4 * flops, rel=0.05)
    for call in calls.values():
        for name in ("flops_pct", "bandwidth_pct"):
            assert (call[name] is None and call["unknown"][name]) or call[name] > 0
    assert set(roof["peak_flops_per_s"]) == {"fp32", "fp16"}  # just the dtypes needed
    # The same request again: read from the store, not measured again (identical figures).
    again = whichmodel.bench(
        MLP, input_shape=(8, 8), variants=["original", "fp16"], batch_sizes=[1, 4],
        threads=1, budget_s=0.05, store=store,
    )
    assert again.latency[4].p50_s == lat["p50_s"] and again.latency[4].n == lat["n"]
    assert again.variant_named("fp16").weight_bytes == MLP_PARAMS * 2
    table = cli(*args, *FAST, "--store", store)  # the terminal table, from the store
    assert table.returncode == 0, table.stderr
    assert "latency of one call" in table.stdout and "Timer overhead" in table.stdout
    assert "Roofline against this machine at 1 thread" in " ".join(table.stdout.split())


def test_unknown_variant_is_one_line_with_a_suggestion(cli) -> None:
    proc = cli("bench", MLP, "--input-shape", "8,8", "--variant", "fp32,in8")
    assert proc.returncode == 2
    assert "Unknown variant 'in8'. Did you mean 'int8'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_data_and_input_shape_together_are_refused(cli, tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a,label\n1,0\n")
    proc = cli("bench", MLP, "--data", str(data), "--input-shape", "8,8")
    assert proc.returncode == 2 and "not both" in proc.stderr


def test_bad_batch_sizes_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        whichmodel.bench(MLP, batch_sizes=(0, 8))
    with pytest.raises(ConfigError, match="unknown option"):
        whichmodel.bench(MLP, batchsize=8)


@pytest.mark.slow
def test_a_model_without_a_known_input_shape_says_what_to_pass(cli, tmp_path: Path) -> None:
    proc = cli("bench", MLP, "--store", str(tmp_path / "s.db"), *FAST)
    assert proc.returncode == 2
    assert "pass --data FILE (your examples) or --input-shape" in proc.stderr


def test_the_package_is_the_api_function() -> None:
    import whichmodel.bench.timing  # sets whichmodel.bench to the package

    assert callable(whichmodel.bench) and whichmodel.bench.bench.__doc__
    assert whichmodel.CostProfile.__name__ == "CostProfile"
