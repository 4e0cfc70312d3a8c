"""Spec sheets of scikit-learn, XGBoost and LightGBM estimators: trees, depth, leaves, features,
or a linear model's coefficients; and the facts the ``sklearn:`` source reads while loading
(:func:`framework`, :func:`architecture`, :func:`count_parameters`), which live here because they
are sheet facts and spec sits left of the sources that load models."""

from __future__ import annotations

from typing import Any

import numpy as np

from whichmodel.spec.base import Estimator, Fact, Identity, Size, SpecSheet, unknown


def inspect_estimator(estimator: Any, *, name: str, ref: str) -> SpecSheet:
    """The sheet of a fitted estimator (a Pipeline is described by its last step)."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    est = _trees(final)
    n = count_parameters(estimator)
    total: Fact[int] = Fact(n, "weights", "learned numbers (trees: nodes)") if n is not None else (
        unknown("not counted for this estimator"))
    none: Fact[Any] = Fact(0, "formula", "not a mixture of experts")
    size = Size(total, total, Fact(0, "formula"), total, none, none, total, unknown(""),
                unknown("in-memory size depends on the library"))
    kind = str(est.kind.value)
    return SpecSheet(
        identity=Identity(name, ref, Fact(framework(estimator), "weights"),
                          Fact(architecture(estimator), "weights"),
                          Fact("tree ensemble" if (est.trees.value or 0) > 1 else kind, "weights"),
                          Fact({type(s).__name__: 1 for s in _steps(estimator)}, "weights")),
        size=size,
        estimator=est,
    )


def framework(estimator: Any) -> str:
    """The library of the estimator (of a Pipeline's last step): ``sklearn``, ``xgboost``..."""
    steps = getattr(estimator, "steps", None)
    final = steps[-1][1] if steps else estimator
    return type(final).__module__.split(".", 1)[0]


def architecture(estimator: Any) -> str:
    """The estimator's class name; a Pipeline's steps joined by arrows."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return " → ".join(type(step).__name__ for _, step in steps)
    return type(estimator).__name__


def count_parameters(estimator: Any) -> int | None:
    """Learned numbers in a fitted estimator: weights for linear models and MLPs, nodes for trees.

    Returns None when the estimator is of a kind this function does not know.
    """
    steps = getattr(estimator, "steps", None)
    if steps:
        counts = [count_parameters(step) for _, step in steps if step != "passthrough"]
        known = [c for c in counts if c is not None]
        return sum(known) if known else None
    if hasattr(estimator, "coefs_"):  # MLP
        return int(
            sum(w.size for w in estimator.coefs_) + sum(b.size for b in estimator.intercepts_)
        )
    if hasattr(estimator, "coef_"):  # linear models
        return int(np.size(estimator.coef_) + np.size(getattr(estimator, "intercept_", 0)))
    if hasattr(estimator, "tree_"):  # a single decision tree
        return int(estimator.tree_.node_count)
    if hasattr(estimator, "_predictors"):  # HistGradientBoosting*
        return int(sum(p.nodes.shape[0] for stage in estimator._predictors for p in stage))
    if hasattr(estimator, "estimators_"):  # forests, GradientBoosting*
        trees = np.ravel(np.asarray(estimator.estimators_, dtype=object))
        counts = [count_parameters(t) for t in trees]
        return int(sum(c for c in counts if c is not None)) if counts else None
    if hasattr(estimator, "get_booster"):  # XGBoost: nodes over all trees
        return sum(nodes for nodes, _, _ in _xgb_trees(estimator))
    if hasattr(estimator, "booster_"):  # LightGBM: leaves + split nodes
        info = estimator.booster_.dump_model()["tree_info"]
        return int(sum(2 * t["num_leaves"] - 1 for t in info))
    if hasattr(estimator, "means_"):  # naive Bayes / discriminant analysis, roughly
        return int(np.size(estimator.means_))
    return None


def _steps(estimator: Any) -> list[Any]:
    return [s for _, s in estimator.steps] if hasattr(estimator, "steps") else [estimator]


def _features(est: Any) -> Fact[int]:
    n = getattr(est, "n_features_in_", None)
    return Fact(int(n), "weights") if n is not None else unknown("not fitted")


def _outputs(est: Any) -> Fact[int]:
    classes = getattr(est, "classes_", None)
    return Fact(len(classes), "weights", "classes") if classes is not None else Fact(1, "weights")


def _trees(est: Any) -> Estimator:
    if hasattr(est, "get_booster"):
        return _xgboost(est)
    if hasattr(est, "booster_"):
        return _lightgbm(est)
    if hasattr(est, "_predictors"):
        return _hist_gradient_boosting(est)
    found = [getattr(t, "tree_", None) for t in _flat(getattr(est, "estimators_", None))]
    trees: list[Any] = [t for t in found if t is not None]
    if hasattr(est, "tree_"):
        trees = [est.tree_]
    if trees:
        return Estimator(
            kind=Fact("tree ensemble" if len(trees) > 1 else "decision tree", "weights"),
            n_features=_features(est), n_outputs=_outputs(est),
            trees=Fact(len(trees), "weights"),
            max_depth=Fact(max(int(t.max_depth) for t in trees), "weights"),
            nodes=Fact(sum(int(t.node_count) for t in trees), "weights"),
            leaves=Fact(sum(int(t.n_leaves) for t in trees), "weights"),
        )
    kind = "linear" if hasattr(est, "coef_") else type(est).__name__
    none: Fact[int] = Fact(0, "weights", "no trees")
    return Estimator(Fact(kind, "weights"), _features(est), _outputs(est), none, none, none, none)


def _flat(items: Any) -> list[Any]:
    if items is None:
        return []
    out: list[Any] = []
    for item in items if not hasattr(items, "ravel") else items.ravel():
        out.extend(_flat(item) if isinstance(item, list | tuple) else [item])
    return out


def _xgboost(est: Any) -> Estimator:
    trees = _xgb_trees(est)
    depth = max((d for _, _, d in trees), default=0)
    return Estimator(Fact("gradient-boosted trees (XGBoost)", "weights"), _features(est),
                     _outputs(est), Fact(len(trees), "weights"),
                     Fact(depth, "weights", "edges from root to the deepest leaf"),
                     Fact(sum(n for n, _, _ in trees), "weights"),
                     Fact(sum(leaf for _, leaf, _ in trees), "weights"))


def _xgb_trees(est: Any) -> list[tuple[int, int, int]]:
    """(nodes, leaves, depth) of each tree of an XGBoost model, from its JSON dump: its
    ``trees_to_dataframe`` cannot parse a categorical split (``enable_categorical=True``)."""
    import json

    out = []
    for text in est.get_booster().get_dump(dump_format="json"):
        stack, nodes, leaves, depth = [(json.loads(text), 0)], 0, 0, 0
        while stack:
            node, d = stack.pop()
            nodes += 1
            if "leaf" in node:
                leaves, depth = leaves + 1, max(depth, d)
            else:
                stack.extend((child, d + 1) for child in node.get("children", ()))
        out.append((nodes, leaves, depth))
    return out


def _lightgbm(est: Any) -> Estimator:
    info = est.booster_.dump_model()["tree_info"]
    leaves = sum(int(t["num_leaves"]) for t in info)
    depths = [_lgb_depth(t["tree_structure"]) for t in info]
    return Estimator(Fact("gradient-boosted trees (LightGBM)", "weights"), _features(est),
                     _outputs(est), Fact(len(info), "weights"),
                     Fact(max(depths, default=0), "weights"),
                     Fact(sum(2 * int(t["num_leaves"]) - 1 for t in info), "weights"),
                     Fact(leaves, "weights"))


def _lgb_depth(node: dict[str, Any]) -> int:
    if "leaf_index" in node or "left_child" not in node:
        return 0
    return 1 + max(_lgb_depth(node["left_child"]), _lgb_depth(node["right_child"]))


def _hist_gradient_boosting(est: Any) -> Estimator:
    """HistGradientBoosting*: one tree per iteration (per class for multiclass); each tree's
    nodes are a structured array with ``depth`` and ``is_leaf`` columns."""
    nodes = [tree.nodes for stage in est._predictors for tree in stage]
    return Estimator(
        Fact("gradient-boosted trees (histogram)", "weights"), _features(est), _outputs(est),
        Fact(len(nodes), "weights"),
        Fact(max((int(n["depth"].max()) for n in nodes), default=0), "weights"),
        Fact(sum(len(n) for n in nodes), "weights"),
        Fact(sum(int(n["is_leaf"].sum()) for n in nodes), "weights"),
    )
