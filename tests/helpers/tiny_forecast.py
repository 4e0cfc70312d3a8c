"""Forecasting fixtures built in code: seasonal series, and a GRU forecaster that a
``torch:/abs/tiny_forecast.py:gru?weights=...&output=values`` reference loads."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

SEASON = 12
HISTORY = 36
HORIZON = 6


class GRUForecaster(nn.Module):
    """(n, L) histories -> (n, H) forecasts: a GRU over the history, normalized by its mean
    and spread, and a linear head on the last hidden state."""

    def __init__(self, horizon: int = HORIZON, hidden: int = 16) -> None:
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=1, keepdim=True)  # (n, 1)
        spread = x.std(dim=1, keepdim=True) + 1e-6
        _, h = self.gru(((x - mean) / spread).unsqueeze(-1))  # h: (1, n, hidden)
        return self.head(h[0]) * spread + mean  # (n, H)


def gru(horizon: int = HORIZON, hidden: int = 16) -> GRUForecaster:
    return GRUForecaster(horizon=horizon, hidden=hidden)


def seasonal_series(n_series: int, length: int, seed: int) -> list[np.ndarray]:
    """Monthly-like series: level + trend + a season of 12 + noise, each of its own scale."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    out = []
    for _ in range(n_series):
        level, scale = rng.uniform(50, 500), rng.uniform(5, 50)
        season = scale * np.sin(2 * np.pi * (t + rng.integers(SEASON)) / SEASON)
        trend = rng.uniform(-0.5, 1.5) * t
        out.append(level + trend + season + rng.normal(0, scale / 5, length))
    return out


def train_gru(history: np.ndarray, target: np.ndarray, *, steps: int = 150) -> GRUForecaster:
    """A GRU trained full-batch with Adam on (n, L) -> (n, H) windows (seeded)."""
    torch.manual_seed(0)
    model = gru(target.shape[1])
    x = torch.tensor(history, dtype=torch.float32)
    y = torch.tensor(target, dtype=torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    scale = y.std(dim=1, keepdim=True) + 1e-6
    for _ in range(steps):
        optimizer.zero_grad()
        loss = (((model(x) - y) / scale) ** 2).mean()
        loss.backward()
        optimizer.step()
    return model.eval()


class SometimesNaN(nn.Module):
    """Repeats the last season (seasonal-naive) but returns NaN for windows whose history
    starts above ``above``: a model that fails on some examples."""

    def __init__(self, above: float, horizon: int = HORIZON) -> None:
        super().__init__()
        self.above = above
        self.horizon = horizon

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last_season = x[:, -SEASON:]
        out = last_season[:, : self.horizon].clone()  # (n, H), H <= SEASON
        out[x[:, 0] > self.above] = float("nan")
        return out


def sometimes_nan(above: float = 300.0) -> SometimesNaN:
    return SometimesNaN(above)
