"""Tiny real models, trained or built once per session and saved the way users save them: the
fixtures of the source tests (``tests/sources``) and of the conformance suite
(``tests/conformance``), registered for the whole suite by ``tests/conftest.py``.

Every estimator is fitted on the digits arrays it is later asked to predict (the LightGBM one on a
DataFrame with the digits' column names, so that its `feature_names_in_` path is exercised), so
nothing warns about feature names. Torch and transformers are imported inside the fixtures that
need them.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from whichmodel.sources.base import Inputs

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
N_TRAIN, N_TEST = 300, 100
SEED = 0
LABELS = {0: "neg", 1: "neu", 2: "pos"}
WORDS = (
    "the",
    "a",
    "this",
    "it",
    "movie",
    "film",
    "plot",
    "acting",
    "music",
    "ending",
    "story",
    "was",
    "is",
    "not",
    "very",
    "too",
    "quite",
    "good",
    "bad",
    "great",
    "awful",
    "boring",
    "fun",
    "funny",
    "sad",
    "slow",
    "long",
    "short",
    "and",
    "but",
    "i",
    "love",
    "hate",
    "liked",
)


@dataclass(frozen=True)
class Digits:
    """scikit-learn's digits, pixels scaled to [0, 1]: x (n, 64) float64, y (n,) int."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Saved:
    """A model object kept in memory together with the file or folder it was saved to."""

    path: Path
    model: Any


def import_helper(name: str) -> ModuleType:
    """Import tests/helpers/<name>.py by path, under a private name kept out of sys.modules."""
    path = HELPERS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_whichmodel_test_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def helpers_dir() -> Path:
    return HELPERS


@pytest.fixture(scope="session")
def digits() -> Digits:
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(SEED).permutation(len(data.target))
    x, y = data.data[order] / 16.0, data.target[order]
    train, test = slice(0, N_TRAIN), slice(N_TRAIN, N_TRAIN + N_TEST)
    return Digits(x[train], y[train], x[test], y[test], tuple(data.feature_names))


@pytest.fixture(scope="session")
def tabular_inputs(digits: Digits) -> Inputs:
    return Inputs("tabular", digits.x_test, digits.columns)


@pytest.fixture(scope="session")
def image_inputs(digits: Digits) -> Inputs:
    return Inputs("array", digits.x_test.reshape(-1, 8, 8).astype(np.float32))


@pytest.fixture(scope="session")
def text_inputs() -> Inputs:
    rng = np.random.default_rng(SEED)
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(1, 12))) for _ in range(24)]
    return Inputs("text", np.array([*texts, "zzz words outside the vocabulary"], dtype=object))


def _skops(estimator: Any, path: Path) -> Saved:
    import skops.io as sio

    sio.dump(estimator, path)
    return Saved(path, estimator)


@pytest.fixture(scope="session")
def logreg(digits: Digits, tmp_path_factory: pytest.TempPathFactory) -> Saved:
    from sklearn.linear_model import LogisticRegression

    estimator = LogisticRegression(max_iter=1000, random_state=SEED)
    estimator.fit(digits.x_train, digits.y_train)
    return _skops(estimator, tmp_path_factory.mktemp("logreg") / "logreg.skops")


@pytest.fixture(scope="session")
def hist_gb(digits: Digits, tmp_path_factory: pytest.TempPathFactory) -> Saved:
    from sklearn.ensemble import HistGradientBoostingClassifier

    estimator = HistGradientBoostingClassifier(max_iter=5, max_leaf_nodes=7, random_state=SEED)
    estimator.fit(digits.x_train, digits.y_train)
    return _skops(estimator, tmp_path_factory.mktemp("hgb") / "hgb.skops")


@pytest.fixture(scope="session")
def ridge(digits: Digits, tmp_path_factory: pytest.TempPathFactory) -> Saved:
    from sklearn.linear_model import Ridge

    estimator = Ridge(alpha=1.0).fit(digits.x_train, digits.y_train.astype(np.float64))
    return _skops(estimator, tmp_path_factory.mktemp("ridge") / "ridge.skops")


@pytest.fixture(scope="session")
def xgb(digits: Digits, tmp_path_factory: pytest.TempPathFactory) -> Saved:
    from xgboost import XGBClassifier

    estimator = XGBClassifier(n_estimators=5, max_depth=3, random_state=SEED, n_jobs=1)
    estimator.fit(digits.x_train, digits.y_train)
    return _skops(estimator, tmp_path_factory.mktemp("xgb") / "xgb.skops")


@pytest.fixture(scope="session")
def lgbm(digits: Digits, tmp_path_factory: pytest.TempPathFactory) -> Saved:
    import pandas as pd
    from lightgbm import LGBMClassifier

    estimator = LGBMClassifier(
        n_estimators=5, num_leaves=7, random_state=SEED, n_jobs=1, verbose=-1
    )
    estimator.fit(pd.DataFrame(digits.x_train, columns=list(digits.columns)), digits.y_train)
    return _skops(estimator, tmp_path_factory.mktemp("lgbm") / "lgbm.skops")


@pytest.fixture(scope="session")
def tiny_mlp() -> Any:
    """A seeded TinyMLP (64 -> 16 -> 10) in eval mode; the reference for every torch form."""
    import torch

    torch.manual_seed(SEED)
    return import_helper("tiny_torch").mlp(n_in=64, hidden=16, n_out=10).eval()


@pytest.fixture(scope="session")
def mlp_weights(tiny_mlp: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from safetensors.torch import save_file

    path = tmp_path_factory.mktemp("mlp") / "mlp.safetensors"
    save_file(tiny_mlp.state_dict(), str(path))
    return path


@pytest.fixture(scope="session")
def mlp_torchscript(tiny_mlp: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    path = tmp_path_factory.mktemp("mlp_ts") / "mlp.pt"
    with warnings.catch_warnings():  # TorchScript is deprecated; saving it is the point here
        warnings.filterwarnings("ignore", r"`torch\.jit\.\w+` is deprecated", DeprecationWarning)
        torch.jit.save(torch.jit.trace(tiny_mlp, torch.zeros(2, 8, 8)), str(path))
    return path


@pytest.fixture(scope="session")
def mlp_exported(tiny_mlp: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    batch = torch.export.Dim("batch")
    program = torch.export.export(tiny_mlp, (torch.zeros(4, 8, 8),), dynamic_shapes=({0: batch},))
    path = tmp_path_factory.mktemp("mlp_export") / "mlp.pt2"
    torch.export.save(program, str(path))
    return path


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Saved:
    """A BertForSequenceClassification (hidden 32, 2 layers) + WordPiece tokenizer, offline."""
    from helpers.tiny_hf import build_tiny_bert

    folder = tmp_path_factory.mktemp("bert") / "tiny-bert"
    model, tokenizer = build_tiny_bert(folder, WORDS, LABELS, seed=SEED)
    return Saved(folder, (model, tokenizer))
