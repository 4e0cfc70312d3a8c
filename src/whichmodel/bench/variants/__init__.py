"""Variants, looked up by name: one module per kind, imported only when used.

original            the model as loaded (any framework): the baseline
fp32, bf16, fp16    dtype of weights and activations (``dtype.py``)
int8                dynamic int8 quantization of Linear layers, fbgemm kernels (``int8.py``)
int8-torchao        the same with torchao's ``quantize_`` (the ``torchao`` extra)
onnx                ONNX export, run with ONNX Runtime (``onnx.py``)
compile             ``torch.compile`` (opt-in: compiling takes seconds to minutes)
"""

from __future__ import annotations

import difflib
import importlib

from whichmodel.bench.variants.base import Applied, Variant, torch_module, with_module
from whichmodel.errors import ConfigError

_VARIANTS: dict[str, str] = {
    "original": "whichmodel.bench.variants.dtype:Original",
    "fp32": "whichmodel.bench.variants.dtype:FP32",
    "bf16": "whichmodel.bench.variants.dtype:BF16",
    "fp16": "whichmodel.bench.variants.dtype:FP16",
    "int8": "whichmodel.bench.variants.int8:DynamicInt8",
    "int8-torchao": "whichmodel.bench.variants.int8:TorchaoInt8",
    "onnx": "whichmodel.bench.variants.onnx:OnnxRuntime",
    "compile": "whichmodel.bench.variants.compiled:Compiled",
}
NAMES = tuple(_VARIANTS)


def check_names(names: list[str] | tuple[str, ...]) -> None:
    """Raise ConfigError for an unknown variant name, with the close matches and the full list."""
    for name in names:
        if name not in _VARIANTS:
            close = difflib.get_close_matches(name, NAMES, n=2)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise ConfigError(
                f"Unknown variant {name!r}.{hint} Known variants: {', '.join(NAMES)}."
            )
    if len(set(names)) != len(names):
        raise ConfigError(f"A variant is named twice in {', '.join(names)}.")


def get_variant(name: str) -> Variant:
    """The variant called ``name`` (ConfigError when unknown)."""
    check_names([name])
    module_name, cls = _VARIANTS[name].split(":")
    variant: Variant = getattr(importlib.import_module(module_name), cls)()
    return variant


__all__ = [
    "NAMES",
    "Applied",
    "Variant",
    "check_names",
    "get_variant",
    "torch_module",
    "with_module",
]
