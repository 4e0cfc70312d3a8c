"""Reading a dataset (CSV, JSONL, Parquet file, or a folder) into model inputs and labels.

Input columns decide the input kind:
- one column of lists/arrays (Parquet list column, JSONL arrays) -> ``array`` of shape (n, *shape);
- one column of strings -> ``text``;
- otherwise -> ``tabular`` (n, d), float64 when every column is numeric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from whichmodel.errors import DataError, brief
from whichmodel.sources.base import Inputs
from whichmodel.tasks.folders import is_saved_dataset, read_image_folder, read_saved_dataset

READERS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class Dataset:
    """A dataset ready for a task.

    Args:
        path: the file it was read from.
        inputs: model inputs for all n examples.
        labels: (n,) the label column as read (all None when the task needs no labels).
        input_cols: the input column names.
        label_col: the label column name, None when the task needs no labels.
    """

    path: str
    inputs: Inputs
    labels: np.ndarray
    input_cols: tuple[str, ...]
    label_col: str | None

    def __len__(self) -> int:
        return len(self.inputs)


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


def read_dataset(
    path: str | Path,
    *,
    input_cols: Sequence[str] | None = None,
    label_col: str | None = "label",
    word_lists: bool = False,
    audio: bool = False,
    exclude: Sequence[str] = (),
) -> Dataset:
    """Read a data file and split it into inputs and labels.

    Args:
        path: a .csv, .jsonl or .parquet file, a folder saved by ``datasets``' ``save_to_disk``,
            or an image folder (one subfolder of images per class; see :mod:`.folders`).
        input_cols: the columns the models read; default every column but ``label_col``.
        label_col: the column with the true label or value; None for tasks without labels.
        word_lists: keep one column of lists of strings (words) as objects, for tasks that read
            words (token classification); otherwise such a column is an error.
        audio: read audio (speech tasks): ``path`` may be an audio folder, and the input column
            holds audio clips of any length (see :mod:`.audio`); inputs are of kind ``audio``.
        exclude: columns that are never default inputs (e.g. a ranking task's query id column).
    """
    folder = Path(path)
    check_path(folder)
    if audio:
        return _read_audio_dataset(folder, input_cols, label_col)
    if folder.is_file():
        from whichmodel.tasks.streaming import read_streamed

        streamed = read_streamed(
            folder,
            input_cols=list(input_cols) if input_cols else None,
            label_col=label_col,
            exclude=exclude,
        )
        if streamed is not None:  # a large data file: inputs are read batch by batch
            return Dataset(str(path), streamed[0], streamed[1], streamed[2], label_col)
    if folder.is_dir() and not is_saved_dataset(folder):
        inputs, labels = read_image_folder(folder)
        return Dataset(str(path), inputs, labels, inputs.columns, "label")
    frame = read_saved_dataset(folder) if folder.is_dir() else read_table(path)
    columns = [str(c) for c in frame.columns]
    if label_col is None:
        chosen = list(input_cols) if input_cols else columns
        _check_columns(path, chosen, columns)
        labels = np.full(len(frame), None, dtype=object)
        return Dataset(str(path), _inputs(frame, chosen, word_lists), labels, tuple(chosen), None)
    if label_col not in columns:
        raise DataError(
            f"{Path(path).name} has no label column '{label_col}'; its columns are "
            f"{_list(columns)}. Name the right one with --label-col."
        )
    chosen = (
        list(input_cols)
        if input_cols
        else [c for c in columns if c != label_col and c not in exclude]
    )
    _check_columns(path, chosen, columns)
    if not chosen:
        raise DataError(f"{Path(path).name} has no input columns besides '{label_col}'.")
    inputs = _inputs(frame, chosen, word_lists)
    return Dataset(str(path), inputs, frame[label_col].to_numpy(), tuple(chosen), label_col)


def _read_audio_dataset(
    path: Path, input_cols: Sequence[str] | None, label_col: str | None
) -> Dataset:
    """An audio folder, or a table with an audio column (never streamed: clips vary in length)."""
    from whichmodel.tasks.audio import audio_inputs, holds_audio, metadata_file, read_audio_folder

    if path.is_dir() and (metadata_file(path) is not None or not is_saved_dataset(path)):
        frame = read_audio_folder(path)  # without a metadata file: says what it needs
    else:
        frame = read_saved_dataset(path) if path.is_dir() else read_table(path)
    columns = [str(c) for c in frame.columns]
    if label_col is not None and label_col not in columns:
        raise DataError(
            f"{path.name} has no transcript column '{label_col}'; its columns are "
            f"{_list(columns)}. Name the right one with --label-col."
        )
    chosen = list(input_cols) if input_cols else [c for c in columns if holds_audio(frame[c])]
    _check_columns(path, chosen, columns)
    if not chosen:
        raise DataError(
            f"{path.name} has no audio column (arrays of samples, or audio dicts); its columns "
            f"are {_list(columns)}."
        )
    if "sampling_rate" in columns and "sampling_rate" not in chosen:
        chosen.append("sampling_rate")
    inputs = audio_inputs(frame[chosen], chosen, path.name)
    labels = frame[label_col].to_numpy() if label_col is not None else np.full(len(frame), None)
    return Dataset(str(path), inputs, labels, inputs.columns, label_col)


def read_unit_column(path: str | Path, column: str) -> np.ndarray:
    """(N,) the values of one column of a data file or saved ``datasets`` folder, every row:
    the column a task groups examples by (see ``Task.unit_column``).

    Raises:
        DataError: no such column (the message lists the file's columns), or missing values.
    """
    p = Path(path)
    if p.suffix.lower() in {".parquet", ".pq"} and p.is_file():
        import pyarrow.parquet as pq

        columns = list(pq.read_schema(p).names)
        frame = pd.read_parquet(p, columns=[column]) if column in columns else None
    else:
        frame = read_saved_dataset(p) if p.is_dir() else read_table(p)
        columns = [str(c) for c in frame.columns]
    if frame is None or column not in columns:
        raise DataError(
            f"{p.name} has no column '{column}' to group its rows by; its columns are "
            f"{_list(columns)}. Name the right one in the task's options."
        )
    values = frame[column]
    if values.isna().any():
        first = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DataError(f"Column '{column}' of {p.name} has a missing value at row {first}.")
    return values.astype(str).to_numpy()


def _check_columns(path: str | Path, chosen: Sequence[str], columns: Sequence[str]) -> None:
    missing = [c for c in chosen if c not in columns]
    if missing:
        raise DataError(
            f"{Path(path).name} has no column {_list(missing)}; its columns are {_list(columns)}."
        )


def _inputs(frame: pd.DataFrame, columns: list[str], word_lists: bool = False) -> Inputs:
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
    return Inputs("tabular", data, tuple(columns))


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


def _list(names: Sequence[str], limit: int = 8) -> str:
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
