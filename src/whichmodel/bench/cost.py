"""Cost of running a model, measured in a fresh subprocess so one model's memory cannot pollute
the next: load time, first call, latency per batch size, throughput, peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.bench.timing import Latency
from whichmodel.refs import ModelRef
from whichmodel.sources.base import Inputs, LoadOptions

PROBE_TIMEOUT_S = 900


@dataclass(frozen=True)
class CostProfile:
    """What a model costs on this machine.

    Args:
        framework, architecture, parameters: read while loading (see ``ModelInfo``).
        size_on_disk_bytes: total bytes of the files the model was read from.
        load_time_s: from nothing to a loaded model, in a fresh process.
        first_call_s: the first (cold) call at batch size 1.
        latency: batch size -> latency of one call with that many examples.
        peak_rss_bytes: the probe process's peak resident memory.
        model_memory_bytes: peak resident memory minus the process's memory just before loading
            (weights, buffers, activations for the largest batch).
        threads: intra-op threads the framework used.
    """

    framework: str
    architecture: str
    parameters: int | None
    size_on_disk_bytes: int
    load_time_s: float
    first_call_s: float
    latency: dict[int, Latency]
    peak_rss_bytes: int
    model_memory_bytes: int
    threads: int

    def throughput(self, batch_size: int) -> float:
        """Examples per second at ``batch_size`` (batch size over median latency)."""
        return batch_size / self.latency[batch_size].p50_s

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency"] = {str(b): asdict(lat) for b, lat in self.latency.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CostProfile:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["latency"] = {
            int(b): Latency(**{**lat, "samples_s": tuple(lat["samples_s"])})
            for b, lat in data["latency"].items()
        }
        return cls(**values)


def measure_cost(
    ref: ModelRef,
    sample: Inputs,
    *,
    batch_sizes: Sequence[int],
    options: LoadOptions | None = None,
    budget_s: float = 1.0,
) -> CostProfile:
    """Measure a model's cost in a subprocess, on the first examples of ``sample``.

    Raises:
        ModelLoadError: the probe process failed (its last error line is in the message).
    """
    from whichmodel.errors import ModelLoadError

    options = options or LoadOptions()
    with tempfile.TemporaryDirectory(prefix="whichmodel-probe-") as tmp:
        request = _write_request(Path(tmp), ref, sample, batch_sizes, options, budget_s)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "whichmodel.bench.probe", str(request)],
                capture_output=True,
                text=True,
                timeout=PROBE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ModelLoadError(
                f"Measuring the cost of {ref} took over {PROBE_TIMEOUT_S} s; stopped."
            ) from exc
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise ModelLoadError(
            f"Measuring the cost of {ref} failed: {lines[-1] if lines else 'no output'}"
        )
    return CostProfile.from_dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _write_request(
    folder: Path,
    ref: ModelRef,
    sample: Inputs,
    batch_sizes: Sequence[int],
    options: LoadOptions,
    budget_s: float,
) -> Path:
    n = max(batch_sizes)
    reps = -(-n // len(sample))  # repeat the sample when the data is smaller than a batch
    data = np.concatenate([sample.data] * reps)[:n] if reps > 1 else sample.data[:n]
    if sample.kind == "text":
        inputs_path = folder / "inputs.json"
        inputs_path.write_text(json.dumps([str(t) for t in data]))
    elif data.dtype == object:  # mixed-type table (text and numbers): keep each column's type
        import pandas as pd

        inputs_path = folder / "inputs.parquet"
        frame = pd.DataFrame(data, columns=list(sample.columns)).infer_objects()
        frame.to_parquet(inputs_path, index=False)
    else:
        inputs_path = folder / "inputs.npy"
        np.save(inputs_path, np.asarray(data), allow_pickle=False)
    request = {
        "ref": ref.raw or str(ref),
        "allow_pickle": options.allow_pickle,
        "trust_remote_code": options.trust_remote_code,
        "inputs": str(inputs_path),
        "kind": sample.kind,
        "columns": list(sample.columns),
        "batch_sizes": sorted(set(batch_sizes)),
        "budget_s": budget_s,
    }
    path = folder / "request.json"
    path.write_text(json.dumps(request))
    return path
