import os
import sqlite3

import pandas as pd

from whichmodel.store import Store, file_sha256


def _frame(rows, value):
    return pd.DataFrame(
        {
            "row": rows,
            "pred": [value] * len(rows),
            "proba": None,
            "error": pd.Series([None] * len(rows), dtype="string"),
        }
    )


def test_batches_round_trip_in_row_order(tmp_path):
    store = Store.open(tmp_path / "s" / "store.db")
    assert store.begin_predictions("k", {"m": 1}, n_batches=2) == set()
    store.write_batch("k", 1, _frame([2, 3], "b"), ("a", "b"))
    store.write_batch("k", 0, _frame([0, 1], "a"), ("a", "b"))
    frame, classes = store.read_predictions("k")
    assert frame["row"].tolist() == [0, 1, 2, 3]
    assert frame["pred"].tolist() == ["a", "a", "b", "b"]
    assert classes == ("a", "b")
    assert store.begin_predictions("k", {"m": 1}, n_batches=2) == {0, 1}


def test_writing_a_batch_twice_stores_it_once(tmp_path):
    store = Store.open(tmp_path / "store.db")
    store.begin_predictions("k", {}, 1)
    store.write_batch("k", 0, _frame([0, 1], "a"), None)
    store.write_batch("k", 0, _frame([0, 1], "a"), None)
    assert store.stored_batches("k") == 1
    assert len(store.read_predictions("k")[0]) == 2
    leftovers = [p for p in (tmp_path / "predictions" / "k").iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


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


def test_runs_and_cache(tmp_path):
    store = Store.open(tmp_path / "store.db")
    first = store.record_run("compare", {"x": 1})
    second = store.record_run("compare", {"x": 2})
    assert first != second
    assert [r["results"]["x"] for r in store.runs()] == [1, 2]
    assert store.get_cached("cost", "k") is None
    store.put_cached("cost", "k", {"a": [1, 2]})
    assert store.get_cached("cost", "k") == {"a": [1, 2]}
