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
from whichmodel.tasks.base import Metric, Predictions, WeightedSums, weighted_mean
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
        # A mean of per-example losses: the bootstrap's weighted sums, and the paired
        # permutation (or paired t) test on the same losses.
        huber_loss = Metric(
            "huber_loss", False, self._score,
            sums=WeightedSums(self._terms, weighted_mean), permutation=sum_statistic(self._losses),
        )  # fmt: skip
        return [*super().metrics(y_true, preds), huber_loss]

    def metric_names(self) -> tuple[str, ...]:
        return (*super().metric_names(), "huber_loss")

    def _losses(self, y: np.ndarray, p: Predictions) -> np.ndarray:
        """(n,) Huber loss of each example."""
        r = np.abs(y - p.pred.astype(np.float64))
        linear = self.delta * (r - 0.5 * self.delta)  # beyond delta: grows linearly
        return np.asarray(np.where(r <= self.delta, 0.5 * r**2, linear))

    def _terms(self, y: np.ndarray, p: Predictions) -> np.ndarray:
        return self._losses(y, p)[:, None]  # (n, 1)

    def _score(self, y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
        return float(np.average(self._losses(y, p), weights=w))
