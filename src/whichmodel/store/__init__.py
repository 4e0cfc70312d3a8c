"""The run store (SQLite + Parquet) and content fingerprints."""

from whichmodel.errors import StoreError
from whichmodel.store.fingerprint import file_sha256, key_of
from whichmodel.store.predictions import (
    CorruptPredictionsError,
    PredictionRows,
    StoredBatch,
    joined_batches,
)
from whichmodel.store.sqlite import Store

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
