"""A tiny PyTorch model for source tests, imported by path (``torch:/abs/tiny_torch.py:mlp``)
and by name (``torch:tiny_torch:mlp`` with this folder on ``sys.path``)."""

from __future__ import annotations

import torch
from torch import nn


class TinyMLP(nn.Module):
    """Flattens (n, *shape) input to (n, n_in) and returns (n, n_out) logits."""

    def __init__(self, n_in: int = 64, hidden: int = 16, n_out: int = 10) -> None:
        super().__init__()
        self.hidden = nn.Linear(n_in, hidden)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x.flatten(1))))


def mlp(n_in: int = 64, hidden: int = 16, n_out: int = 10) -> TinyMLP:
    """The factory a ``torch:`` reference names; its query parameters are these arguments."""
    return TinyMLP(n_in=n_in, hidden=hidden, n_out=n_out)
