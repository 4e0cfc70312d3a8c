"""Memory: the model's own bytes read exactly from its tensors, and the process's resident memory.

- Weights and buffers: the ``nbytes`` of every storage behind ``parameters()`` / ``buffers()``,
  each storage counted once (tied weights share one). Tensor subclasses (torchao's int8 tensors)
  are unwrapped into their inner tensors; torch.ao's packed int8 Linear keeps its weights in
  ``_packed_params``, which are read through ``weight()`` and ``bias()``.
- Activations: the bytes of every tensor the operators create during one call (a dispatch mode
  sees every op, whatever the module structure). It is the total produced, an upper bound on
  what is live at one time.
- Resident memory: ``VmRSS``/``VmHWM`` from ``/proc/self/status``; the peak is reset through
  ``/proc/self/clear_refs`` so a probe sees only what came after its baseline.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def status_bytes(field: str) -> int:
    """A ``/proc/self/status`` field (``VmRSS``, ``VmHWM``) in bytes; 0 when unavailable."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # the kernel reports kB
    return 0


def reset_peak_rss() -> None:
    """Reset the kernel's peak-RSS counter (Linux). Elsewhere the peak includes earlier work."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _leaves(t: Any) -> Iterable[Any]:
    """The plain tensors that hold ``t``'s data (unwrapping tensor subclasses)."""
    flatten = getattr(type(t), "__tensor_flatten__", None)
    if flatten is not None:
        names, _ = t.__tensor_flatten__()
        for name in names:
            yield from _leaves(getattr(t, name))
    else:
        yield t


def tensor_bytes(tensors: Iterable[Any]) -> int:
    """Bytes of the storages behind ``tensors``, each storage once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for t in tensors:
        for leaf in _leaves(t):
            if leaf.device.type == "meta":
                continue
            if leaf.is_quantized:  # torch.ao quantized tensors have no untyped storage to share
                total += leaf.numel() * leaf.element_size()
                continue
            storage = leaf.untyped_storage()
            key = (storage.data_ptr(), storage.nbytes())
            if key not in seen:
                seen.add(key)
                total += storage.nbytes()
    return total


def _packed_tensors(module: Any) -> list[Any]:
    """Weights torch.ao's dynamic quantized Linear keeps packed, outside ``parameters()``."""
    out = []
    for m in module.modules():
        packed = getattr(m, "_packed_params", None)
        if packed is not None and hasattr(packed, "_weight_bias"):
            weight, bias = packed._weight_bias()
            out += [weight] + ([bias] if bias is not None else [])
    return out


def weight_and_buffer_bytes(module: Any) -> tuple[int, int]:
    """(weight bytes, buffer bytes) of a ``torch.nn.Module``."""
    weights = tensor_bytes([*module.parameters(), *_packed_tensors(module)])
    return weights, tensor_bytes(module.buffers())


def activation_bytes(call: Callable[[], object]) -> int:
    """Bytes of every new tensor the operators produce while ``call()`` runs (a
    ``TorchDispatchMode`` sees each aten/quantized op's outputs; views, which share memory, are
    left out)."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class Count(TorchDispatchMode):  # type: ignore[no-untyped-call]
        total = 0

        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            # True (the default) wraps the handler with torch._disable_dynamo, which imports
            # torch._dynamo: 3-9 s and ~100 MB on first use. Nothing is compiled inside the mode.
            return False

        def __torch_dispatch__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            out = func(*args, **(kwargs or {}))
            if not getattr(func, "is_view", False):
                Count.total += sum(
                    t.numel() * t.element_size()
                    for t in tree_leaves(out)
                    if isinstance(t, torch.Tensor)
                )
            return out

    with Count():  # type: ignore[no-untyped-call]
        call()
    return Count.total
