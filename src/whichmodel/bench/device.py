"""The device a model is timed on: the CPU (the default), or a CUDA GPU (``--device cuda``).

What changes on a GPU, and why:

- **Synchronize.** CUDA kernels run asynchronously: a call returns once its kernels are queued.
  Every sample therefore ends with ``torch.cuda.synchronize(device)``, or it would time the launch,
  not the work (:func:`synchronizer`).
- **Device memory.** The process's resident memory says nothing of the GPU's. The probe resets the
  device's peak counters once the variant is applied (an fp16 variant is not charged the fp32
  weights it was cast from) and reports the peak bytes *allocated* (what tensors held: the
  weights and every call's activations) and *reserved* (what PyTorch's caching allocator took
  from the driver, the figure another process on the same GPU competes with):
  ``torch.cuda.max_memory_allocated`` and ``max_memory_reserved`` (:func:`device_memory`).
- **What moves.** The model's module is moved to the device, and the source moves each batch to
  the module's device and the outputs back (``Model.to``). Models whose source does not do that
  yet (detectors, speech, embeddings, causal LMs, ONNX, scikit-learn) fail in one line.
- **The machine's limits** are measured on the same device (:mod:`whichmodel.bench.machine`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from whichmodel.errors import ConfigError

_DEVICE = re.compile(r"cpu|cuda(:\d+)?")


def check_device(device: str) -> str:
    """``device`` when this machine has it; ConfigError otherwise (one line: what to do)."""
    if not _DEVICE.fullmatch(device):
        raise ConfigError(f"Unknown device {device!r}: use cpu, cuda or cuda:N.")
    if device == "cpu":
        return device
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(
            f"No CUDA device here (torch.cuda.is_available() is False), so nothing can run on "
            f"{device}: drop --device, or run on a machine with a GPU and a CUDA build of torch."
        )
    index = torch.device(device).index or 0
    if index >= torch.cuda.device_count():
        raise ConfigError(
            f"There is no {device}: this machine has {torch.cuda.device_count()} CUDA device(s)."
        )
    return device


def synchronizer(device: str) -> Callable[[], object]:
    """The call that waits for the device's queued work: ``torch.cuda.synchronize`` on a GPU,
    ``torch.cpu.synchronize`` on the CPU when torch is loaded, else a no-op."""
    import sys

    torch: Any = sys.modules.get("torch")
    if device.startswith("cuda"):
        return lambda: torch.cuda.synchronize(device)
    return torch.cpu.synchronize if torch is not None else (lambda: None)


def device_name(device: str) -> dict[str, str]:
    """``{"gpu": its name}`` on a CUDA device (for the profile's hardware), else empty."""
    if not device.startswith("cuda"):
        return {}
    import torch

    return {"gpu": torch.cuda.get_device_name(device)}


def start(device: str) -> None:
    """Start the device before anything is measured (nothing on the CPU): its CUDA context and
    cuBLAS handle (a first matmul; an explicit index such as ``cuda:1`` initializes nothing by
    itself), then its peak-memory counters."""
    if not device.startswith("cuda"):
        return
    import torch

    x = torch.ones(256, 256, device=device)
    x @ x
    torch.cuda.synchronize(device)
    reset_peak(device)


def reset_peak(device: str) -> None:
    """Start the device's peak-memory counters from what is allocated now, after giving the
    cached free blocks back, so the reserved peak starts from now too (nothing on the CPU)."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def device_memory(device: str) -> dict[str, int]:
    """``{"peak_allocated_bytes", "peak_reserved_bytes"}`` of the device since
    :func:`reset_peak`; empty on the CPU."""
    if not device.startswith("cuda"):
        return {}
    import torch

    return {
        "peak_allocated_bytes": int(torch.cuda.max_memory_allocated(device)),
        "peak_reserved_bytes": int(torch.cuda.max_memory_reserved(device)),
    }
