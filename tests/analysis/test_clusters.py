"""Error clusters: a shallow tree finds where tabular errors concentrate; KMeans groups images."""

import numpy as np

from whichmodel.analysis.clusters import error_clusters
from whichmodel.sources.base import Inputs
from whichmodel.tasks import Predictions, get_task


def test_the_tree_names_the_region_where_errors_concentrate():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (1000, 3))
    y = rng.choice(["p", "q"], 1000)
    wrong = (x[:, 1] > 0.7) & (rng.random(1000) < 0.6) | (rng.random(1000) < 0.03)
    pred = np.where(wrong, np.where(y == "p", "q", "p"), y)
    inputs = Inputs("tabular", x, ("age", "income", "tenure"))
    (m,) = error_clusters(
        get_task("classification"), y, {"m": Predictions(np.arange(1000), pred)}, inputs
    )
    top = m.clusters[0]
    assert "income" in top.description and "0.69" in top.description  # the split at ~0.7
    assert top.error_rate > 2 * top.overall_rate
    rows = _rows(top.description, x)
    assert top.n == rows.sum() and top.error == float(np.sum(pred[rows] != y[rows]))
    assert all(pred[r] != y[r] for r in top.rows)  # the examples shown are errors
    assert [c.error for c in m.clusters] == sorted((c.error for c in m.clusters), reverse=True)
    in_region = sum(
        c.share for c in m.clusters if "< income" in c.description or "income >" in c.description
    )
    assert in_region > 0.6


def _rows(description, x):
    """Rows matching a tree path, re-evaluated from its words."""
    mask = np.ones(len(x), dtype=bool)
    names = {"age": 0, "income": 1, "tenure": 2}
    for cond in description.split(" and "):
        parts = cond.split(" ")
        if len(parts) == 5:  # lo < name <= hi
            column = x[:, names[parts[2]]]
            mask &= (column > float(parts[0])) & (column <= float(parts[4]))
        else:
            column = x[:, names[parts[0]]]
            mask &= column <= float(parts[2]) if parts[1] == "<=" else column > float(parts[2])
    return mask


def test_images_cluster_by_kmeans_and_the_seed_fixes_them():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, y = digits.images[:600].astype(np.float32), digits.target[:600].astype(str)
    pred = np.where(np.isin(y, ["8", "9"]), "1", y)  # the model confuses 8s and 9s
    preds = {"m": Predictions(np.arange(600), pred)}
    task = get_task("classification")
    (first,) = error_clusters(task, y, preds, Inputs("array", images), seed=3)
    (again,) = error_clusters(task, y, preds, Inputs("array", images), seed=3)
    assert first == again
    assert first.method.startswith("KMeans (8 clusters)")
    top = first.clusters[0]
    assert "errors mostly true 8" in top.description or "errors mostly true 9" in top.description
    assert "predicted as 1 (100%)" in top.description
    assert top.examples[0].kind == "image"


def test_text_clusters_are_named_by_their_top_terms():
    rng = np.random.default_rng(0)
    sport = ["goal match striker league", "match referee goal penalty", "league striker transfer"]
    money = ["bank interest rate loan", "loan mortgage bank rate", "interest inflation bank"]
    texts = np.array(
        [rng.choice(sport) for _ in range(100)] + [rng.choice(money) for _ in range(100)]
    )
    y = np.array(["sport"] * 100 + ["money"] * 100)
    pred = y.copy()
    pred[100:160] = "sport"  # the model fails on finance texts
    inputs = Inputs("text", texts.astype(object), ("text",))
    (m,) = error_clusters(
        get_task("classification"), y, {"m": Predictions(np.arange(200), pred)}, inputs
    )
    assert m.method.startswith("KMeans") and "TF-IDF" in m.method
    top = m.clusters[0]
    assert "errors mostly true money" in top.description
    terms = top.description.split("terms ")[1].split(";")[0]
    assert {"bank", "loan", "interest", "rate", "mortgage", "inflation"} & set(terms.split(", "))
    assert top.examples[0].kind == "text"


def test_beyond_fit_rows_kmeans_fits_a_sample_and_still_finds_the_groups():
    from sklearn.datasets import make_blobs

    from whichmodel.analysis.clusters import FIT_ROWS, N_CLUSTERS

    n = 2 * FIT_ROWS + 100
    x, blob = make_blobs(n, n_features=40, centers=N_CLUSTERS, cluster_std=0.5, random_state=0)
    y = np.zeros(n, dtype=int).astype(str)
    pred = np.where(blob == 3, "1", "0")  # every error sits in blob 3
    preds = {"m": Predictions(np.arange(n), pred)}
    (m,) = error_clusters(get_task("classification"), y, preds, Inputs("array", x), seed=0)
    assert f"fitted on {FIT_ROWS} of the {n} examples" in m.method
    (top,) = m.clusters  # one cluster is blob 3 exactly, with the examples outside the sample
    assert top.share == 1.0 and top.n == np.sum(blob == 3) and top.error_rate == 1.0


def test_large_values_read_as_56k_not_as_an_exponent():
    # Incomes in dollars: the split at ~70k reads "income > 69.9k", never "6.99e+04".
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (1000, 3)) * [90.0, 100_000.0, 1.0]
    y = rng.choice(["p", "q"], 1000)
    wrong = (x[:, 1] > 70_000) & (rng.random(1000) < 0.6) | (rng.random(1000) < 0.03)
    pred = np.where(wrong, np.where(y == "p", "q", "p"), y)
    inputs = Inputs("tabular", x, ("age", "income", "tenure"))
    (m,) = error_clusters(
        get_task("classification"), y, {"m": Predictions(np.arange(1000), pred)}, inputs
    )
    text = " | ".join(c.description for c in m.clusters)
    assert "e+0" not in text
    top = m.clusters[0]
    bound = next(c for c in top.description.split(" and ") if "income" in c)
    # "income > 70k" or "70k < income <= 85.3k": the lower bound in thousands, near the split
    lower = bound.split(" ")[2] if bound.startswith("income >") else bound.split(" ")[0]
    assert lower.endswith("k"), bound
    assert 69_000 <= float(lower[:-1]) * 1000 <= 71_000, bound
