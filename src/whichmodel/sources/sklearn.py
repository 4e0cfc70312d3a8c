"""scikit-learn, XGBoost and LightGBM estimators saved with skops (``sklearn:PATH``).

skops files are read without unpickling. Classes from the estimator libraries themselves
(sklearn, xgboost, lightgbm, numpy, scipy) are trusted; any other type or function in the file
is refused unless the user passes ``allow_pickle``. joblib and pickle files run code when
loaded, so they are refused unless ``allow_pickle`` is set.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.errors import ModelLoadError, ModelReferenceError, UnsafeModelError
from whichmodel.refs import ModelRef
from whichmodel.sources.base import (
    Inputs,
    LoadOptions,
    Model,
    ModelInfo,
    RawOutput,
    label_text,
)

TRUSTED_MODULE_ROOTS = frozenset(
    {"sklearn", "xgboost", "lightgbm", "numpy", "scipy", "collections"}
)
_PICKLE_SUFFIXES = {".joblib", ".pkl", ".pickle"}


class SklearnModel(Model):
    """An estimator with the scikit-learn API (``predict``, maybe ``predict_proba``)."""

    def __init__(self, ref: ModelRef, estimator: Any, files: tuple[str, ...]) -> None:
        from sklearn.base import is_classifier

        self.ref = ref
        self.estimator = estimator
        self.is_classifier = bool(is_classifier(estimator))
        self.has_proba = self.is_classifier and hasattr(estimator, "predict_proba")
        classes = getattr(estimator, "classes_", None)
        self.classes = tuple(label_text(c) for c in classes) if classes is not None else None
        self.info = ModelInfo(
            framework=_framework(estimator),
            architecture=_architecture(estimator),
            parameters=count_parameters(estimator),
            files=files,
        )

    def predict(self, inputs: Inputs) -> RawOutput:
        x = self._features(inputs)
        if self.has_proba:
            return RawOutput("proba", np.asarray(self.estimator.predict_proba(x), dtype=np.float64))
        prediction = np.asarray(self.estimator.predict(x))
        if self.is_classifier:
            return RawOutput("labels", np.array([label_text(v) for v in prediction.tolist()]))
        return RawOutput("values", prediction.astype(np.float64))

    def _features(self, inputs: Inputs) -> Any:
        if inputs.kind == "text":
            return inputs.data
        data = inputs.data.reshape(len(inputs), -1)
        names = getattr(self.estimator, "feature_names_in_", None)
        if inputs.kind == "tabular" and names is not None:
            import pandas as pd

            return pd.DataFrame(data, columns=list(inputs.columns))[list(names)]
        return data


def load(ref: ModelRef, options: LoadOptions) -> SklearnModel:
    path = Path(ref.target)
    if not path.is_file():
        raise ModelReferenceError(f"No model file at {path} (from {ref}).")
    if path.suffix.lower() in _PICKLE_SUFFIXES:
        estimator = _load_pickle(path, options)
    else:
        estimator = _load_skops(path, options)
    if not hasattr(estimator, "predict"):
        raise ModelLoadError(
            f"{path} holds a {type(estimator).__name__}, which has no predict(); "
            "expected a fitted estimator."
        )
    return SklearnModel(ref, estimator, (str(path),))


def _load_skops(path: Path, options: LoadOptions) -> Any:
    """One pass when every type in the file is a library class: the types are read from the
    file's schema (a JSON walk, ~30 ms) and skops audits the load against them, instead of
    ``get_untrusted_types`` building every node, arrays included, a second time (~0.4 s for a
    1,000-tree gradient boosting model). Anything else takes the path that names the types."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        types = _schema_types(path)
    except Exception as exc:  # not a zip, no schema.json, not JSON
        raise ModelLoadError(f"{path} is not a readable skops file ({exc}).") from exc
    try:
        return sio.load(path, trusted=[t for t in types if _is_library_class(t)])
    except UntrustedTypesFoundException:
        pass  # a type outside the libraries (or a function): named below
    except Exception as exc:
        raise ModelLoadError(f"Could not load {path} with skops: {exc}") from exc
    untrusted = sio.get_untrusted_types(file=path)
    foreign = [t for t in untrusted if not _is_library_class(t)]
    if foreign and not options.allow_pickle:
        raise UnsafeModelError(
            f"{path} contains types outside scikit-learn/XGBoost/LightGBM ({', '.join(foreign)}); "
            "loading them may run their code. Pass --allow-pickle if you trust this file."
        )
    try:
        return sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise ModelLoadError(f"Could not load {path} with skops: {exc}") from exc


def _schema_types(path: Path) -> set[str]:
    """``module.Name`` of every object node in a skops file's ``schema.json``."""
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("__class__"), str) and isinstance(node.get("__module__"), str):
                found.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _is_library_class(name: str) -> bool:
    """True for a class defined by an estimator library (e.g. xgboost.core.Booster). Functions
    are not trusted even from those libraries: skops would call them on the user's data."""
    module_name, _, attr = name.rpartition(".")
    if module_name.split(".", 1)[0] not in TRUSTED_MODULE_ROOTS:
        return False
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        return False
    return isinstance(obj, type)


def _load_pickle(path: Path, options: LoadOptions) -> Any:
    if not options.allow_pickle:
        raise UnsafeModelError(
            f"{path} is a pickle/joblib file, which can run arbitrary code when loaded. "
            "Save it with skops (skops.io.dump), or pass --allow-pickle if you trust it."
        )
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:
        raise ModelLoadError(f"Could not load {path}: {exc}") from exc


def _final_estimator(estimator: Any) -> Any:
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def _framework(estimator: Any) -> str:
    return type(_final_estimator(estimator)).__module__.split(".", 1)[0]


def _architecture(estimator: Any) -> str:
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
        return len(estimator.get_booster().trees_to_dataframe())
    if hasattr(estimator, "booster_"):  # LightGBM: leaves + split nodes
        info = estimator.booster_.dump_model()["tree_info"]
        return int(sum(2 * t["num_leaves"] - 1 for t in info))
    if hasattr(estimator, "means_"):  # naive Bayes / discriminant analysis, roughly
        return int(np.size(estimator.means_))
    return None
