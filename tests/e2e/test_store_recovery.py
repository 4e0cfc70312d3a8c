"""A store that went bad under a run: damaged prediction files are computed again, with a note,
and give the results of a clean run; a store of a newer whichmodel is left alone."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import whichmodel
from conftest import run_cli
from helpers.iris import save_iris_models
from whichmodel.errors import StoreError


@pytest.fixture(scope="module")
def iris(tmp_path_factory) -> Path:
    return save_iris_models(tmp_path_factory.mktemp("iris"))


def _compare(iris: Path, store: Path) -> dict[str, Any]:
    comparison = whichmodel.compare(
        [f"sklearn:{iris}/lr.skops", f"sklearn:{iris}/tree.skops"],
        iris / "iris.csv",
        label_col="target",
        measure_cost=False,
        n_resamples=200,
        store=str(store),
    )
    return comparison.results().to_dict()


RUN_KEYS = ("store_note", "reused_batches", "computed_batches")  # what the store gave


def _without_run(results: dict[str, Any]) -> dict[str, Any]:
    """What a run found, without what differs from run to run: its id, when and how it ran,
    where its store is and what the store held."""
    kept = {k: v for k, v in results.items() if k not in ("run_id", "provenance", "config")}
    kept["models"] = [{k: v for k, v in m.items() if k not in RUN_KEYS} for m in kept["models"]]
    return kept


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(path.read_bytes()[:100]),  # cut short
        lambda path: path.write_bytes(b"\0" * path.stat().st_size),  # zeroed
        lambda path: path.write_bytes(b"PAR1" + b"x" * 64 + b"PAR1"),  # a bad footer
    ],
    ids=["truncated", "zeroed", "bad-footer"],
)
def test_damaged_predictions_are_computed_again_as_a_clean_run(damage, iris, tmp_path) -> None:
    clean = _compare(iris, tmp_path / "clean" / "store.db")
    store = tmp_path / "damaged" / "store.db"
    _compare(iris, store)
    files = sorted((store.parent / "predictions").glob("*.parquet"))
    assert len(files) == 2
    damage(files[0])

    again = _compare(iris, store)

    assert _without_run(again) == _without_run(clean)
    notes = {m["name"]: m["store_note"] for m in again["models"]}
    damaged = next(name for name, note in notes.items() if note)
    assert "were computed again" in notes[damaged] and files[0].name in notes[damaged]
    batches = {m["name"]: (m["reused_batches"], m["computed_batches"]) for m in again["models"]}
    assert batches == {name: (0, 3) if name == damaged else (3, 0) for name in batches}
    assert [note for note in notes.values() if note] == [notes[damaged]]  # the other was fine
    assert all(m["store_note"] is None for m in clean["models"])
    after = _compare(iris, store)  # the recomputed set is stored: the next run reuses it
    assert all(m["reused_batches"] == 3 and m["store_note"] is None for m in after["models"])


def test_the_cli_says_what_it_computed_again_and_exits_0(iris, tmp_path) -> None:
    args = ("compare", f"sklearn:{iris}/lr.skops", "--data", f"{iris}/iris.csv", "--label-col",
            "target", "--no-cost", "--store", f"{tmp_path}/store.db")  # fmt: skip
    assert run_cli(*args).returncode == 0
    for path in (tmp_path / "predictions").glob("*.parquet"):
        path.write_bytes(b"not parquet")
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "were computed again" in proc.stdout


def test_a_store_of_a_newer_whichmodel_is_refused_and_left_as_it_was(iris, tmp_path) -> None:
    store = tmp_path / "store.db"
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, results_v9 BLOB)")
        db.execute("PRAGMA user_version = 9")
    db.close()
    digest = hashlib.sha256(store.read_bytes()).hexdigest()

    with pytest.raises(StoreError, match=r"newer whichmodel \(store version 9; this one reads"):
        _compare(iris, store)

    assert hashlib.sha256(store.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.db"]  # no WAL, no predictions
