"""The top-level flow: ``evaluate`` one model, ``compare`` several and decide which to ship.

Each step is a plain function over typed values, cached in the store by content fingerprints::

    read data -> for each model: predictions (jobs on an executor, resumable), spec sheet, cost
              -> the costs' models in interleaved latency rounds (bench/paired.py)
              -> statistics over the examples every model predicted -> paired analysis
              -> Comparison -> decision under the constraints
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from whichmodel.api_cost import interleaved_rounds, measured_cost, token_cost, with_rooflines
from whichmodel.api_options import check_metrics
from whichmodel.comparison import CompareConfig, Comparison, ModelResult
from whichmodel.data.dataset import Dataset
from whichmodel.errors import WhichModelError
from whichmodel.execute import Executor, LocalExecutor, Worker
from whichmodel.execute.driver import Progress, predict_all
from whichmodel.provenance import provenance, result_library_versions
from whichmodel.refs import ModelRef, parse_ref
from whichmodel.sources import fingerprint_files
from whichmodel.sources.base import LoadOptions, Model
from whichmodel.store import CorruptPredictionsError, Store, key_of
from whichmodel.store.cache import Codec, cache_key, cached
from whichmodel.tasks import Predictions, Task, get_task
from whichmodel.tasks.classification import disagreements

if TYPE_CHECKING:
    import pandas as pd

    from whichmodel.analysis.findings import Findings
    from whichmodel.analysis.stats import Statistics
    from whichmodel.choose.constraints import Constraints, Objective
    from whichmodel.spec.compact import CompactSpec



def compare(
    models: Any,
    data: Any = None,
    *,
    task: str = "classification",
    label_col: str = "label",
    constraints: Constraints | None = None,
    objective: Objective | None = None,
    executor: Executor | None = None,
    **options: Any,
) -> Comparison:
    """Compare models on a dataset and decide which to ship: the decision ``whichmodel compare``
    prints with the same flags.

    Args:
        models: a dict {name: model} or a list of models (named after their class, made
            unique); a model is a reference (``"sklearn:m.skops"``, a path), a fitted
            scikit-learn / XGBoost / LightGBM estimator, a ``torch.nn.Module``, a
            ``transformers`` model or ``(model, tokenizer)`` (see :mod:`whichmodel.api_inputs`).
        data: a path (CSV, JSONL, Parquet, a folder), a pandas DataFrame, a ``datasets.Dataset``
            or NumPy arrays ``(X, y)``; None with ``task="lm-eval:TASK.yaml"`` (its data files).
        task, label_col: as ``--task`` and ``--label-col``.
        options: the other flags of ``whichmodel compare``, named as they are with ``_``:
            ``input_cols``, ``batch_size``, ``seed``, ``bootstrap``, ``no_cost``, ``threads``,
            ``refresh_cost``, ``store``, ``out`` (write results.json and report.html there),
            ``allow_pickle``, ``trust_remote_code``, ``slice_by``, ``input_shape`` (``(1, 8,
            8)``: each example's shape for torch and ONNX models); and the limits and objective
            of :func:`whichmodel.choose` (``max_latency_ms=5``, ``min_metrics={"accuracy":
            0.9}``, ``prefer="latency"``), or ``constraints`` / ``objective`` objects.

    Raises WhichModelError, whose message names these arguments (``allow_pickle=True``).
    Example: ``whichmodel.compare({"lr": lr, "gb": gb}, test_df, label_col="y").to_pandas()``.
    """
    from whichmodel.api_inputs import prepared
    from whichmodel.api_options import choice, python_errors

    with python_errors():
        options = {**options, "task": task, "label_col": label_col}
        out = options.pop("out", None)
        constraints, objective = choice(options, constraints, objective)
        with prepared(models, data, options) as config:
            comparison = run(
                config, constraints=constraints, objective=objective, executor=executor
            )
        if out is not None:
            comparison.save(out)
        return comparison


def run(
    config: CompareConfig,
    *,
    progress: Progress | None = None,
    executor: Executor | None = None,
    constraints: Constraints | None = None,
    objective: Objective | None = None,
) -> Comparison:
    """Run a comparison (see the module docstring): evaluate each model, analyze, decide."""
    check_metrics(get_task(config.validate().task), constraints, objective)  # before any work
    if constraints is not None:
        constraints.check_cost_basis(config.refs)
    run_ = _Run.start(config, executor, progress)
    results = with_rooflines(run_, [run_.model(ref, files) for ref, files in run_.refs])
    return concluded(run_, results, constraints, objective)


def concluded(
    run_: _Run,
    results: list[ModelResult],
    constraints: Constraints | None,
    objective: Objective | None,
    *,
    config: CompareConfig | None = None,
    stored: tuple[str, ...] = (),
) -> Comparison:
    """The comparison of ``results`` (each model's part, done): statistics, paired analysis,
    interleaved latency rounds, recorded in the store as ``config`` (default: the run's) and
    decided. The models named in ``stored`` were read from a stored run and are never loaded:
    they sit out the latency rounds."""
    stats, tables = _statistics(run_, results)
    results = [replace(r, tables=tables[r.name]) for r in results]
    scores = {(m.model, m.name): m.value for m in stats.metrics}
    comparison = Comparison(
        config or run_.config,
        run_.task.name,
        tuple(results),
        stats,
        len(run_.dataset),
        run_.data_fp,
        run_.dataset.inputs.kind,
        provenance(),
        findings=_findings(run_, results, scores),
        paired_latency=interleaved_rounds(run_, [r for r in results if r.name not in stored]),
        y_true=run_.y_true,
    )
    return _recorded_and_decided(comparison, run_.store, constraints, objective)


@dataclass(frozen=True)
class Evaluation:
    """One model on one dataset: its predictions, spec sheet and cost, and its metrics with
    confidence intervals (``statistics.metrics``)."""

    model: ModelResult
    statistics: Statistics
    n_examples: int
    data_fingerprint: str

    def metric(self, name: str) -> float:
        """The point value of metric ``name``."""
        for m in self.statistics.metrics:
            if m.name == name:
                return m.value
        raise KeyError(name)


def evaluate(
    model: Any,
    data: Any = None,
    *,
    task: str = "classification",
    label_col: str = "label",
    executor: Executor | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> Evaluation:
    """Evaluate one model on a dataset: metrics with confidence intervals, spec sheet, cost.
    ``model``, ``data`` and the keywords are those of :func:`compare`.

    Example::

        e = whichmodel.evaluate("sklearn:lr.skops", "test.csv", label_col="y")
        print(e.metric("accuracy"))
    """
    from whichmodel.api_inputs import prepared
    from whichmodel.api_options import python_errors

    models = model if isinstance(model, dict) else [model]
    options = {**options, "task": task, "label_col": label_col}
    with python_errors(), prepared(models, data, options) as config:
        run_ = _Run.start(config, executor, progress)
        ((ref, files),) = run_.refs
        (result,) = with_rooflines(run_, [run_.model(ref, files)])
        stats, tables = _statistics(run_, [result])
        return Evaluation(
            replace(result, tables=tables[result.name]), stats, len(run_.dataset), run_.data_fp
        )


@dataclass(frozen=True)
class _Run:
    """What every step of one run shares: the checked config, its task, data and store."""

    config: CompareConfig
    task: Task
    refs: tuple[tuple[ModelRef, tuple[str, ...]], ...]  # (reference, files its fingerprint covers)
    dataset: Dataset
    y_true: np.ndarray
    slice_columns: pd.DataFrame
    store: Store
    data_fp: str
    executor: Executor
    worker: Worker  # the driver's own: spec sheets load here (the local executor shares it)
    progress: Progress | None

    @classmethod
    def start(
        cls, config: CompareConfig, executor: Executor | None, progress: Progress | None
    ) -> _Run:
        """Check everything that can be checked before any model runs, and read the data."""
        from whichmodel.analysis.slices import read_slice_columns

        config.validate()
        task = get_task(config.task)
        refs = _unique_names([parse_ref(r) for r in config.refs])
        files = [fingerprint_files(ref) for ref in refs]  # a missing file fails before any work
        dataset, y_true = task.read(
            config.data, input_cols=config.input_cols, label_col=config.label_col
        )
        slice_columns = read_slice_columns(dataset.path, config.slice_by)  # before any work
        refs = _shaped(refs, config.input_shape, dataset)
        _check_inputs(refs, dataset, LoadOptions(config.allow_pickle, config.trust_remote_code))
        store = Store.open(config.store)
        data_fp = key_of(_data_digest(store, dataset.path), dataset.input_cols, dataset.label_col)
        worker = executor.worker if isinstance(executor, LocalExecutor) else Worker()
        refs_and_files = tuple(zip(refs, files, strict=True))
        executor = executor or LocalExecutor(worker)
        return cls(
            config, task, refs_and_files, dataset, y_true, slice_columns, store, data_fp,
            executor, worker, progress,
        )

    def model(self, ref: ModelRef, files: tuple[str, ...]) -> ModelResult:
        """One model's part: predictions (resumed from the store), spec sheet and cost."""
        config = self.config
        # the store: where an endpoint caches its responses, so a resumed run sends none again
        options = LoadOptions(config.allow_pickle, config.trust_remote_code, config.store)
        model_fp = key_of(
            ref.kind,
            ref.target,
            sorted(p for p in ref.params if p[0] != "name"),
            self.store.file_digests(files),
            result_library_versions(),
        )
        key = self.predictions_key(model_fp, config.batch_size)
        preds, reused, computed, store_note = self._predictions(ref, key, options)
        self.task.check(self.y_true, preds, ref.name)
        spec, spec_error = _spec(self, ref, model_fp, options)
        tokens = token_cost(self, ref, key, preds, options)
        self.worker.release()  # done with it here: not held through the cost subprocess
        cost, cost_error = None, None
        if config.measure_cost:
            cost, cost_error = measured_cost(self, ref, model_fp, options)
        return ModelResult(
            ref.name, str(ref), model_fp, key, preds, cost, reused, computed,
            cost_error=cost_error, spec=spec, spec_error=spec_error, store_note=store_note,
            n_not_most_probable=disagreements(preds) if self.task.class_predictions else None,
            token_cost=tokens,
        )

    def predictions_key(self, model_fp: str, batch_size: int) -> str:
        """The store key of a model's predictions on this run's data and task."""
        key = cache_key("predictions", model_fp, self.data_fp, self.task.name, batch_size)
        if self.task.data_files():  # e.g. a retrieval corpus: other contents, other predictions
            key = key_of(key, self.store.file_digests(self.task.data_files()))
        return key

    def _predictions(
        self, ref: ModelRef, key: str, options: LoadOptions
    ) -> tuple[Predictions, int, int, str | None]:
        """(predictions, batches reused, batches computed, store note); a damaged stored set is
        computed again, once, and the note says so."""

        def predict() -> tuple[Predictions, int, int]:
            return predict_all(
                ref, self.dataset, task=self.task, store=self.store, key=key,
                batch_size=self.config.batch_size, executor=self.executor, options=options,
                progress=self.progress,
            )

        try:
            return (*predict(), None)
        except CorruptPredictionsError as exc:
            self.store.forget_predictions(key)
            note = f"its stored predictions were unreadable and were computed again ({exc})"
            return (*predict(), note)


_CHECKED_ROWS = 1000  # rows a model's record of its inputs is checked against


def _check_inputs(refs: list[ModelRef], dataset: Dataset, options: LoadOptions) -> None:
    """Each model against the data before any model runs (``sources.check_inputs``): a table
    column one model cannot take fails the run at once, not after the others ran."""
    from whichmodel.sources import check_inputs

    sample = dataset.inputs.take(slice(0, min(len(dataset), _CHECKED_ROWS)))
    for ref in refs:
        check_inputs(ref, sample, options)


def _shaped(
    refs: list[ModelRef], shape: tuple[int, ...] | None, dataset: Dataset
) -> list[ModelRef]:
    """The references with ``--input-shape`` given to those that read arrays, checked against
    the data's first row before any model runs (``sources.shaped_refs``)."""
    from whichmodel.sources import shaped_refs

    return shaped_refs(refs, shape, dataset.inputs.take(slice(0, 1)))


def _unique_names(refs: list[ModelRef]) -> list[ModelRef]:
    seen: dict[str, int] = {}
    out = []
    for ref in refs:
        seen[ref.name] = seen.get(ref.name, 0) + 1
        if seen[ref.name] > 1:
            unnamed = [p for p in ref.params if p[0] != "name"]  # param() reads the first
            params = (*unnamed, ("name", f"{ref.name}-{seen[ref.name]}"))
            ref = ModelRef(ref.kind, ref.target, params, ref.raw)
        out.append(ref)
    return out


def _data_digest(store: Store, path: str) -> str:
    """A data file's digest; a data folder's is that of its files' digests."""
    folder = Path(path)
    if not folder.is_dir():
        return store.file_digest(path)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    digests = store.file_digests(files)  # one transaction for an image folder's 10k files
    return key_of([(str(p.relative_to(folder)), d) for p, d in zip(files, digests, strict=True)])


Tables = dict[str, list[dict[str, object]]]


def _statistics(run_: _Run, results: list[ModelResult]) -> tuple[Statistics, dict[str, Tables]]:
    """Bootstrap CIs, paired tests and per-model tables, cached by everything they depend on."""
    from whichmodel.analysis.stats import (
        align,
        common_rows,
        compute_statistics,
        statistics_from_dict,
        statistics_to_dict,
    )

    config, task, y_true = run_.config, run_.task, run_.y_true
    preds = {r.name: r.predictions for r in results}

    def compute() -> tuple[Statistics, dict[str, Tables]]:
        stats = compute_statistics(
            task, y_true, preds, units=run_.dataset.units,
            n_resamples=config.n_resamples, confidence=config.confidence, seed=config.seed,
        )
        rows = common_rows(preds)  # tables use the examples the metrics use
        aligned = align(preds, rows, run_.dataset.units)
        tables = {name: task.tables(y_true[rows], p) for name, p in aligned.items()}
        return stats, tables

    codec: Codec[tuple[Statistics, dict[str, Tables]]] = Codec(
        lambda v: {"statistics": statistics_to_dict(v[0]), "tables": v[1]},
        lambda d: (statistics_from_dict(d["statistics"]), d["tables"]),
    )
    parts = (
        [(r.name, r.prediction_key) for r in results],
        task.name, config.n_resamples, config.confidence, config.seed,
    )
    return cached(
        run_.store, "analysis", parts, compute, codec, progress=run_.progress, label="statistics"
    )


def _findings(
    run_: _Run, results: list[ModelResult], scores: dict[tuple[str, str], float]
) -> Findings:
    """The paired analysis (analysis/findings.py), cached by everything it depends on;
    ``scores`` are the metrics' point values from the statistics, which it reuses."""
    from whichmodel.analysis.findings import compute_findings, findings_from_dict, findings_to_dict

    config = run_.config

    def compute() -> Findings:
        return compute_findings(
            run_.task, run_.y_true, {r.name: r.predictions for r in results},
            run_.dataset.inputs, run_.slice_columns, units=run_.dataset.units,
            n_resamples=config.n_resamples, confidence=config.confidence, seed=config.seed,
            scores=scores,
        )

    parts = (
        [(r.name, r.prediction_key) for r in results], run_.task.name, run_.data_fp,
        config.slice_by, config.n_resamples, config.confidence, config.seed,
    )
    codec = Codec(findings_to_dict, findings_from_dict)
    return cached(
        run_.store, "findings", parts, compute, codec, progress=run_.progress, label="analysis"
    )


def _spec(
    run_: _Run, ref: ModelRef, model_fp: str, options: LoadOptions
) -> tuple[CompactSpec | None, str | None]:
    """The model's compact spec sheet, cached by its fingerprint and the example shape (the
    FLOPs of a PyTorch module are counted per example). A sheet that cannot be made is recorded
    as its error; the comparison goes on."""
    from whichmodel.sources import inspect_model
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.compact import CompactSpec, compact

    inputs = run_.dataset.inputs
    # text and audio examples have no fixed shape: the sheet counts FLOPs its own way
    first = inputs.take(slice(0, 1)).data
    shape = None if inputs.kind in ("text", "audio") else tuple(first.shape[1:])
    if ref.param("input_shape") is not None:  # the shape the model is given (sources/shapes.py)
        from whichmodel.sources.shapes import ref_shape

        shape = ref_shape(ref)

    def compute() -> tuple[CompactSpec | None, str | None]:
        def get_model() -> Model:  # loaded only if the sheet needs the model itself
            return run_.worker.model(ref, options)

        try:
            opts = InspectOptions(input_shape=shape, load=options)
            return compact(inspect_model(ref, get_model, opts)), None
        except WhichModelError as exc:
            return None, str(exc)
        except Exception as exc:  # a sheet is a bonus: its failure must not cost the comparison
            return None, f"the spec sheet failed: {type(exc).__name__}: {exc}"[:500]

    def encode(value: tuple[CompactSpec | None, str | None]) -> dict[str, Any]:
        spec, error = value
        return {"spec": None if spec is None else spec.to_dict(), "error": error}

    def decode(data: dict[str, Any]) -> tuple[CompactSpec | None, str | None]:
        spec = data["spec"]
        return None if spec is None else CompactSpec.from_dict(spec), data["error"]

    codec = Codec(encode, decode)
    label = f"spec {ref.name}"
    return cached(
        run_.store, "spec", (model_fp, shape), compute, codec, progress=run_.progress, label=label
    )


def _recorded_and_decided(
    comparison: Comparison,
    store: Store,
    constraints: Constraints | None,
    objective: Objective | None,
) -> Comparison:
    """The comparison with its run id (it is recorded in the store) and its decision."""
    from whichmodel.choose.constraints import Constraints, Objective
    from whichmodel.choose.decide import decide

    results = comparison.results()
    run_id = store.record_run("compare", results.to_dict())
    decision = decide(
        replace(results, run_id=run_id), constraints or Constraints(), objective or Objective()
    )
    return replace(comparison, run_id=run_id, decision=decision)
