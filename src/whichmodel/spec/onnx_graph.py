"""Spec sheets of ONNX files: the graph read with the ``onnx`` package (no runtime): initializer
sizes and dtypes, operator inventory, family, and matmul/conv FLOPs from inferred shapes.

Tensors stored as external data are read only from files inside the model's folder: a location
that is absolute, climbs out (``../secret``) or is a link to elsewhere is refused before anything
reads it, and a relative one is resolved against the model's folder, never the working folder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whichmodel.errors import MissingExtraError, ModelLoadError, ModelReferenceError
from whichmodel.refs import ModelRef
from whichmodel.spec.base import Compute, Fact, Identity, SpecSheet, Storage, unknown
from whichmodel.spec.compute import memory

if TYPE_CHECKING:
    from whichmodel.spec.options import InspectOptions

_OP_FAMILY = (
    (("TreeEnsembleClassifier", "TreeEnsembleRegressor", "TreeEnsemble"), "tree ensemble"),
    (("LinearClassifier", "LinearRegressor"), "linear"),
    (("Attention", "MultiHeadAttention", "Softmax"), "transformer"),
    (("LSTM", "GRU", "RNN"), "RNN/LSTM/GRU"),
    (("Conv", "ConvTranspose"), "CNN"),
    (("Gemm", "MatMul"), "MLP"),
)


def load_graph(path: Path) -> Any:
    """The ONNX model at ``path``, checked. Raises a one-line error for a broken file."""
    try:
        import onnx
    except ImportError as exc:
        raise MissingExtraError("onnx", "onnx") from exc
    if not path.is_file():
        raise ModelReferenceError(f"No ONNX file at {path}.")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf DecodeError: a broken file
        raise _broken(path, exc) from exc
    _check_external_data(model, path)
    try:
        # By path, so that external data is looked up next to the model, not in the working dir.
        onnx.checker.check_model(str(path))
    except Exception as exc:  # onnx ValidationError
        raise _broken(path, exc) from exc
    return model


def _broken(path: Path, exc: Exception) -> ModelLoadError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelLoadError(
        f"{path} is not a valid ONNX model (truncated or corrupt?): {first[:200]}. "
        "Re-export or re-download it."
    )


def _check_external_data(model: Any, path: Path) -> None:
    """Every external-data location names a regular file inside the model's folder (links
    resolved), and the bytes it claims are in that file.

    Raises:
        ModelLoadError: a location is absolute, leaves the folder, or claims missing bytes.
    """
    import onnx

    folder = path.parent.resolve()
    for tensor in _all_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {entry.key: entry.value for entry in tensor.external_data}
        location = info.get("location", "")
        target = (folder / location).resolve()
        if not location or Path(location).is_absolute() or not target.is_relative_to(folder):
            raise ModelLoadError(
                f"{path}: tensor {tensor.name!r} keeps its data at {location!r}, outside the "
                f"model's folder {folder}; whichmodel reads external data only from inside it. "
                "Put the data file next to the model."
            )
        try:
            end = int(info.get("offset") or 0) + int(info.get("length") or 0)
        except ValueError:
            end = -1
        if not target.is_file() or end < 0 or end > target.stat().st_size:
            raise ModelLoadError(
                f"{path}: tensor {tensor.name!r} keeps its data in {location!r}, which is "
                "missing or shorter than the tensor claims. Re-export or re-download the model."
            )


def _all_tensors(model: Any) -> Iterator[Any]:
    """Initializers, sparse initializers and tensor attributes of every graph, subgraph and
    function of ``model``."""
    graphs = [model.graph]
    nodes = [node for function in model.functions for node in function.node]
    while graphs or nodes:
        if graphs:
            graph = graphs.pop()
            yield from graph.initializer
            for sparse in graph.sparse_initializer:
                yield from (sparse.values, sparse.indices)
            nodes.extend(graph.node)
            continue
        for attribute in nodes.pop().attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                graphs.append(attribute.g)
            graphs.extend(attribute.graphs)


def inspect_onnx(ref: ModelRef, opts: InspectOptions) -> SpecSheet:
    """Read the graph: parameters are the initializers, layers the operators."""
    import onnx
    from onnx import numpy_helper

    path = Path(ref.target)
    model = load_graph(path)
    graph = model.graph
    dtypes: Counter[str] = Counter()
    total = 0
    for init in graph.initializer:
        n = 1
        for d in init.dims:
            n *= int(d)
        total += n
        dtypes[str(onnx.helper.tensor_dtype_to_np_dtype(init.data_type))] += n
    ops = dict(Counter(node.op_type for node in graph.node).most_common())
    folder = str(path.parent)  # external data (checked by load_graph) lives next to the model
    zeros = sum(int((numpy_helper.to_array(i, base_dir=folder) == 0).sum())
                for i in graph.initializer if i.data_type == onnx.TensorProto.FLOAT)
    floats = dtypes.get("float32", 0)
    from whichmodel.spec.options import canonical_dtype

    stored = canonical_dtype(max(dtypes, key=lambda k: dtypes[k])) if dtypes else None
    size = _size(total, stored)
    storage = Storage(
        files=Fact([path.name], "weights"), file_bytes=Fact(path.stat().st_size, "weights"),
        dtypes=Fact(dict(dtypes), "graph"), quantization=_quant(ops),
        sparsity=Fact(zeros / floats, "graph", "float32 initializers") if floats
        else unknown("no float32 initializers"),
    )
    family = _family(ops)
    opset = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
    dtype = canonical_dtype(opts.dtype) or stored or "fp32"
    return SpecSheet(
        identity=Identity(ref.name, str(ref), Fact(f"onnx (opset {opset})", "graph"),
                          Fact(graph.name or path.stem, "graph"), family, Fact(ops, "graph")),
        size=size,
        compute=_flops(model),
        memory=memory(size, None, str(family.value), context=None, dtype=dtype, batch=opts.batch),
        storage=storage,
    )


def _size(total: int, stored: str | None) -> Any:
    from whichmodel.spec.base import DTYPE_BYTES, Size

    at = {"stored": int(total * DTYPE_BYTES.get(stored or "fp32", 4))}
    at.update({k: int(total * DTYPE_BYTES[k]) for k in ("fp32", "bf16", "int8", "int4")})
    n: Fact[int] = Fact(total, "graph", "elements of the graph's initializers")
    none: Fact[Any] = Fact(0, "graph", "not a mixture of experts")
    return Size(n, n, unknown("embeddings are not marked in a graph"),
                unknown("embeddings are not marked in a graph"), none, none, n,
                Fact(stored, "graph"), Fact(at, "formula"))


def _quant(ops: dict[str, int]) -> Fact[str]:
    q = [op for op in ops if op in ("QuantizeLinear", "DequantizeLinear", "MatMulInteger",
                                     "QLinearMatMul", "QLinearConv", "DynamicQuantizeLinear",
                                     "MatMulNBits")]
    return Fact(", ".join(q) if q else "none", "graph", "quantization operators")


def _family(ops: dict[str, int]) -> Fact[str]:
    found = [fam for names, fam in _OP_FAMILY if any(op in names for op in ops)]
    if "transformer" in found and "MatMul" not in ops and "Attention" not in ops:
        found.remove("transformer")  # a softmax head alone is not attention
    if found:
        return Fact(found[0], "graph", "from the operator types")
    return unknown("no recognised operators")


def _flops(model: Any) -> Compute:
    """2·M·K·N per MatMul/Gemm and 2·K·C_in/groups per Conv output, from inferred shapes with
    dynamic dimensions (the batch) taken as 1. Other operators are not counted."""
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model)
    shapes: dict[str, list[int]] = {}
    for value in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
        dims = value.type.tensor_type.shape.dim
        shapes[value.name] = [d.dim_value if d.dim_value > 0 else 1 for d in dims]
    for init in model.graph.initializer:
        shapes[init.name] = [int(d) for d in init.dims]
    total, missing = 0, 0
    for node in model.graph.node:
        if node.op_type not in ("MatMul", "Gemm", "Conv"):
            continue
        a, b = (shapes.get(n) for n in node.input[:2])
        out = shapes.get(node.output[0])
        if not a or not b or not out:
            missing += 1
            continue
        if node.op_type == "Conv":
            per_out = 2 * b[1] * _prod(b[2:])  # kernel (C_out, C_in/groups, kH, kW)
            total += per_out * _prod(out)
        else:
            k = a[-1]
            total += 2 * k * _prod(out)
    note = "MatMul/Gemm/Conv from inferred shapes, dynamic dims = 1; other ops not counted"
    if missing:
        note += f"; {missing} ops without shapes skipped"
    flops: Fact[int] = Fact(total, "formula", note)
    return Compute(flops, "example", None, None, unknown(""), None)


def _prod(xs: list[int]) -> int:
    out = 1
    for x in xs:
        out *= int(x)
    return out
