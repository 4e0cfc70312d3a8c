"""A learning-to-rank set built in code: queries of items with features and graded relevance
0-3 that depends on the features (plus noise), in long format (one row per query and item)."""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ("f0", "f1", "f2", "f3", "f4")


def ranking_frame(n_queries: int, seed: int, *, items: tuple[int, int] = (8, 20)) -> pd.DataFrame:
    """Columns ``query_id``, the features, ``label``; every query has a relevant item."""
    rng = np.random.default_rng(seed)
    parts = []
    for q in range(n_queries):
        m = int(rng.integers(*items))
        x = rng.normal(size=(m, len(FEATURES)))
        # Relevance rises with f0 and f1 and falls with f2 squared: a tree ranker can learn
        # the interaction that a linear model cannot.
        utility = 1.2 * x[:, 0] + 0.8 * x[:, 1] - 0.7 * x[:, 2] ** 2 + rng.normal(0, 0.6, m)
        label = np.digitize(utility, [0.5, 1.5, 2.5])  # 0..3
        label[np.argmax(utility)] = max(label.max(), 1)  # at least one relevant item
        frame = pd.DataFrame(x, columns=list(FEATURES))
        frame.insert(0, "query_id", f"q{seed}-{q}")
        frame["label"] = label
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def group_sizes(frame: pd.DataFrame) -> list[int]:
    """Rows per query in order of appearance (LightGBM's ``group``); rows of a query adjoin."""
    return frame.groupby("query_id", sort=False).size().tolist()
