"""Regression scored by the Huber loss as well: the shortest task, and the recipe for a new one.

A new task kind is one module like this one plus one ``TASKS.register`` line in
``tasks/__init__.py``; nothing else changes (the CLI, the analysis and the reports find its
metrics through the Task contract). ``regression-huber?delta=1.0`` keeps regression's MAE, RMSE
and R², and adds ``huber_loss``: per example ``r²/2`` for ``|r| <= delta``, else
``delta·(|r| - delta/2)``, averaged (``torch.nn.functional.huber_loss``; Huber 1964). Its
metric declares what it is made of (a sum of per-example terms), so the paired tests permute
those terms as they do regression's errors.
"""

from __future__ import annotations

import numpy as np

from whichmodel.errors import TaskError
from whichmodel.tasks.base import Metric, Predictions, WeightedSums
from whichmodel.tasks.options import TaskOptions
from whichmodel.tasks.regression import RegressionTask
from whichmodel.tasks.statistics import sum_statistic


class HuberRegressionTask(RegressionTask):
    name = "regression-huber"
    takes_options = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("regression-huber", {})
        self.delta = options.number("delta", 1.0)
        if not self.delta > 0:  # also refuses nan
            raise TaskError(f"The 'delta' option of the 'regression-huber' task must be a "
                            f"positive number. Got {self.delta!r} instead.")
        self.name = options.finish()

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        huber = WeightedSums(self._terms, lambda sums, total: np.asarray(sums[:, 0] / total))
        # A mean of per-example terms: the paired permutation test (or paired t-test) on them.
        permutation = sum_statistic(lambda y, p: np.asarray(self._terms(y, p)[:, 0]))
        huber_loss = Metric("huber_loss", False, self._score, sums=huber, permutation=permutation)
        return [*super().metrics(y_true, preds), huber_loss]

    def _terms(self, y: np.ndarray, p: Predictions) -> np.ndarray:
        r = np.abs(y - p.pred.astype(np.float64))
        terms = np.where(r <= self.delta, 0.5 * r**2, self.delta * (r - 0.5 * self.delta))
        return np.asarray(terms[:, None])  # (n, 1)

    def _score(self, y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
        return float(np.average(self._terms(y, p)[:, 0], weights=w))
