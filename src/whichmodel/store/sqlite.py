"""The run store: SQLite for runs and indexes, Parquet files for per-example predictions.

Layout next to the database file::

    store.db                                   runs, prediction batches, caches, file digests
    predictions/<key>/batch-000012.parquet     one file per finished batch

Writes are safe for several processes at once: SQLite runs in WAL mode with a busy timeout, a
batch file is written under a temporary name and renamed into place, and a batch row is inserted
with ``INSERT OR IGNORE``, so two runs that compute the same batch store it once. A batch without
its row (a run killed between the two steps) is simply computed again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from whichmodel.errors import StoreError
from whichmodel.store.fingerprint import file_sha256

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, created REAL NOT NULL, kind TEXT NOT NULL, results TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS prediction_sets (
    pred_key TEXT PRIMARY KEY, meta TEXT NOT NULL, n_batches INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS prediction_batches (
    pred_key TEXT NOT NULL, batch_index INTEGER NOT NULL, n_rows INTEGER NOT NULL,
    n_failed INTEGER NOT NULL, classes TEXT, path TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (pred_key, batch_index)
);
CREATE TABLE IF NOT EXISTS cache (
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS file_digests (
    path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL,
    PRIMARY KEY (path, size, mtime_ns)
);
"""


class Store:
    """A run store at ``path`` (the SQLite file). Construction touches nothing; use :meth:`open`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.root = self.path.parent

    @classmethod
    def open(cls, path: str | Path) -> Store:
        store = cls(path)
        try:
            store.root.mkdir(parents=True, exist_ok=True)
            with store._connect() as db:
                db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the store at {store.path}: {exc}") from exc
        return store

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=60000")
            yield db
        finally:
            db.close()

    # -- file digests -----------------------------------------------------------------------
    def file_digest(self, path: str | Path) -> str:
        """SHA-256 of a file, remembered by (path, size, mtime) so unchanged files hash once."""
        p = Path(path).resolve()
        st = p.stat()
        with self._connect() as db:
            row = db.execute(
                "SELECT sha256 FROM file_digests WHERE path=? AND size=? AND mtime_ns=?",
                (str(p), st.st_size, st.st_mtime_ns),
            ).fetchone()
            if row:
                return str(row[0])
            digest = file_sha256(p)
            db.execute(
                "INSERT OR IGNORE INTO file_digests VALUES (?, ?, ?, ?)",
                (str(p), st.st_size, st.st_mtime_ns, digest),
            )
        return digest

    # -- predictions ------------------------------------------------------------------------
    def begin_predictions(self, key: str, meta: dict[str, Any], n_batches: int) -> set[int]:
        """Register a prediction set (idempotent); returns the batch indices already stored."""
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO prediction_sets VALUES (?, ?, ?, ?)",
                (key, json.dumps(meta, sort_keys=True, default=str), n_batches, time.time()),
            )
            rows = db.execute(
                "SELECT batch_index FROM prediction_batches WHERE pred_key=?", (key,)
            ).fetchall()
        return {int(r[0]) for r in rows}

    def write_batch(
        self, key: str, batch_index: int, frame: pd.DataFrame, classes: tuple[str, ...] | None
    ) -> None:
        """Store one finished batch: the Parquet file first, then its row."""
        folder = self.root / "predictions" / key
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"batch-{batch_index:06d}.parquet"
        tmp = folder / f".{final.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, final)
        n_failed = int(frame["error"].notna().sum()) if "error" in frame else 0
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO prediction_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    batch_index,
                    len(frame),
                    n_failed,
                    json.dumps(list(classes)) if classes is not None else None,
                    str(final.relative_to(self.root)),
                    time.time(),
                ),
            )

    def read_predictions(self, key: str) -> tuple[pd.DataFrame, tuple[str, ...] | None]:
        """All stored batches of a prediction set, ordered by example row, and the class names."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT path, classes FROM prediction_batches "
                "WHERE pred_key=? ORDER BY batch_index",
                (key,),
            ).fetchall()
        if not rows:
            return pd.DataFrame(columns=["row", "pred", "proba", "error"]), None
        frame = pd.concat(
            [pd.read_parquet(self.root / path) for path, _ in rows], ignore_index=True
        )
        classes = next((tuple(json.loads(c)) for _, c in rows if c), None)
        return frame.sort_values("row", kind="stable").reset_index(drop=True), classes

    def stored_batches(self, key: str) -> int:
        with self._connect() as db:
            row = db.execute(
                "SELECT COUNT(*) FROM prediction_batches WHERE pred_key=?", (key,)
            ).fetchone()
        return int(row[0])

    # -- caches and runs --------------------------------------------------------------------
    def get_cached(self, kind: str, key: str) -> Any | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT value FROM cache WHERE kind=? AND key=?", (kind, key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put_cached(self, kind: str, key: str, value: Any) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO cache VALUES (?, ?, ?, ?)",
                (kind, key, json.dumps(value, default=str), time.time()),
            )

    def record_run(self, kind: str, results: dict[str, Any]) -> str:
        """Store a finished run's results; returns its new run id."""
        run_id = uuid.uuid4().hex
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?)",
                (run_id, time.time(), kind, json.dumps(results, default=str)),
            )
        return run_id

    def runs(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT run_id, created, kind, results FROM runs ORDER BY created"
            ).fetchall()
        return [
            {"run_id": r[0], "created": r[1], "kind": r[2], "results": json.loads(r[3])}
            for r in rows
        ]
