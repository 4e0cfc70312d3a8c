"""The typed results of a comparison, as every stage after the analysis reads them.

:class:`Results` is what ``results.json`` holds, without the per-example rows (those stay in the
store): the configuration, the data, each model's counts, cost profile and compact spec sheet,
the statistics and the paired findings. ``choose`` decides from it and ``report`` renders it.
JSON exists only at the edges: :meth:`Results.from_dict` reads a results.json (checked against
the shipped schema first, :mod:`whichmodel.report.schema`) and :meth:`Results.to_dict` writes
one, byte for byte what the comparison itself writes.

:class:`CompareConfig` lives here too: a results.json carries the configuration that made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from whichmodel.analysis.findings import Findings, findings_from_dict, findings_to_dict
from whichmodel.analysis.stats import Difference, MetricResult, PairedTest, Statistics
from whichmodel.bench.base import CostProfile, cost_to_dict
from whichmodel.bench.paired import PairedLatency
from whichmodel.bench.roofline import ModelRoofline
from whichmodel.bench.tokens import TokenCost
from whichmodel.errors import ConfigError, brief
from whichmodel.spec.compact import CompactSpec

#: The ``schema`` of results.json; bump when a reader of the old layout would misread the new.
SCHEMA_VERSION = 1

#: How the bootstrap intervals are made (results.json's ``bootstrap.method``).
BOOTSTRAP_METHOD = "percentile, paired resamples"


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
    threads: int = 1  # intra-op threads every model's cost is measured with (the same for all)
    refresh_cost: bool = False  # measure the cost again instead of reading it from the store
    # one example's shape for the models that read arrays (torch:, onnx:): rows are reshaped
    input_shape: tuple[int, ...] | None = None

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
        if self.input_shape is not None and not (
            self.input_shape and all(type(d) is int and d >= 1 for d in self.input_shape)
        ):
            raise ConfigError(
                "The input shape must be positive integers, e.g. 1,8,8. Got "
                f"{brief(self.input_shape)} instead."
            )
        if self.threads < 1:
            raise ConfigError(f"Threads must be at least 1. Got {self.threads} instead.")
        if self.batch_size < 1:
            raise ConfigError(f"The batch size must be at least 1. Got {self.batch_size} instead.")
        if not 0 <= self.seed < 2**32:  # what NumPy and scikit-learn seeds take
            raise ConfigError(f"The seed must be an integer in [0, 2**32). Got {self.seed}.")
        if self.n_resamples < 10:
            raise ConfigError(f"Bootstrap resamples must be at least 10. Got {self.n_resamples}.")
        if not 0.5 <= self.confidence < 1:
            raise ConfigError(f"Confidence must be in [0.5, 1). Got {self.confidence} instead.")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompareConfig:
        """The inverse of ``dataclasses.asdict`` after JSON (lists back to tuples)."""
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in _FIELD_TYPES
        }
        return cls(**values)


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
    "threads": (int,),
    "refresh_cost": (bool,),
    "input_shape": (tuple, type(None)),
}


@dataclass(frozen=True)
class DataSummary:
    """The data a comparison ran on: ``n_examples`` read, ``n_scored`` that every model
    predicted (the statistics are over those), and the kind of inputs (``array``, ``text``...)."""

    path: str
    fingerprint: str
    n_examples: int
    n_scored: int
    input_kind: str


@dataclass(frozen=True)
class Failure:
    """A row a model could not predict, and why."""

    row: int
    error: str


#: How many failures a model's summary lists (the count is always whole).
FAILURES_KEPT = 20


@dataclass(frozen=True)
class ModelSummary:
    """One model's part of the results.

    Args:
        n_predicted / n_failed: rows predicted, rows that failed (``failures`` lists the first
            :data:`FAILURES_KEPT`).
        reused_batches / computed_batches: prediction batches read from the store / run now.
        cost: the measured cost profile (latency samples left out: each latency keeps its
            count ``n``), or None with ``cost_error`` saying why, or None when not measured.
        spec: the compact spec sheet, or None with ``spec_error`` saying why.
        store_note: what went wrong with the stored predictions, when they were computed again.
        tables: task-specific tables by title (per-class figures...), rows of named cells.
        n_not_most_probable: on how many examples the model's own predicted label (which
            decides accuracy) is not its most probable class (which feeds log loss and
            calibration); None where the task predicts no classes or the model gives no
            probabilities. In results.json only when above 0.
        roofline: how close the cost runs to this machine's limits
            (:mod:`whichmodel.bench.roofline`); None when the cost was not measured (then
            results.json has no ``roofline`` key).
        token_cost: a served model's (``openai:``) tokens and what they cost per 1,000
            examples (:mod:`whichmodel.bench.tokens`); None for other models (then
            results.json has no ``tokens`` key).
    """

    name: str
    ref: str
    fingerprint: str
    n_predicted: int
    n_failed: int
    failures: tuple[Failure, ...]
    reused_batches: int
    computed_batches: int
    cost: CostProfile | None
    cost_error: str | None
    spec: CompactSpec | None
    spec_error: str | None
    store_note: str | None
    tables: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    n_not_most_probable: int | None = None
    roofline: ModelRoofline | None = None
    token_cost: TokenCost | None = None

    def to_dict(self) -> dict[str, Any]:
        # Only where predict and predict_proba disagree: every other model's part reads as
        # before (the golden results pin it).
        disagreeing = self.n_not_most_probable or 0
        out = {
            "name": self.name,
            "ref": self.ref,
            "fingerprint": self.fingerprint,
            "n_predicted": self.n_predicted,
            "n_failed": self.n_failed,
            "failures": [asdict(f) for f in self.failures],
            "reused_batches": self.reused_batches,
            "computed_batches": self.computed_batches,
            "cost": None if self.cost is None else cost_to_dict(self.cost),
            "cost_error": self.cost_error,
            "spec": None if self.spec is None else self.spec.to_dict(),
            "spec_error": self.spec_error,
            "store_note": self.store_note,
            **({"n_not_most_probable": disagreeing} if disagreeing else {}),
            "tables": self.tables,
        }
        if self.roofline is not None:
            out["roofline"] = self.roofline.to_dict()
        if self.token_cost is not None:
            out["tokens"] = self.token_cost.to_dict(per_example=False)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSummary:
        cost, spec, roof = data.get("cost"), data.get("spec"), data.get("roofline")
        tokens = data.get("tokens")
        return cls(
            name=data["name"],
            ref=data["ref"],
            fingerprint=data["fingerprint"],
            n_predicted=data["n_predicted"],
            n_failed=data["n_failed"],
            failures=tuple(Failure(f["row"], f["error"]) for f in data.get("failures", ())),
            reused_batches=data["reused_batches"],
            computed_batches=data["computed_batches"],
            cost=None if cost is None else CostProfile.from_dict(cost),
            cost_error=data.get("cost_error"),
            spec=None if spec is None else CompactSpec.from_dict(spec),
            spec_error=data.get("spec_error"),
            store_note=data.get("store_note"),
            tables=data.get("tables") or {},
            n_not_most_probable=data.get("n_not_most_probable"),
            roofline=None if roof is None else ModelRoofline.from_dict(roof),
            token_cost=None if tokens is None else TokenCost.from_dict(tokens),
        )


@dataclass(frozen=True)
class Results:
    """A comparison's results (see the module docstring). ``statistics.n_examples`` is the
    number of rows scored, ``data.n_scored``."""

    run_id: str
    task: str
    config: CompareConfig
    data: DataSummary
    models: tuple[ModelSummary, ...]
    statistics: Statistics
    provenance: dict[str, Any]
    findings: Findings | None = None
    paired_latency: PairedLatency | None = None  # the models timed in interleaved rounds

    def model(self, name: str) -> ModelSummary:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.models)

    def metric(self, model: str, name: str) -> MetricResult:
        """Metric ``name`` of ``model`` (KeyError when the task has no such metric)."""
        for m in self.statistics.metrics:
            if m.model == model and m.name == name:
                return m
        raise KeyError((model, name))

    def difference(self, metric: str, a: str, b: str) -> tuple[float, tuple[float, float]] | None:
        """``a − b`` on ``metric`` with its paired CI (either order is stored), or None."""
        for d in self.statistics.differences:
            if d.name != metric:
                continue
            if (d.model_a, d.model_b) == (a, b):
                return d.diff, (d.ci_low, d.ci_high)
            if (d.model_a, d.model_b) == (b, a):
                return -d.diff, (-d.ci_high, -d.ci_low)
        return None

    def metric_names(self) -> tuple[str, ...]:
        """The task's metrics, in the order the task lists them (the first is its headline)."""
        return tuple(dict.fromkeys(m.name for m in self.statistics.metrics))

    def __repr__(self) -> str:  # short: every table stays in the fields
        return summary_repr("Results", self.task, self.model_names, self.data.n_examples,
                            self.run_id)

    def _repr_html_(self) -> str:
        from whichmodel.display import card

        facts, rows = summary_card(self.task, self.data, self.statistics, self.run_id)
        return card("Results", facts, header=METRIC_HEADER, rows=rows)

    def to_dict(self) -> dict[str, Any]:
        """results.json, without the ``decision`` and ``gate`` keys (the choose stage adds
        them: :meth:`whichmodel.outcome.Outcome.to_dict`)."""
        stats = self.statistics
        out = {
            "schema": SCHEMA_VERSION,
            "run_id": self.run_id,
            "task": self.task,
            "config": _config_dict(self.config),
            "data": asdict(self.data),
            "models": [m.to_dict() for m in self.models],
            "metrics": [asdict(m) for m in stats.metrics],
            "differences": [
                {**asdict(d), "excludes_zero": d.excludes_zero} for d in stats.differences
            ],
            "tests": [asdict(t) for t in stats.tests],
            "bootstrap": {
                "n_resamples": stats.n_resamples,
                "confidence": stats.confidence,
                "seed": stats.seed,
                "method": BOOTSTRAP_METHOD,
            },
            "provenance": self.provenance,
        }
        if self.paired_latency is not None:  # absent without two costs (the golden results)
            out["paired_latency"] = self.paired_latency.to_dict()
        if self.findings is not None:
            out.update(findings_to_dict(self.findings))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Results:
        """The inverse of :meth:`to_dict`, for data the results schema accepts (``decision``
        and ``gate`` are read by :meth:`whichmodel.comparison.Outcome.from_dict`)."""
        boot = data["bootstrap"]
        summary = DataSummary(**data["data"])
        statistics = Statistics(
            metrics=tuple(MetricResult(**m) for m in data["metrics"]),
            differences=tuple(
                Difference(**{k: v for k, v in d.items() if k != "excludes_zero"})
                for d in data["differences"]
            ),
            tests=tuple(PairedTest(**t) for t in data["tests"]),
            n_examples=summary.n_scored,
            n_resamples=boot["n_resamples"],
            confidence=boot["confidence"],
            seed=boot["seed"],
        )
        sections = [f.name for f in fields(Findings)]  # written all together, or none
        found = {k: data[k] for k in sections} if sections[0] in data else None
        paired = data.get("paired_latency")
        return cls(
            run_id=data.get("run_id", ""),
            task=data["task"],
            config=CompareConfig.from_dict(data["config"]),
            data=summary,
            models=tuple(ModelSummary.from_dict(m) for m in data["models"]),
            statistics=statistics,
            provenance=data.get("provenance") or {},
            findings=None if found is None else findings_from_dict(found),
            paired_latency=None if paired is None else PairedLatency.from_dict(paired),
        )


METRIC_HEADER = ("model", "metric", "value", "CI low", "CI high")


def summary_repr(kind: str, task: str, models: Sequence[str], n_examples: int, run_id: str,
                 *extra: str) -> str:
    """The one line a comparison's results print as: task, models, examples, run id."""
    from whichmodel.display import names_text

    parts = [repr(task), f"{len(models)} models: {names_text(models)}",
             f"{n_examples} examples", *extra]
    if run_id:
        parts.append(f"run {run_id[:12]}")
    return f"{kind}({', '.join(parts)})"


def summary_card(
    task: str, data: DataSummary, statistics: Statistics, run_id: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str, str, str, str]]]:
    """(facts, metric rows) of a comparison's results card (see :mod:`whichmodel.display`)."""
    from whichmodel.display import number

    facts = [("task", task), ("data", data.path), ("examples", f"{data.n_scored} scored of "
             f"{data.n_examples}"), ("run", run_id or "—")]
    rows = [(m.model, m.name, number(m.value), number(m.ci_low), number(m.ci_high))
            for m in statistics.metrics]
    return facts, rows


def _config_dict(config: CompareConfig) -> dict[str, Any]:
    """The config as results.json writes it: ``input_shape`` only when given, so that the
    results of runs without it read as they always did."""
    out = asdict(config)
    if out["input_shape"] is None:
        del out["input_shape"]
    return out
