"""Tables keep their dtypes: categories, text and booleans reach each estimator as it was fitted.

One table (a number, a category, a boolean) feeds a ColumnTransformer + OneHotEncoder pipeline, a
native-categorical XGBoost and a LightGBM model, read from a CSV (no dtypes: the category is text)
and from a Parquet file whose category has other levels, in another order, than in training.
``whichmodel compare`` must give each model the accuracy of its own ``score()``; a column that
cannot match fails before any model runs, in one line that names it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

if TYPE_CHECKING:
    from cli.conftest import Invoke

COLORS = ["red", "green", "blue", "black", "white"]


def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, n).astype(float),
        "color": pd.Categorical(rng.choice(COLORS, n), categories=COLORS),
        "member": rng.random(n) > 0.5,
    })  # fmt: skip
    warm = frame["color"].isin(["red", "white"]).to_numpy()
    noise = rng.random(n) < 0.15
    frame["y"] = np.where((warm ^ frame["member"].to_numpy() ^ noise) | (frame["age"] > 70), 1, 0)
    return frame


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], pd.DataFrame]:
    import lightgbm as lgb
    import skops.io as sio
    import xgboost as xgb
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    root = tmp_path_factory.mktemp("tables")
    train, test = _table(600, 0), _table(300, 1)
    x, y = train.drop(columns="y"), train["y"]
    encode = ColumnTransformer(
        [("color", OneHotEncoder(handle_unknown="ignore"), ["color"])], remainder="passthrough"
    )
    fitted = {
        "pipe": make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(x, y),
        "xgb": xgb.XGBClassifier(
            enable_categorical=True, tree_method="hist", n_estimators=30, max_depth=3,
            max_cat_to_onehot=1, random_state=0,
        ).fit(x, y),
        "lgbm": lgb.LGBMClassifier(
            n_estimators=30, min_child_samples=5, verbose=-1, random_state=0
        ).fit(x, y),
    }
    for name, est in fitted.items():
        sio.dump(est, root / f"{name}.skops")
    test.assign(color=test["color"].astype(str)).to_csv(root / "test.csv", index=False)
    # other levels in another order, one of them never seen in training: codes differ
    levels = ["white", "purple", "black", "blue", "green", "red"]
    parquet = test.assign(color=test["color"].astype(str).astype(pd.CategoricalDtype(levels)))
    parquet.to_parquet(root / "test.parquet", index=False)
    return root, fitted, test


def _compare(invoke: Invoke, root: Path, data: str, *names: str) -> Any:
    refs = [f"sklearn:{root}/{n}.skops" for n in names]
    ran = invoke("compare", *refs, "--data", str(root / data), "--label-col", "y", "--no-cost",
                 "--store", str(root / "store.db"), "--bootstrap", "20", "--json")  # fmt: skip
    return ran


@pytest.mark.parametrize("data", ["test.csv", "test.parquet"])
def test_each_model_scores_as_its_own_score(invoke: Invoke, models: Any, data: str) -> None:
    root, fitted, test = models
    ran = _compare(invoke, root, data, *fitted)
    assert ran.exit_code == 0, ran.stderr
    results = json.loads(ran.stdout)
    x, y = test.drop(columns="y"), test["y"]
    for name, est in fitted.items():
        (accuracy,) = [m["value"] for m in results["metrics"]
                       if m["model"] == name and m["name"] == "accuracy"]  # fmt: skip
        assert accuracy == est.score(x, y), name
        assert 0.6 < accuracy < 1.0  # the models learnt the categories, and not perfectly
    (model,) = [m for m in results["models"] if m["name"] == "xgb"]
    assert model["failures"] == []


def test_a_column_that_cannot_match_fails_before_any_model_runs(
    invoke: Invoke, models: Any
) -> None:
    root, _, test = models
    bad = test.assign(age=np.where(test.index % 2 == 0, "young", "old"))
    bad.to_csv(root / "bad.csv", index=False)
    ran = _compare(invoke, root, "bad.csv", "pipe", "lgbm")
    assert ran.exit_code == 2
    (line,) = ran.stderr.strip().splitlines()
    assert line == (
        "error: Column 'age' holds text ('young'), but the LightGBM model lgbm was "
        "fitted on it as numbers; give it the numbers it was trained on."
    )
    assert ran.stdout == ""  # nothing ran: the pipeline, first, would have taken the text
    colors = test.assign(color="mauve")
    colors.to_csv(root / "colors.csv", index=False)
    ran = _compare(invoke, root, "colors.csv", "xgb")
    assert ran.exit_code == 2
    assert ran.stderr.strip() == (
        "error: Column 'color' holds none of the categories the XGBoost model xgb was fitted "
        "on ('red', 'green', 'blue', 'black', 'white'); the data has e.g. 'mauve'."
    )
    test.drop(columns="member").to_csv(root / "narrow.csv", index=False)
    ran = _compare(invoke, root, "narrow.csv", "pipe")
    assert ran.exit_code == 2
    assert ran.stderr.strip() == (
        "error: pipe was fitted on a column 'member' that the data's inputs do not have "
        "(missing: 1 of 3); the inputs are 'age', 'color'."
    )
