"""The GPU path of bench and machine (bench/device.py). On a machine without CUDA the device is
refused in one line before any work; where a GPU is present the same benchmark runs on it with
device synchronization and the device's peak memory. No test here passes or fails on a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from whichmodel.bench.device import check_device, device_memory, synchronizer
from whichmodel.errors import ConfigError
from whichmodel.refs import parse_ref
from whichmodel.sources import load
from whichmodel.sources.base import Inputs, LoadOptions

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
MLP = f"torch:{HELPERS / 'tiny_torch.py'}:mlp?n_in=8&hidden=16&n_out=3"
GPU = torch.cuda.is_available()
needs_gpu = pytest.mark.skipif(
    not GPU, reason="no CUDA device on this machine (torch.cuda.is_available() is False)"
)


def test_unknown_devices_are_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^Unknown device 'gpu': use cpu, cuda or cuda:N\.$"):
        check_device("gpu")
    assert check_device("cpu") == "cpu"
    assert device_memory("cpu") == {}


@pytest.mark.skipif(GPU, reason="checks the refusal on a machine without CUDA")
def test_without_cuda_bench_and_machine_refuse_the_device_before_any_work(cli, tmp_path) -> None:
    for args in (
        ("bench", MLP, "--input-shape", "8", "--device", "cuda", "--store", f"{tmp_path}/s.db"),
        ("machine", "--device", "cuda", "--store", f"{tmp_path}/s.db"),
    ):
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "No CUDA device here" in lines[0], done.stderr
        assert not (tmp_path / "s.db").exists()  # nothing was measured or stored


def test_models_that_cannot_move_say_so(tmp_path) -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    x = np.random.default_rng(0).normal(size=(20, 3))
    sio.dump(LogisticRegression().fit(x, x[:, 0] > 0), tmp_path / "lr.skops")
    model = load(parse_ref(f"sklearn:{tmp_path / 'lr.skops'}"), LoadOptions())
    model.to("cpu")  # staying put is always possible
    with pytest.raises(ConfigError, match="runs on the CPU only here; --device cuda times"):
        model.to("cuda")


def test_a_torch_model_moved_to_the_cpu_predicts_the_same() -> None:
    model = load(parse_ref(MLP), LoadOptions())
    x = Inputs("array", np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32))
    before = model.predict(x).array
    model.to("cpu")
    np.testing.assert_array_equal(model.predict(x).array, before)
    synchronizer("cpu")()


@needs_gpu
def test_bench_on_the_gpu_synchronizes_and_reports_device_memory(tmp_path) -> None:
    from whichmodel.bench.run import bench

    profile = bench(
        MLP, input_shape=(8,), batch_sizes=(1, 32), variants=("original", "fp16", "int8"),
        device="cuda", store=str(tmp_path / "s.db"), budget_s=0.3,
    )  # fmt: skip
    assert profile.device == "cuda" and profile.hardware["gpu"]
    memory = profile.device_memory
    assert 0 < memory["peak_allocated_bytes"] <= memory["peak_reserved_bytes"]
    assert profile.variant_named("fp16").device_memory["peak_allocated_bytes"] > 0
    assert profile.skipped_variants == {"int8": "int8 runs on the CPU only here, not on cuda"}
    model = load(parse_ref(MLP), LoadOptions())
    x = Inputs("array", np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32))
    on_cpu = model.predict(x).array
    model.to("cuda")
    np.testing.assert_allclose(model.predict(x).array, on_cpu, rtol=1e-4, atol=1e-5)


@needs_gpu
def test_the_machine_is_measured_on_the_gpu(tmp_path) -> None:
    from whichmodel.bench.machine import MachineSizes, machine

    sizes = MachineSizes(max_matmul_n=2048, stream_bytes=3 * 2**26, budget_s=0.3,
                         dtypes=("fp32", "fp16"), device="cuda")  # fmt: skip
    limits = machine(store=tmp_path / "s.db", sizes=sizes)
    assert limits.sizes.device == "cuda"
    assert all(p.flops_per_s for p in limits.peak_flops.values()), limits.peak_flops
    assert limits.copy.bytes_per_s > 0 and limits.copy.array_bytes == 2**26
