"""Long time-series data (one row per series id, time and value) -> forecast windows, the data
format of the forecasting task (one row per window: ``series``, ``origin``, ``history``,
``target``).

Long format is what most forecasting libraries read and write (statsforecast's and
utilsforecast's ``unique_id, ds, y``); the forecasting task needs each example to be one window
so that a model maps a history to a horizon and the bootstrap resamples windows or series.
``whichmodel windows`` is the command-line face of :func:`windows_frame`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from whichmodel.errors import DataError

if TYPE_CHECKING:
    import pandas as pd


def windows(
    values: Sequence[float] | np.ndarray, *, history: int, horizon: int, step: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Rolling-origin windows of one series: ((w, history), (w, horizon)) float64.

    Window i's history is ``values[i*step : i*step + history]`` and its target the next
    ``horizon`` values; the last window ends at or before the series' end.

    >>> h, t = windows(range(6), history=3, horizon=2)
    >>> h.tolist(), t.tolist()
    ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], [[3.0, 4.0], [4.0, 5.0]])
    """
    series = np.asarray(values, dtype=np.float64)
    starts = np.arange(0, len(series) - history - horizon + 1, step)
    span = np.arange(history + horizon)
    cut = series[starts[:, None] + span[None, :]].reshape(len(starts), history + horizon)
    return cut[:, :history], cut[:, history:]


def windows_frame(
    frame: pd.DataFrame,
    *,
    history: int,
    horizon: int,
    step: int | None = None,
    last: int | None = None,
    series_col: str = "unique_id",
    time_col: str = "ds",
    value_col: str = "y",
) -> pd.DataFrame:
    """Cut every series of long data into forecast windows.

    Args:
        frame: one row per (series, time) with a numeric value; rows in any order.
        history / horizon: values a model sees / forecasts per window.
        step: distance between window origins (default ``horizon``: targets do not overlap).
        last: keep only each series' last ``last`` windows (the test period), or all.
        series_col / time_col / value_col: the column names.

    Returns:
        One row per window: ``series``, ``origin`` (the time of the history's last value),
        ``history`` (list of ``history`` floats), ``target`` (list of ``horizon`` floats).

    Raises:
        DataError: a missing column, a non-numeric or missing value, a repeated time within a
            series, or a series shorter than ``history + horizon``.
    """
    import pandas as pd

    data = _long_series(frame, series_col=series_col, time_col=time_col, value_col=value_col)
    parts = [
        _series_windows(key, group, history, horizon, step or horizon, last)
        for key, group in data.sort_values(["s", "t"], kind="stable").groupby("s", sort=False)
    ]
    return pd.concat(parts, ignore_index=True)


def _long_series(
    frame: pd.DataFrame, *, series_col: str, time_col: str, value_col: str
) -> pd.DataFrame:
    """``frame`` checked and reduced to columns ``s`` (series), ``t`` (time), ``v`` (numeric
    value), in its row order; raises DataError as :func:`windows_frame` documents."""
    import pandas as pd

    missing = [c for c in (series_col, time_col, value_col) if c not in frame.columns]
    if missing:
        raise DataError(
            f"The long data has no column {missing[0]!r}; its columns are "
            f"{', '.join(repr(str(c)) for c in frame.columns)}. Name the series, time and value "
            "columns with --series-col, --time-col and --value-col."
        )
    values = pd.to_numeric(frame[value_col], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.fillna(0.0))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"Row {row} of the long data has value {frame[value_col].iloc[row]!r} in "
            f"'{value_col}', not a number; fill or drop it."
        )
    data = pd.DataFrame({"s": frame[series_col], "t": frame[time_col], "v": values})
    repeated = data.duplicated(["s", "t"])
    if repeated.any():
        row = int(np.flatnonzero(repeated.to_numpy())[0])
        raise DataError(
            f"Series {data['s'].iloc[row]!r} has time {data['t'].iloc[row]!r} twice (row {row})."
        )
    return data


def _series_windows(
    key: object, group: pd.DataFrame, history: int, horizon: int, step: int, last: int | None
) -> pd.DataFrame:
    import pandas as pd

    if len(group) < history + horizon:
        raise DataError(
            f"Series {key!r} has {len(group)} values; a window needs history + horizon = "
            f"{history + horizon}. Drop it or use shorter windows."
        )
    hist, target = windows(group["v"].to_numpy(), history=history, horizon=horizon, step=step)
    origins = group["t"].to_numpy()[np.arange(len(hist)) * step + history - 1]
    keep = slice(-last, None) if last else slice(None)
    return pd.DataFrame(
        {
            "series": str(key),
            "origin": origins[keep],
            "history": list(hist[keep]),
            "target": list(target[keep]),
        }
    )


def write_windows(frame: pd.DataFrame, path: str | Path) -> None:
    """Write windows as JSONL or Parquet (by the suffix); list columns need one of the two."""
    p = Path(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(p, index=False)
    elif p.suffix.lower() in (".jsonl", ".json"):
        out = frame.assign(
            history=[h.tolist() for h in frame["history"]],
            target=[t.tolist() for t in frame["target"]],
        )
        out.to_json(p, orient="records", lines=True, date_format="iso")
    else:
        raise DataError(
            f"Cannot write windows to {p.name}: use a .jsonl or .parquet file (the history and "
            "target columns are lists)."
        )
