"""``onnx:`` models run in ``compare`` and ``bench`` through ONNX Runtime.

The tiny MLP of the torch tests, exported with torch's exporter, compares equal to the module it
came from: the same predictions, probabilities within 1e-5, the same metrics.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

import whichmodel

if TYPE_CHECKING:
    from cli.conftest import Invoke


@pytest.fixture(scope="module")
def exported(tiny_mlp: Any, digits: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mlp.onnx (dynamic batch) and digits.csv (64 pixel columns and a label) in one folder."""
    import pandas as pd
    import torch

    root = tmp_path_factory.mktemp("onnx_mlp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's internal deprecations
        program = torch.onnx.export(
            tiny_mlp, (torch.zeros(4, 64),), dynamo=True,
            dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False,
        )  # fmt: skip
    assert program is not None
    program.save(str(root / "mlp.onnx"))
    frame = pd.DataFrame(digits.x_test, columns=list(digits.columns))
    frame.assign(label=digits.y_test).to_csv(root / "digits.csv", index=False)
    return root


def test_onnx_compares_equal_to_the_torch_module(
    exported: Path, mlp_weights: Path, helpers_dir: Path
) -> None:
    torch_ref = f"torch:{helpers_dir / 'tiny_torch.py'}:mlp?weights={mlp_weights}&name=torch"
    c = whichmodel.compare(
        [torch_ref, f"onnx:{exported / 'mlp.onnx'}"], exported / "digits.csv",
        label_col="label", measure_cost=False, n_resamples=20, store=str(exported / "s.db"),
    )  # fmt: skip
    ours, theirs = c.model("mlp").predictions, c.model("torch").predictions
    assert ours.failed_rows == () and len(ours.rows) == len(theirs.rows) == 100
    assert ours.proba is not None and theirs.proba is not None
    np.testing.assert_allclose(ours.proba, theirs.proba, atol=1e-5)
    np.testing.assert_array_equal(ours.pred, theirs.pred)
    for metric in ("accuracy", "log_loss"):
        assert c.metric("mlp", metric) == pytest.approx(c.metric("torch", metric), abs=1e-5)
    assert c.model("mlp").spec is not None  # the graph's sheet rides along


def test_bench_times_an_onnx_graph_with_or_without_data(invoke: Invoke, exported: Path) -> None:
    graph = f"onnx:{exported / 'mlp.onnx'}"
    common = ("--batch", "1", "--budget", "0.05", "--store", "b.db", "--json")
    ran = invoke("bench", graph, "--data", str(exported / "digits.csv"), "--label-col", "label",
                 *common)  # fmt: skip
    assert ran.exit_code == 0, ran.stderr
    (result,) = json.loads(ran.stdout)
    assert result["name"] == "mlp" and set(result["latency"]) == {"1"}
    ran = invoke("bench", graph, *common)  # the graph fixes (batch, 64): no shape needed
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)[0]["latency"]["1"]
