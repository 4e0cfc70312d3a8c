"""The run store: SQLite for runs, caches and in-flight predictions; Parquet for finished ones.

Layout next to the database file::

    store.db                          runs, caches, file digests, batches of unfinished sets
    predictions/<key>.parquet         every example of a finished prediction set, one file

A batch is stored in one SQLite transaction as soon as the model returns it, so a run that is
killed loses at most the batch in flight and the next run resumes after the last stored batch.
When every batch of a set is in, the set is compacted into one Parquet file and its rows leave
SQLite. Several processes may write one store at once: SQLite runs in WAL mode with a busy
timeout, rows are keyed by (set, example) and inserted with ``INSERT OR IGNORE``, and the Parquet
file is written under a temporary name and renamed into place, so nothing is lost or doubled.

The database records the layout it holds (``PRAGMA user_version``, :data:`STORE_VERSION`): a
store made by a newer whichmodel is refused, not misread. A failed write (a full disk) rolls its
transaction back and raises :class:`StoreError`: the store stays as it was before the write. A
finished set whose Parquet file cannot be read raises :class:`CorruptPredictionsError`; the
caller forgets it (:meth:`Store.forget_predictions`) and computes it again.

How a batch and a Parquet file encode a set's rows lives in :mod:`whichmodel.store.predictions`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.errors import StoreError
from whichmodel.store.fingerprint import file_sha256
from whichmodel.store.predictions import (
    CorruptPredictionsError,
    PredictionRows,
    StoredBatch,
    batch_record,
    decoded_batch,
    joined_batches,
    read_parquet,
    write_parquet,
)

STORE_VERSION = 1  # bump when the tables or the Parquet layout change meaning
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, created REAL NOT NULL, kind TEXT NOT NULL, results TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS prediction_sets (
    pred_key TEXT PRIMARY KEY, meta TEXT NOT NULL, n_batches INTEGER NOT NULL,
    classes TEXT, path TEXT, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS prediction_batches (
    pred_key TEXT NOT NULL, batch_index INTEGER NOT NULL, n_rows INTEGER NOT NULL,
    n_failed INTEGER NOT NULL, created REAL NOT NULL,
    rows BLOB, labels TEXT, "values" BLOB, proba BLOB, errors TEXT,
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
        self._local = threading.local()
        self._classes_written: set[str] = set()  # sets whose class names are stored already
        # (path, size, mtime_ns) -> sha256 seen by this process: models built from one package
        # share its ~100 code files, looked up once per run instead of once per model.
        self._digests: dict[tuple[str, int, int], str] = {}

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """The store at ``path``, created if absent.

        Raises:
            StoreError: the path is a folder, cannot be created or written, is not a whichmodel
                store, or holds a store of a newer layout than :data:`STORE_VERSION`.
        """
        store = cls(path)
        try:
            if store.path.is_dir():
                raise StoreError(
                    f"The store path {store.path} is a folder; --store takes the database file, "
                    f"e.g. {store.path / 'store.db'}."
                )
            store.root.mkdir(parents=True, exist_ok=True)
            version = _stored_version(store.path)
            if version > STORE_VERSION:
                raise StoreError(
                    f"The store at {store.path} was made by a newer whichmodel (store version "
                    f"{version}; this one reads version {STORE_VERSION}): upgrade whichmodel or "
                    "use another --store."
                )
            # executescript commits on its own; IF NOT EXISTS makes it idempotent. Stores made
            # before versions were recorded (version 0) hold this same layout.
            script = f"{SCHEMA}PRAGMA user_version = {STORE_VERSION};"
            _retry_while_locked(lambda: store._db().executescript(script))
        except OSError as exc:  # the folder cannot be made
            store.close()
            exists = isinstance(exc, FileExistsError)
            why = f"{exc.filename} is a file, not a folder" if exists else exc.strerror or exc
            raise StoreError(
                f"Cannot open the store at {store.path}: {why}. Use another --store."
            ) from exc
        except sqlite3.Error as exc:
            store.close()
            hint = (
                " Is the disk full, or the folder read-only? Use another --store."
                if isinstance(exc, sqlite3.OperationalError)
                else " Is it a whichmodel store? Use another --store."
            )
            raise StoreError(f"Cannot open the store at {store.path}: {exc}.{hint}") from exc
        except StoreError:
            store.close()
            raise
        return store

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            _retry_while_locked(lambda: db.execute("PRAGMA journal_mode=WAL"))
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: safe against a killed process
            self._local.db = db
        return db

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or none (a failed write, a full disk,
        Ctrl-C). SQLite errors become StoreError."""
        with self._errors("write"):
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already (a full disk)
                    db.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """SQLite's errors while reading or writing as one StoreError that says what to do."""
        try:
            yield
        except sqlite3.Error as exc:
            hint = (
                " Is the disk full? Free some space or use another --store."
                if doing == "write"
                else " Is it a whichmodel store? Use another --store."
            )
            raise StoreError(f"Cannot {doing} the store at {self.path}: {exc}.{hint}") from exc

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """The rows of one read statement."""
        with self._errors("read"):
            return self._db().execute(sql, params).fetchall()

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- file digests -----------------------------------------------------------------------
    def file_digest(self, path: str | Path) -> str:
        """SHA-256 of a file, remembered by (path, size, mtime) so unchanged files hash once."""
        return self.file_digests([path])[0]

    def file_digests(self, paths: Sequence[str | Path]) -> list[str]:
        """SHA-256 of each file (see :meth:`file_digest`). Files are known by absolute path, not
        resolved (``resolve()`` costs ~40 µs a file: 5 ms for a package's 100 code files), and
        looked up and stored in one statement each (one per file cost ~0.2 ms each)."""
        keys = []
        for path in paths:
            st = os.stat(path)
            keys.append((os.path.abspath(path), st.st_size, st.st_mtime_ns))
        missing = list(dict.fromkeys(k for k in keys if k not in self._digests))
        if missing:
            self._digests.update(self._stored_digests(missing))
            new = [(*k, file_sha256(Path(k[0]))) for k in missing if k not in self._digests]
            if new:
                with self._transaction() as db:
                    db.executemany("INSERT OR IGNORE INTO file_digests VALUES (?, ?, ?, ?)", new)
                self._digests.update({row[:3]: row[3] for row in new})
        return [self._digests[k] for k in keys]

    def _stored_digests(self, keys: list[tuple[str, int, int]]) -> dict[tuple[str, int, int], str]:
        found: dict[tuple[str, int, int], str] = {}
        wanted = set(keys)
        paths = sorted({k[0] for k in keys})
        for i in range(0, len(paths), 500):  # under SQLite's limit on bound parameters
            chunk = paths[i : i + 500]
            rows = self._query(
                "SELECT path, size, mtime_ns, sha256 FROM file_digests "
                f"WHERE path IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            found.update({(p, n, t): str(d) for p, n, t, d in rows if (p, n, t) in wanted})
        return found

    # -- predictions ------------------------------------------------------------------------
    def begin_predictions(self, key: str, meta: dict[str, Any], n_batches: int) -> set[int]:
        """Register a prediction set (idempotent); returns the batch indices already stored."""
        with self._transaction() as db:
            row = db.execute("SELECT path FROM prediction_sets WHERE pred_key=?", (key,)).fetchone()
            if row and row[0] and not (self.root / row[0]).is_file():
                # The compacted file was deleted: forget the set so it is computed again.
                db.execute("DELETE FROM prediction_sets WHERE pred_key=?", (key,))
                db.execute("DELETE FROM prediction_batches WHERE pred_key=?", (key,))
            db.execute(
                "INSERT OR IGNORE INTO prediction_sets VALUES (?, ?, ?, NULL, NULL, ?)",
                (key, json.dumps(meta, sort_keys=True, default=str), n_batches, time.time()),
            )
            done = db.execute(
                "SELECT batch_index FROM prediction_batches WHERE pred_key=?", (key,)
            ).fetchall()
        return {int(r[0]) for r in done}

    def write_batch(
        self,
        key: str,
        batch_index: int,
        rows: np.ndarray,
        pred: np.ndarray,
        proba: np.ndarray | None,
        errors: list[str | None],
        classes: tuple[str, ...] | None,
    ) -> None:
        """Store one finished batch as one row, in one transaction.

        Args:
            rows: (n,) example indices; pred: (n,) labels or float64 values (None/NaN where
            ``errors`` has text); proba: (n, C) float64 or None; classes: proba's column labels.
        """
        self.write_batches(key, [(batch_index, rows, pred, proba, errors)], classes)

    def write_batches(
        self, key: str, batches: Sequence[StoredBatch], classes: tuple[str, ...] | None
    ) -> int:
        """Store finished batches (index, rows, pred, proba, errors; see :meth:`write_batch`),
        one row each, in one transaction: all of them or none. Returns how many were stored:
        fewer when another run had stored some of them first (its copies stand)."""
        records = [(key, *batch_record(*batch)) for batch in batches]
        with self._transaction() as db:
            stored = db.executemany(
                "INSERT OR IGNORE INTO prediction_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                records,
            ).rowcount
            if classes is not None and key not in self._classes_written:
                db.execute(
                    "UPDATE prediction_sets SET classes=? WHERE pred_key=? AND classes IS NULL",
                    (json.dumps(list(classes)), key),
                )
        if classes is not None:
            self._classes_written.add(key)
        return int(stored)

    def finish_predictions(self, key: str, computed: PredictionRows | None = None) -> bool:
        """Compact a set whose batches are all stored into one Parquet file (idempotent).

        Runs inside one write transaction, so two processes finishing the same set at once
        compact it once: the second finds the path already set.

        Args:
            computed: every batch of the set as this run stored it (see :func:`joined_batches`),
                written to Parquet instead of being read back from the database.

        Returns:
            True when this call compacted the set from ``computed``: the stored set is then
            exactly ``computed``. False otherwise (read it with :meth:`read_predictions`).
        """
        with self._transaction() as db:
            n_batches, path = db.execute(
                "SELECT n_batches, path FROM prediction_sets WHERE pred_key=?", (key,)
            ).fetchone()
            if path is not None:
                return False
            stored = db.execute(
                "SELECT COUNT(*) FROM prediction_batches WHERE pred_key=?", (key,)
            ).fetchone()[0]
            if stored < n_batches:
                raise StoreError(f"Prediction set {key} has {stored} of {n_batches} batches.")
            relative = f"predictions/{key}.parquet"
            rows = computed if computed is not None else self._read_rows(key)
            write_parquet(rows, self.root / relative)
            db.execute("UPDATE prediction_sets SET path=? WHERE pred_key=?", (relative, key))
            db.execute(
                'UPDATE prediction_batches SET rows=NULL, labels=NULL, "values"=NULL, '
                "proba=NULL, errors=NULL WHERE pred_key=?",
                (key,),
            )
        return computed is not None

    def read_predictions(self, key: str) -> PredictionRows:
        """A prediction set's rows, ascending by example: from Parquet once finished."""
        rows = self._query("SELECT path FROM prediction_sets WHERE pred_key=?", (key,))
        if rows and rows[0][0] is not None:
            return read_parquet(self.root / rows[0][0], self._classes(key))
        return self._read_rows(key)

    def forget_predictions(self, key: str) -> None:
        """Drop a prediction set, its batches and its Parquet file, so that it is computed
        again (:class:`CorruptPredictionsError`)."""
        with self._transaction() as db:
            row = db.execute("SELECT path FROM prediction_sets WHERE pred_key=?", (key,)).fetchone()
            db.execute("DELETE FROM prediction_sets WHERE pred_key=?", (key,))
            db.execute("DELETE FROM prediction_batches WHERE pred_key=?", (key,))
        self._classes_written.discard(key)
        if row and row[0]:
            (self.root / row[0]).unlink(missing_ok=True)

    def stored_batches(self, key: str) -> int:
        rows = self._query("SELECT COUNT(*) FROM prediction_batches WHERE pred_key=?", (key,))
        return int(rows[0][0])

    def _classes(self, key: str) -> tuple[str, ...] | None:
        rows = self._query("SELECT classes FROM prediction_sets WHERE pred_key=?", (key,))
        try:
            return tuple(json.loads(rows[0][0])) if rows and rows[0][0] else None
        except (json.JSONDecodeError, TypeError) as exc:
            raise CorruptPredictionsError(f"the class names of set {key} are mangled") from exc

    def _read_rows(self, key: str) -> PredictionRows:
        """The stored batches of an unfinished set, concatenated (rows ascending)."""
        records = self._query(
            'SELECT batch_index, n_rows, rows, labels, "values", proba, errors '
            "FROM prediction_batches WHERE pred_key=? ORDER BY batch_index",
            (key,),
        )
        try:  # a batch of another layout, or mangled: the set cannot be read back
            return joined_batches([decoded_batch(*r) for r in records], self._classes(key))
        except (ValueError, TypeError) as exc:
            raise CorruptPredictionsError(f"a stored batch of set {key} is mangled: {exc}") from exc

    # -- caches and runs --------------------------------------------------------------------
    def get_cached(self, kind: str, key: str) -> Any | None:
        rows = self._query("SELECT value FROM cache WHERE kind=? AND key=?", (kind, key))
        return json.loads(rows[0][0]) if rows else None

    def put_cached(self, kind: str, key: str, value: Any) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO cache VALUES (?, ?, ?, ?)",
                (kind, key, json.dumps(value, default=str), time.time()),
            )

    def record_run(self, kind: str, results: dict[str, Any]) -> str:
        """Store a finished run's results; returns its new run id."""
        run_id = uuid.uuid4().hex
        with self._transaction() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?)",
                (run_id, time.time(), kind, json.dumps(results, default=str)),
            )
        return run_id

    def runs(self) -> list[dict[str, Any]]:
        rows = self._query("SELECT run_id, created, kind, results FROM runs ORDER BY created")
        return [
            {"run_id": r[0], "created": r[1], "kind": r[2], "results": json.loads(r[3])}
            for r in rows
        ]


def _stored_version(path: Path) -> int:
    """The layout version a store file records (0: none, or no file yet), read without
    writing to it: a newer whichmodel's store is left exactly as it is."""
    if not path.is_file():
        return 0
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=60.0)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def _retry_while_locked(statement: Callable[[], object], attempts: int = 100) -> None:
    """Run a statement that SQLite may refuse at once with "database is locked" instead of
    waiting (switching to WAL while another process creates the same file): retry for ~10 s."""
    for attempt in range(attempts):
        try:
            statement()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)
