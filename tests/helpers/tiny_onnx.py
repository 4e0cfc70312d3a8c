"""A tiny ONNX graph built offline with the ``onnx`` package (no exporter, no runtime)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MLP_PARAMETERS = 64 * 16 + 16 * 10


def save_onnx_mlp(path: Path) -> Path:
    """Save a 64 -> 16 -> 10 MLP (MatMul, Relu, MatMul; seeded random weights, no biases,
    :data:`MLP_PARAMETERS` in all) with a dynamic batch axis to ``path``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.normal(size=(64, 16)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(size=(16, 10)).astype(np.float32), "w2")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("MatMul", ["r", "w2"], ["y"])],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])],
        [w1, w2],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path
