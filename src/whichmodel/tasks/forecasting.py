"""Forecasting: MAE, sMAPE and MASE of multi-step forecasts, one forecast window per example.

Data: one row per forecast window (rolling-origin evaluation), e.g. JSONL or Parquet::

    {"series": "store-1", "history": [112.0, 118.0, ...], "target": [141.0, 135.0, ...]}

- ``history``: the L values the model sees (a list column; every window has the same L);
  name it with ``--input-cols history`` when the file has other columns;
- the label column (``--label-col target``): the H values that followed (a list, or JSON /
  ``a|b|c`` text in CSV);
- optionally a series id column, named with the ``series`` option: windows of one series are
  then one resampling unit of the bootstrap and of the paired tests (without it, each window is).

Long data (one row per series id, time and value) becomes windows with ``whichmodel windows``
(:mod:`whichmodel.tasks.forecast_windows`).

A model maps (n, L) histories to (n, H) forecasts (a multi-output regressor over lag windows,
or a torch module with H outputs). Options: ``season`` (the seasonal period m, default 1),
``horizon`` (H; checked against every target when given), ``series`` (see above), e.g.
``--task "forecasting?season=12&horizon=6"``.

Metrics, each the mean over windows of a per-window value (every window has H points):

- ``mae``: mean absolute error over all forecast points (scikit-learn's
  ``mean_absolute_error``);
- ``smape``: mean of |y - ŷ| / (|y| + |ŷ|) (0 when both are 0), in [0, 1], the definition of
  utilsforecast's ``smape`` (M4's sMAPE in percent is 200 times this);
- ``mase``: the window's MAE over the in-sample MAE of the seasonal-naive forecast on its own
  history, mean over t > m of |y_t - y_{t-m}| (Hyndman & Koehler 2006, "Another look at
  measures of forecast accuracy"; utilsforecast's ``mase`` with one series per window). Below 1
  the model beats seasonal-naive on the history's scale.

Tests check each against utilsforecast on the same windows. The paired Wilcoxon test compares
per-window MASE (scale-free, so windows of series of different sizes weigh alike).
"""

from __future__ import annotations

import numpy as np

from whichmodel.data.tables import text_list
from whichmodel.errors import DataError, TaskError
from whichmodel.sources.base import Inputs, Model, RawOutput
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.options import TaskOptions
from whichmodel.tasks.scoring import mean_metric

SCALE = "scale"  # the score column with each window's in-sample seasonal-naive MAE
_CHECK_BATCH = 4096  # histories validated at once (streamed inputs are read in such chunks)


class ForecastingTask(Task):
    outcome_kind = "continuous"  # per-window MASE: paired Wilcoxon test
    keeps_scores = True  # scores: the H forecasts, then the history's seasonal-naive scale
    takes_options = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("forecasting", {})
        season = options.integer("season", 1)
        self.season = 1 if season is None else season
        self.horizon = options.integer("horizon", None)
        self.series_column = options.text("series", "")
        self.name = options.finish()

    def unit_column(self) -> str | None:
        return self.series_column or None

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        """(n,) lists of H numbers -> (n, H) float64."""
        rows = [_numbers(v, f"The target of window {i}") for i, v in enumerate(labels)]
        lengths = {len(r) for r in rows}
        if self.horizon is not None and lengths != {self.horizon}:
            bad = next(i for i, r in enumerate(rows) if len(r) != self.horizon)
            raise DataError(
                f"The target of window {bad} has {len(rows[bad])} values; the horizon option "
                f"says {self.horizon}."
            )
        if len(lengths) > 1:
            raise DataError(
                f"The targets have different lengths ({', '.join(map(str, sorted(lengths)))}); "
                "every window needs the same horizon."
            )
        if 0 in lengths:
            raise DataError("The targets are empty lists; each window needs the values to come.")
        return np.asarray(rows, dtype=np.float64)

    def check_inputs(self, inputs: Inputs) -> None:
        """Raise DataError unless every history is numeric, finite, longer than the season and
        not constant at the seasonal lag (MASE would divide by zero)."""
        if inputs.kind != "array" or inputs.take(slice(0, 1)).data.ndim != 2:
            raise DataError(
                "Forecasting reads one column of equally long numeric lists (the history of "
                f"each window), from JSONL or Parquet; got {inputs.kind} input from columns "
                f"{', '.join(repr(c) for c in inputs.columns)}. Name it with --input-cols."
            )
        for start in range(0, len(inputs), _CHECK_BATCH):
            self._check_histories(inputs.take(slice(start, start + _CHECK_BATCH)).data, start)

    def _check_histories(self, history: np.ndarray, start: int) -> None:
        if history.shape[1] <= self.season:
            raise DataError(
                f"The histories have {history.shape[1]} values, not more than the season "
                f"({self.season}): the seasonal-naive scale of MASE needs at least "
                f"{self.season + 1}. Use longer windows or a shorter season."
            )
        finite = np.isfinite(history).all(axis=1)
        if not finite.all():
            raise DataError(
                f"The history of window {start + int(np.argmin(finite))} has missing or "
                "infinite values; fill or drop them."
            )
        zero = seasonal_naive_scale(history, self.season) == 0
        if zero.any():
            raise DataError(
                f"The history of window {start + int(np.argmax(zero))} repeats itself exactly "
                f"at lag {self.season}, so its seasonal-naive error is 0 and MASE is undefined; "
                "drop that window or use another season."
            )

    def run(self, model: Model, inputs: Inputs) -> RawOutput:
        """(n, H + 1) scores: the model's forecasts, then each history's seasonal-naive scale."""
        history = np.asarray(inputs.data, dtype=np.float64).reshape(len(inputs), -1)  # (n, L)
        raw = model.predict(inputs)
        forecast = _forecasts(raw, len(inputs), self.horizon)  # (n, H)
        scale = seasonal_naive_scale(history, self.season)  # (n,)
        return RawOutput("scores", np.column_stack([forecast, scale]))

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        if raw.kind != "scores":  # a model's own output lacks the scale run() adds
            raise TaskError(
                "Forecasting scores what its run() returns (forecasts and each history's "
                f"seasonal-naive scale), not a model's raw {raw.kind}; use whichmodel compare."
            )
        scores = np.asarray(raw.array, dtype=np.float64)
        names = (*(f"forecast_{h + 1}" for h in range(scores.shape[1] - 1)), SCALE)
        return scores[:, 0], scores, names  # pred: the one-step-ahead forecast

    def check(self, y_true: np.ndarray, preds: Predictions, model_name: str) -> None:
        width = len(preds.score_names or ()) - 1
        if len(preds.rows) and width != y_true.shape[1]:
            raise TaskError(
                f"{model_name} forecasts {width} steps but the targets have {y_true.shape[1]}; "
                "the model's output size must equal the horizon."
            )

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        mae = mean_metric("mae", False, window_mae)
        return [
            Metric("mae", False, _mae_score, sums=mae.sums),
            mean_metric("smape", False, window_smape),
            mean_metric("mase", False, window_mase),
        ]

    def metric_names(self) -> tuple[str, ...]:
        return ("mae", "smape", "mase")

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return window_mase(y_true, preds)


def forecasts(preds: Predictions) -> np.ndarray:
    """(n, H) the forecasts kept in ``preds.scores``."""
    assert preds.scores is not None
    return np.asarray(preds.scores[:, :-1])


def window_mae(y: np.ndarray, p: Predictions) -> np.ndarray:
    """(n,) mean absolute error of each window over its H steps."""
    return np.asarray(np.abs(y - forecasts(p)).mean(axis=1))


def window_smape(y: np.ndarray, p: Predictions) -> np.ndarray:
    """(n,) mean over each window's steps of |y - ŷ| / (|y| + |ŷ|), 0 where both are 0."""
    f = forecasts(p)
    denominator = np.abs(y) + np.abs(f)
    ratio = np.divide(np.abs(y - f), denominator, out=np.zeros_like(f), where=denominator > 0)
    return np.asarray(ratio.mean(axis=1))


def window_mase(y: np.ndarray, p: Predictions) -> np.ndarray:
    """(n,) each window's MAE over its history's seasonal-naive MAE."""
    return np.asarray(window_mae(y, p) / p.score(SCALE))


def seasonal_naive_scale(history: np.ndarray, season: int) -> np.ndarray:
    """(n, L) histories -> (n,) in-sample MAE of the seasonal-naive forecast ŷ_t = y_{t-m},
    mean over t = m+1..L of |y_t - y_{t-m}| (the denominator of MASE, Hyndman & Koehler 2006)."""
    return np.asarray(np.abs(history[:, season:] - history[:, :-season]).mean(axis=1))


def _mae_score(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
    from sklearn.metrics import mean_absolute_error

    horizon = y.shape[1]
    weights = None if w is None else np.repeat(np.asarray(w, dtype=np.float64), horizon)
    return float(mean_absolute_error(y.ravel(), forecasts(p).ravel(), sample_weight=weights))


def _forecasts(raw: RawOutput, n: int, horizon: int | None) -> np.ndarray:
    array = np.asarray(raw.array)
    if raw.kind not in ("values", "logits") or array.dtype.kind not in "fiu":
        raise TaskError(
            f"The model returned {raw.kind} of shape {array.shape}; forecasting needs H numbers "
            "per window (a regressor, or a torch module with output=values)."
        )
    forecast = array.reshape(n, -1).astype(np.float64)
    if horizon is not None and forecast.shape[1] != horizon:
        raise TaskError(
            f"The model forecasts {forecast.shape[1]} steps; the horizon option says {horizon}."
        )
    return forecast


def _numbers(value: object, what: str) -> list[float]:
    items = text_list(value) if not isinstance(value, int | float) else [str(value)]
    if items is None:
        raise DataError(f"{what} is {value!r}, not a list of numbers.")
    try:
        numbers = [float(v) for v in items]
    except ValueError:
        raise DataError(f"{what} holds a value that is not a number: {value!r}.") from None
    if not all(np.isfinite(numbers)):
        raise DataError(f"{what} has missing or infinite values; fill or drop them.")
    return numbers
