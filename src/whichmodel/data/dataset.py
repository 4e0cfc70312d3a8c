"""Reading a dataset (CSV, JSONL, Parquet file, or a folder) into model inputs and labels.

:func:`read_dataset` picks the reader: a large file is streamed (:mod:`.streaming`), a folder is
a ``datasets`` folder or an image folder (:mod:`.folders`), speech data is an audio folder or a
table with an audio column (:mod:`.audio`), anything else is a table (:mod:`.tables`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from whichmodel.data.folders import is_saved_dataset, read_image_folder, read_saved_dataset
from whichmodel.data.tables import check_columns, check_path, names_text, read_table, table_inputs
from whichmodel.errors import DataError
from whichmodel.sources.base import Inputs


@dataclass(frozen=True)
class Dataset:
    """A dataset ready for a task.

    Args:
        path: the file it was read from.
        inputs: model inputs for all n examples.
        labels: (n,) the label column as read (all None when the task needs no labels).
        input_cols: the input column names.
        label_col: the label column name, None when the task needs no labels.
        units: (n,) int64 resampling unit of each example (an index into ``unit_names``), from
            the task's unit column (``Task.unit_column``: ranking's query id, forecasting's
            series id), or None when each example is its own unit.
        unit_names: the units' ids as read (for messages), or None.
    """

    path: str
    inputs: Inputs
    labels: np.ndarray
    input_cols: tuple[str, ...]
    label_col: str | None
    units: np.ndarray | None = None
    unit_names: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.inputs)


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
        from whichmodel.data.streaming import read_streamed

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
    return _split(path, frame, input_cols, label_col, word_lists, exclude)


def _split(
    path: str | Path,
    frame: pd.DataFrame,
    input_cols: Sequence[str] | None,
    label_col: str | None,
    word_lists: bool,
    exclude: Sequence[str],
) -> Dataset:
    """A table read whole, split into the inputs and the label column."""
    columns = [str(c) for c in frame.columns]
    if label_col is None:
        chosen = list(input_cols) if input_cols else columns
        check_columns(path, chosen, columns)
        labels = np.full(len(frame), None, dtype=object)
        inputs = table_inputs(frame, chosen, word_lists)
        return Dataset(str(path), inputs, labels, tuple(chosen), None)
    if label_col not in columns:
        raise DataError(
            f"{Path(path).name} has no label column '{label_col}'; its columns are "
            f"{names_text(columns)}. Name the right one with --label-col."
        )
    chosen = (
        list(input_cols)
        if input_cols
        else [c for c in columns if c != label_col and c not in exclude]
    )
    check_columns(path, chosen, columns)
    if not chosen:
        raise DataError(f"{Path(path).name} has no input columns besides '{label_col}'.")
    inputs = table_inputs(frame, chosen, word_lists)
    return Dataset(str(path), inputs, frame[label_col].to_numpy(), tuple(chosen), label_col)


def _read_audio_dataset(
    path: Path, input_cols: Sequence[str] | None, label_col: str | None
) -> Dataset:
    """An audio folder, or a table with an audio column (never streamed: clips vary in length)."""
    from whichmodel.data.audio import audio_inputs, holds_audio, metadata_file, read_audio_folder

    if path.is_dir() and (metadata_file(path) is not None or not is_saved_dataset(path)):
        frame = read_audio_folder(path)  # without a metadata file: says what it needs
    else:
        frame = read_saved_dataset(path) if path.is_dir() else read_table(path)
    columns = [str(c) for c in frame.columns]
    if label_col is not None and label_col not in columns:
        raise DataError(
            f"{path.name} has no transcript column '{label_col}'; its columns are "
            f"{names_text(columns)}. Name the right one with --label-col."
        )
    chosen = list(input_cols) if input_cols else [c for c in columns if holds_audio(frame[c])]
    check_columns(path, chosen, columns)
    if not chosen:
        raise DataError(
            f"{path.name} has no audio column (arrays of samples, or audio dicts); its columns "
            f"are {names_text(columns)}."
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
            f"{names_text(columns)}. Name the right one in the task's options."
        )
    values = frame[column]
    if values.isna().any():
        first = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DataError(f"Column '{column}' of {p.name} has a missing value at row {first}.")
    return values.astype(str).to_numpy()
