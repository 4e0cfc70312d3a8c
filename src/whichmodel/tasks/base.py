"""The task interface: how to read labels, interpret a model's output, and score predictions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from whichmodel.sources.base import RawOutput

OutcomeKind = Literal["binary", "continuous"]


@dataclass(frozen=True)
class Predictions:
    """One model's predictions over the examples it succeeded on.

    Args:
        rows: (n,) int64 indices of the examples in the dataset, ascending.
        pred: (n,) predicted labels (str) or values (float64).
        proba: (n, C) float64 probabilities over ``classes``, or None.
        classes: the labels of ``proba``'s columns, or None.
        failed_rows: indices of examples on which the model raised, with the error text.
    """

    rows: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None = None
    classes: tuple[str, ...] | None = None
    failed_rows: tuple[tuple[int, str], ...] = ()

    def take(self, positions: np.ndarray) -> Predictions:
        """The predictions at ``positions`` (indices into ``rows``, not example ids)."""
        proba = None if self.proba is None else self.proba[positions]
        return Predictions(self.rows[positions], self.pred[positions], proba, self.classes)


# score(y_true, predictions, sample_weight) -> float, computed with the reference library.
ScoreFn = Callable[[np.ndarray, Predictions, np.ndarray | None], float]
# replicates(y_true, predictions, weights (B, n)) -> (B,): score under each row of weights, the
# same numbers as ScoreFn with sample_weight=weights[b] (tests check this), only vectorized.
ReplicateFn = Callable[[np.ndarray, Predictions, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Metric:
    """A metric of a task.

    Args:
        name: short name, e.g. ``accuracy``; ``*_loss`` / ``*_error`` style names are lower-better.
        higher_is_better: direction.
        score: the reference computation (scikit-learn), honouring ``sample_weight``.
        replicates: a vectorized equivalent for bootstrap weights, or None to call ``score`` per
            replicate.
    """

    name: str
    higher_is_better: bool
    score: ScoreFn
    replicates: ReplicateFn | None = None

    def replicate(self, y_true: np.ndarray, preds: Predictions, weights: np.ndarray) -> np.ndarray:
        """The metric under each bootstrap weight vector: (B, n) -> (B,)."""
        if self.replicates is not None:
            return self.replicates(y_true, preds, weights)
        return np.array([self.score(y_true, preds, w) for w in weights])


class Task(ABC):
    """A kind of prediction problem. Implementations are stateless apart from their options."""

    name: str
    outcome_kind: OutcomeKind

    @abstractmethod
    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        """Validate and convert the label column: (n,) -> (n,) in the task's label type."""

    @abstractmethod
    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        """A batch of raw model output -> (pred (n,), proba (n, C) or None, classes or None)."""

    @abstractmethod
    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        """The metrics that apply to these predictions (e.g. log loss only with probabilities)."""

    @abstractmethod
    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        """Per-example outcome for paired tests: correct (bool) or absolute error (float)."""

    def check(self, y_true: np.ndarray, preds: Predictions, model_name: str) -> None:  # noqa: B027
        """Raise TaskError when the predictions cannot be scored against these labels."""

    def tables(self, y_true: np.ndarray, preds: Predictions) -> dict[str, list[dict[str, object]]]:
        """Extra per-model tables for reports (e.g. per-class precision and recall)."""
        return {}
