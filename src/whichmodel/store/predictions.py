"""How a prediction set is held: its typed rows, one batch as a SQLite record, and the Parquet
file a finished set is compacted into (``predictions/<key>.parquet``, see
:mod:`whichmodel.store.sqlite` for the layout and when each is written).

The encodings are the on-disk layout :data:`whichmodel.store.sqlite.STORE_VERSION` names: a
change here that changes what a stored byte means bumps it.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.errors import StoreError

__all__ = [
    "CorruptPredictionsError",
    "PredictionRows",
    "StoredBatch",
    "batch_record",
    "decoded_batch",
    "joined_batches",
    "read_parquet",
    "write_parquet",
]


class CorruptPredictionsError(StoreError):
    """A stored prediction set cannot be read back (a damaged or foreign Parquet file, a
    mangled batch): it has to be computed again."""


@dataclass(frozen=True)
class PredictionRows:
    """Per-example predictions as stored.

    Args:
        rows: (n,) int64 example indices, ascending.
        pred: (n,) object array of str labels, or float64 values; None/NaN where the model failed.
        proba: (n, C) float64, NaN rows where the model failed; None when the model gave none.
        errors: (n,) object array: the error text of a failed example, else None.
        classes: the labels of ``proba``'s columns.
    """

    rows: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None
    errors: np.ndarray
    classes: tuple[str, ...] | None


# (batch index, rows (n,), pred (n,), proba (n, C) or None, error per example)
StoredBatch = tuple[int, np.ndarray, np.ndarray, np.ndarray | None, list[str | None]]


def batch_record(
    batch_index: int,
    rows: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray | None,
    errors: list[str | None],
) -> tuple[object, ...]:
    """A prediction_batches row after its key."""
    numeric = pred.dtype.kind == "f"
    return (
        batch_index,
        len(rows),
        sum(e is not None for e in errors),
        time.time(),
        np.asarray(rows, dtype="<i8").tobytes(),
        None if numeric else json.dumps([None if p is None else str(p) for p in pred.tolist()]),
        np.asarray(pred, dtype="<f8").tobytes() if numeric else None,
        None if proba is None else np.ascontiguousarray(proba, dtype="<f8").tobytes(),
        json.dumps(errors) if any(e is not None for e in errors) else None,
    )


def decoded_batch(
    batch_index: int,
    n: int,
    rows: bytes,
    labels: str | None,
    values: bytes | None,
    proba: bytes | None,
    errors: str | None,
) -> StoredBatch:
    """A prediction_batches row back into the batch :func:`batch_record` made it from."""
    pred = (
        np.frombuffer(values, dtype="<f8")
        if values is not None
        else np.array(json.loads(labels or "[]"), dtype=object)
    )
    return (
        batch_index,
        np.frombuffer(rows, dtype="<i8"),
        pred,
        None if proba is None else np.frombuffer(proba, dtype="<f8").reshape(n, -1),
        json.loads(errors) if errors else [None] * n,
    )


def joined_batches(
    batches: Sequence[StoredBatch], classes: tuple[str, ...] | None
) -> PredictionRows:
    """Batches in ascending order as one set of rows, as the store keeps them: labels as text
    (None where the model failed) or float64 values, NaN probability rows for a batch that
    failed whole (it has none)."""
    empty = [np.empty(0, dtype=np.int64)]
    rows = np.concatenate([np.asarray(b[1], dtype=np.int64) for b in batches] or empty)
    if batches and np.asarray(batches[0][2]).dtype.kind == "f":
        pred = np.concatenate([np.asarray(b[2], dtype=np.float64) for b in batches])
    else:
        pred = np.array(
            [None if p is None else str(p) for b in batches for p in np.asarray(b[2]).tolist()],
            dtype=object,
        )
    errors = np.array([e for b in batches for e in b[4]], dtype=object)
    width = next((b[3].shape[1] for b in batches if b[3] is not None), None)
    proba = None
    if width is not None:
        proba = np.concatenate(
            [
                np.asarray(b[3], dtype=np.float64)
                if b[3] is not None
                else np.full((len(b[1]), width), np.nan)
                for b in batches
            ]
        )
    return PredictionRows(rows.astype(np.int64), pred, proba, errors, classes)


def write_parquet(preds: PredictionRows, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, Any] = {
        "row": pa.array(preds.rows, type=pa.int64()),
        "pred": pa.array(
            preds.pred.tolist(), type=pa.float64() if preds.pred.dtype.kind == "f" else pa.string()
        ),
        "error": pa.array(preds.errors.tolist(), type=pa.string()),
    }
    if preds.proba is not None:
        width = preds.proba.shape[1]
        columns["proba"] = pa.FixedSizeListArray.from_arrays(
            pa.array(preds.proba.reshape(-1), type=pa.float64()), width
        )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns), tmp)
        os.replace(tmp, path)
    except OSError as exc:  # pyarrow's IO errors are OSErrors too
        tmp.unlink(missing_ok=True)
        raise StoreError(
            f"Cannot write {path}: {exc}. Is the disk full? Free some space or use another --store."
        ) from exc


def read_parquet(path: Path, classes: tuple[str, ...] | None) -> PredictionRows:
    """A finished set's file; CorruptPredictionsError when it is damaged or not one of ours."""
    try:
        return _parquet_rows(path, classes)
    except Exception as exc:  # any failure to read our own file back means it was damaged
        raise CorruptPredictionsError(
            f"{path}: {type(exc).__name__}: {str(exc)[:200]}"
        ) from exc


def _parquet_rows(path: Path, classes: tuple[str, ...] | None) -> PredictionRows:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:  # read_table's dataset layer costs 0.3 ms a file
        table = parquet.read()
    pred_column = table.column("pred")
    pred = (
        pred_column.to_numpy()
        if str(pred_column.type) == "double"
        else np.array(pred_column.to_pylist(), dtype=object)
    )
    proba = None
    if "proba" in table.column_names:
        chunked = table.column("proba").combine_chunks()
        width = chunked.type.list_size
        proba = chunked.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
    return PredictionRows(
        table.column("row").to_numpy(),
        pred,
        proba,
        np.array(table.column("error").to_pylist(), dtype=object),
        classes,
    )
