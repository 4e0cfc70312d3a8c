"""Build the ranking example: a learning-to-rank set of queries (8-19 items each, 5 features,
graded relevance 0-3 that rises with f0 and f1 and falls with f2²), in long format.

    python examples/ranking/make.py OUT_DIR

writes OUT_DIR/test.csv (40 queries: query_id, f0..f4, label), OUT_DIR/lgbm.skops (LightGBM's
LGBMRanker, lambdarank, trained on 60 other queries) and OUT_DIR/logreg.skops (a pointwise
logistic regression of "relevant or not").
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from lightgbm import LGBMRanker
from sklearn.linear_model import LogisticRegression

FEATURES = ["f0", "f1", "f2", "f3", "f4"]


def queries(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for q in range(n):
        m = int(rng.integers(8, 20))
        x = rng.normal(size=(m, len(FEATURES)))
        utility = 1.2 * x[:, 0] + 0.8 * x[:, 1] - 0.7 * x[:, 2] ** 2 + rng.normal(0, 0.6, m)
        label = np.digitize(utility, [0.5, 1.5, 2.5])
        label[np.argmax(utility)] = max(label.max(), 1)  # every query has a relevant item
        frame = pd.DataFrame(x.round(4), columns=FEATURES)
        frame.insert(0, "query_id", f"q{seed}-{q}")
        frame["label"] = label
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    train, test = queries(60, seed=1), queries(40, seed=2)
    x = train[FEATURES].to_numpy()
    groups = train.groupby("query_id", sort=False).size().tolist()
    ranker = LGBMRanker(n_estimators=30, num_leaves=7, min_child_samples=5, random_state=0,
                        n_jobs=1, verbose=-1)
    sio.dump(ranker.fit(x, train["label"], group=groups), out / "lgbm.skops")
    sio.dump(LogisticRegression().fit(x, train["label"] > 0), out / "logreg.skops")
    test.to_csv(out / "test.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "ranking-example"))
