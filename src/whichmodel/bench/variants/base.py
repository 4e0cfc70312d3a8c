"""The variant interface: a transformation of a loaded model that changes what it costs.

A variant is two methods: :meth:`Variant.unavailable` says why it cannot run here (checked before
any work, and reported in the result instead of a silent zero), and :meth:`Variant.apply` returns
the transformed model plus notes on how it was made. Variants run inside the probe process, after
the model is loaded, so each variant's memory is measured in its own fresh process.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whichmodel.sources.base import Inputs, Model


@dataclass(frozen=True)
class Applied:
    """A variant's model and what the user should know about how it was made."""

    model: Model
    framework: str
    notes: tuple[str, ...] = ()


class Variant(ABC):
    """One way to run a model (dtype, quantization, another runtime)."""

    name: str
    description: str
    #: Whether it runs on a CUDA device too (casting and compiling do; int8 kernels and ONNX
    #: Runtime's CPU provider do not).
    on_device: bool = False

    def unavailable(self, model: Model) -> str | None:
        """Why this variant cannot run for ``model`` on this machine, or None when it can."""
        if torch_module(model) is None:
            return f"{self.name} needs a PyTorch model; {model.name} is {model.info.framework}"
        return None

    @abstractmethod
    def apply(self, model: Model, example: Inputs, workdir: Path) -> Applied:
        """The model transformed. ``example`` is a small batch of real inputs (for export or
        calibration); ``workdir`` is a scratch folder that lives as long as the probe."""


def torch_module(model: Model) -> Any:
    """The ``torch.nn.Module`` inside a torch or Hugging Face model, else None."""
    for attr in ("module", "model"):
        module = getattr(model, attr, None)
        if module is not None and hasattr(module, "named_modules"):
            return module
    return None


def with_module(model: Model, module: Any) -> Model:
    """A shallow copy of ``model`` whose module is ``module`` (the source's predict is reused)."""
    attr = "module" if hasattr(model, "module") else "model"
    new = copy.copy(model)
    setattr(new, attr, module)
    return new
