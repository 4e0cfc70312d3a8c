"""``compare``: models × one dataset -> predictions, metrics with CIs, paired tests, cost.

The flow, each step cached in the store by content fingerprints::

    read data -> for each model: predictions (batch by batch, resumable), cost (subprocess)
              -> statistics over the examples every model predicted -> Comparison
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from whichmodel.analysis.findings import Findings, compute_findings, findings_from_dict
from whichmodel.analysis.slices import read_slice_columns
from whichmodel.analysis.stats import (
    Statistics,
    common_rows,
    compute_statistics,
    statistics_from_dict,
    statistics_to_dict,
)
from whichmodel.bench.cost import COST_FORMAT, CostProfile, measure_cost
from whichmodel.data.dataset import Dataset, read_dataset, read_unit_column
from whichmodel.errors import ConfigError, PredictionError, TaskError, WhichModelError, brief
from whichmodel.provenance import hardware, provenance, result_library_versions
from whichmodel.refs import ModelRef, parse_ref
from whichmodel.sources import code_files, load, reference_files
from whichmodel.sources.base import Inputs, LoadOptions, Model
from whichmodel.store import (
    CorruptPredictionsError,
    PredictionRows,
    Store,
    StoredBatch,
    joined_batches,
    key_of,
)
from whichmodel.tasks import Predictions, Task, get_task

if TYPE_CHECKING:
    import pandas as pd

# (what is happening, units done, units in all); units are batches while predicting.
Progress = Callable[[str, int, int], None]
# A model that fails on each of its first this many examples is broken, not unlucky: stop.
_FAILURES_BEFORE_GIVING_UP = 32
PREDICTIONS_FORMAT = 2  # bump when the stored per-example layout changes
ANALYSIS_FORMAT = 1  # bump when statistics or tables change for the same inputs
FINDINGS_FORMAT = 2  # bump when the paired analysis (analysis/findings.py) changes
SPEC_FORMAT = 1  # bump when the per-model spec sheet a comparison keeps changes


@dataclass(frozen=True)
class CompareConfig:
    """Everything that defines a comparison. Stores values; nothing is read until :func:`run`."""

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
    """The result of :func:`run`: per-model results, statistics, and where it all came from."""

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


def compare(refs: Sequence[str], data: str | Path, **options: Any) -> Comparison:
    """Compare models on a dataset. Keyword options are the fields of :class:`CompareConfig`.

    Example::

        whichmodel.compare(["sklearn:lr.skops", "sklearn:gb.skops"], "test.csv", label_col="y")
    """
    if "input_cols" in options and options["input_cols"] is not None:
        options["input_cols"] = tuple(options["input_cols"])
    if isinstance(options.get("slice_by"), str):
        options["slice_by"] = (options["slice_by"],)
    elif isinstance(options.get("slice_by"), list):
        options["slice_by"] = tuple(options["slice_by"])
    try:
        config = CompareConfig(refs=tuple(refs), data=str(data), **options)
    except TypeError as exc:
        raise ConfigError(f"compare() got an unknown option: {exc}") from exc
    return run(config)


def run(config: CompareConfig, *, progress: Progress | None = None) -> Comparison:
    """Run a comparison (see the module docstring)."""
    config.validate()
    task = get_task(config.task)
    refs = _unique_names([parse_ref(r) for r in config.refs])
    files = [reference_files(ref) for ref in refs]  # fail on a missing file before any work
    label_col = config.label_col if task.needs_labels else None
    unit_column = task.unit_column()  # e.g. ranking's query id: groups rows, not an input
    dataset = task.read_data(
        config.data, input_cols=config.input_cols, label_col=label_col
    ) or read_dataset(
        config.data,
        input_cols=config.input_cols,
        label_col=label_col,
        word_lists=task.word_lists,
        audio=task.audio,
        exclude=(unit_column,) if unit_column else (),
    )
    y_true = task.read_labels(dataset.labels)
    task.check_inputs(dataset.inputs)
    if unit_column:
        task.read_units(read_unit_column(dataset.path, unit_column))
    slice_columns = read_slice_columns(dataset.path, config.slice_by)  # fail before any work
    store = Store.open(config.store)
    data_fp = key_of(_data_digest(store, dataset.path), dataset.input_cols, dataset.label_col)
    results = [
        _run_model(ref, model_files, dataset, y_true, task, store, data_fp, config, progress)
        for ref, model_files in zip(refs, files, strict=True)
    ]
    stats, tables = _analysis(task, y_true, results, store, config, progress)
    results = [replace(r, tables=tables[r.name]) for r in results]
    scores = {(m.model, m.name): m.value for m in stats.metrics}
    findings = _findings(
        task, y_true, results, dataset, slice_columns, store, data_fp, config, progress, scores
    )
    comparison = Comparison(
        config,
        task.name,
        tuple(results),
        stats,
        len(dataset),
        data_fp,
        dataset.inputs.kind,
        provenance(),
        findings=findings,
    )
    from whichmodel.report.json import comparison_to_dict

    run_id = store.record_run("compare", comparison_to_dict(comparison))
    return replace(comparison, run_id=run_id)


Tables = dict[str, list[dict[str, object]]]


def _analysis(
    task: Task,
    y_true: np.ndarray,
    results: list[ModelResult],
    store: Store,
    config: CompareConfig,
    progress: Progress | None,
) -> tuple[Statistics, dict[str, Tables]]:
    """Bootstrap CIs, paired tests and per-model tables, cached by everything they depend on."""
    key = key_of(
        "analysis",
        ANALYSIS_FORMAT,
        [(r.name, r.prediction_key) for r in results],
        task.name,
        config.n_resamples,
        config.confidence,
        config.seed,
    )
    cached = store.get_cached("analysis", key)
    if cached is not None:
        return statistics_from_dict(cached["statistics"]), cached["tables"]
    if progress:
        progress("statistics", 0, 1)
    preds = {r.name: r.predictions for r in results}
    stats = compute_statistics(
        task,
        y_true,
        preds,
        n_resamples=config.n_resamples,
        confidence=config.confidence,
        seed=config.seed,
    )
    rows = common_rows(preds)  # tables use the examples the metrics use
    tables = {
        name: task.tables(y_true[rows], p.take(np.searchsorted(p.rows, rows)))
        for name, p in preds.items()
    }
    store.put_cached("analysis", key, {"statistics": statistics_to_dict(stats), "tables": tables})
    if progress:
        progress("statistics", 1, 1)
    return stats, tables


def _data_digest(store: Store, path: str) -> str:
    """A data file's digest; a data folder's is that of its files' digests."""
    folder = Path(path)
    if not folder.is_dir():
        return store.file_digest(path)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    digests = store.file_digests(files)  # one transaction for an image folder's 10k files
    return key_of([(str(p.relative_to(folder)), d) for p, d in zip(files, digests, strict=True)])


def _findings(
    task: Task,
    y_true: np.ndarray,
    results: list[ModelResult],
    dataset: Dataset,
    slice_columns: pd.DataFrame,
    store: Store,
    data_fp: str,
    config: CompareConfig,
    progress: Progress | None,
    scores: Mapping[tuple[str, str], float],
) -> Findings:
    """The paired analysis (analysis/findings.py), cached by everything it depends on;
    ``scores`` are the metrics' point values from the statistics, which it reuses."""
    from whichmodel.analysis.findings import findings_to_dict

    key = key_of(
        "findings",
        FINDINGS_FORMAT,
        [(r.name, r.prediction_key) for r in results],
        task.name,
        data_fp,
        config.slice_by,
        config.n_resamples,
        config.confidence,
        config.seed,
    )
    cached = store.get_cached("findings", key)
    if cached is not None:
        return findings_from_dict(cached)
    if progress:
        progress("analysis", 0, 1)
    findings = compute_findings(
        task,
        y_true,
        {r.name: r.predictions for r in results},
        dataset.inputs,
        slice_columns,
        n_resamples=config.n_resamples,
        confidence=config.confidence,
        seed=config.seed,
        scores=scores,
    )
    store.put_cached("findings", key, findings_to_dict(findings))
    if progress:
        progress("analysis", 1, 1)
    return findings


def _unique_names(refs: list[ModelRef]) -> list[ModelRef]:
    seen: dict[str, int] = {}
    out = []
    for ref in refs:
        seen[ref.name] = seen.get(ref.name, 0) + 1
        if seen[ref.name] > 1:
            params = (*ref.params, ("name", f"{ref.name}-{seen[ref.name]}"))
            ref = ModelRef(ref.kind, ref.target, params, ref.raw)
        out.append(ref)
    return out


def _run_model(
    ref: ModelRef,
    files: tuple[str, ...],
    dataset: Dataset,
    y_true: np.ndarray,
    task: Task,
    store: Store,
    data_fp: str,
    config: CompareConfig,
    progress: Progress | None,
) -> ModelResult:
    options = LoadOptions(config.allow_pickle, config.trust_remote_code)
    model_fp = key_of(
        ref.kind,
        ref.target,
        sorted(p for p in ref.params if p[0] != "name"),
        store.file_digests([*files, *code_files(ref)]),
        result_library_versions(),
    )
    get_model = functools.cache(lambda: load(ref, options))  # loaded only if a batch is missing
    key = key_of("predictions", PREDICTIONS_FORMAT, model_fp, data_fp, task.name, config.batch_size)
    if task.data_files():  # e.g. a retrieval corpus: other contents, other predictions
        key = key_of(key, store.file_digests(task.data_files()))
    store_note = None
    try:
        preds, reused, computed = _predict(
            get_model, ref, dataset, task, store, key, config.batch_size, progress
        )
    except CorruptPredictionsError as exc:  # computed again, once; the run says so
        store.forget_predictions(key)
        store_note = f"its stored predictions were unreadable and were computed again ({exc})"
        preds, reused, computed = _predict(
            get_model, ref, dataset, task, store, key, config.batch_size, progress
        )
    task.check(y_true, preds, ref.name)
    spec, spec_error = _spec(ref, get_model, dataset.inputs, store, model_fp, options, progress)
    cost, cost_error = None, None
    if config.measure_cost:
        cost, cost_error = _cost(
            ref, dataset.inputs, task, store, model_fp, config, options, progress
        )
    return ModelResult(
        ref.name,
        str(ref),
        model_fp,
        key,
        preds,
        cost,
        reused,
        computed,
        cost_error=cost_error,
        spec=spec,
        spec_error=spec_error,
        store_note=store_note,
    )


def _predict(
    get_model: Callable[[], Model],
    ref: ModelRef,
    dataset: Dataset,
    task: Task,
    store: Store,
    key: str,
    batch_size: int,
    progress: Progress | None,
) -> tuple[Predictions, int, int]:
    n = len(dataset)
    n_batches = math.ceil(n / batch_size)
    meta = {"ref": str(ref), "data": dataset.path, "task": task.name, "batch_size": batch_size}
    done = store.begin_predictions(key, meta, n_batches)
    todo = [i for i in range(n_batches) if i not in done]
    label = f"predict {ref.name}"
    if progress:
        progress(label, len(done), n_batches)
    tried = failed = 0
    computed: list[StoredBatch] = []  # this run's batches, in order
    stored = 0  # how many of them are stored: the first of the others is pending
    # Whether this run's batches will be the whole set as stored, to compact from memory: not
    # when some were stored before it started, or when another run stored some first (the
    # stored copies stand). Otherwise the set is read back, and no copy is kept here.
    whole = not done
    classes: tuple[str, ...] | None = None
    flushed_at = time.monotonic()

    def flush() -> None:  # stores the pending batches
        nonlocal stored, flushed_at, whole
        pending = computed[stored:]
        if pending and store.write_batches(key, pending, classes) < len(pending):
            whole = False
        stored, flushed_at = len(computed), time.monotonic()  # only once they are stored
        if not whole:
            computed.clear()
            stored = 0

    # Each batch goes to the model as a fresh array. With a view into the whole input array
    # instead, the same rows read whole or streamed gave probabilities 1e-15 apart (BLAS
    # kernels can round differently by where an array starts in memory).
    try:
        for count, i in enumerate(todo, start=1):
            rows = np.arange(i * batch_size, min(n, (i + 1) * batch_size))
            with _naming(ref.name):
                pred, proba, errors, batch_classes = _predict_batch(
                    get_model(),
                    task,
                    dataset.inputs.take(rows),  # a copy, not a view: see above
                )
            if batch_classes and classes and batch_classes != classes:
                raise TaskError(
                    f"{ref.name} returned {len(batch_classes)} class scores for batch {i + 1} "
                    f"and {len(classes)} for an earlier one; a model must score the same "
                    "classes on every batch."
                )
            classes = batch_classes or classes  # a batch that failed whole names no classes
            tried, failed = tried + len(rows), failed + sum(e is not None for e in errors)
            if failed == tried and tried >= min(_FAILURES_BEFORE_GIVING_UP, n):
                first = " ".join(next(e for e in errors if e is not None).split())  # one line
                raise PredictionError(
                    f"{ref.name} failed on each of its first {tried} examples: {first}"
                )
            computed.append((i, rows, pred, proba, errors))
            if time.monotonic() - flushed_at >= _FLUSH_EVERY_S:
                flush()
            if progress:
                progress(label, len(done) + count, n_batches)
    finally:  # Ctrl-C or a failing model: what finished is stored, so a rerun resumes after it
        flush()
    # When this run computed and stored every batch, the set is what it holds in memory: it is
    # written to Parquet from there, and neither read back from the database nor from Parquet.
    own = joined_batches(computed, classes) if whole else None
    computed.clear()  # joined: at most two copies of the set in memory at once
    if store.finish_predictions(key, own) and own is not None:
        return _to_predictions(own, task), len(done), len(todo)
    finished = store.read_predictions(key)
    if not np.array_equal(finished.rows, np.arange(n)):  # a file of another set, say
        raise CorruptPredictionsError(
            f"the stored set {key} holds {len(finished.rows)} rows for {n} examples"
        )
    return _to_predictions(finished, task), len(done), len(todo)


Batch = tuple[np.ndarray, np.ndarray | None, list[str | None], tuple[str, ...] | None]
# Finished batches are stored together at most this often: one transaction per ~64-row batch
# cost ~0.2 ms each (0.4 s of a 20k-row, six-model demo); a killed run redoes at most this much.
_FLUSH_EVERY_S = 0.5


@contextlib.contextmanager
def _naming(name: str) -> Iterator[None]:
    """Prefixes a TaskError that does not name the model ``name`` with it: with several models
    compared, the user must learn which one does not fit."""
    try:
        yield
    except TaskError as exc:
        if type(exc) is not TaskError or name in str(exc):
            raise
        raise TaskError(f"{name}: {exc}") from exc


def _predict_batch(model: Model, task: Task, inputs: Inputs) -> Batch:
    """(pred (n,), proba (n, C) or None, error per example, classes) for one batch. If the batch
    raises, retry example by example and record each failure; the run goes on. Non-finite
    outputs count as failures of their examples.

    Raises:
        TaskError: the model returned another number of rows than it was given examples.
    """
    try:
        raw = task.run(model, inputs)
        _check_rows(np.shape(raw.array), len(inputs), "output")
        pred, proba, classes = task.interpret(raw, model.classes)
        _check_rows(pred.shape, len(inputs), "predictions")
        _check_rows(np.shape(proba) if proba is not None else (len(inputs),), len(inputs), "scores")
        errors: list[str | None] = [None] * len(inputs)
    except WhichModelError:
        raise
    except Exception:  # the model's own failure: find the examples that cause it
        pred, proba, errors, classes = _predict_one_by_one(model, task, inputs)
    return _flag_non_finite(pred, proba, errors), proba, errors, classes


def _check_rows(shape: tuple[int, ...], n: int, what: str) -> None:
    """Raise TaskError unless ``shape`` is that of one row per example of a batch of ``n``:
    rows of another batch, or of none at all, would be scored against the wrong labels."""
    if not shape or shape[0] != n:
        got = f"of shape {shape}" if shape else "a single value"
        raise TaskError(
            f"For a batch of {n} examples the model returned {what} {got}; it must return one "
            f"row per example ({n}, ...)."
        )


def _predict_one_by_one(model: Model, task: Task, inputs: Inputs) -> Batch:
    numeric = task.outcome_kind == "continuous" and not task.text_predictions
    pred = np.full(len(inputs), np.nan) if numeric else np.full(len(inputs), None, dtype=object)
    probas: list[np.ndarray | None] = []
    errors: list[str | None] = []
    classes = None
    for j in range(len(inputs)):
        try:
            p, pr, classes = task.interpret(
                task.run(model, inputs.take(slice(j, j + 1))), model.classes
            )
            pred[j] = p[0]
            probas.append(None if pr is None else pr[0])
            errors.append(None)
        except WhichModelError:
            raise
        except Exception as exc:  # recorded per example
            probas.append(None)
            errors.append(f"{type(exc).__name__}: {exc}"[:500])
    width = next((len(p) for p in probas if p is not None), None)
    proba = None
    if width is not None:
        proba = np.stack([np.full(width, np.nan) if p is None else p for p in probas])
    return pred, proba, errors, classes


def _flag_non_finite(
    pred: np.ndarray, proba: np.ndarray | None, errors: list[str | None]
) -> np.ndarray:
    """Mark examples whose prediction or probabilities are NaN/inf as failed (in ``errors``)."""
    bad = np.zeros(len(pred), dtype=bool)
    if pred.dtype.kind == "f":
        bad |= ~np.isfinite(pred)
    if proba is not None:
        bad |= ~np.isfinite(proba).all(axis=1)
    for j in np.flatnonzero(bad):
        if errors[j] is None:
            errors[j] = "the model returned a non-finite output (NaN or inf)"
    return pred


def _to_predictions(stored: PredictionRows, task: Task) -> Predictions:
    failed = np.array([e is not None for e in stored.errors], dtype=bool)
    ok = ~failed
    pred = stored.pred[ok]
    text = task.outcome_kind == "binary" or task.text_predictions
    pred = pred.astype(str) if text else pred.astype(np.float64)
    proba = None if stored.proba is None else stored.proba[ok]
    failures = tuple(
        (int(r), str(e)) for r, e in zip(stored.rows[failed], stored.errors[failed], strict=True)
    )
    if task.keeps_scores:  # the store's proba columns hold the task's per-example scores
        return Predictions(
            stored.rows[ok], pred, None, None, failures, scores=proba, score_names=stored.classes
        )
    return Predictions(stored.rows[ok], pred, proba, stored.classes, failures)


def _cost(
    ref: ModelRef,
    inputs: Inputs,
    task: Task,
    store: Store,
    model_fp: str,
    config: CompareConfig,
    options: LoadOptions,
    progress: Progress | None,
) -> tuple[CostProfile | None, str | None]:
    batch_sizes = sorted({1, config.batch_size})
    hw = hardware()
    shape = inputs.take(slice(0, 1)).data.shape[1:]  # one row: streamed inputs stay unread
    # A detector is timed on its images, as the task runs it; other tasks time predict (and
    # keep their cached costs: the capability joins the key only when it is not predict).
    capability = "detect" if task.requires == "detect" else "predict"
    detect = ("detect",) if capability == "detect" else ()
    key = key_of("cost", COST_FORMAT, model_fp, batch_sizes, hw, inputs.kind, shape, *detect)
    cached = store.get_cached("cost", key)
    if cached is not None:
        return CostProfile.from_dict(cached), None
    if progress:
        progress(f"cost {ref.name}", 0, 1)
    try:
        cost = measure_cost(
            ref,
            inputs.take(slice(0, max(batch_sizes))),
            batch_sizes=batch_sizes,
            options=options,
            capability=capability,
        )
    except WhichModelError as exc:
        return None, str(exc)
    store.put_cached("cost", key, cost.to_dict())
    if progress:
        progress(f"cost {ref.name}", 1, 1)
    return cost, None


def _spec(
    ref: ModelRef,
    get_model: Callable[[], Model],
    inputs: Inputs,
    store: Store,
    model_fp: str,
    options: LoadOptions,
    progress: Progress | None,
) -> tuple[dict[str, Any] | None, str | None]:
    """The model's compact spec sheet, cached by its fingerprint and the example shape (the
    FLOPs of a PyTorch module are counted per example). A sheet that cannot be made is recorded
    as ``spec_error``; the comparison goes on."""
    from whichmodel.spec.compact import model_spec

    shape = None if inputs.kind == "text" else tuple(inputs.take(slice(0, 1)).data.shape[1:])
    key = key_of("spec", SPEC_FORMAT, model_fp, shape)
    cached = store.get_cached("spec", key)
    if cached is not None:
        return cached["spec"], cached["error"]
    if progress:
        progress(f"spec {ref.name}", 0, 1)
    spec, error = None, None
    try:
        spec = model_spec(ref, get_model, input_shape=shape, options=options)
    except WhichModelError as exc:
        error = str(exc)
    except Exception as exc:  # a sheet is a bonus: its failure must not cost the comparison
        error = f"the spec sheet failed: {type(exc).__name__}: {exc}"[:500]
    store.put_cached("spec", key, {"spec": spec, "error": error})
    if progress:
        progress(f"spec {ref.name}", 1, 1)
    return spec, error
