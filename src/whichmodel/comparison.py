"""What a comparison gives: :class:`ModelResult` (one model's part, predictions included),
:class:`Comparison` (the whole result, decision included) and :class:`Outcome` (its results with
the decision and the gate's verdict: what results.json holds). The flow that makes them is
:mod:`whichmodel.api`; :class:`~whichmodel.results.CompareConfig` is what it is made of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from whichmodel.results import (
    FAILURES_KEPT,
    CompareConfig,
    DataSummary,
    Failure,
    ModelSummary,
    Results,
)

if TYPE_CHECKING:
    from whichmodel.analysis.findings import Findings
    from whichmodel.analysis.stats import Statistics
    from whichmodel.bench.base import CostProfile
    from whichmodel.bench.paired import PairedLatency
    from whichmodel.bench.roofline import ModelRoofline
    from whichmodel.choose.decision import Decision
    from whichmodel.choose.gate import GateResult
    from whichmodel.spec.compact import CompactSpec
    from whichmodel.tasks import Predictions

__all__ = ["CompareConfig", "Comparison", "ModelResult", "Outcome"]


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
        n_not_most_probable: on how many examples the model's own predicted label is not its
            most probable class (scikit-learn's ``predict`` against ``predict_proba``); None
            where the task predicts no classes or the model gives no probabilities.
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
    spec: CompactSpec | None = None
    spec_error: str | None = None
    store_note: str | None = None
    n_not_most_probable: int | None = None
    roofline: ModelRoofline | None = None  # against the machine's limits, with a cost


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
    paired_latency: PairedLatency | None = None  # the costs' models in interleaved rounds

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

    def results(self) -> Results:
        """What the later stages read: everything but the per-example predictions."""
        return Results(
            run_id=self.run_id,
            task=self.task,
            config=self.config,
            data=DataSummary(
                path=self.config.data,
                fingerprint=self.data_fingerprint,
                n_examples=self.n_examples,
                n_scored=self.statistics.n_examples,
                input_kind=self.input_kind,
            ),
            models=tuple(_summary(m) for m in self.models),
            statistics=self.statistics,
            provenance=self.provenance,
            findings=self.findings,
            paired_latency=self.paired_latency,
        )


def _summary(m: ModelResult) -> ModelSummary:
    failed = m.predictions.failed_rows
    return ModelSummary(
        name=m.name,
        ref=m.ref,
        fingerprint=m.fingerprint,
        n_predicted=len(m.predictions.rows),
        n_failed=len(failed),
        failures=tuple(Failure(row, error) for row, error in failed[:FAILURES_KEPT]),
        reused_batches=m.reused_batches,
        computed_batches=m.computed_batches,
        cost=m.cost,
        cost_error=m.cost_error,
        spec=m.spec,
        spec_error=m.spec_error,
        store_note=m.store_note,
        tables=m.tables,
        n_not_most_probable=m.n_not_most_probable,
        roofline=m.roofline,
    )


@dataclass(frozen=True)
class Outcome:
    """What a run ended with, as results.json holds it: the results, the decision (with the
    ``command`` that asked for it) and, for ``gate``, the verdict."""

    results: Results
    decision: Decision | None = None
    command: str | None = None  # results.json lists it with the decision when it is known
    gate: GateResult | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        """A results.json's data, which the results schema accepts
        (:func:`whichmodel.report.schema.check_results`)."""
        from whichmodel.choose.decision import Decision
        from whichmodel.choose.gate import GateResult

        decision, verdict = data.get("decision"), data.get("gate")
        return cls(
            Results.from_dict(data),
            None if decision is None else Decision.from_dict(decision),
            None if decision is None else decision.get("command"),
            None if verdict is None else GateResult.from_dict(verdict),
        )

    def to_dict(self) -> dict[str, Any]:
        """results.json (the gate's verdict is listed before the decision)."""
        out = self.results.to_dict()
        if self.gate is not None:
            out["gate"] = self.gate.to_dict()
        if self.decision is not None:
            command = {} if self.command is None else {"command": self.command}
            out["decision"] = {**self.decision.to_dict(), **command}
        return out
