"""Weight files checked before any library reads them.

A safetensors header is a length and a JSON table of tensors; a library that trusts it allocates
what it claims. Here the claims are held against the file: the header fits in the file, every
tensor's byte range lies inside the data that follows, and its shape times its dtype's size is
that range. Pickled checkpoints (``pytorch_model.bin``) run code when unpickled, so they are
named here for the loaders to refuse without ``allow_pickle``.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

from whichmodel.errors import ModelLoadError

#: safetensors refuses headers over 100 MB; so does whichmodel, before reading one.
MAX_HEADER_BYTES = 100_000_000
# Bits per element of each safetensors dtype (F4 and F6 pack several elements per byte).
_DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16,
    "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "I64": 64, "U64": 64,
    "F64": 64, "C64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}
# Pickled weight files transformers would read (training_args.bin is read by spec.files, without
# unpickling).
PICKLED_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")


def safetensors_header(path: Path) -> dict[str, Any]:
    """The checked header of a safetensors file: tensor name -> {dtype, shape, data_offsets},
    without ``__metadata__``. Reads only the first 8 + header-length bytes.

    Raises:
        ModelLoadError: the header does not fit in the file, is not a JSON table of tensors, or
            claims a tensor larger than its byte range or outside the file.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            prefix = f.read(8)
            if len(prefix) < 8:
                raise _invalid(path, f"it holds {size} bytes, fewer than a header's 8")
            (length,) = struct.unpack("<Q", prefix)
            if length > min(size - 8, MAX_HEADER_BYTES):
                raise _invalid(path, f"its header claims {length:,} bytes; the file holds {size:,}")
            text = f.read(length)
    except OSError as exc:
        raise ModelLoadError(f"Cannot read {path}: {exc}") from exc
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid(path, f"its header is not JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise _invalid(path, "its header is not a JSON object")
    header.pop("__metadata__", None)
    data_bytes = size - 8 - length
    for name, entry in header.items():
        _check_tensor(path, name, entry, data_bytes)
    _check_tiling(path, header, data_bytes)
    return header


def _check_tensor(path: Path, name: str, entry: Any, data_bytes: int) -> None:
    try:
        dtype, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        ok = (isinstance(dtype, str) and all(isinstance(d, int) and d >= 0 for d in shape)
              and isinstance(begin, int) and isinstance(end, int))
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise _invalid(path, f"tensor {name!r} has no valid dtype, shape and data_offsets")
    if not 0 <= begin <= end <= data_bytes:
        raise _invalid(path, f"tensor {name!r} claims bytes {begin:,}-{end:,} of the "
                             f"{data_bytes:,} the file holds")
    bits = _DTYPE_BITS.get(dtype)
    needed = (math.prod(shape) * bits + 7) // 8 if bits else None
    if needed is not None and needed != end - begin:
        raise _invalid(path, f"tensor {name!r} of shape {shape} ({dtype}) needs {needed:,} "
                             f"bytes but is given {end - begin:,}")


def _check_tiling(path: Path, header: dict[str, Any], data_bytes: int) -> None:
    """The format's rule: the tensors' byte ranges cover the data, without gaps or overlaps."""
    end = 0
    for begin, stop in sorted(tuple(e["data_offsets"]) for e in header.values()):
        if begin != end:
            raise _invalid(path, f"its tensors leave a gap or overlap at byte {min(begin, end):,}")
        end = stop
    if end != data_bytes:
        raise _invalid(path, f"its tensors cover {end:,} of the {data_bytes:,} data bytes")


def _invalid(path: Path, what: str) -> ModelLoadError:
    return ModelLoadError(
        f"{path} is not a valid safetensors file: {what}. Re-save or re-download it."
    )


def check_safetensors(paths: list[Path]) -> None:
    """Check the header of every file in ``paths`` (see :func:`safetensors_header`)."""
    for path in paths:
        safetensors_header(path)


def pickled_weights(folder: Path) -> list[Path]:
    """The pickled weight files of a Hugging Face folder (``pytorch_model.bin``, shards, ...)."""
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix in PICKLED_SUFFIXES and p.name != "training_args.bin"
    )
