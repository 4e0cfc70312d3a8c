"""GGUF files (llama.cpp, Ollama) read for a spec sheet: the metadata and the tensor table, with
the ``gguf`` package's :class:`gguf.GGUFReader` (memory-mapped: no tensor data is read, nothing in
the file is executed).

The stock reader makes one numpy view per element of every metadata array, which takes seconds
on a real vocabulary (128k tokens, 280k merges); :class:`_FastReader` reads an array of numbers
as one view and walks an array of strings by its length prefixes only, decoding a string when it
is asked for, so a multi-GB model file is read in a fraction of a second.
"""

from __future__ import annotations

import functools
import struct
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from whichmodel.errors import MissingExtraError, ModelLoadError, ModelReferenceError

#: The first four bytes of every GGUF file.
MAGIC = b"GGUF"


@dataclass(frozen=True)
class Tensor:
    """One entry of the tensor table.

    Args:
        name: llama.cpp's name, e.g. ``blk.0.attn_q.weight``.
        ggml_type: the ggml type's name, e.g. ``F16``, ``Q8_0``, ``Q4_K``.
        shape: ggml order, fastest-varying first (``token_embd.weight`` is (hidden, vocab)).
        elements: values in the tensor.
        bytes: bytes of its data in the file (quantized blocks included, padding not).
    """

    name: str
    ggml_type: str
    shape: tuple[int, ...]
    elements: int
    bytes: int


@dataclass(frozen=True)
class GGUFFile:
    """What a spec sheet reads of a GGUF file.

    Args:
        path: the file.
        version: the GGUF format version (2 or 3).
        metadata: key -> value: numbers, booleans and strings as Python values, arrays of numbers
            as numpy arrays, arrays of strings as :class:`Strings` (decoded on access).
        tensors: the tensor table, in file order.
        file_bytes: the file's size.
    """

    path: Path
    version: int
    metadata: Mapping[str, Any]
    tensors: tuple[Tensor, ...]
    file_bytes: int


class Strings(Sequence[str]):
    """An array of strings in the memory-mapped file, decoded (UTF-8, bad bytes replaced) only
    when indexed: a vocabulary of 128k tokens costs its offsets, not 128k Python strings."""

    def __init__(self, data: Any, starts: list[int], order: str) -> None:
        self._data, self._starts, self._length = data, starts, struct.Struct(order + "Q")

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        start = self._starts[index]
        (size,) = self._length.unpack_from(self._data, start)
        return bytes(self._data[start + 8 : start + 8 + size]).decode("utf-8", "replace")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


def read_gguf(path: Path) -> GGUFFile:
    """The metadata and tensor table of the GGUF file at ``path``.

    Raises:
        ModelReferenceError: no file at ``path``.
        MissingExtraError: the ``gguf`` package is not installed.
        ModelLoadError: the file is not GGUF, or is truncated or corrupt (one line saying so).
    """
    if not path.is_file():
        raise ModelReferenceError(f"No GGUF file at {path}.")
    try:
        import gguf  # noqa: F401 (the reader below subclasses its GGUFReader)
    except ImportError as exc:
        raise MissingExtraError("gguf", "gguf") from exc
    with path.open("rb") as f:
        head = f.read(4)
    if head != MAGIC:
        raise ModelLoadError(
            f"{path} is not a GGUF file: it starts with {head!r}, not {MAGIC!r}. Pass a .gguf "
            "model file written by llama.cpp's converter or the gguf package."
        )
    try:
        reader = _reader_class()(path)
        return GGUFFile(path, _version(reader), _metadata(reader), _tensors(reader),
                        path.stat().st_size)
    except Exception as exc:  # the parser's ValueError, IndexError, KeyError ... on a bad file
        why = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ModelLoadError(
            f"{path} is not a readable GGUF file (truncated or corrupt?): {why}. "
            "Re-download or re-convert it."
        ) from exc


def _version(reader: Any) -> int:
    return int(reader.fields["GGUF.version"].parts[0][0])


def _tensors(reader: Any) -> tuple[Tensor, ...]:
    return tuple(
        Tensor(t.name, t.tensor_type.name, tuple(int(d) for d in t.shape), int(t.n_elements),
               int(t.n_bytes))
        for t in reader.tensors
    )


def _metadata(reader: Any) -> dict[str, Any]:
    """Every key/value field (the reader's own ``GGUF.*`` header fields aside) as a plain value."""
    from gguf import GGUFValueType

    out: dict[str, Any] = {}
    for name, field in reader.fields.items():
        if name.startswith("GGUF."):
            continue
        if not field.types or not field.data:
            continue
        kind, value = field.types[0], field.parts[field.data[0]]
        if kind == GGUFValueType.STRING:
            out[name] = bytes(value).decode("utf-8", "replace")
        elif kind == GGUFValueType.ARRAY:
            out[name] = value  # numbers: one numpy array; strings: Strings (see _FastReader)
        else:
            out[name] = value[0].item()
    return out


@functools.cache
def _reader_class() -> Any:
    """:class:`gguf.GGUFReader` with arrays read whole (made once, when gguf is first needed)."""
    import numpy as np
    from gguf import GGUFReader, GGUFValueType

    class _FastReader(GGUFReader):
        """An array field becomes parts ``[item type, length, values]`` with ``data == [2]``,
        ``values`` being one numpy view (numbers) or a :class:`Strings` (strings); every other
        field is the stock reader's. Nested arrays are kept as None."""

        def _get_field_parts(self, orig_offs: int, raw_type: int) -> Any:
            if raw_type != GGUFValueType.ARRAY:
                return super()._get_field_parts(orig_offs, raw_type)
            item_type, count = self._get(orig_offs, np.uint32), self._get(orig_offs + 4, np.uint64)
            offs, n = orig_offs + 12, int(count[0])  # IndexError when the file ends here
            sub = GGUFValueType(int(item_type[0]))
            numbers = self.gguf_scalar_to_np.get(sub)
            if numbers is not None:
                values: Any = self._get(offs, numbers, n)
                if len(values) != n:
                    raise ValueError(f"an array of {n} numbers runs past the end of the file")
                size = int(values.nbytes)
            elif sub == GGUFValueType.STRING:
                values, size = self._strings(offs, n)
            else:
                raise ValueError(f"nested arrays ({sub.name}) are not read")
            return 12 + size, [item_type, count, values], [2], [GGUFValueType.ARRAY, sub]

        def _strings(self, offs: int, n: int) -> tuple[Strings, int]:
            """The ``n`` length-prefixed strings from ``offs``, and the bytes they take."""
            order = "<" if (sys.byteorder == "little") == (self.byte_order == "I") else ">"
            data: Any = self.data  # a numpy memmap: a buffer struct reads
            length, end = struct.Struct(order + "Q"), len(data)
            if n * 8 > end - offs:
                raise ValueError(f"an array of {n} strings runs past the end of the file")
            starts, at = [], offs
            for _ in range(n):
                starts.append(at)
                at += 8 + length.unpack_from(data, at)[0]  # struct.error past the end
            if at > end:
                raise ValueError(f"an array of {n} strings runs past the end of the file")
            return Strings(data, starts, order), at - offs

    return _FastReader
