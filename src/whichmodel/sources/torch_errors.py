"""PyTorch's errors as a user can act on them: the shapes behind a shape error, the keys behind a
state-dict mismatch, the batch size behind an export guard.

PyTorch says "mat1 and mat2 shapes cannot be multiplied (8x8 and 64x16)" or "Guard failed:
x.size()[0] == 4"; true, but it names neither the data's shape nor what to change. These
functions turn such an error into one line that does, and leave any other error alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from whichmodel.errors import TaskError

# Messages of PyTorch's shape checks (matmul, conv, view, broadcasting, export guards); an error
# that matches none is the module's own and stays as it is.
_SHAPE_ERROR = re.compile(
    r"shapes cannot be multiplied|size mismatch|must match the size|to have \d+ channels"
    r"|input to conv|Expected \d+D|is invalid for input of size|Guard failed"
)
_GUARD = re.compile(r"Guard failed: \w+\.size\(\)\[(\d+)\] == (\d+)")
# The layers whose expected input is read from their attributes: name -> dimensions after N.
_CONV_DIMS = {"Conv1d": 2, "Conv2d": 3, "Conv3d": 4}
#: Keys of each kind a state-dict mismatch lists; the count says how many there are in all.
SHOWN_KEYS = 3


def shape_error(
    exc: BaseException, module: Any, shape: tuple[int, ...], name: str
) -> TaskError | None:
    """The TaskError that explains ``exc``, raised by ``module`` on a batch of ``shape``, or None
    when ``exc`` is not a shape error. A shape error is the data's, not one example's: every
    example has the batch's shape, so the run stops at once with this line.

    >>> from torch import nn
    >>> exc = RuntimeError("mat1 and mat2 shapes cannot be multiplied (80x8 and 64x16)")
    >>> print(shape_error(exc, nn.Linear(64, 16), (10, 8, 8), "mlp"))  # doctest: +ELLIPSIS
    mlp got inputs of shape (N, 8, 8); its first layer (Linear) expects (N, 64): ... (...).
    """
    text = str(exc).strip()
    if not _SHAPE_ERROR.search(text):
        return None
    original = text.splitlines()[0]
    given = _shape_text(shape[1:])
    guard = _GUARD.search(text)
    if guard and guard.group(1) == "0" and int(guard.group(2)) != shape[0]:
        return TaskError(
            f"{name} was exported with a static batch of {guard.group(2)}, and was given a batch "
            f"of {shape[0]}; re-export with a dynamic batch dimension (torch.export.Dim) "
            f"({original})."
        )
    layer = first_layer(module)
    expects, fix = "", "?input_shape= (or --input-shape) with the shape of one example"
    if guard:  # an exported graph has no layers to read; its guard names the size it wants
        dim, size = guard.groups()
        expects = f"; it was exported for inputs whose dimension {dim} is {size}"
    if layer is not None and not _fits(layer, shape):
        expects = f"; its first layer ({layer[0]}) expects {_shape_text(layer[1])}"
        if (hint := _reshape_hint(layer, shape)) is not None:
            value = ",".join(map(str, hint))
            fix = f"?input_shape={value} (or --input-shape {value} for every model)"
    return TaskError(
        f"{name} got inputs of shape {given}{expects}: reshape the data or pass {fix} "
        f"({original})."
    )


def first_layer(module: Any) -> tuple[str, tuple[int | None, ...]] | None:
    """(kind, expected shape of one example, None where any size goes) of the first Linear or
    ConvNd ``module`` registers, or None. Registration order is forward order for
    ``nn.Sequential`` and for most hand-written modules; TorchScript keeps the class names."""
    for sub in module.modules():
        kind = str(getattr(sub, "original_name", None) or type(sub).__name__)
        if kind == "Linear" and isinstance(getattr(sub, "in_features", None), int):
            return kind, (sub.in_features,)
        if kind in _CONV_DIMS and isinstance(getattr(sub, "in_channels", None), int):
            return kind, (sub.in_channels, *[None] * (_CONV_DIMS[kind] - 1))
    return None


def _fits(layer: tuple[str, tuple[int | None, ...]], shape: tuple[int, ...]) -> bool:
    kind, wanted = layer
    example = shape[1:]
    if kind == "Linear":  # a Linear takes any leading dimensions
        return bool(example) and example[-1] == wanted[0]
    return len(example) == len(wanted) and example[0] == wanted[0]


def _reshape_hint(
    layer: tuple[str, tuple[int | None, ...]], shape: tuple[int, ...]
) -> tuple[int, ...] | None:
    """The one example shape the first layer takes with the same number of values, when there is
    one: 64 values for Linear(64) or Conv1d(1) -> (64,) / (1, 64); Conv2d(1) -> (1, 8, 8) when
    square."""
    kind, wanted = layer
    size = 1
    for d in shape[1:]:
        size *= d
    channels = wanted[0] or 1
    if kind == "Linear":
        return (size,) if size == channels else None
    if size % channels:
        return None
    rest = size // channels
    if kind == "Conv1d":
        return channels, rest
    side = round(rest ** (1 / (len(wanted) - 1)))
    if side ** (len(wanted) - 1) != rest:
        return None
    return channels, *[side] * (len(wanted) - 1)


def _shape_text(example: tuple[int | None, ...]) -> str:
    return "(" + ", ".join(["N", *("*" if d is None else str(d) for d in example)]) + ")"


def state_dict_mismatch(module: Any, state: Mapping[str, Any]) -> str | None:
    """What keeps ``state`` from loading into ``module``, in one line: the missing, unexpected
    and mis-sized keys (the first :data:`SHOWN_KEYS` of each, with their sizes), or None when
    the keys and sizes all match (the error is another one).

    >>> from torch import nn
    >>> print(state_dict_mismatch(nn.Linear(64, 16), nn.Linear(32, 16).state_dict()))
    1 mis-sized key: weight [16, 32] in the file, [16, 64] in the module
    """
    expected = {k: _size(v) for k, v in module.state_dict().items()}
    given = {str(k): _size(v) for k, v in state.items()}
    missing = [f"{k} {expected[k]}" for k in expected if k not in given]
    unexpected = [f"{k} {given[k]}" for k in given if k not in expected]
    missized = [
        f"{k} {given[k]} in the file, {expected[k]} in the module"
        for k in expected
        if k in given and given[k] != expected[k]
    ]
    kinds = ((missing, "missing"), (unexpected, "unexpected"), (missized, "mis-sized"))
    parts = [_listed(keys, what) for keys, what in kinds if keys]
    return "; ".join(parts) or None


def _listed(keys: list[str], what: str) -> str:
    more = f", and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
    plural = "s" if len(keys) > 1 else ""
    return f"{len(keys)} {what} key{plural}: " + ", ".join(keys[:SHOWN_KEYS]) + more


def _size(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return "[" + ", ".join(str(d) for d in shape) + "]" if shape is not None else "(not a tensor)"
