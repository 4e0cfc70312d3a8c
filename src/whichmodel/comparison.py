"""What a comparison is made of and what it gives: :class:`CompareConfig` (the inputs),
:class:`ModelResult` (one model's part) and :class:`Comparison` (the whole result, decision
included). The flow that makes them is :mod:`whichmodel.api`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from whichmodel.errors import ConfigError, brief

if TYPE_CHECKING:
    from whichmodel.analysis.findings import Findings
    from whichmodel.analysis.stats import Statistics
    from whichmodel.bench.cost import CostProfile
    from whichmodel.choose.decision import Decision
    from whichmodel.tasks import Predictions


@dataclass(frozen=True)
class CompareConfig:
    """Everything that defines a comparison. Stores values; nothing is read until
    :func:`whichmodel.api.run`."""

    refs: tuple[str, ...]
    data: str
    task: str = "classification"
    input_cols: tuple[str, ...] | None = None
    label_col: str = "label"
    batch_size: int = 64
    seed: int = 0
    n_resamples: int = 1000
    confidence: float = 0.95
    measure_cost: bool = True
    store: str = ".whichmodel/store.db"
    allow_pickle: bool = False
    trust_remote_code: bool = False
    slice_by: tuple[str, ...] = ()  # data columns to slice the metrics by (need not be inputs)

    def validate(self) -> CompareConfig:
        """Raise ConfigError for values no comparison can use; returns self."""
        for name, expected in _FIELD_TYPES.items():
            value = getattr(self, name)
            if not isinstance(value, expected) or (
                isinstance(value, bool) and bool not in expected
            ):
                kinds = " or ".join("None" if t is type(None) else t.__name__ for t in expected)
                raise ConfigError(
                    f"The '{name}' option must be {kinds}. Got {brief(value)} "
                    f"({type(value).__name__}) instead."
                )
        if not all(isinstance(r, str) for r in self.refs) or not all(
            isinstance(c, str) for c in (*(self.input_cols or ()), *self.slice_by)
        ):
            raise ConfigError("Model references, input and slice columns must be strings.")
        if not self.refs:
            raise ConfigError("No models to compare; name at least one model reference.")
        inputs = self.input_cols or ()
        twice = sorted({c for c in inputs if inputs.count(c) > 1})
        if twice:
            raise ConfigError(f"The input columns name {brief(twice[0])} twice; name it once.")
        if self.label_col in inputs:
            raise ConfigError(
                f"The label column {brief(self.label_col)} is also an input column: the models "
                "would see the answer. Leave it out of the input columns."
            )
        if self.batch_size < 1:
            raise ConfigError(f"The batch size must be at least 1. Got {self.batch_size} instead.")
        if not 0 <= self.seed < 2**32:  # what NumPy and scikit-learn seeds take
            raise ConfigError(f"The seed must be an integer in [0, 2**32). Got {self.seed}.")
        if self.n_resamples < 10:
            raise ConfigError(f"Bootstrap resamples must be at least 10. Got {self.n_resamples}.")
        if not 0.5 <= self.confidence < 1:
            raise ConfigError(f"Confidence must be in [0.5, 1). Got {self.confidence} instead.")
        return self


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "refs": (tuple,),
    "data": (str,),
    "task": (str,),
    "input_cols": (tuple, type(None)),
    "label_col": (str,),
    "batch_size": (int,),
    "seed": (int,),
    "n_resamples": (int,),
    "confidence": (float, int),
    "measure_cost": (bool,),
    "store": (str,),
    "allow_pickle": (bool,),
    "trust_remote_code": (bool,),
    "slice_by": (tuple,),
}


@dataclass(frozen=True)
class ModelResult:
    """One model's part of a comparison.

    Args:
        fingerprint: the model's content fingerprint (its files' digests and its parameters).
        prediction_key: the store key of its predictions on this data and task.
        reused_batches / computed_batches: prediction batches read from the store / run now.
        cost_error: why the cost could not be measured, when it could not.
        spec: the compact spec sheet (:func:`whichmodel.spec.compact.compact`), or None.
        spec_error: why the spec sheet could not be made, when it could not.
        store_note: what went wrong with the stored predictions, when they had to be computed
            again (a damaged Parquet file), else None.
    """

    name: str
    ref: str
    fingerprint: str
    prediction_key: str
    predictions: Predictions
    cost: CostProfile | None
    reused_batches: int
    computed_batches: int
    tables: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    cost_error: str | None = None
    spec: dict[str, Any] | None = None
    spec_error: str | None = None
    store_note: str | None = None


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`whichmodel.api.run`: per-model results, statistics, the paired
    analysis, where it all came from, and the decision (None only while it is being made)."""

    config: CompareConfig
    task: str
    models: tuple[ModelResult, ...]
    statistics: Statistics
    n_examples: int
    data_fingerprint: str
    input_kind: str
    provenance: dict[str, Any]
    run_id: str = ""
    findings: Findings | None = None  # paired analysis: tests, disagreements, slices, ...
    decision: Decision | None = None  # which model to ship, under the run's constraints

    def model(self, name: str) -> ModelResult:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def metric(self, model: str, name: str) -> float:
        """The point value of metric ``name`` for ``model``."""
        for m in self.statistics.metrics:
            if m.model == model and m.name == name:
                return m.value
        raise KeyError((model, name))
