"""A fake task for tests, registered under the hidden name ``fake``: the smallest task there is.

Labels are read as text; a model's prediction is its label (the most probable class of ``proba``
or ``logits``, a ``labels`` output as it is, a number as text); the one metric, ``agreement``, is
the share of examples whose predicted label is the true one. No options, no state, and no
library besides NumPy, so a test of the flow fails only for the flow's own reasons.
"""

from __future__ import annotations

import numpy as np

from whichmodel.errors import TaskError
from whichmodel.sources.base import RawOutput, label_text
from whichmodel.tasks.base import Metric, Predictions, Task, WeightedSums


class FakeTask(Task):
    name = "fake"
    outcome_kind = "binary"

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        return np.array([label_text(v) for v in labels], dtype=str)

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        array = np.asarray(raw.array)
        if raw.kind in ("proba", "logits") and array.ndim == 2:  # (n, C)
            names = classes or tuple(str(i) for i in range(array.shape[1]))
            return np.asarray(names, dtype=str)[np.argmax(array, axis=1)], None, None
        if raw.kind in ("labels", "values") and array.ndim == 1:  # (n,)
            return np.array([label_text(v) for v in array], dtype=str), None, None
        raise TaskError(f"The fake task reads one label or one row of scores per example; "
                        f"the model returned {raw.kind} of shape {array.shape}.")

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        return [Metric("agreement", True, _agreement, sums=WeightedSums(_matches, _mean))]

    def metric_names(self) -> tuple[str, ...]:
        return ("agreement",)

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return np.asarray(preds.pred == y_true)


def _agreement(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
    return float(np.average(p.pred == y, weights=w))


def _matches(y: np.ndarray, p: Predictions) -> np.ndarray:
    return np.asarray(p.pred == y, dtype=np.float64)[:, None]  # (n, 1)


def _mean(sums: np.ndarray, total: np.ndarray) -> np.ndarray:
    return np.asarray(sums[:, 0] / total)  # (B,)
