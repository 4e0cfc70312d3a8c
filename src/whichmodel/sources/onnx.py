"""ONNX graphs (``onnx:model.onnx``): run with ONNX Runtime on the CPU, and their spec sheets.

A graph with one input takes the batch as it comes (tabular (n, d), arrays (n, *shape)), cast to
the input's element type; its first output is read as a PyTorch module's is (``?output=``,
``?classes=``: the same options as ``torch:``), so an exported module compares equal to the
module it came from. Reading a graph runs no Python code: no ``--allow-pickle`` needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from whichmodel.errors import MissingExtraError, ModelLoadError
from whichmodel.refs import ModelRef
from whichmodel.sources import shapes
from whichmodel.sources.base import (
    Inputs,
    LoadOptions,
    Model,
    ModelInfo,
    RawOutput,
    existing_files,
)
from whichmodel.sources.contract import Source

if TYPE_CHECKING:
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet

OPTIONS = {
    "classes": "comma-separated labels of the output columns",
    "output": "what the outputs are: logits (default), proba, logit (one binary logit), values",
    **shapes.OPTION,
}
_TYPES = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32,
}  # fmt: skip


class OnnxModel(Model):
    """An ONNX Runtime session over one graph input and its first output."""

    def __init__(self, ref: ModelRef, session: Any, parameters: int | None) -> None:
        from whichmodel.sources.torch import output_options

        self.ref = ref
        self.session = session
        (graph_input,) = session.get_inputs()
        self.input_name = graph_input.name
        self.dtype = _TYPES.get(graph_input.type, np.float32)
        dims = list(graph_input.shape)[1:]
        #: (d, ...) of one example when the graph fixes it, for bench's synthesized inputs
        self.example_shape = tuple(dims) if all(isinstance(d, int) for d in dims) else None
        self.output_mode, self.classes = output_options(ref)
        self.input_shape = shapes.ref_shape(ref)
        self.info = ModelInfo("onnx", "onnx graph", parameters, (ref.target,))

    def predict(self, inputs: Inputs) -> RawOutput:
        from whichmodel.sources.torch import raw_output

        inputs = shapes.array_batch(inputs, self.input_shape, self.ref, "an ONNX graph of tensors")
        x = np.ascontiguousarray(inputs.data, dtype=self.dtype)
        out = self.session.run(None, {self.input_name: x})[0]
        return raw_output(np.asarray(out, dtype=np.float32), self.output_mode)


class OnnxSource:
    """One ``.onnx`` file (tensors stored as external data are read by the spec sheet)."""

    def options(self, ref: ModelRef) -> Mapping[str, str]:
        return OPTIONS

    def files(self, ref: ModelRef, *, code: bool = True) -> tuple[str, ...]:
        return existing_files((ref.target,), ref)

    def load(self, ref: ModelRef, options: LoadOptions) -> Model:
        return load(ref)

    def inspect(self, ref: ModelRef, options: InspectOptions) -> SpecSheet:
        from whichmodel.spec.onnx_graph import inspect_onnx

        return inspect_onnx(ref, options)


SOURCE: Source = OnnxSource()


def _session_options(ort: Any) -> Any:
    """Intra-op threads from ``OMP_NUM_THREADS`` when set (a cost probe sets it to the run's
    count; ONNX Runtime itself does not read it), else ONNX Runtime's default."""
    import os

    options = ort.SessionOptions()
    threads = os.environ.get("OMP_NUM_THREADS", "")
    if threads.isdigit() and int(threads) > 0:
        options.intra_op_num_threads = int(threads)
    return options


def load(ref: ModelRef) -> OnnxModel:
    """An ONNX Runtime session on the CPU over the graph at ``ref``, once the graph is checked
    as the spec sheet checks it (external data only from inside the model's folder).

    Raises:
        MissingExtraError: onnx or onnxruntime is not installed.
        ModelLoadError: the graph is broken, ONNX Runtime cannot run it, or it takes more than
            one input.
    """
    from pathlib import Path

    from whichmodel.spec.onnx_graph import load_graph

    existing_files((ref.target,), ref)
    graph = load_graph(Path(ref.target))  # refuses external data from outside its folder
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise MissingExtraError("onnxruntime", "bench") from exc
    try:
        session = ort.InferenceSession(
            ref.target, _session_options(ort), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"ONNX Runtime cannot run {ref.target}: {first[:300]}") from exc
    names = [i.name for i in session.get_inputs()]
    if len(names) != 1:
        raise ModelLoadError(
            f"{ref.target} takes {len(names)} inputs ({', '.join(names)}); whichmodel runs "
            "ONNX graphs of one input tensor."
        )
    parameters = sum(int(np.prod(t.dims)) for t in graph.graph.initializer)
    return OnnxModel(ref, session, int(parameters))
