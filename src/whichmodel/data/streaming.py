"""Large data files, read batch by batch so memory stays flat as the data grows.

A Parquet, CSV or JSONL file bigger than :data:`STREAM_BYTES` is not loaded whole: only its label
column is read up front, and :class:`StreamedInputs` decodes input rows when ``take`` asks for
them, from a forward-only window over the file's batches (Parquet record batches; CSV blocks from
pyarrow's streaming ``open_csv`` reader; JSONL chunks of lines from pandas' ``read_json`` with
``chunksize``, the parser of a whole read). compare asks for batches in ascending order, so the
file is read once. Reading ``.data`` still works (it decodes every row, once), for code that needs
all inputs at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from whichmodel.data.tables import check_unique_columns, check_unique_keys
from whichmodel.errors import DataError
from whichmodel.sources.base import Inputs

STREAM_BYTES = 256 * 2**20  # data files above this are streamed
_READ_ROWS = 1024  # rows per record batch read from the file
_SPAN_ROWS = 8192  # rows ``take`` decodes at once at most (beyond the rows it keeps)
_CSV_BLOCK_BYTES = 1 << 20  # bytes of CSV text pyarrow parses per block

# (columns, first row wanted) -> (the row the batches start at, <= first; the file's rows of
# those columns, batch after batch). Parquet skips whole row groups and JSONL skips lines
# unparsed, so a jump forward or back does not decode the rows before it; CSV starts at 0.
Opener = Callable[[list[str], int], tuple[int, Iterator[pd.DataFrame]]]
_JUMP_ROWS = 65_536  # a jump this far past the window reopens the file there, when it can skip


class StreamedInputs(Inputs):
    """Inputs of a data file, decoded on demand (see the module docstring).

    Args:
        path: the data file.
        columns: the input columns.
        n_rows: the file's row count.
        opener: reads the file's batches from the start (default: Parquet record batches).
    """

    _path: Path
    _n: int
    _open: Opener
    _window: tuple[int, pd.DataFrame] | None  # (first row held, the rows held)
    _batches: Iterator[Any] | None  # the file's record batches, read forward
    _all: np.ndarray | None

    def __init__(
        self, path: Path, columns: tuple[str, ...], n_rows: int, opener: Opener | None = None
    ) -> None:
        object.__setattr__(self, "columns", columns)  # Inputs' fields are frozen
        self._path, self._n = path, n_rows
        self._open = opener or (lambda cols, first: _parquet_batches(path, cols, first))
        self._window, self._batches, self._all = None, None, None
        object.__setattr__(self, "kind", self._rows(0, min(n_rows, 1)).kind)

    def __setattr__(self, name: str, value: Any) -> None:  # internal state only
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"StreamedInputs({self._path!s}, columns={self.columns}, rows={self._n})"

    def __len__(self) -> int:
        return int(self._n)

    @property
    def data(self) -> np.ndarray:
        """Every row's inputs, decoded once (not memory-flat: prefer :meth:`take`)."""
        if self._all is None:
            self._all = self._rows(0, self._n).data
        return np.asarray(self._all)

    def take(self, index: np.ndarray | slice) -> Inputs:
        """The rows at ``index``, read in spans of at most :data:`_SPAN_ROWS` rows: a sample
        spread over the whole file holds the rows it asks for, not every row between them."""
        positions = _positions(index, self._n)
        if len(positions) == 0:
            return self._rows(0, 0)
        order = np.argsort(positions, kind="stable")
        ascending = positions[order]
        pieces, start = [], 0
        while start < len(ascending):
            first = int(ascending[start])
            end = int(np.searchsorted(ascending, first + _SPAN_ROWS, side="left"))
            span = self._rows(first, int(ascending[end - 1]) + 1)
            pieces.append(span.take(ascending[start:end] - first))
            start = end
        if len(pieces) == 1 and np.array_equal(order, np.arange(len(order))):
            return pieces[0]
        data = np.concatenate([p.data for p in pieces])[np.argsort(order, kind="stable")]
        return Inputs(pieces[0].kind, data, self.columns, pieces[0].dtypes)

    def _rows(self, first: int, last: int) -> Inputs:
        """Rows [first, last) as in-memory Inputs, moving the window forward over the file
        (reopening it at or before ``first`` when asked for rows behind the window, or far
        ahead of it where the format can skip). Rows before ``first`` are dropped
        as soon as they are read, so the window holds at most last - first + 1024 rows."""
        window_end = -1 if self._window is None else self._window[0] + len(self._window[1])
        if self._window is None or first < self._window[0] or first > window_end + _JUMP_ROWS:
            begin, reopened = self._open(list(self.columns), first)
            if self._window is None or first < self._window[0] or begin > window_end:
                self._batches, self._window = reopened, (begin, pd.DataFrame())
        start, frame = self._window
        batches = self._batches
        assert batches is not None
        while True:
            if first > start:  # drop the rows before first: frame holds [start, start + len)
                dropped = min(first - start, len(frame))
                frame, start = frame.iloc[dropped:], start + dropped
            if start == first and start + len(frame) >= last:
                break
            batch = next(batches, None)
            if batch is None:
                raise DataError(f"{self._path} has fewer rows than its metadata says.")
            frame = (
                pd.concat([frame, batch], ignore_index=True)
                if len(frame)
                else batch.reset_index(drop=True)
            )
        self._window = (start, frame)
        wanted = frame.iloc[: last - first].reset_index(drop=True)
        from whichmodel.data.tables import table_inputs

        return table_inputs(wanted, list(self.columns)) if len(wanted) else _empty(self)


def _parquet_batches(
    path: Path, columns: list[str], first: int
) -> tuple[int, Iterator[pd.DataFrame]]:
    import pyarrow.parquet as pq

    # pyarrow's defaults (pre_buffer, threads) read ahead across row groups: measured
    # 308 MiB held for a 243 MiB file, against 105 MiB with these (one row group).
    reader = pq.ParquetFile(path, pre_buffer=False)
    sizes = [reader.metadata.row_group(g).num_rows for g in range(reader.num_row_groups)]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    group = max(0, int(np.searchsorted(starts, first, side="right")) - 1)  # holds row first
    batches = reader.iter_batches(
        batch_size=_READ_ROWS,
        row_groups=range(group, reader.num_row_groups),
        columns=columns,
        use_threads=False,
    )
    return int(starts[group]), (b.to_pandas() for b in batches)


def _empty(like: Inputs) -> Inputs:
    return Inputs(like.kind, np.empty((0,), dtype=object), like.columns)


def read_parquet_streamed(
    path: Path,
    *,
    input_cols: list[str] | None,
    label_col: str | None,
    exclude: Sequence[str] = (),
) -> tuple[StreamedInputs, np.ndarray, tuple[str, ...]] | None:
    """(inputs, labels, input columns) of a large Parquet file, or None when it is small enough
    to read whole (then the caller reads it as usual)."""
    if path.suffix.lower() not in (".parquet", ".pq") or path.stat().st_size <= STREAM_BYTES:
        return None
    import pyarrow.parquet as pq

    try:
        reader = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read {path} as parquet: {exc}") from exc
    chosen = _chosen_columns(path, list(reader.schema_arrow.names), input_cols, label_col, exclude)
    n_rows = reader.metadata.num_rows
    if n_rows == 0:
        raise DataError(f"{path} has no rows.")
    if label_col is None:
        labels = np.full(n_rows, None, dtype=object)
    else:
        labels = reader.read(columns=[label_col]).column(0).to_numpy(zero_copy_only=False)
    return StreamedInputs(path, tuple(chosen), n_rows), labels, tuple(chosen)


def read_streamed(
    path: Path,
    *,
    input_cols: list[str] | None,
    label_col: str | None,
    exclude: Sequence[str] = (),
) -> tuple[StreamedInputs, np.ndarray, tuple[str, ...]] | None:
    """(inputs, labels, input columns) of a large Parquet, CSV or JSONL file, or None when it is
    small enough to read whole (then the caller reads it as usual). ``exclude``: columns that
    are never default inputs."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return read_parquet_streamed(
            path, input_cols=input_cols, label_col=label_col, exclude=exclude
        )
    if suffix not in (".csv", ".jsonl", ".json") or path.stat().st_size <= STREAM_BYTES:
        return None
    csv = suffix == ".csv"
    columns = _csv_header(path) if csv else _jsonl_header(path)
    if not csv:
        check_unique_keys(path)  # the chunks' frames keep one value of a repeated key
    chosen = _chosen_columns(path, columns, input_cols, label_col, exclude)
    opener: Opener = (
        (lambda cols, first: (0, _csv_batches(path, cols)))
        if csv
        else (lambda cols, first: (first, _jsonl_batches(path, cols, first)))
    )
    if csv and label_col is not None:  # pandas, for the dtype a whole read gives
        try:
            column = pd.read_csv(path, usecols=[label_col], encoding="utf-8")[label_col]
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path} is not UTF-8 text (byte {exc.start}); re-save it as UTF-8."
            ) from exc
    else:  # the label column (without one, the first column: the row count) in one pass
        kept = label_col if label_col is not None else chosen[0]
        parts = [b[kept] for b in opener([kept], 0)[1]]
        column = pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=object)
    if len(column) == 0:
        raise DataError(f"{path} has no rows.")
    labels = (
        column.to_numpy() if label_col is not None else np.full(len(column), None, dtype=object)
    )
    return StreamedInputs(path, tuple(chosen), len(column), opener), labels, tuple(chosen)


def _chosen_columns(
    path: Path,
    columns: list[str],
    input_cols: list[str] | None,
    label_col: str | None,
    exclude: Sequence[str] = (),
) -> list[str]:
    check_unique_columns(path, columns)
    if label_col is not None and label_col not in columns:
        raise DataError(
            f"{path.name} has no label column '{label_col}'; its columns are "
            f"{', '.join(repr(c) for c in columns[:8])}. Name the right one with --label-col."
        )
    chosen = input_cols or [c for c in columns if c != label_col and c not in exclude]
    missing = [c for c in chosen if c not in columns]
    if missing:
        raise DataError(f"{path.name} has no column {missing[0]!r}.")
    if not chosen:
        raise DataError(f"{path.name} has no input columns besides '{label_col}'.")
    return chosen


def _csv_reader(path: Path, columns: list[str] | None) -> Any:
    """pyarrow's streaming CSV reader; integer columns read as float64, since a block's type is
    inferred from the first block and a later block may hold fractions."""
    import pyarrow as pa
    import pyarrow.csv as pv

    read = pv.ReadOptions(block_size=_CSV_BLOCK_BYTES, use_threads=False)
    try:
        probe = pv.open_csv(path, read_options=read)
        if any(pa.types.is_binary(f.type) for f in probe.schema):  # pyarrow's non-UTF-8 text
            raise DataError(f"{path} is not UTF-8 text; re-save it as UTF-8.")
        types = {f.name: pa.float64() for f in probe.schema if pa.types.is_integer(f.type)}
        convert = pv.ConvertOptions(include_columns=columns or [], column_types=types)
        return pv.open_csv(path, read_options=read, convert_options=convert)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"Cannot read {path} as csv: {str(exc).splitlines()[0]}") from exc


def _csv_header(path: Path) -> list[str]:
    return [str(n) for n in _csv_reader(path, None).schema.names]


def _csv_batches(path: Path, columns: list[str]) -> Iterator[pd.DataFrame]:
    import pyarrow as pa

    reader = _csv_reader(path, columns)
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            raise DataError(f"Cannot read {path} as csv: {str(exc).splitlines()[0]}") from exc
        yield batch.to_pandas()


def _jsonl_chunks(path: Path, first: int = 0) -> Iterator[pd.DataFrame]:
    """Chunks of lines parsed by pandas, from row ``first`` (the lines before it are skipped
    unparsed; blank lines are not rows, as pandas reads them)."""
    try:
        with path.open("rb") as f:
            skipped = 0
            while skipped < first:
                line = f.readline()
                if not line:
                    return
                skipped += bool(line.strip())
            with pd.read_json(f, lines=True, chunksize=_READ_ROWS, encoding="utf-8") as reader:
                yield from reader
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not UTF-8 text (byte {exc.start}); re-save it as UTF-8."
        ) from exc
    except ValueError as exc:
        raise DataError(f"Cannot read {path} as jsonl: {str(exc).splitlines()[0]}") from exc


def _jsonl_header(path: Path) -> list[str]:
    first = next(_jsonl_chunks(path), None)
    if first is None:
        raise DataError(f"{path} has no rows.")
    return [str(c) for c in first.columns]


def _jsonl_batches(path: Path, columns: list[str], first: int = 0) -> Iterator[pd.DataFrame]:
    for chunk in _jsonl_chunks(path, first):
        missing = [c for c in columns if c not in chunk.columns]
        if missing:
            raise DataError(f"{path.name}: rows from {chunk.index[0]} have no {missing[0]!r}.")
        yield chunk[columns]


def _positions(index: np.ndarray | slice, n: int) -> np.ndarray:
    """The row numbers ``np.arange(n)[index]`` names, without making that arange (8 MB per
    batch of a million-row file)."""
    if isinstance(index, slice):
        return np.arange(*index.indices(n))
    if np.asarray(index).dtype == bool:
        if len(index) != n:
            raise IndexError(f"a mask of {len(index)} values for {n} rows")
        return np.flatnonzero(index)
    idx = np.asarray(index, dtype=np.int64).reshape(-1)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"row index out of range for {n} rows")
    return np.where(idx < 0, idx + n, idx)
