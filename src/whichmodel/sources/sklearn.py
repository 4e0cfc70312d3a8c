"""scikit-learn, XGBoost and LightGBM estimators saved with skops (``sklearn:PATH``).

skops files are read without unpickling. The types skops may restore without ``allow_pickle``
are an explicit list (:mod:`whichmodel.sources.skops_trust`): estimators, the objects they hold,
arrays and plain containers, never whole libraries (a scipy.stats distribution in a file runs
code, a numpy.memmap overwrites a file). Any other type or function in the file is refused unless
the user passes ``allow_pickle``. joblib and pickle files run code when loaded, so they are
refused unless ``allow_pickle`` is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from whichmodel.errors import ModelLoadError, ModelReferenceError, UnsafeModelError
from whichmodel.refs import ModelRef
from whichmodel.sources import skops_trust
from whichmodel.sources.base import (
    Inputs,
    LoadOptions,
    Model,
    ModelInfo,
    RawOutput,
    existing_files,
    label_text,
)
from whichmodel.sources.contract import Source
from whichmodel.sources.features import check_table, feature_record, model_input
from whichmodel.spec.estimators import architecture, count_parameters, framework

if TYPE_CHECKING:
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet

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
        self.features = feature_record(estimator)
        self.info = ModelInfo(
            framework=framework(estimator),
            architecture=architecture(estimator),
            parameters=count_parameters(estimator),
            files=files,
        )

    def predict(self, inputs: Inputs) -> RawOutput:
        """A classifier's labels come from its own ``predict``, and its probabilities, when it
        has them, ride along: users ship ``predict``, which need not be the most probable class
        (``SVC(probability=True)``'s Platt scaling is fitted apart from its decision)."""
        x = self._features(inputs)
        prediction = np.asarray(self.estimator.predict(x))
        if not self.is_classifier:
            return RawOutput("values", prediction.astype(np.float64))
        labels = np.array([label_text(v) for v in prediction.tolist()], dtype=str)
        if self.has_proba:
            proba = np.asarray(self.estimator.predict_proba(x), dtype=np.float64)
            return RawOutput("proba", proba, labels=labels)
        return RawOutput("labels", labels)

    def _features(self, inputs: Inputs) -> Any:
        """The rows as the estimator was fitted on them (:func:`features.model_input`)."""
        return model_input(self.features, inputs)

    def check(self, inputs: Inputs) -> None:
        """Raise DataError, naming the column, when ``inputs`` (a sample of the rows) cannot
        reach the estimator as it was fitted (:func:`features.check_table`)."""
        check_table(self.features, inputs, model=self.name)


class SklearnSource:
    """``sklearn:`` references: one estimator file (skops; pickles with ``allow_pickle``)."""

    def options(self, ref: ModelRef) -> Mapping[str, str]:
        return {}  # the estimator knows its classes and features

    def files(self, ref: ModelRef, *, code: bool = True) -> tuple[str, ...]:
        return existing_files((ref.target,), ref)

    def load(self, ref: ModelRef, options: LoadOptions) -> SklearnModel:
        return load(ref, options)

    def inspect(self, ref: ModelRef, options: InspectOptions) -> SpecSheet:
        from whichmodel.spec import inspect_object

        return inspect_object(load(ref, options.load).estimator, options, ref=ref)

    def check_inputs(self, ref: ModelRef, options: LoadOptions, inputs: Inputs) -> None:
        """Before any model runs: the estimator's record of its table against ``inputs``."""
        if inputs.kind == "tabular":
            load(ref, options).check(inputs)


SOURCE: Source = SklearnSource()


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
    """One pass when every type in the file is on the list: the types are read from the file's
    schema (a JSON walk, ~30 ms) and skops audits the load against them, instead of
    ``get_untrusted_types`` building every node, arrays included, a second time (~0.4 s for a
    1,000-tree gradient boosting model). Anything else takes the path that names the types."""
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        nodes = schema_types(path)
    except Exception as exc:  # not a zip, no schema.json, not JSON
        raise ModelLoadError(f"{path} is not a readable skops file ({exc}).") from exc
    if not options.allow_pickle:
        _refuse_constructed_boosters(path, nodes)
    try:
        return sio.load(path, trusted=[t for t in nodes if skops_trust.is_trusted(t)])
    except UntrustedTypesFoundException:
        pass  # a type off the list (or a function): named below
    except Exception as exc:
        raise ModelLoadError(f"Could not load {path} with skops: {_first_line(exc)}") from exc
    untrusted = sio.get_untrusted_types(file=path)
    foreign = [t for t in untrusted if not skops_trust.is_trusted(t)]
    if foreign and not options.allow_pickle:
        raise UnsafeModelError(_refusal(path, foreign))
    try:
        return sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise ModelLoadError(f"Could not load {path} with skops: {_first_line(exc)}") from exc


def _refusal(path: Path, foreign: list[str]) -> str:
    reasons = [r for r in dict.fromkeys(skops_trust.reason(t) for t in foreign) if r]
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return (
        f"{path} holds types whichmodel does not restore without permission: "
        f"{', '.join(foreign)}{why}. Restoring them can run code or touch files; "
        "pass --allow-pickle if you trust this file."
    )


def _refuse_constructed_boosters(path: Path, nodes: dict[str, set[str]]) -> None:
    """A booster saved by skops is restored from its model bytes; a file that asks for its
    constructor instead (``Booster(model_file=PATH)``) would have it read any path."""
    for name in sorted(skops_trust.STATE_ONLY & nodes.keys()):
        other = sorted(nodes[name] - {"ObjectNode"})
        if other:
            raise UnsafeModelError(
                f"{path} builds {name} through {other[0]}, which calls its constructor with "
                "arguments from the file (a path it would read); a saved model stores it as "
                "state. Pass --allow-pickle if you trust this file."
            )


def schema_types(path: Path) -> dict[str, set[str]]:
    """``module.Name`` of every object node in a skops file's ``schema.json``, with the skops
    loaders (``ObjectNode``, ``ConstructorFromReduceNode``, ...) that restore it."""
    import json
    import zipfile

    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: dict[str, set[str]] = {}
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("__class__"), str) and isinstance(node.get("__module__"), str):
                name = f"{node['__module__']}.{node['__class__']}"
                found.setdefault(name, set()).add(str(node.get("__loader__")))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
