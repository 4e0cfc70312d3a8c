"""Regression: MAE, RMSE, R² (scikit-learn), with vectorized bootstrap replicates."""

from __future__ import annotations

import numpy as np

from whichmodel.errors import DataError, TaskError
from whichmodel.sources.base import RawOutput
from whichmodel.tasks.base import Metric, Predictions, Task, WeightedSums, weighted_mean
from whichmodel.tasks.statistics import mean_of_sum, sum_statistic


class RegressionTask(Task):
    name = "regression"
    outcome_kind = "continuous"

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        try:
            values = np.asarray(labels, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"Regression needs numeric labels; the label column holds text ({exc})."
            ) from exc
        if np.isnan(values).any():
            first = int(np.flatnonzero(np.isnan(values))[0])
            raise DataError(
                f"The label column has {int(np.isnan(values).sum())} missing values "
                f"(first at row {first}); drop or fill those rows."
            )
        return values

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        array = np.asarray(raw.array)
        if raw.kind in {"proba", "labels"} or array.size != len(array):  # (n,) or (n, 1)
            raise TaskError(
                f"The model returned {raw.kind} of shape {array.shape}; regression needs one "
                "number per example (is this a classifier? use --task classification)."
            )
        return array.reshape(len(array)).astype(np.float64), None, None

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        return [MAE, RMSE, R2]

    def metric_names(self) -> tuple[str, ...]:
        return ("mae", "rmse", "r2")

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return np.asarray(np.abs(preds.pred.astype(np.float64) - y_true))


def _mae(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
    from sklearn.metrics import mean_absolute_error

    return float(mean_absolute_error(y, p.pred, sample_weight=w))


def _rmse(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
    from sklearn.metrics import root_mean_squared_error

    return float(root_mean_squared_error(y, p.pred, sample_weight=w))


def _r2(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
    from sklearn.metrics import r2_score

    return float(r2_score(y, p.pred, sample_weight=w))


def _absolute_error(y: np.ndarray, p: Predictions) -> np.ndarray:
    return np.asarray(np.abs(y - p.pred.astype(np.float64)))[:, None]  # (n, 1)


def _squared_error(y: np.ndarray, p: Predictions) -> np.ndarray:
    return ((y - p.pred.astype(np.float64)) ** 2)[:, None]  # (n, 1)



def _root_mean(sums: np.ndarray, total: np.ndarray) -> np.ndarray:
    return np.asarray(np.sqrt(sums[:, 0] / total))


def _r2_terms(y: np.ndarray, p: Predictions) -> np.ndarray:
    """(n, 3): centered y, squared residual, centered y². Centering first keeps
    sum(w y²) - W ȳ² from cancelling catastrophically when |y| is large next to its spread."""
    center = y.mean()
    yc, pc = y - center, p.pred.astype(np.float64) - center
    return np.asarray(np.column_stack([yc, (yc - pc) ** 2, yc**2]))


def _r2_from_sums(sums: np.ndarray, total: np.ndarray) -> np.ndarray:
    """R² = 1 - SS_res / SS_tot per resample, from the weighted sums of :func:`_r2_terms`."""
    y_mean = sums[:, 0] / total  # (B,)
    ss_res = sums[:, 1]
    ss_tot = sums[:, 2] - total * y_mean**2
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    # scikit-learn: a constant target gives 1.0 for a perfect fit, else 0.0.
    return np.asarray(np.where(ss_tot > 0, r2, np.where(ss_res == 0, 1.0, 0.0)))


def _absolute_errors(y: np.ndarray, p: Predictions) -> np.ndarray:
    return np.asarray(np.abs(y - p.pred.astype(np.float64)))  # (n,)


def _squared_errors(y: np.ndarray, p: Predictions) -> np.ndarray:
    return np.asarray((y - p.pred.astype(np.float64)) ** 2)  # (n,)


def _r2_from_sum(sums: np.ndarray, y: np.ndarray) -> np.ndarray:
    """R² from the sum of squared errors (..., 1) over all of ``y``, whose own spread does not
    move when two models trade predictions."""
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0:  # scikit-learn: a constant target scores 1.0 for a perfect fit, else 0.0
        return np.where(sums[..., 0] == 0, 1.0, 0.0)
    return np.asarray(1.0 - sums[..., 0] / ss_tot)


# Each metric is a function of the sum of per-example absolute or squared errors.
MAE = Metric(
    "mae",
    False,
    _mae,
    sums=WeightedSums(_absolute_error, weighted_mean),
    permutation=sum_statistic(_absolute_errors),
)
RMSE = Metric(
    "rmse",
    False,
    _rmse,
    sums=WeightedSums(_squared_error, _root_mean),
    permutation=sum_statistic(_squared_errors, lambda s, y: np.sqrt(mean_of_sum(s, y))),
)
R2 = Metric(
    "r2",
    True,
    _r2,
    sums=WeightedSums(_r2_terms, _r2_from_sums),
    permutation=sum_statistic(_squared_errors, _r2_from_sum),
)
