"""Build the forecasting example: 8 monthly-like series (level + trend + a season of 12 +
noise), models trained on their first 90 steps, test windows over the last 30.

    python examples/forecasting/make.py OUT_DIR

writes OUT_DIR/windows.jsonl (one row per window: series, history of 36 values, target of the
next 6), OUT_DIR/ridge.skops (Ridge over the 36 lags) and OUT_DIR/knn.skops (k-nearest
windows), both multi-output scikit-learn regressors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
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
    lines = []
    for i, s in enumerate(all_series):
        history, target = windows(s[90 - HISTORY :], history=HISTORY, horizon=HORIZON, step=3)
        for h, t in zip(history, target, strict=True):
            row = {"series": f"s{i}", "history": h.round(3).tolist(), "target": t.round(3).tolist()}
            lines.append(json.dumps(row))
    (out / "windows.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "forecasting-example"))
