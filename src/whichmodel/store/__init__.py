"""The run store (SQLite + Parquet) and content fingerprints."""

from whichmodel.errors import StoreError
from whichmodel.store.fingerprint import file_sha256, key_of
from whichmodel.store.sqlite import (
    CorruptPredictionsError,
    PredictionRows,
    Store,
    StoredBatch,
    joined_batches,
)

__all__ = [
    "CorruptPredictionsError",
    "PredictionRows",
    "Store",
    "StoreError",
    "StoredBatch",
    "file_sha256",
    "joined_batches",
    "key_of",
]
