"""``compare --input-shape`` (and the Python API's ``input_shape``, and ``?input_shape=`` on a
reference): (N, 64) rows reach a CNN as (N, 1, 8, 8), checked before any model runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ZOO = '''
import torch
from torch import nn


def cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


def lin():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 3))
'''


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """(zoo.py, rows.csv, X (40, 64), y (40,)): 64 pixel columns and a label of 3 classes."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("shapes")
    (folder / "zoo.py").write_text(ZOO)
    rng = np.random.default_rng(0)
    x = rng.random((40, 64))
    y = np.array([str(i % 3) for i in range(40)])
    table = pd.DataFrame(x, columns=[f"p{i}" for i in range(64)]).assign(label=y)
    table.to_csv(folder / "rows.csv", index=False)
    return folder / "zoo.py", folder / "rows.csv", x, y


def _accuracy_by_hand(module, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.inference_mode():
        logits = module(torch.from_numpy(x.astype(np.float32)))
    return float(np.mean(logits.argmax(1).numpy().astype(str) == y))


def _zoo(path: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("shapes_zoo", path)
    assert spec is not None and spec.loader is not None
    code = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(code)
    return code


def test_rows_reach_a_cnn_reshaped(invoke, rows) -> None:
    zoo, data, x, y = rows
    ran = invoke("compare", f"torch:{zoo}:cnn", f"torch:{zoo}:lin", "--data", str(data),
                 "--no-cost", "--input-shape", "1,8,8", "--json")
    # lin reads the rows as they are only when it names its own shape: here it is reshaped too
    assert ran.exit_code == 2
    assert "lin got inputs of shape (N, 1, 8, 8)" in ran.stderr
    assert "?input_shape=64" in ran.stderr

    ran = invoke("compare", f"torch:{zoo}:cnn", f"torch:{zoo}:lin?input_shape=64", "--data",
                 str(data), "--no-cost", "--input-shape", "1,8,8", "--json")
    assert ran.exit_code == 0, ran.stderr
    results = json.loads(ran.stdout)
    assert results["config"]["input_shape"] == [1, 8, 8]
    models = {m["name"]: m for m in results["models"]}
    assert models["cnn"]["ref"] == f"torch:{zoo}:cnn?input_shape=1,8,8"
    assert models["lin"]["ref"] == f"torch:{zoo}:lin?input_shape=64"
    assert models["cnn"]["spec"]["input_shape"] == [1, 8, 8]
    accuracy = {(m["model"], m["name"]): m["value"] for m in results["metrics"]}
    module = _zoo(zoo).cnn().eval()
    assert accuracy["cnn", "accuracy"] == pytest.approx(
        _accuracy_by_hand(module, x.reshape(-1, 1, 8, 8), y)
    )


def test_a_shape_of_another_size_fails_before_any_model_runs(invoke, rows) -> None:
    zoo, data, _, _ = rows
    ran = invoke("compare", f"torch:{zoo}:cnn", "--data", str(data), "--no-cost",
                 "--input-shape", "1,8,9")
    assert ran.exit_code == 2
    assert ran.stderr == (
        "error: --input-shape 1,8,9 holds 72 values, but each example of the data holds 64 "
        "(shape (64,)); give a shape with as many values.\n"
    )
    ran = invoke("compare", f"torch:{zoo}:cnn?input_shape=2,8,8", "--data", str(data),
                 "--no-cost")
    assert ran.exit_code == 2
    assert "The input shape (2, 8, 8) of cnn holds 128 values" in ran.stderr
    assert "predict" not in ran.stderr


def test_a_shape_no_model_reads_is_refused(invoke, iris: Path) -> None:
    ran = invoke("compare", str(iris / "lr.skops"), "--data", str(iris / "iris.csv"),
                 "--label-col", "target", "--no-cost", "--input-shape", "2,2")
    assert ran.exit_code == 2
    assert "--input-shape reshapes the inputs of torch: and onnx: models" in ran.stderr


def test_the_python_api_takes_input_shape(rows, tmp_path: Path) -> None:
    import whichmodel
    from whichmodel.errors import ConfigError

    zoo, _, x, y = rows
    module = _zoo(zoo).cnn()
    comparison = whichmodel.compare(
        {"cnn": module}, (x, y), input_shape=(1, 8, 8), no_cost=True, store=str(tmp_path / "s.db")
    )
    expected = _accuracy_by_hand(module.eval(), x.reshape(-1, 1, 8, 8), y)
    metrics = comparison.to_pandas().set_index(["model", "name"])["value"]
    assert metrics["cnn", "accuracy"] == pytest.approx(expected)
    with pytest.raises(ConfigError, match=r"^input_shape=\(1, 8, 9\) holds 72 values"):
        whichmodel.compare({"cnn": module}, (x, y), input_shape=[1, 8, 9], no_cost=True,
                           store=str(tmp_path / "s.db"))


def test_an_input_shape_that_is_no_shape_is_refused(rows) -> None:
    from whichmodel.errors import ModelReferenceError
    from whichmodel.sources import load

    zoo = rows[0]
    with pytest.raises(ModelReferenceError, match=r"The 'input_shape' parameter of .* must be "
                       r"comma-separated positive integers, e\.g\. 1,8,8\. Got '1,x' instead\."):
        load(f"torch:{zoo}:cnn?input_shape=1,x")
