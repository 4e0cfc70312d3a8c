"""The driver of a model's predictions: hands batches to an executor as jobs, commits each result
to the store as it arrives, and reads the whole set back.

A rerun finds the batches the store holds and hands out only the others, so a run stopped by
Ctrl-C, kill -9 or a failing model resumes where it stopped, on any executor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import numpy as np

from whichmodel.data.dataset import Dataset
from whichmodel.errors import PredictionError, TaskError
from whichmodel.execute.base import Executor
from whichmodel.execute.predict import Batch, PredictJob
from whichmodel.refs import ModelRef
from whichmodel.sources.base import LoadOptions
from whichmodel.store import (
    CorruptPredictionsError,
    PredictionRows,
    Store,
    StoredBatch,
    joined_batches,
)
from whichmodel.tasks import Predictions, Task

# (what is happening, units done, units in all); units are batches while predicting.
Progress = Callable[[str, int, int], None]
# A model that fails on each of its first this many examples is broken, not unlucky: stop.
_FAILURES_BEFORE_GIVING_UP = 32
# Finished batches are stored together at most this often: one transaction per ~64-row batch
# cost ~0.2 ms each (0.4 s of a 20k-row, six-model demo); a killed run redoes at most this much.
_FLUSH_EVERY_S = 0.5


def predict_all(
    ref: ModelRef,
    dataset: Dataset,
    *,
    task: Task,
    store: Store,
    key: str,
    batch_size: int,
    executor: Executor,
    options: LoadOptions,
    progress: Progress | None = None,
) -> tuple[Predictions, int, int]:
    """``ref``'s predictions of every example of ``dataset``, stored under ``key``.

    Returns:
        (predictions, batches reused from the store, batches computed now).

    Raises:
        PredictionError: the model failed on each of its first examples (it is broken).
        TaskError: its outputs do not fit the task.
        CorruptPredictionsError: the stored set cannot be read back (the caller forgets it and
            calls again).
    """
    n = len(dataset)
    n_batches = math.ceil(n / batch_size)
    meta = {"ref": str(ref), "data": dataset.path, "task": task.name, "batch_size": batch_size}
    done = store.begin_predictions(key, meta, n_batches)
    todo = [i for i in range(n_batches) if i not in done]
    label = f"predict {ref.name}"
    if progress:
        progress(label, len(done), n_batches)

    writer = _BatchWriter(store, key, whole=not done)
    failures = _Failures(ref.name, n)
    jobs = _jobs(todo, ref, options, task, dataset, batch_size)
    try:
        for count, (i, batch) in enumerate(executor.map(jobs), start=1):
            writer.check_classes(i, batch[3], ref.name)
            failures.count(batch[2])
            writer.add(i, _rows(i, batch_size, n), batch)
            if progress:
                progress(label, len(done) + count, n_batches)
    finally:  # Ctrl-C or a failing model: what finished is stored, so a rerun resumes after it
        writer.flush()
    return _finished(store, key, writer.own(), task, n), len(done), len(todo)


def _jobs(
    todo: list[int],
    ref: ModelRef,
    options: LoadOptions,
    task: Task,
    dataset: Dataset,
    batch_size: int,
) -> Iterator[PredictJob]:
    """The jobs of batches ``todo``, each built when the executor asks for it: a streamed
    dataset's rows stay unread until then."""
    for i in todo:
        rows = _rows(i, batch_size, len(dataset))
        yield PredictJob(i, ref, options, task, rows, dataset.inputs.take(rows))


def _rows(i: int, batch_size: int, n: int) -> np.ndarray:
    """(batch_size,) int64 row numbers of batch ``i`` (fewer for the last batch)."""
    return np.arange(i * batch_size, min(n, (i + 1) * batch_size))


class _Failures:
    """Counts failed examples; a model that fails on each of its first examples is broken."""

    def __init__(self, name: str, n: int) -> None:
        self.name, self.n, self.tried, self.failed = name, n, 0, 0

    def count(self, errors: list[str | None]) -> None:
        """Add a batch's errors; raise PredictionError when every example so far failed."""
        self.tried += len(errors)
        self.failed += sum(e is not None for e in errors)
        if self.failed == self.tried and self.tried >= min(_FAILURES_BEFORE_GIVING_UP, self.n):
            first = " ".join(next(e for e in errors if e is not None).split())  # one line
            raise PredictionError(
                f"{self.name} failed on each of its first {self.tried} examples: {first}"
            )


class _BatchWriter:
    """Commits finished batches to the store, together at most every ``_FLUSH_EVERY_S``.

    ``whole``: whether this run's batches will be the whole set as stored, so that the set is
    compacted from memory. Not when some were stored before it started, or when another run
    stored some first (the stored copies stand); then the set is read back, and no copy is kept.
    """

    def __init__(self, store: Store, key: str, *, whole: bool) -> None:
        self.store, self.key, self.whole = store, key, whole
        self.computed: list[StoredBatch] = []  # this run's batches, in order
        self.stored = 0  # how many of them are stored: the first of the others is pending
        self.classes: tuple[str, ...] | None = None
        self.flushed_at = time.monotonic()

    def check_classes(self, i: int, batch_classes: tuple[str, ...] | None, name: str) -> None:
        """Raise TaskError unless batch ``i`` scores the classes the earlier batches did."""
        if batch_classes and self.classes and batch_classes != self.classes:
            raise TaskError(
                f"{name} returned {len(batch_classes)} class scores for batch {i + 1} "
                f"and {len(self.classes)} for an earlier one; a model must score the same "
                "classes on every batch."
            )
        self.classes = batch_classes or self.classes  # a batch that failed whole names none

    def add(self, i: int, rows: np.ndarray, batch: Batch) -> None:
        pred, proba, errors, _ = batch
        self.computed.append((i, rows, pred, proba, errors))
        if time.monotonic() - self.flushed_at >= _FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        pending = self.computed[self.stored :]
        if pending and self.store.write_batches(self.key, pending, self.classes) < len(pending):
            self.whole = False
        self.stored, self.flushed_at = len(self.computed), time.monotonic()  # once stored
        if not self.whole:
            self.computed.clear()
            self.stored = 0

    def own(self) -> PredictionRows | None:
        """The whole set as this run computed it, or None when it is not the whole set."""
        # In batch order: an executor may finish the batches in any order.
        batches = sorted(self.computed, key=lambda batch: batch[0])
        own = joined_batches(batches, self.classes) if self.whole else None
        self.computed.clear()  # joined: at most two copies of the set in memory at once
        return own


def _finished(
    store: Store, key: str, own: PredictionRows | None, task: Task, n: int
) -> Predictions:
    """The finished set: from memory when this run computed and stored every batch (written to
    Parquet from there, never read back), else read from the store."""
    if store.finish_predictions(key, own) and own is not None:
        return to_predictions(own, task)
    finished = store.read_predictions(key)
    if not np.array_equal(finished.rows, np.arange(n)):  # a file of another set, say
        raise CorruptPredictionsError(
            f"the stored set {key} holds {len(finished.rows)} rows for {n} examples"
        )
    return to_predictions(finished, task)


def to_predictions(stored: PredictionRows, task: Task) -> Predictions:
    """The task's view of a stored set: failed examples apart, predictions typed for scoring."""
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
