"""Reading a table (CSV, JSONL or Parquet file) and turning its columns into model inputs.

Input columns decide the input kind:
- one column of lists/arrays (Parquet list column, JSONL arrays) -> ``array`` of shape (n, *shape);
- one column of strings -> ``text``;
- otherwise -> ``tabular`` (n, d), float64 when every column is numeric.

These are the primitives every reader shares (:mod:`.dataset`, :mod:`.streaming`, :mod:`.audio`);
they import no other reader, so the readers form no cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from whichmodel.errors import DataError, brief
from whichmodel.sources.base import Inputs

READERS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, JSONL or Parquet file into a DataFrame.

    Raises:
        DataError: missing, empty, unreadable or of an unknown format.
    """
    p = Path(path)
    check_path(p)
    if not p.is_file():
        raise DataError(f"No data file at {p}.")
    fmt = READERS.get(p.suffix.lower())
    if fmt is None:
        raise DataError(
            f"Cannot read {p.name}: expected a .csv, .jsonl or .parquet file, got '{p.suffix}'."
        )
    if p.stat().st_size == 0:
        raise DataError(f"{p} is empty.")
    try:
        if fmt == "csv":
            frame = pd.read_csv(p, encoding="utf-8")
            check_unique_columns(p, _csv_header(p))  # pandas renamed a repeated one 'p.1'
        elif fmt == "jsonl":
            frame = pd.read_json(p, lines=True, encoding="utf-8")
            check_unique_keys(p)  # pandas kept the last of a repeated key's values
        else:
            frame = _read_parquet(p)
    except UnicodeDecodeError as exc:
        raise DataError(f"{p} is not UTF-8 text (byte {exc.start}); re-save it as UTF-8.") from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"Cannot read {p} as {fmt}: {str(exc).splitlines()[0]}") from exc
    if frame.empty:
        raise DataError(f"{p} has no rows.")
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    """A Parquet file as a DataFrame whose list columns (images, windows) stay Arrow arrays
    (``pd.ArrowDtype``): pandas' default makes an object array of NumPy arrays per row, which
    took 80 of the 95 ms to read 20k 8x8 images and :func:`_stack` turned back into Arrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def lists_as_arrow(kind: pa.DataType) -> pd.ArrowDtype | None:
        nested = pa.types.is_list(kind) or pa.types.is_large_list(kind)
        return pd.ArrowDtype(kind) if nested or pa.types.is_fixed_size_list(kind) else None

    with pq.ParquetFile(path) as parquet:
        check_unique_columns(path, parquet.schema_arrow.names)
        table = parquet.read(use_pandas_metadata=True)  # a saved index is restored, as pandas'
    frame: pd.DataFrame = table.to_pandas(types_mapper=lists_as_arrow)
    return frame


def check_path(path: Path) -> None:
    """Raise DataError for a path the system cannot even look up (a name too long for it, a
    NUL byte), which ``Path.is_file`` raises on; a path that is merely absent passes."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise DataError(f"Cannot read the data at {brief(str(path))}: {why}.") from exc


def check_unique_columns(path: str | Path, names: Sequence[object]) -> None:
    """Raise DataError when two columns of ``path`` share a name: read by name, one of them
    would be renamed or dropped and its values taken for the other's. Empty names (pandas'
    'Unnamed: 3', by position) do not count."""
    seen: set[str] = set()
    for name in (str(n) for n in names if str(n) != ""):
        if name in seen:
            raise DataError(
                f"{Path(path).name} has two columns named {brief(name)}; give every column its "
                "own name and read it again."
            )
        seen.add(name)


def _csv_header(path: Path) -> list[str]:
    """The names in a CSV file's first row as written (pandas renames repeated ones)."""
    first = pd.read_csv(
        path, header=None, nrows=1, dtype=str, keep_default_na=False, encoding="utf-8"
    )
    return [str(v) for v in first.iloc[0].tolist()] if len(first) else []


_KEY_CHECKED_LINES = 1000  # a writer that repeats a key repeats it on every line


def check_unique_keys(path: Path) -> None:
    """Raise DataError when a JSON object in the first lines of a JSONL file has a key twice
    (JSON parsers keep one of the values without a word). Only the first lines are read, as
    the whole file would double the time to read it."""
    import json

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in items]
        twice = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
        if twice is not None:
            raise DataError(
                f"{path.name} has the key {brief(twice)} twice in one object (line {line_no}); "
                "give every column its own name and read it again."
            )
        return dict(items)

    with path.open(encoding="utf-8") as lines:
        for line_no, line in enumerate(lines, start=1):
            if line_no > _KEY_CHECKED_LINES:
                break
            try:
                json.loads(line, object_pairs_hook=pairs)
            except (json.JSONDecodeError, RecursionError):
                continue  # a blank line, or one pandas reads and json does not: pandas stands


def check_columns(path: str | Path, chosen: Sequence[str], columns: Sequence[str]) -> None:
    """Raise DataError naming the ``chosen`` columns that ``path`` does not have."""
    missing = [c for c in chosen if c not in columns]
    if missing:
        raise DataError(
            f"{Path(path).name} has no column {names_text(missing)}; its columns are "
            f"{names_text(columns)}."
        )


def table_inputs(frame: pd.DataFrame, columns: list[str], word_lists: bool = False) -> Inputs:
    """Model inputs from ``columns`` of ``frame``; the kind follows the module docstring."""
    if len(columns) == 1:
        series = frame[columns[0]]
        first = series.iloc[0]
        if isinstance(first, list | tuple | np.ndarray):
            if word_lists and len(first) and isinstance(first[0], str):  # words: keep as objects
                return Inputs("tabular", series.to_numpy(dtype=object)[:, None], tuple(columns))
            return Inputs("array", _stack(series, columns[0]), tuple(columns))
        if isinstance(first, str):
            return Inputs("text", series.astype(str).to_numpy(dtype=object), tuple(columns))
    sub = frame[columns]
    numeric = all(pd.api.types.is_numeric_dtype(sub[c]) for c in columns)
    data = sub.to_numpy(dtype=np.float64) if numeric else sub.to_numpy(dtype=object)
    return Inputs("tabular", data, tuple(columns), tuple(sub.dtypes))


def _stack(series: pd.Series, name: str) -> np.ndarray:
    """A column of equally shaped nested lists -> (n, *shape) float32, through Arrow (nested
    Python loops take seconds for 20k images; Arrow's flattening takes milliseconds)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def bad(why: str) -> DataError:
        return DataError(f"Column '{name}' {why}; every example must be an array of one shape.")

    try:
        column = pa.array(series)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise bad(f"holds values Arrow cannot read as arrays ({exc})") from exc
    shape: list[int] = []
    while (
        pa.types.is_list(column.type)
        or pa.types.is_large_list(column.type)
        or (pa.types.is_fixed_size_list(column.type))
    ):
        if column.null_count:
            raise bad("has missing values")
        lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
        if len(lengths) and lengths.min() != lengths.max():
            raise bad("holds arrays of different shapes")
        shape.append(int(lengths[0]) if len(lengths) else 0)
        column = column.flatten()
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise bad(f"holds {column.type} values, not numbers")
    values = column.to_numpy(zero_copy_only=False)
    return np.asarray(values.reshape(len(series), *shape), dtype=np.float32)


def names_text(names: Sequence[str], limit: int = 8) -> str:
    """Column names for an error message: the first ``limit``, then how many in all."""
    shown = ", ".join(brief(n, 60) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def text_list(value: object, separator: str = "|") -> list[str] | None:
    """A cell that holds a list of labels or ids, as strings: a list/array, JSON list text
    (``'["a", "b"]'``) or ``'a|b'`` text; ``[]`` for a missing value, None for anything else."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            try:
                return [str(v) for v in json.loads(text)]
            except json.JSONDecodeError:
                pass
        return [x for x in text.split(separator) if x]
    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) for v in value]
    return None
