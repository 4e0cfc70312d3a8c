"""The cost probe: ``python -m whichmodel.bench.probe REQUEST.json`` prints a CostProfile as JSON.

Runs in a fresh process per model. The framework is imported before the memory baseline is
taken, and the kernel's peak-RSS counter is reset there (``/proc/self/clear_refs``), so the
reported model memory is what loading and running the model added.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.bench.cost import CostProfile
from whichmodel.bench.timing import time_calls
from whichmodel.provenance import threads
from whichmodel.refs import parse_ref
from whichmodel.sources import load_timed, reference_files
from whichmodel.sources.base import Inputs, LoadOptions

_FRAMEWORK_IMPORTS = {
    "sklearn": ("sklearn", "skops.io"),
    "torch": ("torch", "safetensors.torch"),
    "hf": ("torch", "safetensors.torch", "transformers"),
}


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # the kernel reports kB
    return 0


def _reset_peak_rss() -> None:
    # Not Linux, or not permitted: the peak then includes the imports.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _warm_up_runtime() -> None:
    """Start torch's thread pool and allocator before the baseline, so the memory they take on
    first use is not charged to whichever model happens to run first."""
    torch = sys.modules.get("torch")
    if torch is not None:
        with torch.inference_mode():
            torch.ones(256, 256) @ torch.ones(256, 256)


def _read_inputs(request: dict[str, Any]) -> Inputs:
    path = Path(request["inputs"])
    if request["kind"] == "text":
        data = np.asarray(json.loads(path.read_text()), dtype=object)
    elif path.suffix == ".parquet":
        import pandas as pd

        data = pd.read_parquet(path).to_numpy(dtype=object)
    else:
        data = np.load(path, allow_pickle=False)
    return Inputs(request["kind"], data, tuple(request["columns"]))


def probe(request: dict[str, Any]) -> CostProfile:
    ref = parse_ref(request["ref"])
    inputs = _read_inputs(request)
    for module in _FRAMEWORK_IMPORTS.get(ref.kind, ()):
        importlib.import_module(module)
    _warm_up_runtime()
    baseline = _status_bytes("VmRSS")
    _reset_peak_rss()
    options = LoadOptions(request["allow_pickle"], request["trust_remote_code"])
    loaded = load_timed(ref, options)
    model = loaded.model
    start = time.perf_counter()
    model.predict(inputs.take(slice(0, 1)))
    first_call = time.perf_counter() - start
    latency = {
        b: time_calls(
            partial(model.predict, inputs.take(slice(0, b))), budget_s=request["budget_s"]
        )
        for b in request["batch_sizes"]
    }
    peak = max(_status_bytes("VmHWM"), _status_bytes("VmRSS"))
    files = reference_files(ref)
    return CostProfile(
        framework=model.info.framework,
        architecture=model.info.architecture,
        parameters=model.info.parameters,
        size_on_disk_bytes=sum(Path(f).stat().st_size for f in files),
        load_time_s=loaded.load_time_s,
        first_call_s=first_call,
        latency=latency,
        peak_rss_bytes=peak,
        model_memory_bytes=max(peak - baseline, 0),
        threads=max(threads().values(), default=1),
    )


def main() -> None:
    request = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(probe(request).to_dict()))


if __name__ == "__main__":
    main()
