"""ONNX graphs (``onnx:model.onnx``): spec sheets only (``whichmodel inspect``, spec diff).

Running them is the ``onnx`` bench variant's job (ONNX Runtime on an exported PyTorch model); an
``onnx:`` reference cannot be loaded for predictions yet, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from whichmodel.errors import ModelReferenceError
from whichmodel.refs import SOURCES, ModelRef
from whichmodel.sources.base import LoadOptions, Model, existing_files
from whichmodel.sources.contract import Source

if TYPE_CHECKING:
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet


class OnnxSource:
    """One ``.onnx`` file (tensors stored as external data are read by the spec sheet)."""

    def options(self, ref: ModelRef) -> Mapping[str, str]:
        return {}

    def files(self, ref: ModelRef, *, code: bool = True) -> tuple[str, ...]:
        return existing_files((ref.target,), ref)

    def load(self, ref: ModelRef, options: LoadOptions) -> Model:
        supported = sorted(k for k in SOURCES.names() if k != ref.kind)
        raise ModelReferenceError(
            f"Model references of kind '{ref.kind}:' are not supported yet; "
            f"supported: {', '.join(supported)}."
        )

    def inspect(self, ref: ModelRef, options: InspectOptions) -> SpecSheet:
        from whichmodel.spec.onnx_graph import inspect_onnx

        return inspect_onnx(ref, options)


SOURCE: Source = OnnxSource()
