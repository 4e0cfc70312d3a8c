"""Iris as a user's CSV with three scikit-learn models saved with skops, and the compare command
over two of them: the fixture of the CLI tests (compare, choose, gate)."""

from __future__ import annotations

from pathlib import Path


def save_iris_models(folder: Path) -> Path:
    """Write ``iris.csv`` (label column ``target``) and ``lr``, ``tree`` (depth 2) and ``dummy``
    ``.skops`` classifiers trained on it into ``folder``; returns ``folder``."""
    import skops.io as sio
    from sklearn.datasets import load_iris
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    frame = load_iris(as_frame=True).frame
    frame.to_csv(folder / "iris.csv", index=False)
    x, y = frame.drop(columns="target"), frame["target"]
    sio.dump(LogisticRegression(max_iter=1000).fit(x, y), folder / "lr.skops")
    sio.dump(DecisionTreeClassifier(max_depth=2, random_state=0).fit(x, y), folder / "tree.skops")
    sio.dump(DummyClassifier().fit(x, y), folder / "dummy.skops")
    return folder


def compare_args(folder: Path, *extra: str) -> tuple[str, ...]:
    """``whichmodel compare`` of lr and tree on the iris CSV, with a store in ``folder``."""
    return (
        "compare",
        f"sklearn:{folder}/lr.skops",
        f"sklearn:{folder}/tree.skops",
        "--data",
        f"{folder}/iris.csv",
        "--label-col",
        "target",
        "--store",
        f"{folder}/store.db",
        *extra,
    )
