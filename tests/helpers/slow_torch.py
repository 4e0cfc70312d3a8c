"""A PyTorch model that is slow on purpose (for interruption tests) or fails on some inputs."""

import time

import torch
from torch import nn


class Slow(nn.Module):
    """Linear classifier over (B, d) rows that sleeps ``delay_s`` per call."""

    def __init__(self, d: int, classes: int, delay_s: float) -> None:
        super().__init__()
        self.linear = nn.Linear(d, classes)
        self.delay_s = delay_s

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d) -> (B, classes)
        time.sleep(self.delay_s)
        return self.linear(x)


class FailsOnNegativeFirstFeature(nn.Module):
    """Raises for any batch containing a row whose first feature is negative."""

    def __init__(self, d: int, classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(d, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool((x[:, 0] < 0).any()):
            raise ValueError("negative first feature")
        return self.linear(x)


def slow(d: int = 4, classes: int = 3, delay_s: float = 0.05) -> nn.Module:
    torch.manual_seed(0)
    return Slow(d, classes, delay_s)


def flaky(d: int = 4, classes: int = 3) -> nn.Module:
    torch.manual_seed(0)
    return FailsOnNegativeFirstFeature(d, classes)
