"""Build the forecasting example: 8 monthly-like series (level + trend + a season of 12 +
noise), models trained on their first 90 steps, test windows over the last 30.

    python examples/forecasting/make.py OUT_DIR

writes OUT_DIR/long.csv (unique_id, ds, y: 120 steps of each series), OUT_DIR/ridge.skops
(Ridge over the 36 lags) and OUT_DIR/knn.skops (k-nearest windows), both multi-output
scikit-learn regressors that forecast the next 6 steps.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor

from whichmodel.tasks.forecast_windows import windows

SEASON, HISTORY, HORIZON = 12, 36, 6


def series(n: int, length: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    out = []
    for _ in range(n):
        level, scale = rng.uniform(50, 500), rng.uniform(5, 50)
        season = scale * np.sin(2 * np.pi * (t + rng.integers(SEASON)) / SEASON)
        out.append(level + rng.uniform(-0.5, 1.5) * t + season + rng.normal(0, scale / 5, length))
    return out


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    all_series = series(8, 120, seed=0)
    train = [windows(s[:90], history=HISTORY, horizon=HORIZON, step=3) for s in all_series]
    x = np.concatenate([h for h, _ in train])
    y = np.concatenate([t for _, t in train])
    sio.dump(Ridge(alpha=1.0).fit(x, y), out / "ridge.skops")
    sio.dump(KNeighborsRegressor(n_neighbors=5).fit(x, y), out / "knn.skops")
    # The whole series in long format, as forecasting libraries keep it; `whichmodel windows`
    # cuts the test windows (targets after step 90) from it.
    long = pd.DataFrame(
        [
            {"unique_id": f"s{i}", "ds": int(t), "y": round(float(v), 3)}
            for i, values in enumerate(all_series)
            for t, v in enumerate(values)
        ]
    )
    long.to_csv(out / "long.csv", index=False)

if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "forecasting-example"))
