"""Variants, looked up by name: one module per kind, imported only when used.

original            the model as loaded (any framework): the baseline
fp32, bf16, fp16    dtype of weights and activations (``dtype.py``)
int8                dynamic int8 quantization of Linear layers, fbgemm kernels (``int8.py``)
int8-torchao        the same with torchao's ``quantize_`` (the ``torchao`` extra)
onnx                ONNX export, run with ONNX Runtime (``onnx.py``)
compile             ``torch.compile`` (opt-in: compiling takes seconds to minutes)
"""

from __future__ import annotations

from whichmodel.bench.variants.base import Applied, Variant, torch_module, with_module
from whichmodel.errors import ConfigError
from whichmodel.registry import Registry

#: name -> the Variant class.
VARIANTS: Registry[type[Variant]] = Registry("variant", error=ConfigError)
VARIANTS.register("original", "whichmodel.bench.variants.dtype:Original")
VARIANTS.register("fp32", "whichmodel.bench.variants.dtype:FP32")
VARIANTS.register("bf16", "whichmodel.bench.variants.dtype:BF16")
VARIANTS.register("fp16", "whichmodel.bench.variants.dtype:FP16")
VARIANTS.register("int8", "whichmodel.bench.variants.int8:DynamicInt8")
VARIANTS.register("int8-torchao", "whichmodel.bench.variants.int8:TorchaoInt8")
VARIANTS.register("onnx", "whichmodel.bench.variants.onnx:OnnxRuntime")
VARIANTS.register("compile", "whichmodel.bench.variants.compiled:Compiled")
# The model unchanged, runnable for any model: for tests (see fake.py).
VARIANTS.register("fake", "whichmodel.bench.variants.fake:FakeVariant", hidden=True)
NAMES = VARIANTS.names()


def check_names(names: list[str] | tuple[str, ...]) -> None:
    """Raise ConfigError for an unknown variant name, with the close matches and the full list."""
    for name in names:
        if name not in VARIANTS:
            raise VARIANTS.unknown(name)
    if len(set(names)) != len(names):
        raise ConfigError(f"A variant is named twice in {', '.join(names)}.")


def get_variant(name: str) -> Variant:
    """The variant called ``name`` (ConfigError when unknown)."""
    return VARIANTS.get(name)()


__all__ = [
    "NAMES",
    "VARIANTS",
    "Applied",
    "Variant",
    "check_names",
    "get_variant",
    "torch_module",
    "with_module",
]
