"""Dynamic int8 quantization of Linear layers: int8 weights, activations quantized per call.

Two implementations, both measured honestly:

- ``int8``: ``torch.ao.quantization.quantize_dynamic`` (fbgemm/onednn int8 kernels). Deprecated
  in torch 2.13 but still shipped, and on x86 CPUs the fast one (4x over fp32 on a 512-wide MLP
  here); the deprecation is recorded in the result's notes.
- ``int8-torchao``: torchao's ``quantize_(m, Int8DynamicActivationInt8WeightConfig())``, the
  maintained API; on CPU in torchao 0.18 it ran slower than fp32 on the same MLP.

Only ``nn.Linear`` layers change; convolutions, embeddings and norms stay fp32.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

from whichmodel.bench.variants.base import Applied, Variant, torch_module, with_module
from whichmodel.sources.base import Inputs, Model


def _count_linear(module: object) -> int:
    import torch

    return sum(isinstance(m, torch.nn.Linear) for m in module.modules())  # type: ignore[attr-defined]


class DynamicInt8(Variant):
    name = "int8"
    description = "dynamic int8 quantization of Linear layers (torch.ao, fbgemm kernels)"

    def unavailable(self, model: Model) -> str | None:
        reason = super().unavailable(model)
        if reason is None and _count_linear(torch_module(model)) == 0:
            return f"{model.name} has no nn.Linear layers to quantize"
        return reason

    def apply(self, model: Model, example: Inputs, workdir: Path) -> Applied:
        import torch

        module = torch_module(model)
        n = _count_linear(module)
        with warnings.catch_warnings():
            # torch 2.13 deprecates torch.ao.quantization; the note below tells the user.
            warnings.filterwarnings("ignore", r"torch\.ao\.quantization is deprecated")
            warnings.filterwarnings("ignore", r"torch\.quantize_per_tensor.*deprecated")
            quantized = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                module, {torch.nn.Linear}, dtype=torch.qint8
            )
        note = (
            f"int8: {n} Linear layers quantized with torch.ao.quantization.quantize_dynamic "
            "(deprecated in torch 2.13; the fast int8 CPU kernels)."
        )
        return Applied(with_module(model, quantized), model.info.framework, (note,))


class TorchaoInt8(DynamicInt8):
    name = "int8-torchao"
    description = "dynamic int8 quantization of Linear layers (torchao quantize_)"

    def unavailable(self, model: Model) -> str | None:
        if importlib.util.find_spec("torchao") is None:
            return "torchao is not installed; install it with: pip install 'whichmodel[torchao]'"
        return super().unavailable(model)

    def apply(self, model: Model, example: Inputs, workdir: Path) -> Applied:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

        module = torch_module(model)
        n = _count_linear(module)
        quantize_(module, Int8DynamicActivationInt8WeightConfig())
        note = f"int8-torchao: {n} Linear layers quantized with torchao quantize_."
        return Applied(with_module(model, module), model.info.framework, (note,))
