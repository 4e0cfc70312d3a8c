import os
import sqlite3

import numpy as np
import pytest

from whichmodel.errors import StoreError
from whichmodel.store import CorruptPredictionsError, Store, file_sha256
from whichmodel.store.sqlite import STORE_VERSION


def _batch(store, index, rows, labels, proba=None, errors=None, classes=("a", "b")):
    rows = np.asarray(rows)
    errors = errors or [None] * len(rows)
    store.write_batch("k", index, rows, np.asarray(labels, dtype=object), proba, errors, classes)


def test_batches_resume_then_compact_into_one_parquet_file(tmp_path):
    store = Store.open(tmp_path / "s" / "store.db")
    assert store.begin_predictions("k", {"m": 1}, n_batches=2) == set()
    _batch(store, 1, [2, 3], ["b", "b"], np.array([[0.2, 0.8], [0.1, 0.9]]))
    assert Store.open(store.path).begin_predictions("k", {"m": 1}, n_batches=2) == {1}
    with pytest.raises(StoreError, match="1 of 2 batches"):
        store.finish_predictions("k")
    _batch(store, 0, [0, 1], ["a", "b"], np.array([[0.7, 0.3], [0.4, 0.6]]))
    store.finish_predictions("k")
    store.finish_predictions("k")  # idempotent
    stored = store.read_predictions("k")
    assert stored.rows.tolist() == [0, 1, 2, 3]
    assert stored.pred.tolist() == ["a", "b", "b", "b"]
    np.testing.assert_array_equal(stored.proba[:, 1], [0.3, 0.6, 0.8, 0.9])
    assert stored.classes == ("a", "b")
    assert [p.name for p in (tmp_path / "s" / "predictions").iterdir()] == ["k.parquet"]
    with sqlite3.connect(store.path) as db:  # the batches' rows leave SQLite once compacted
        left = db.execute("SELECT COUNT(*) FROM prediction_batches WHERE rows IS NOT NULL")
        assert left.fetchone()[0] == 0


def test_failures_and_numeric_predictions_round_trip(tmp_path):
    store = Store.open(tmp_path / "store.db")
    store.begin_predictions("k", {}, 1)
    store.write_batch(
        "k",
        0,
        np.arange(3),
        np.array([1.5, np.nan, -2.0]),
        None,
        [None, "ValueError: bad", None],
        None,
    )
    before = store.read_predictions("k")  # from SQLite
    store.finish_predictions("k")
    after = store.read_predictions("k")  # from Parquet
    for stored in (before, after):
        assert stored.errors.tolist() == [None, "ValueError: bad", None]
        assert stored.pred[0] == 1.5 and stored.pred[2] == -2.0 and np.isnan(stored.pred[1])
        assert stored.proba is None and stored.classes is None


def test_writing_a_batch_twice_stores_it_once(tmp_path):
    store = Store.open(tmp_path / "store.db")
    store.begin_predictions("k", {}, 1)
    _batch(store, 0, [0, 1], ["a", "a"])
    _batch(store, 0, [0, 1], ["a", "a"])
    assert store.stored_batches("k") == 1
    assert len(store.read_predictions("k").rows) == 2


def test_batches_stored_together_are_one_transaction_and_never_duplicated(tmp_path):
    store = Store.open(tmp_path / "store.db")
    store.begin_predictions("k", {}, 3)
    batch = [(i, np.array([i]), np.array(["a"], dtype=object), None, [None]) for i in range(3)]
    store.write_batches("k", batch[:2], ("a",))
    assert store.stored_batches("k") == 2
    store.write_batches("k", batch[1:], ("a",))  # batch 1 again: the stored copy stands
    assert store.stored_batches("k") == 3
    store.finish_predictions("k")
    assert store.read_predictions("k").rows.tolist() == [0, 1, 2]


def test_file_digest_is_cached_until_the_file_changes(tmp_path):
    store = Store.open(tmp_path / "store.db")
    f = tmp_path / "w.bin"
    f.write_bytes(b"one")
    assert store.file_digest(f) == file_sha256(f)
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM file_digests").fetchone()[0] == 1
    f.write_bytes(b"two, longer")
    os.utime(f, ns=(1, 1))
    assert store.file_digest(f) == file_sha256(f)


def test_file_digests_of_many_files_are_stored_together_and_read_by_a_new_process(tmp_path):
    files = [tmp_path / f"f{i}.bin" for i in range(5)]
    for i, f in enumerate(files):
        f.write_bytes(bytes([i]) * (i + 1))
    store = Store.open(tmp_path / "store.db")
    assert store.file_digests(files) == [file_sha256(f) for f in files]
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM file_digests").fetchone()[0] == 5
    # Another Store (as another process would) reads them back without hashing: prove it by
    # changing a file's bytes but not its size or mtime, which only the stored digest survives.
    stat = files[0].stat()
    files[0].write_bytes(b"X")
    os.utime(files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = Store.open(tmp_path / "store.db").file_digests(files[:1])
    assert again == [store.file_digest(files[0])] != [file_sha256(files[0])]


def test_runs_and_cache(tmp_path):
    store = Store.open(tmp_path / "store.db")
    first = store.record_run("compare", {"x": 1})
    second = store.record_run("compare", {"x": 2})
    assert first != second
    assert [r["results"]["x"] for r in store.runs()] == [1, 2]
    assert store.get_cached("cost", "k") is None
    store.put_cached("cost", "k", {"a": [1, 2]})
    assert store.get_cached("cost", "k") == {"a": [1, 2]}


def test_an_unwritable_store_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="Cannot open the store"):
        Store.open(blocker / "store.db")


def _same_rows(a, b):
    assert a.rows.tolist() == b.rows.tolist() and a.classes == b.classes
    assert a.pred.tolist() == b.pred.tolist() and a.errors.tolist() == b.errors.tolist()
    np.testing.assert_array_equal(a.proba, b.proba)  # NaN rows equal NaN rows


def test_a_set_compacted_from_memory_equals_one_read_back(tmp_path):
    from whichmodel.store import joined_batches

    classes = ("a", "b")
    batches = [  # a failed example (None, its error), and a batch that failed whole (no proba)
        (
            0,
            np.array([0, 1]),
            np.array(["a", None], dtype=object),
            np.array([[0.7, 0.3], [np.nan, np.nan]]),
            [None, "ValueError: x"],
        ),
        (1, np.array([2, 3]), np.array([None, None], dtype=object), None, ["boom", "boom"]),
        (2, np.array([4]), np.array(["b"]), np.array([[0.1, 0.9]]), [None]),
    ]
    stores = [Store.open(tmp_path / name / "store.db") for name in ("memory", "read")]
    for store in stores:
        store.begin_predictions("k", {}, n_batches=3)
        assert store.write_batches("k", batches, classes) == 3
        assert store.write_batches("k", batches[:1], classes) == 0  # stored already: theirs stand
    computed = joined_batches(batches, classes)
    read_back = stores[1]._read_rows("k")
    _same_rows(computed, read_back)  # one join for memory and database
    assert stores[0].finish_predictions("k", computed) is True
    assert stores[0].finish_predictions("k", computed) is False  # compacted already: read it
    assert stores[1].finish_predictions("k") is False
    _same_rows(stores[0].read_predictions("k"), stores[1].read_predictions("k"))
    _same_rows(stores[0].read_predictions("k"), computed)


def test_a_store_made_before_versions_opens_and_is_stamped(tmp_path):
    store = Store.open(tmp_path / "store.db")
    run_id = store.record_run("compare", {"a": 1})
    store.close()
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute("PRAGMA user_version = 0")  # as every store was before it was recorded
    db.close()
    reopened = Store.open(tmp_path / "store.db")
    assert [r["run_id"] for r in reopened.runs()] == [run_id]
    with sqlite3.connect(tmp_path / "store.db") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (STORE_VERSION,)
    db.close()


def test_a_store_of_a_newer_version_is_refused_with_both_versions(tmp_path):
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute(f"PRAGMA user_version = {STORE_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match=rf"store version {STORE_VERSION + 1}; this one reads "
                       rf"version {STORE_VERSION}\): upgrade whichmodel or use another --store"):
        Store.open(tmp_path / "store.db")


def test_a_damaged_parquet_file_is_reported_and_forgotten(tmp_path):
    store = Store.open(tmp_path / "store.db")
    store.begin_predictions("k", {}, 1)
    _batch(store, 0, [0, 1], ["a", "b"], np.array([[0.7, 0.3], [0.4, 0.6]]))
    store.finish_predictions("k")
    parquet = tmp_path / "predictions" / "k.parquet"
    parquet.write_bytes(parquet.read_bytes()[:50])
    with pytest.raises(CorruptPredictionsError, match=r"k\.parquet"):
        store.read_predictions("k")
    store.forget_predictions("k")
    assert not parquet.exists()
    assert store.begin_predictions("k", {}, 1) == set()  # computed again from scratch


def test_a_mangled_batch_is_corrupt_not_a_crash(tmp_path):
    store = Store.open(tmp_path / "store.db")
    store.begin_predictions("k", {}, 1)
    _batch(store, 0, [0, 1], ["a", "b"], np.array([[0.7, 0.3], [0.4, 0.6]]))
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE prediction_batches SET proba = ? WHERE pred_key = 'k'", (b"\0" * 24,))
    db.close()
    with pytest.raises(CorruptPredictionsError, match="mangled"):
        store.read_predictions("k")
