"""Train the demo models on scikit-learn's digits dataset.

Helpers only: no CLI, no printing. Images are float32 (n, 8, 8) in [0, 1]; labels are int64.
Everything is deterministic under ``seed`` on CPU.

>>> X_train, X_test, y_train, y_test = load_digits_split(seed=0)
>>> X_train.shape, X_test.shape, X_train.dtype, y_train.dtype
((1257, 8, 8), (540, 8, 8), dtype('float32'), dtype('int64'))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

TEST_SIZE = 0.3
BATCH_SIZE = 64
# Epochs chosen so each model trains in a few seconds on 2 CPU cores and clears its accuracy
# target on the seed-0 split (mlp >= 0.95, cnn >= 0.96, vit >= 0.90, gru >= 0.93).
DEFAULT_EPOCHS = {"mlp": 50, "cnn": 15, "vit": 40, "gru": 40}
LEARNING_RATE = {"mlp": 1e-3, "cnn": 3e-3, "vit": 3e-3, "gru": 5e-3}
SKLEARN_MODELS = ("logreg", "gboost")


def load_digits_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load digits and split 70/30, stratified by label.

    Args:
        seed: ``random_state`` of the split.

    Returns:
        ``(X_train, X_test, y_train, y_test)``: images float32 (n, 8, 8) scaled to [0, 1] by
        dividing by 16, labels int64 (n,). With 1797 images: 1257 train, 540 test.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)  # (1797, 8, 8)
    y = digits.target.astype(np.int64)  # (1797,)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=seed, stratify=y
    )
    return X_train, X_test, y_train, y_test


def train_torch(
    factory_name: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    seed: int = 0,
    epochs: int | None = None,
    **factory_kwargs: Any,
) -> torch.nn.Module:
    """Train a :mod:`whichmodel.demo.zoo` model with AdamW and cross-entropy.

    Args:
        factory_name: one of ``zoo.FACTORIES``.
        X: float32 images (n, 8, 8) in [0, 1].
        y: int labels (n,) in 0..9.
        seed: seeds the initialisation (``torch.manual_seed``) and the minibatch order.
        epochs: passes over ``X`` in minibatches of 64; ``None`` uses ``DEFAULT_EPOCHS``.
        **factory_kwargs: passed to the factory, e.g. ``channels=16`` for ``cnn``.

    Returns:
        The trained module, in eval mode.

    Raises:
        ValueError: unknown ``factory_name`` or ``X``/``y`` of the wrong shape.
    """
    import torch

    from whichmodel.demo import zoo

    _check_train_args(factory_name, X, y)
    n_epochs = DEFAULT_EPOCHS[factory_name] if epochs is None else epochs

    torch.manual_seed(seed)
    model: torch.nn.Module = getattr(zoo, factory_name)(**factory_kwargs)
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE[factory_name])
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))  # (n, 8, 8)
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))  # (n,)
    gen = torch.Generator().manual_seed(seed)
    _fit(model, opt, Xt, yt, epochs=n_epochs, generator=gen)
    return model.eval()


def _check_train_args(factory_name: str, X: np.ndarray, y: np.ndarray) -> None:
    """Raise the ValueError :func:`train_torch` documents for a bad name or shape."""
    from whichmodel.demo import zoo

    if factory_name not in zoo.FACTORIES:
        raise ValueError(
            f"The 'factory_name' parameter of train_torch must be one of "
            f"{', '.join(zoo.FACTORIES)}. Got {factory_name!r} instead."
        )
    if X.ndim != 3 or X.shape[1:] != (8, 8) or y.shape != (X.shape[0],):
        raise ValueError(
            f"train_torch needs X of shape (n, 8, 8) and y of shape (n,). "
            f"Got {X.shape} and {y.shape} instead."
        )


def _fit(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    Xt: torch.Tensor,
    yt: torch.Tensor,
    *,
    epochs: int,
    generator: torch.Generator,
) -> None:
    """Train ``model`` in place: ``epochs`` passes over ``Xt`` (n, 8, 8) / ``yt`` (n,) in
    shuffled minibatches of ``BATCH_SIZE``, the order drawn from ``generator``."""
    import torch
    from torch.nn import functional as F

    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(Xt), generator=generator)
        for start in range(0, len(order), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            loss = F.cross_entropy(model(Xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()


def train_sklearn(name: str, X: np.ndarray, y: np.ndarray, *, seed: int = 0) -> Any:
    """Fit a scikit-learn classifier on flattened images, without warnings.

    Args:
        name: ``"logreg"`` (``LogisticRegression``) or ``"gboost"``
            (``HistGradientBoostingClassifier``, 100 iterations).
        X: images (n, 8, 8) or already flat (n, 64); the estimator sees (n, 64).
        y: int labels (n,).
        seed: ``random_state`` of the estimator.

    Returns:
        The fitted estimator; it predicts from (n, 64) arrays.

    Raises:
        ValueError: unknown ``name``.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    flat = np.asarray(X, dtype=np.float32).reshape(len(X), -1)  # (n, 64)
    if name == "logreg":
        # lbfgs needs ~300 iterations on [0, 1] digits; 2000 leaves room for other seeds
        estimator: Any = LogisticRegression(max_iter=2000, random_state=seed)
    elif name == "gboost":
        estimator = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    else:
        raise ValueError(
            f"The 'name' parameter of train_sklearn must be one of "
            f"{', '.join(SKLEARN_MODELS)}. Got {name!r} instead."
        )
    return estimator.fit(flat, y)
