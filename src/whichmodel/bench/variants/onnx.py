"""ONNX export (torch's dynamo exporter) and inference with ONNX Runtime on the CPU.

The model is exported once per probe with a dynamic batch dimension (and sequence length, for
text), then every call goes through an ``onnxruntime.InferenceSession`` with the probe's thread
count. The export happens in the probe process, so the process still holds PyTorch and the
original weights: peak memory includes them (said in the result's notes).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from whichmodel.bench.variants.base import Applied, Variant, torch_module, with_module
from whichmodel.errors import MissingExtraError, ModelLoadError
from whichmodel.sources.base import Inputs, Model


class OrtModule:
    """Calls an ONNX Runtime session like the PyTorch module it replaces.

    Args:
        session: the ``onnxruntime.InferenceSession``.
        names: the keyword names of the exported inputs, in graph order (text models), or
            None for a module called with positional tensors.
        path: the .onnx file (its initializers are the model's weights).
    """

    def __init__(self, session: Any, names: tuple[str, ...] | None, path: Path) -> None:
        self.session = session
        self.names = names
        self.path = path
        self.graph_inputs = [i.name for i in session.get_inputs()]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import torch

        tensors = [kwargs[n] for n in self.names] if self.names is not None else list(args)
        feeds = {name: t.numpy() for name, t in zip(self.graph_inputs, tensors, strict=True)}
        logits = torch.from_numpy(self.session.run(None, feeds)[0])
        return SimpleNamespace(logits=logits) if self.names is not None else logits

    def initializer_bytes(self) -> int:
        """Bytes of the graph's initializers (its weights and constants)."""
        import onnx
        from onnx import helper

        graph = onnx.load(str(self.path), load_external_data=True).graph
        return sum(
            int(np.prod(t.dims)) * helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
            for t in graph.initializer
        )


class _Named:  # the export wrapper for Hugging Face models called with keyword tensors
    def __new__(cls, model: Any, names: tuple[str, ...], causal: bool) -> Any:
        import torch

        if len(names) > 3:
            raise ModelLoadError(f"ONNX export takes at most 3 named inputs; got {names}.")

        class Named(torch.nn.Module):
            # Fixed parameter names (torch.export does not take *args with dynamic shapes).
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_0: Any, input_1: Any = None, input_2: Any = None) -> Any:
                given = (input_0, input_1, input_2)[: len(names)]
                extra = {"use_cache": False} if causal else {}
                return self.model(**dict(zip(names, given, strict=True)), **extra).logits

        return Named().eval()


class OnnxRuntime(Variant):
    name = "onnx"
    description = "ONNX export, run with ONNX Runtime (CPUExecutionProvider)"

    def unavailable(self, model: Model) -> str | None:
        import importlib.util

        for package in ("onnx", "onnxruntime", "onnxscript"):
            if importlib.util.find_spec(package) is None:
                return (
                    f"{package} is not installed; install it with: pip install 'whichmodel[bench]'"
                )
        return super().unavailable(model)

    def apply(self, model: Model, example: Inputs, workdir: Path) -> Applied:
        try:
            import onnxruntime as ort
            import torch
        except ImportError as exc:
            raise MissingExtraError("onnxruntime", "bench") from exc
        module = torch_module(model)
        export_module, args, names, dims = _export_args(model, module, example)
        path = workdir / f"{model.name}.onnx"
        _export(export_module, args, dims, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        note = (
            f"onnx: exported with torch.onnx.export(dynamo=True), opset {_opset(path)}; "
            f"onnxruntime {ort.__version__}, {options.intra_op_num_threads} intra-op threads; "
            "peak memory includes the PyTorch model the export read."
        )
        runner = OrtModule(session, names, path)
        return Applied(with_module(model, runner), "onnxruntime", (note,))


def _export_args(
    model: Model, module: Any, example: Inputs
) -> tuple[Any, tuple[Any, ...], tuple[str, ...] | None, tuple[dict[int, Any], ...]]:
    """(module to export, example tensors, keyword names or None, dynamic dims per input)."""
    import torch

    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    tokenizer: Any = getattr(model, "tokenizer", None)
    if type(module).__name__.endswith("ForCausalLM"):  # language models: logits of input_ids
        if example.data.dtype.kind in "iu":  # (n, T) token ids
            ids = torch.from_numpy(np.asarray(example.data, dtype=np.int64))
        else:
            ids = tokenizer([str(t) for t in example.data], return_tensors="pt")["input_ids"]
        return _Named(module, ("input_ids",), True), (ids,), ("input_ids",), ({0: batch, 1: seq},)
    if example.kind == "text" and tokenizer is not None:
        encoded = tokenizer([str(t) for t in example.data], padding=True, return_tensors="pt")
        names = tuple(encoded.keys())
        args = tuple(encoded[n] for n in names)
        return _Named(module, names, False), args, names, tuple({0: batch, 1: seq} for _ in names)
    x = torch.from_numpy(np.ascontiguousarray(example.data, dtype=np.float32))
    if getattr(model, "tokenizer", "absent") != "absent":  # an HF image model: pixel_values
        x = x.unsqueeze(1) if x.ndim == 3 else x
        return _Named(module, ("pixel_values",), False), (x,), ("pixel_values",), ({0: batch},)
    return module, (x,), None, ({0: batch},)


def _export(
    module: Any, args: tuple[Any, ...], dims: tuple[dict[int, Any], ...], path: Path
) -> None:
    import torch

    quiet = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "torch._dynamo")]
    levels = [lg.level for lg in quiet]
    try:
        for lg in quiet:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # exporter internals' deprecations, not the user's
            program = torch.onnx.export(
                module,
                args,
                dynamo=True,
                dynamic_shapes=_dims_by_name(module, dims),
                verbose=False,
            )
        if program is None:
            raise ModelLoadError("ONNX export returned no program.")
        program.save(str(path))
    except ModelLoadError:
        raise
    except Exception as exc:
        root: BaseException = exc
        while root.__cause__ is not None:  # the exporter wraps the error that says why
            root = root.__cause__
        text = str(root).strip()
        first = f"{type(root).__name__}: {text.splitlines()[0] if text else ''}"
        raise ModelLoadError(f"ONNX export failed: {first}") from exc
    finally:
        for lg, level in zip(quiet, levels, strict=True):
            lg.setLevel(level)


def _dims_by_name(module: Any, dims: tuple[dict[int, Any], ...]) -> Any:
    """Dynamic dims keyed by the forward's parameter names (a wrapper) or positional (a module)."""
    import inspect

    params = list(inspect.signature(module.forward).parameters)
    if params[: len(dims)] == [f"input_{i}" for i in range(len(dims))]:
        return {f"input_{i}": d for i, d in enumerate(dims)}
    return dims


def _opset(path: Path) -> str:
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return ",".join(str(o.version) for o in proto.opset_import if o.domain in ("", "ai.onnx"))
