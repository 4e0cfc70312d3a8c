"""The predict job: one batch of one model's predictions, run wherever an executor runs it.

A batch that raises is retried example by example, so one bad example costs its own prediction,
not the batch's; non-finite outputs count as failures of their examples. Only a
:class:`~whichmodel.errors.WhichModelError` (a model whose outputs do not fit the task) stops
the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from whichmodel.errors import TaskError, WhichModelError
from whichmodel.execute.base import Worker
from whichmodel.refs import ModelRef
from whichmodel.sources.base import Inputs, LoadOptions, Model
from whichmodel.tasks import Task

# (pred (n,), proba (n, C) or None, error per example or None, the classes the scores are of)
Batch = tuple[np.ndarray, np.ndarray | None, list[str | None], tuple[str, ...] | None]


@dataclass(frozen=True)
class PredictJob:
    """Predict batch ``id`` (rows ``rows`` of the data, inputs ``inputs``) with model ``ref``.

    ``inputs`` is a copy of those rows, not a view: with a view into the whole input array, the
    same rows read whole or streamed gave probabilities 1e-15 apart (BLAS kernels can round
    differently by where an array starts in memory).
    """

    id: int
    ref: ModelRef
    options: LoadOptions
    task: Task
    rows: np.ndarray  # (n,) int64 row numbers in the dataset
    inputs: Inputs

    def run(self, worker: Worker) -> Batch:
        with _naming(self.ref.name):
            return predict_batch(worker.model(self.ref, self.options), self.task, self.inputs)


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


def predict_batch(model: Model, task: Task, inputs: Inputs) -> Batch:
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
