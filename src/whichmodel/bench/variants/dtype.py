"""Precision variants: cast weights and floating inputs to fp32, bf16 or fp16.

Integer inputs (token ids) stay as they are; a forward pre-hook casts floating inputs, so the
source's own ``predict`` runs unchanged and its outputs are read back as float32.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from whichmodel.bench.variants.base import Applied, Variant, torch_module, with_module
from whichmodel.sources.base import Inputs, Model

# CPU flags (Linux /proc/cpuinfo) of instructions that compute in the dtype natively. Without
# them PyTorch still runs the dtype, converting to fp32 inside its kernels, usually slower.
_NATIVE_FLAGS = {
    "bfloat16": ("avx512_bf16", "amx_bf16"),
    "float16": ("avx512_fp16", "amx_fp16"),
}


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (empty when /proc/cpuinfo is unreadable, e.g. not Linux)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


class _Dtype(Variant):
    on_device = True
    dtype_name = "float32"

    def unavailable(self, model: Model) -> str | None:
        reason = super().unavailable(model)
        if reason is not None:
            return reason
        import torch

        dtype = getattr(torch, self.dtype_name)
        try:  # the dtype's matmul kernel must exist on this CPU build
            torch.nn.Linear(4, 4).to(dtype)(torch.ones(2, 4, dtype=dtype))
        except RuntimeError as exc:
            return f"PyTorch cannot run {self.dtype_name} matmuls on this CPU ({exc})"
        return None

    def apply(self, model: Model, example: Inputs, workdir: Path) -> Applied:
        import torch

        dtype = getattr(torch, self.dtype_name)
        module = torch_module(model)
        module.to(dtype)
        module.register_forward_pre_hook(functools.partial(_cast_inputs, dtype), with_kwargs=True)
        return Applied(with_module(model, module), model.info.framework, self._notes())

    def _notes(self) -> tuple[str, ...]:
        flags = _NATIVE_FLAGS.get(self.dtype_name)
        if not flags or set(flags) & cpu_flags():
            return ()
        return (
            f"{self.name}: this CPU has no {' or '.join(flags)} instructions, so PyTorch computes "
            f"{self.name} by converting to fp32 inside each kernel; expect it slower than fp32.",
        )


def _cast_inputs(dtype: Any, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    import torch

    def cast(x: Any) -> Any:
        return x.to(dtype) if isinstance(x, torch.Tensor) and x.is_floating_point() else x

    return tuple(cast(a) for a in args), {k: cast(v) for k, v in kwargs.items()}


class FP32(_Dtype):
    name = "fp32"
    description = "float32 weights and activations (PyTorch's default)"
    dtype_name = "float32"


class BF16(_Dtype):
    name = "bf16"
    description = "bfloat16 weights and activations"
    dtype_name = "bfloat16"


class FP16(_Dtype):
    name = "fp16"
    description = "float16 weights and activations"
    dtype_name = "float16"


class Original(Variant):
    """The model exactly as loaded: the baseline every other variant is compared with."""
    on_device = True

    name = "original"
    description = "the model as loaded, unchanged"

    def unavailable(self, model: Model) -> str | None:
        return None

    def apply(self, model: Model, example: Inputs, workdir: Path) -> Applied:
        return Applied(model, model.info.framework)
