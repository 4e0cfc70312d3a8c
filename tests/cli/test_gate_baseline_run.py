"""``whichmodel gate --baseline-run RUN_ID[:MODEL] CANDIDATE``: the baseline comes from a stored
compare run (its predictions in the store), never evaluated again, on the same data only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.test_commands import one_line
from whichmodel.store import Store

if TYPE_CHECKING:
    from cli.conftest import Invoke


def data_args(iris: Path, store: Path, *extra: str) -> tuple[str, ...]:
    return ("--data", f"{iris}/iris.csv", "--label-col", "target", "--no-cost",
            "--store", str(store), *extra)  # fmt: skip


def stored_run(invoke: Invoke, iris: Path, store: Path, *models: str) -> str:
    """Compare ``models`` (references) on the iris CSV into ``store``; the run's id."""
    ran = invoke("compare", *models, *data_args(iris, store))
    assert ran.exit_code == 0, ran.stderr
    return str(Store.open(store).runs()[-1]["run_id"])


def verdict(stdout: str) -> dict[str, Any]:
    gate = json.loads(stdout)["gate"]
    assert isinstance(gate, dict)
    return gate


def test_the_verdict_is_that_of_a_plain_gate_without_the_baseline_file(
    invoke: Invoke, iris: Path, tmp_path: Path
) -> None:
    baseline = tmp_path / "lr.skops"
    shutil.copy(iris / "lr.skops", baseline)
    store = tmp_path / "runs" / "store.db"
    run_id = stored_run(invoke, iris, store, f"sklearn:{baseline}")
    candidate = f"sklearn:{iris}/dummy.skops"
    plain = invoke("gate", f"sklearn:{baseline}", candidate,
                   *data_args(iris, tmp_path / "plain.db", "--format", "json"))  # fmt: skip
    assert plain.exit_code == 3, plain.stderr
    baseline.unlink()  # never opened: neither loaded nor fingerprinted

    ran = invoke("gate", "--baseline-run", run_id, candidate,
                 *data_args(iris, store, "--format", "json"))  # fmt: skip
    assert ran.exit_code == 3, ran.stderr
    assert verdict(ran.stdout) == verdict(plain.stdout)
    assert verdict(ran.stdout)["failures"] and verdict(ran.stdout)["baseline"] == "lr"
    models = {m["name"]: m for m in json.loads(ran.stdout)["models"]}
    assert models["lr"]["computed_batches"] == 0 and models["lr"]["reused_batches"] == 3
    assert models["dummy"]["computed_batches"] == 3
    text = invoke("gate", "--baseline-run", run_id[:8], candidate, *data_args(iris, store))
    assert text.exit_code == 3, text.stderr
    assert "gate dummy vs lr: FAIL\n  ✗ accuracy: dummy − lr = -0.6400" in text.stdout


def test_a_run_of_several_models_needs_the_baseline_named(
    invoke: Invoke, iris: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store.db"
    candidate = f"sklearn:{iris}/lr.skops"
    run_id = stored_run(invoke, iris, store, candidate, f"sklearn:{iris}/tree.skops")
    unnamed = invoke("gate", "--baseline-run", run_id, candidate, *data_args(iris, store))
    assert unnamed.exit_code == 2
    assert one_line(unnamed.stderr) == (
        f"error: Run {run_id} has 2 models (lr, tree); name the baseline as --baseline-run "
        f"{run_id}:MODEL."
    )
    unknown = invoke("gate", "--baseline-run", f"{run_id}:svm", candidate, *data_args(iris, store))
    assert unknown.exit_code == 2
    assert one_line(unknown.stderr) == f"error: Run {run_id} has no model 'svm'; it has lr, tree."
    named = invoke("gate", "--baseline-run", f"{run_id}:tree", candidate,
                   *data_args(iris, store, "--metric", "accuracy", "--format", "json"))  # fmt: skip
    assert named.exit_code == 0, named.stderr
    assert verdict(named.stdout)["baseline"] == "tree"
    assert verdict(named.stdout)["candidate"] == "lr" and verdict(named.stdout)["passed"]


def test_other_data_an_unknown_run_and_missing_predictions_exit_2(
    invoke: Invoke, iris: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store.db"
    run_id = stored_run(invoke, iris, store, f"sklearn:{iris}/lr.skops")
    candidate = f"sklearn:{iris}/tree.skops"
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    lines = (iris / "iris.csv").read_text().splitlines()
    (fewer / "iris.csv").write_text("\n".join(lines[:-1]) + "\n")  # one example less
    other = invoke("gate", "--baseline-run", run_id, candidate, *data_args(fewer, store))
    assert other.exit_code == 2
    assert one_line(other.stderr).startswith(
        f"error: Run {run_id} was on other data: its data fingerprint differs from that of "
        f"{fewer}/iris.csv read as classification with label column 'target'."
    )
    unknown = invoke("gate", "--baseline-run", "nope", candidate, *data_args(iris, store))
    assert unknown.exit_code == 2
    assert one_line(unknown.stderr) == (
        f"error: No run 'nope' in {store}; run compare first or name a results.json."
    )
    for parquet in tmp_path.rglob("*.parquet"):
        parquet.unlink()
    missing = invoke("gate", "--baseline-run", run_id, candidate, *data_args(iris, store))
    assert missing.exit_code == 2
    line = one_line(missing.stderr)
    assert line.startswith(f"error: The predictions of lr (run {run_id}) are not in the store ")
    assert line.endswith("Run compare on the baseline again, with this --data and --store.")
    both = invoke("gate", "--baseline-run", run_id, candidate, candidate, *data_args(iris, store))
    assert both.exit_code == 2
    assert one_line(both.stderr) == (
        "error: gate takes CANDIDATE alone with --baseline-run. Got 2 model references instead."
    )
