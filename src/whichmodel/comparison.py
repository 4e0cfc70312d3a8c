"""What a comparison gives: :class:`ModelResult` (one model's part, predictions included) and
:class:`Comparison` (the whole result, decision included), which saves itself as the report
``whichmodel compare --out`` writes, so it sits right of the report stage.
:class:`~whichmodel.outcome.Outcome` (its results with the decision and the gate's verdict: what
results.json holds) is re-exported from here. The flow that makes them is :mod:`whichmodel.api`;
:class:`~whichmodel.results.CompareConfig` is what it is made of.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whichmodel.outcome import Outcome
from whichmodel.results import (
    FAILURES_KEPT,
    METRIC_HEADER,
    CompareConfig,
    DataSummary,
    Failure,
    ModelSummary,
    Results,
    summary_card,
    summary_repr,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from whichmodel.analysis.findings import Findings
    from whichmodel.analysis.stats import Statistics
    from whichmodel.bench.base import CostProfile
    from whichmodel.bench.paired import PairedLatency
    from whichmodel.bench.roofline import ModelRoofline
    from whichmodel.bench.tokens import TokenCost
    from whichmodel.choose.decision import Decision
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
    token_cost: TokenCost | None = None  # a served model's tokens and their price (openai:)

    def __repr__(self) -> str:  # short: the predictions are arrays of every example
        return (
            f"ModelResult({self.name!r}, {self.ref[:80]!r}, {len(self.predictions.rows)} "
            f"predicted, {len(self.predictions.failed_rows)} failed)"
        )


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
    y_true: np.ndarray | None = field(default=None, compare=False)  # (n,) the data's labels

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

    def __repr__(self) -> str:  # short: one line, whatever the number of examples
        pick = [] if self.decision is None else [f"pick {self.decision.pick!r}"]
        names = [m.name for m in self.models]
        return summary_repr("Comparison", self.task, names, self.n_examples, self.run_id, *pick)

    def _repr_html_(self) -> str:
        from whichmodel.display import card

        facts, rows = summary_card(self.task, self.results().data, self.statistics, self.run_id)
        if self.decision is not None:
            facts.append(("pick", self.decision.pick or "none meets every constraint"))
        lines = self.decision.sentences if self.decision is not None else ()
        return card("Comparison", facts, header=METRIC_HEADER, rows=rows, lines=lines)

    def to_pandas(self, what: str = "metrics") -> pd.DataFrame:
        """A table of the comparison, as a DataFrame:

        - ``metrics``: one row per model and metric (value, CI, direction);
        - ``differences``: one row per metric and pair of models (a − b with its paired CI);
        - ``tests``: one row per pair (the paired test, its p-value and counts);
        - ``predictions``: one row per example (indexed by its row in the data), the true label
          first (the label column's name) and each model's prediction in a column named after
          the model; a row a model failed on is missing (NaN) in its column.

        Raises:
            ValueError: ``what`` is none of these.
        """
        import pandas as pd

        stats = self.statistics
        if what == "metrics":
            return pd.DataFrame([asdict(m) for m in stats.metrics])
        if what == "differences":
            return pd.DataFrame([{**asdict(d), "excludes_zero": d.excludes_zero}
                                 for d in stats.differences])
        if what == "tests":
            return pd.DataFrame([asdict(t) for t in stats.tests])
        if what == "predictions":
            return self._predictions_frame()
        raise ValueError(
            f"The 'what' parameter of to_pandas must be one of metrics, differences, tests, "
            f"predictions. Got {what!r} instead."
        )

    def _predictions_frame(self) -> pd.DataFrame:
        import pandas as pd

        columns: dict[str, Any] = {}
        label = self.config.label_col
        if self.y_true is not None and self.y_true.ndim == 1:
            names = {m.name for m in self.models}
            columns[label if label not in names else f"{label} (true)"] = pd.Series(self.y_true)
        for m in self.models:
            p = m.predictions
            values = list(p.pred) if p.pred.ndim == 1 else [list(v) for v in p.pred]
            columns[m.name] = pd.Series(values, index=p.rows)
        frame = pd.DataFrame(columns)
        frame.index.name = "row"
        return frame

    def save(self, folder: str | Path) -> list[Path]:
        """Write ``results.json`` and ``report.html`` into ``folder``, as
        ``whichmodel compare --out FOLDER`` does; returns their paths."""
        from whichmodel.report.files import write_report

        return write_report(Outcome(self.results(), self.decision), Path(folder))

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
        token_cost=m.token_cost,
    )
