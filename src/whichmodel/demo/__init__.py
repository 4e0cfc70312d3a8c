"""The bundled demo: six models of different families on scikit-learn's digits images.

The first run trains them (about a minute on two cores) and saves them the way users save models:
scikit-learn estimators with skops, PyTorch modules as safetensors state dicts next to the factory
that builds them. Then the demo compares them through the public ``compare`` path, exactly as a
user's own models go. Later runs find the saved models and the stored predictions and reuse both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    # importing it here would charge pandas to the demo models' measured memory
    from whichmodel.comparison import CompareConfig

SKLEARN_MODELS = ("logreg", "gboost")
TORCH_MODELS = ("mlp", "cnn", "vit", "gru")
SEED = 0


def prepare_demo(
    workdir: Path, *, progress: Callable[[str, int, int], None] | None = None
) -> CompareConfig:
    """Write the digits test split and train any missing model; return the comparison to run."""
    from whichmodel.comparison import CompareConfig

    models = workdir / "models"
    models.mkdir(parents=True, exist_ok=True)
    data = workdir / "digits_test.parquet"
    refs = [f"sklearn:{models / name}.skops" for name in SKLEARN_MODELS] + [
        f"torch:whichmodel.demo.zoo:{name}?weights={models / name}.safetensors"
        for name in TORCH_MODELS
    ]
    missing = [n for n in (*SKLEARN_MODELS, *TORCH_MODELS) if not _model_path(models, n).is_file()]
    if missing or not data.is_file():
        _train(models, data, missing, progress)
    return CompareConfig(
        refs=tuple(refs),
        data=str(data),
        task="classification",
        store=str(workdir / "store.db"),
        batch_size=64,
        seed=SEED,
    )


def _model_path(models: Path, name: str) -> Path:
    return models / f"{name}.skops" if name in SKLEARN_MODELS else models / f"{name}.safetensors"


def _train(
    models: Path, data: Path, missing: list[str], progress: Callable[[str, int, int], None] | None
) -> None:
    import pandas as pd

    from whichmodel.demo.train import load_digits_split

    x_train, x_test, y_train, y_test = load_digits_split(seed=SEED)
    if not data.is_file():
        frame = pd.DataFrame({"image": [img.tolist() for img in x_test], "label": y_test})
        _atomic(data, lambda tmp: frame.to_parquet(tmp, index=False))
    for i, name in enumerate(missing):
        if progress:
            progress(f"train {name}", i, len(missing))
        _save(models, name, x_train, y_train)
        if progress:
            progress(f"train {name}", i + 1, len(missing))


def _save(models: Path, name: str, x_train: np.ndarray, y_train: np.ndarray) -> None:
    from whichmodel.demo.train import train_sklearn, train_torch

    path = _model_path(models, name)
    if name in SKLEARN_MODELS:
        import skops.io as sio

        flat = x_train.reshape(len(x_train), -1)  # (n, 8, 8) -> (n, 64)
        estimator = train_sklearn(name, flat, y_train, seed=SEED)
        _atomic(path, lambda tmp: sio.dump(estimator, tmp))
    else:
        from safetensors.torch import save_file

        module = train_torch(name, x_train, y_train, seed=SEED)
        state = {k: v.contiguous() for k, v in module.state_dict().items()}
        _atomic(path, lambda tmp: save_file(state, str(tmp)))


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file so an interrupted run never leaves half a model."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    write(tmp)
    os.replace(tmp, path)
