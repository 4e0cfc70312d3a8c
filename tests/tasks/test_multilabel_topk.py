"""Multilabel classification and top-k accuracy: values equal scikit-learn's on a tiny torch
model's outputs computed here, and the vectorized bootstrap replicates equal scikit-learn with
``sample_weight`` for every resample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, top_k_accuracy_score

import whichmodel
from whichmodel.analysis.stats import bootstrap_weights
from whichmodel.errors import DataError
from whichmodel.tasks import get_task

USES_TORCH = True
HELPER = Path(__file__).parents[1] / "helpers" / "tiny_torch.py"
LABELS = ("big", "even", "loop")
OPTIONS = {"measure_cost": False, "n_resamples": 100, "batch_size": 64}


def _digit_labels(digit: int) -> list[str]:
    return [
        name
        for name, on in zip(LABELS, (digit > 4, digit % 2 == 0, digit in (0, 6, 8, 9)), strict=True)
        if on
    ]


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory):
    import torch
    from safetensors.torch import save_file
    from sklearn.datasets import load_digits

    folder = tmp_path_factory.mktemp("multilabel")
    x, y = load_digits(return_X_y=True)
    x, y = x[:300] / 16.0, y[:300]
    rows = [
        {"pixels": xi.tolist(), "labels": _digit_labels(int(d)), "digit": int(d)}
        for xi, d in zip(x, y, strict=True)
    ]
    path = folder / "digits.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    import importlib.util

    spec = importlib.util.spec_from_file_location("tiny_torch_ml", HELPER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    net = module.mlp(n_in=64, hidden=16, n_out=3)
    save_file(net.state_dict(), folder / "w.safetensors")
    with torch.inference_mode():
        logits = net(torch.tensor(x, dtype=torch.float32)).double().numpy()
    ref = f"torch:{HELPER}:mlp?n_out=3&weights={folder / 'w.safetensors'}&classes=" + ",".join(
        LABELS
    )
    return path, rows, logits, ref


def test_multilabel_metrics_equal_sklearn(digits, tmp_path):
    from sklearn.preprocessing import MultiLabelBinarizer

    path, rows, logits, ref = digits
    result = whichmodel.compare(
        [ref],
        path,
        task="multilabel",
        input_cols=["pixels"],
        label_col="labels",
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    binarizer = MultiLabelBinarizer(classes=list(LABELS))
    true = binarizer.fit_transform([r["labels"] for r in rows])
    pred = (1 / (1 + np.exp(-logits)) >= 0.5).astype(int)
    assert 0 < f1_score(true, pred, average="micro") < 1  # neither trivial nor perfect
    name = result.models[0].name
    assert result.metric(name, "micro_f1") == pytest.approx(f1_score(true, pred, average="micro"))
    assert result.metric(name, "macro_f1") == pytest.approx(f1_score(true, pred, average="macro"))
    assert result.metric(name, "subset_accuracy") == pytest.approx(accuracy_score(true, pred))
    assert result.metric(name, "hamming_loss") == pytest.approx(hamming_loss(true, pred))


def test_multilabel_replicates_equal_sklearn_with_weights(digits, tmp_path):
    _, rows, logits, _ = digits
    task = get_task("multilabel?threshold=0.4")
    from whichmodel.sources.base import RawOutput

    pred, proba, classes = task.interpret(RawOutput("logits", logits), LABELS)
    from whichmodel.tasks import Predictions

    preds = Predictions(np.arange(len(rows)), pred, proba, classes)
    y = task.read_labels(np.array([r["labels"] for r in rows], dtype=object))
    weights = bootstrap_weights(len(rows), 20, seed=1)
    for metric in task.metrics(y, preds):
        expected = [metric.score(y, preds, w) for w in weights]
        np.testing.assert_allclose(metric.replicate(y, preds, weights), expected, rtol=1e-12)


def test_multilabel_unknown_label_is_one_clear_line(digits, tmp_path):
    _, rows, _, ref = digits
    bad = tmp_path / "bad.jsonl"
    rows = [dict(r, labels=[*r["labels"], "odd"]) if i == 5 else r for i, r in enumerate(rows)]
    bad.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.raises(DataError, match="The labels odd are not labels"):
        whichmodel.compare(
            [ref],
            bad,
            task="multilabel",
            input_cols=["pixels"],
            label_col="labels",
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )


def test_top_k_accuracy_equals_sklearn_and_its_replicates(tmp_path):
    import torch
    from safetensors.torch import save_file
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    path = tmp_path / "d.parquet"
    import pandas as pd

    pd.DataFrame({"pixels": list(x[:200]), "label": y[:200]}).to_parquet(path)
    torch.manual_seed(1)
    import importlib.util

    spec = importlib.util.spec_from_file_location("tiny_torch_k", HELPER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.mlp()
    save_file(net.state_dict(), tmp_path / "w.safetensors")
    with torch.inference_mode():
        scores = net(torch.tensor(x[:200], dtype=torch.float32)).double().softmax(1).numpy()
    ref = f"torch:{HELPER}:mlp?weights={tmp_path / 'w.safetensors'}"
    result = whichmodel.compare(
        [ref], path, task="classification?top_k=3,5", store=str(tmp_path / "s.db"), **OPTIONS
    )
    name = result.models[0].name
    for k in (3, 5):
        expected = top_k_accuracy_score(y[:200], scores, k=k, labels=list(range(10)))
        assert 0 < expected < 1
        assert result.metric(name, f"top_{k}_accuracy") == pytest.approx(expected)
    assert result.task == "classification?top_k=3,5"
    preds = result.models[0].predictions
    labels = np.asarray(y[:200]).astype(str)
    (metric,) = [
        m
        for m in get_task("classification?top_k=3").metrics(labels, preds)
        if m.name == "top_3_accuracy"
    ]
    weights = bootstrap_weights(200, 20, seed=2)
    np.testing.assert_allclose(
        metric.replicate(labels, preds, weights), [metric.score(labels, preds, w) for w in weights]
    )
