"""Interrupting a real run loses nothing; two runs writing one store lose and duplicate nothing."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

HELPERS = Path(__file__).parents[1] / "helpers"
N_ROWS, BATCH = 160, 4  # 40 batches
pytestmark = pytest.mark.slow


def _data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(N_ROWS, 4)), columns=list("abcd"))
    frame["label"] = rng.choice(["x", "y", "z"], size=N_ROWS)
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    return path


def _ref(delay_s: float, name: str) -> str:
    return f"torch:{HELPERS / 'slow_torch.py'}:slow?delay_s={delay_s}&classes=x,y,z&name={name}"


def _args(refs: list[str], data: Path, store: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "whichmodel",
        "compare",
        *refs,
        "--data",
        str(data),
        "--store",
        str(store),
        "--batch-size",
        str(BATCH),
        "--no-cost",
        "--json",
        "--bootstrap",
        "100",
    ]


def _stored_batches(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(store, timeout=30) as db:
            return int(db.execute("SELECT COUNT(*) FROM prediction_batches").fetchone()[0])
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def _interrupt_after(args: list[str], store: Path, batches: int, sig: int) -> int:
    # A shell without job control starts background commands with SIGINT ignored, and Python
    # then never raises KeyboardInterrupt: give the run the default handler a terminal gives it.
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while _stored_batches(store) < batches and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    return _stored_batches(store)


def _run(args: list[str]) -> dict:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _stored_rows(store: Path) -> list[int]:
    """Every stored example row over all prediction sets (SQLite rows and Parquet files)."""
    with sqlite3.connect(store) as db:
        blobs = db.execute("SELECT rows FROM prediction_batches WHERE rows IS NOT NULL")
        rows = [int(r) for (b,) in blobs for r in np.frombuffer(b, dtype="<i8")]
    files = sorted((store.parent / "predictions").glob("*.parquet"))
    return rows + [r for f in files for r in pd.read_parquet(f)["row"].tolist()]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, sig):
    data, store = _data(tmp_path), tmp_path / "run" / "store.db"
    args = _args([_ref(0.05, "slow")], data, store)
    done = _interrupt_after(args, store, batches=8, sig=sig)
    assert 8 <= done < N_ROWS // BATCH
    resumed = _run(args)
    (model,) = resumed["models"]
    assert model["reused_batches"] == done
    assert model["computed_batches"] == N_ROWS // BATCH - done
    assert sorted(_stored_rows(store)) == list(range(N_ROWS))  # nothing lost, nothing twice
    fresh = _run(_args([_ref(0.0, "slow")], data, tmp_path / "fresh" / "store.db"))
    assert resumed["metrics"] == fresh["metrics"]


def test_two_runs_writing_one_store_at_once_lose_and_duplicate_nothing(tmp_path):
    data, store = _data(tmp_path), tmp_path / "shared" / "store.db"
    shared, only_a, only_b = _ref(0.02, "shared"), _ref(0.01, "a"), _ref(0.011, "b")
    procs = [
        subprocess.Popen(
            _args(refs, data, store), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for refs in ([shared, only_a], [shared, only_b])
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    results = [json.loads(out) for out, _ in outputs]
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
        per_set = db.execute(
            "SELECT pred_key, COUNT(*), SUM(n_rows) FROM prediction_batches GROUP BY pred_key"
        ).fetchall()
    # delay_s is part of the reference, so "a" and "b" are different models: three sets in all.
    assert len(per_set) == 3
    assert all(count == N_ROWS // BATCH and rows == N_ROWS for _, count, rows in per_set)
    rows = _stored_rows(store)
    assert len(rows) == 3 * N_ROWS and sorted(set(rows)) == list(range(N_ROWS))
    shared_metrics = [[m for m in r["metrics"] if m["model"] == "shared"] for r in results]
    assert shared_metrics[0] == shared_metrics[1]


def test_ctrl_c_while_batches_are_written_keeps_them_for_the_resume(tmp_path, monkeypatch):
    # Ctrl-C during a mid-run write rolls that transaction back; the batches it held must still
    # be stored on the way out, so the rerun computes only what never finished.
    import whichmodel.execute.driver as driver
    from whichmodel.data.dataset import Dataset
    from whichmodel.execute import LocalExecutor, Worker
    from whichmodel.refs import parse_ref
    from whichmodel.sources.base import Inputs, LoadOptions, Model, ModelInfo, RawOutput
    from whichmodel.store import Store
    from whichmodel.tasks import get_task

    class Constant(Model):
        classes = ("a", "b")
        info = ModelInfo("test", "Constant", 0, ())

        def predict(self, inputs: Inputs) -> RawOutput:
            return RawOutput("proba", np.tile([0.7, 0.3], (len(inputs), 1)))

    class InterruptedOnce(Store):
        calls = 0

        def write_batches(self, key, batches, classes):
            InterruptedOnce.calls += 1
            if InterruptedOnce.calls == 2:
                raise KeyboardInterrupt
            return super().write_batches(key, batches, classes)

    monkeypatch.setattr(driver, "_FLUSH_EVERY_S", 0.0)  # a write after every batch
    inputs = Inputs("tabular", np.arange(10.0)[:, None], ("x",))
    data = Dataset("d.csv", inputs, np.array(["a"] * 10, dtype=object), ("x",), "y")
    store, model = InterruptedOnce.open(tmp_path / "s.db"), Constant()
    ref, task = parse_ref("sklearn:constant.skops"), get_task("classification")
    executor = LocalExecutor(Worker(lambda ref, options: model))

    def predict():
        return driver.predict_all(
            ref, data, task=task, store=store, key="k", batch_size=3, executor=executor,
            options=LoadOptions(),
        )

    with pytest.raises(KeyboardInterrupt):
        predict()
    assert store.stored_batches("k") == 2  # the first write, and the interrupted one's batch
    _, reused, computed = predict()
    assert (reused, computed) == (2, 2)


def test_twenty_random_kill_points_resume_to_identical_results(tmp_path):
    """kill -9 and Ctrl-C, alternating, at 20 random moments of a run (while it imports, reads,
    predicts, flushes, compacts or analyses); each run resumes what the one before stored. The
    end result equals an uninterrupted run's, with every example stored once."""
    rng = np.random.default_rng(20)
    data = _data(tmp_path)
    started = time.monotonic()
    fresh = _run(_args([_ref(0.05, "slow")], data, tmp_path / "fresh" / "store.db"))
    whole_s = time.monotonic() - started
    store = tmp_path / "run" / "store.db"
    args = _args([_ref(0.05, "slow")], data, store)
    for kill in range(20):
        sig = (signal.SIGKILL, signal.SIGINT)[kill % 2]
        _interrupt_at(args, float(rng.uniform(0.2, 0.9)) * whole_s, sig)
    resumed = _run(args)
    assert sorted(_stored_rows(store)) == list(range(N_ROWS))  # nothing lost, nothing twice
    assert resumed["metrics"] == fresh["metrics"]


def _interrupt_at(args: list[str], after_s: float, sig: int) -> None:
    proc = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # see _interrupt_after
    )
    try:
        proc.wait(timeout=after_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(sig)
        proc.wait(timeout=60)
