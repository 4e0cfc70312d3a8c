"""``?input_shape=1,8,8``: the shape each example is given to a model that reads arrays.

Data holds what it holds, (N, 64) pixel rows say, and a CNN wants (N, 1, 8, 8). A ``torch:`` or
``onnx:`` reference (or ``compare --input-shape``, which names it for each of them) reshapes
every batch before the model sees it, and nothing else: a table model beside it keeps its rows.
"""

from __future__ import annotations

import math

import numpy as np

from whichmodel.errors import ConfigError, ModelReferenceError, TaskError
from whichmodel.refs import ModelRef
from whichmodel.sources.base import Inputs

#: The reference option, as the sources that read arrays declare it.
OPTION = {"input_shape": "the shape of one example, e.g. 1,8,8: each batch is reshaped to it"}
#: Kinds of references whose models read arrays (a live object: when it is a torch module).
ARRAY_KINDS = ("torch", "onnx")


def parse_shape(text: str, what: str) -> tuple[int, ...]:
    """``"1,8,8"`` -> ``(1, 8, 8)``.

    Raises:
        ModelReferenceError: not comma-separated positive integers (``what`` names the source).
    """
    try:
        shape = tuple(int(v) for v in text.split(","))
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise ModelReferenceError(
            f"The 'input_shape' parameter of {what} must be comma-separated positive integers, "
            f"e.g. 1,8,8. Got {text!r} instead."
        )
    return shape


def ref_shape(ref: ModelRef) -> tuple[int, ...] | None:
    """The ``?input_shape=`` of ``ref``, parsed, or None."""
    text = ref.param("input_shape")
    return None if text is None else parse_shape(text, str(ref))


def array_batch(inputs: Inputs, shape: tuple[int, ...] | None, ref: ModelRef, what: str) -> Inputs:
    """The batch a model that reads arrays is given: ``inputs`` reshaped to ``shape`` (see
    :func:`reshaped`).

    Raises:
        TaskError: the inputs are text, which ``ref`` (``what`` says what it is: "a PyTorch
            module") cannot read; or they do not fit ``shape``.
    """
    if inputs.kind == "text":
        raise TaskError(
            f"{ref} is {what} and cannot read text columns; tokenize the text first or use an "
            "hf: model."
        )
    return reshaped(inputs, shape, ref.name)


def reshaped(inputs: Inputs, shape: tuple[int, ...] | None, name: str) -> Inputs:
    """``inputs`` with each example reshaped to ``shape`` ((n, *shape) float32 arrays); as they
    are when ``shape`` is None.

    Raises:
        TaskError: the examples hold another number of values than ``shape`` does.
    """
    if shape is None:
        return inputs
    check_size(inputs, shape, f"the input shape {_text(shape)} of {name}", error=TaskError)
    data = np.asarray(inputs.data, dtype=np.float32).reshape(len(inputs), *shape)
    return Inputs("array", data, inputs.columns)


def check_size(
    inputs: Inputs, shape: tuple[int, ...], what: str, *, error: type[Exception] = ConfigError
) -> None:
    """Raise ``error`` unless each example of ``inputs`` holds as many numbers as ``shape``;
    ``what`` names the shape in the message (``--input-shape 1,8,8``)."""
    example = tuple(inputs.data.shape[1:])
    if inputs.kind in ("text", "audio") or inputs.data.dtype.kind not in "biuf":
        kind = inputs.kind if inputs.kind != "tabular" else "non-numeric columns"
        raise error(
            f"{what[:1].upper()}{what[1:]} reshapes numeric rows or arrays, and the data's inputs "
            f"are {kind}; leave it out."
        )
    if math.prod(example) != math.prod(shape):
        raise error(
            f"{what[:1].upper()}{what[1:]} holds {math.prod(shape)} values, but each example of "
            f"the data holds {math.prod(example)} (shape {example}); give a shape with as many "
            "values."
        )


def with_shape(ref: ModelRef, shape: tuple[int, ...]) -> ModelRef:
    """``ref`` with ``?input_shape=`` set to ``shape``, unless it names its own."""
    if ref.param("input_shape") is not None:
        return ref
    value = reshape_text(shape)
    raw = str(ref) + ("&" if "?" in str(ref) else "?") + f"input_shape={value}"
    return ModelRef(ref.kind, ref.target, (*ref.params, ("input_shape", value)), raw)


def reshape_text(shape: tuple[int, ...]) -> str:
    """``(1, 8, 8)`` -> ``1,8,8``, as ``--input-shape`` and ``?input_shape=`` write it."""
    return ",".join(map(str, shape))


def _text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"
