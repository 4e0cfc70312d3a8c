"""Error clusters: where each model's errors concentrate, biggest first, each described in words.

The error of an example is 1 - right for classification and the absolute error for regression.

- Numeric tabular inputs: a shallow regression tree (scikit-learn ``DecisionTreeRegressor``, depth
  3, leaves of at least 2% of the examples) fits the error on the features; each leaf whose mean
  error exceeds the overall mean is a cluster, described by its path (``petal width > 1.75 and
  ...``). Non-numeric columns are left out of the tree.
- Arrays (images) and text: the inputs are clustered once, independent of the models (scikit-learn
  ``KMeans``, 8 clusters, seeded) on the flattened arrays reduced to 32 dimensions by PCA, or on
  TF-IDF vectors; each cluster with an above-average error is described by the most common true
  and predicted labels of its errors (and, for text, its top TF-IDF terms). PCA and KMeans are
  fitted on at most ``FIT_ROWS`` examples drawn at random (seeded), in one thread; every example
  is then assigned to its nearest centre, so the cost stays bounded as the data grows.

Clusters are ranked by their share of the model's total error.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from whichmodel.analysis.disagreements import ExampleInput, render_input
from whichmodel.sources.base import Inputs
from whichmodel.tasks.base import Predictions, Task
from whichmodel.units import short_number

N_CLUSTERS = 8
TREE_DEPTH = 3
MAX_CLUSTERS_SHOWN = 5
_PCA_DIMS = 32
_EXAMPLES = 3
# The tree is fitted on at most _FIT_ROWS examples, KMeans on at most FIT_ROWS (beyond, a seeded
# sample); both are then applied to all, _APPLY_ROWS decoded at a time: streamed data files stay
# streamed (memory flat).
_FIT_ROWS = 20_000
FIT_ROWS = 2048
_APPLY_ROWS = 4096


@dataclass(frozen=True)
class ErrorCluster:
    """A group of examples where a model errs more than on average.

    Args:
        description: which examples, in words (a tree path or a cluster's traits).
        n: examples in the group.
        error: the group's total error (wrong examples, or summed absolute error).
        error_rate: its mean error; ``overall_rate`` the model's mean error on all examples.
        share: error / the model's total error.
        examples: up to three of the group's wrong (or worst) examples, rendered.
    """

    description: str
    n: int
    error: float
    error_rate: float
    overall_rate: float
    share: float
    rows: tuple[int, ...]
    examples: tuple[ExampleInput, ...]


@dataclass(frozen=True)
class ModelErrorClusters:
    """A model's error clusters and how they were found (``method``, in words)."""

    model: str
    method: str
    clusters: tuple[ErrorCluster, ...]


def error_clusters(
    task: Task,
    y: np.ndarray,
    preds: Mapping[str, Predictions],
    inputs: Inputs,
    *,
    seed: int = 0,
) -> tuple[ModelErrorClusters, ...]:
    """Each model's error clusters (see the module docstring).

    Args:
        y: (n,) labels of the examples every model predicted; preds aligned with it.
        inputs: the whole dataset's inputs, indexed by example id (``preds[...].rows``).
    """
    rows = next(iter(preds.values())).rows
    if inputs.kind == "audio":  # grouped by clip duration and sampling rate
        from whichmodel.data.audio import audio_features

        inputs = audio_features(inputs)
    groups = None if _is_tabular(inputs) else _input_clusters(inputs, rows, seed)
    out = []
    for name, p in preds.items():
        outcome = task.outcome(y, p)
        error = (~outcome).astype(np.float64) if outcome.dtype == bool else outcome.astype(float)
        if groups is None:
            method, members, texts = _tree_groups(inputs, rows, error, seed)
        else:
            method, members, texts = groups
            texts = [
                t + _label_text(y[m][error[m] > 0], p.pred[m][error[m] > 0])
                for t, m in zip(texts, members, strict=True)
            ]
        out.append(ModelErrorClusters(name, method, _rank(members, texts, error, rows, inputs)))
    return tuple(out)


def _is_tabular(inputs: Inputs) -> bool:
    return inputs.kind == "tabular"


def _rank(
    members: list[np.ndarray],
    texts: list[str],
    error: np.ndarray,
    rows: np.ndarray,
    inputs: Inputs,
) -> tuple[ErrorCluster, ...]:
    total, overall = float(error.sum()), float(error.mean()) if len(error) else 0.0
    found = []
    for idx, text in zip(members, texts, strict=True):
        err = float(error[idx].sum())
        if not len(idx) or total == 0 or err / len(idx) <= overall:
            continue
        worst = idx[np.argsort(-error[idx], kind="stable")[:_EXAMPLES]]
        found.append(
            ErrorCluster(
                text,
                len(idx),
                err,
                err / len(idx),
                overall,
                err / total,
                tuple(int(rows[i]) for i in worst),
                tuple(render_input(inputs, int(rows[i])) for i in worst),
            )
        )
    found.sort(key=lambda c: -c.error)
    return tuple(found[:MAX_CLUSTERS_SHOWN])


def _label_text(labels: np.ndarray, predicted: np.ndarray) -> str:
    """``; errors mostly true 9 (60%), predicted as 1 (80%)`` for the group's erring examples
    (nothing for regression's continuous labels)."""
    if len(labels) == 0 or labels.dtype.kind == "f":
        return ""

    def mode(values: np.ndarray) -> tuple[str, float]:
        names, counts = np.unique(values, return_counts=True)
        top = int(np.argmax(counts))
        return str(names[top]), counts[top] / len(values)

    (true, true_share), (pred, pred_share) = mode(labels), mode(predicted)
    return f"; errors mostly true {true} ({true_share:.0%}), predicted as {pred} ({pred_share:.0%})"


def _tree_groups(
    inputs: Inputs, rows: np.ndarray, error: np.ndarray, seed: int
) -> tuple[str, list[np.ndarray], list[str]]:
    """Leaves of a shallow regression tree on the error, and their paths in words."""
    from sklearn.tree import DecisionTreeRegressor

    fit = _fit_positions(len(rows), seed)
    x, names = _numeric_columns(inputs, rows[fit])
    method = f"decision tree (depth {TREE_DEPTH}) on the error, numeric features"
    if x.shape[1] == 0:
        return method + ": none, so no clusters", [], []
    tree = DecisionTreeRegressor(
        max_depth=TREE_DEPTH, min_samples_leaf=max(5, len(fit) // 50), random_state=seed
    ).fit(x, error[fit])
    leaves = (
        tree.apply(x)
        if len(fit) == len(rows)
        else np.concatenate(
            [tree.apply(_numeric_columns(inputs, chunk)[0]) for chunk in _chunks(rows)]
        )
    )
    paths = _paths(tree.tree_, names)
    ids = np.unique(leaves)
    return method, [np.flatnonzero(leaves == leaf) for leaf in ids], [paths[i] for i in ids]


def _fit_positions(n: int, seed: int, limit: int = _FIT_ROWS) -> np.ndarray:
    """Positions of the examples a grouping is fitted on: all, or a seeded sample of ``limit``."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def _chunks(rows: np.ndarray) -> list[np.ndarray]:
    return [rows[i : i + _APPLY_ROWS] for i in range(0, len(rows), _APPLY_ROWS)]


def _numeric_columns(inputs: Inputs, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    data = inputs.take(rows).data  # take: a streamed file decodes only these rows
    if data.dtype.kind == "f":
        return data, list(inputs.columns)
    keep, cols = [], []
    for j, name in enumerate(inputs.columns):
        try:
            cols.append(np.asarray(data[:, j], dtype=np.float64))
            keep.append(name)
        except (TypeError, ValueError):
            continue  # a text column: left out of the tree
    x = np.column_stack(cols) if cols else np.empty((len(rows), 0))
    return np.nan_to_num(x), keep


def _paths(tree: object, names: list[str]) -> dict[int, str]:
    """Leaf id -> its path in words, one bound pair per feature (``0.7 < income <= 0.85 and
    age <= 0.89``), from scikit-learn's tree_ arrays (left child: feature <= threshold)."""
    left, right = tree.children_left, tree.children_right  # type: ignore[attr-defined]
    feature, threshold = tree.feature, tree.threshold  # type: ignore[attr-defined]
    out: dict[int, str] = {}
    Bounds = dict[str, tuple[float | None, float | None]]  # feature -> (lower, upper)
    stack: list[tuple[int, Bounds]] = [(0, {})]
    while stack:
        node, bounds = stack.pop()
        if left[node] == -1:
            out[node] = " and ".join(_bound_text(n, lo, hi) for n, (lo, hi) in bounds.items())
            out[node] = out[node] or "all examples"
            continue
        name, t = names[feature[node]], float(threshold[node])
        lo, hi = bounds.get(name, (None, None))
        stack.append((left[node], {**bounds, name: (lo, t if hi is None else min(hi, t))}))
        stack.append((right[node], {**bounds, name: (t if lo is None else max(lo, t), hi)}))
    return out


def _bound_text(name: str, lo: float | None, hi: float | None) -> str:
    """``lo < name <= hi`` with 4 significant digits, large values as ``56.1k`` (not
    ``5.611e+04``); more digits where the short texts of two different bounds would read alike."""
    if lo is not None and hi is not None:
        lo_t, hi_t = short_number(lo), short_number(hi)
        if lo_t == hi_t:
            lo_t, hi_t = f"{lo:.8g}", f"{hi:.8g}"
        return f"{lo_t} < {name} <= {hi_t}"
    if lo is not None:
        return f"{name} > {short_number(lo)}"
    return f"{name} <= {short_number(hi or 0.0)}"  # a tree path bounds each feature it names


def _input_clusters(
    inputs: Inputs, rows: np.ndarray, seed: int
) -> tuple[str, list[np.ndarray], list[str]]:
    """KMeans groups of the inputs themselves (shared by every model), with descriptions.

    One thread: the fit is small (at most ``FIT_ROWS`` examples), and OpenMP's spinning threads
    make it 20-50x slower when another process holds a core (2-5 s instead of 0.1 s measured
    for KMeans on 2,048 × 32 under load on two cores)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _kmeans_groups(inputs, rows, seed)


def _kmeans_groups(
    inputs: Inputs, rows: np.ndarray, seed: int
) -> tuple[str, list[np.ndarray], list[str]]:
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    k = min(N_CLUSTERS, len(rows))
    fit = _fit_positions(len(rows), seed, FIT_ROWS)
    if inputs.kind == "text":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(max_features=5000)
        x = vectorizer.fit_transform([str(t) for t in inputs.take(rows[fit]).data])
        terms = vectorizer.get_feature_names_out()
        embed: Any = lambda r: vectorizer.transform([str(t) for t in inputs.take(r).data])  # noqa: E731
        method = f"KMeans ({k} clusters) on TF-IDF vectors of the text"
    else:
        from sklearn.decomposition import PCA

        def flat(r: np.ndarray) -> np.ndarray:
            return np.asarray(inputs.take(r).data.reshape(len(r), -1), dtype=np.float64)

        x, embed = flat(rows[fit]), flat
        if x.shape[1] > _PCA_DIMS and len(fit) > _PCA_DIMS:
            pca = PCA(n_components=_PCA_DIMS, random_state=seed).fit(x)
            x, embed = pca.transform(x), lambda r: pca.transform(flat(r))
        method = f"KMeans ({k} clusters) on the flattened inputs (PCA to ≤{_PCA_DIMS} dims)"
    with warnings.catch_warnings():
        # Fewer distinct inputs than clusters (duplicated rows) is fine: some clusters stay empty.
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(x)
    labels = (
        km.labels_
        if len(fit) == len(rows)
        else np.concatenate([km.predict(embed(chunk)) for chunk in _chunks(rows)])
    )
    if len(fit) < len(rows):
        method += f", fitted on {FIT_ROWS} of the {len(rows)} examples drawn at random"
    members = [np.flatnonzero(labels == c) for c in range(k)]
    texts = [f"input cluster {c + 1} of {k}" for c in range(k)]
    if inputs.kind == "text":
        top = np.argsort(-km.cluster_centers_, axis=1)[:, :5]
        texts = [f"{t}: terms {', '.join(terms[top[c]])}" for c, t in enumerate(texts)]
    return method, members, texts
