"""Small PyTorch classifiers for scikit-learn's digits dataset.

Every factory returns a freshly initialised ``nn.Module`` that maps float32 images of shape
(B, 8, 8), pixels already scaled to [0, 1], to logits of shape (B, 10). The factories take only
keyword arguments with defaults, so a reference such as
``torch:whichmodel.demo.zoo:cnn?weights=cnn.safetensors&channels=16`` can rebuild them.

>>> import torch
>>> [tuple(globals()[name]()(torch.zeros(2, 8, 8)).shape) for name in FACTORIES]
[(2, 10), (2, 10), (2, 10), (2, 10)]
"""

from __future__ import annotations

import torch
from torch import nn

FACTORIES = ("mlp", "cnn", "vit", "gru")
N_CLASSES = 10
IMAGE_SIZE = 8


class MLP(nn.Module):
    """Two hidden layers over the flattened image: (B, 8, 8) -> (B, 64) -> (B, 10)."""

    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(IMAGE_SIZE * IMAGE_SIZE, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, N_CLASSES),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map images (B, 8, 8) to logits (B, 10)."""
        return self.net(x)  # type: ignore[no-any-return]


class CNN(nn.Module):
    """Two 3x3 conv blocks with batch norm at full resolution, then 2x2 max pooling.

    Shapes: (B, 8, 8) -> (B, 1, 8, 8) -> (B, C, 8, 8) -> (B, 2C, 8, 8) -> pool (B, 2C, 4, 4)
    -> (B, 32C) -> (B, 10).
    """

    def __init__(self, channels: int = 16) -> None:
        super().__init__()
        c = channels
        # no pooling between the blocks: at 8x8 a second halving leaves too little space
        self.features = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.Conv2d(c, 2 * c, 3, padding=1, bias=False),
            nn.BatchNorm2d(2 * c),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 2C, 4, 4)
        )
        self.head = nn.Linear(2 * c * 4 * 4, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map images (B, 8, 8) to logits (B, 10)."""
        h = self.features(x.unsqueeze(1))  # (B, 2C, 4, 4)
        return self.head(h.flatten(1))  # type: ignore[no-any-return]


class ViT(nn.Module):
    """A small vision transformer over 2x2 patches, classified from a CLS token.

    Shapes: (B, 8, 8) -> patches (B, 16, 4) -> tokens (B, 16, D) -> with CLS (B, 17, D)
    -> pre-LN encoder (B, 17, D) -> LayerNorm on CLS (B, D) -> (B, 10).
    """

    patch = 2

    def __init__(self, dim: int = 32, depth: int = 2, heads: int = 4) -> None:
        super().__init__()
        n_patches = (IMAGE_SIZE // self.patch) ** 2
        self.embed = nn.Linear(self.patch * self.patch, dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n_patches + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            dim,
            heads,
            dim_feedforward=2 * dim,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        # enable_nested_tensor=False: the fast path does not support norm_first and warns
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map images (B, 8, 8) to logits (B, 10)."""
        b, p = x.shape[0], self.patch
        g = IMAGE_SIZE // p
        patches = x.reshape(b, g, p, g, p).permute(0, 1, 3, 2, 4).reshape(b, g * g, p * p)
        tokens = self.embed(patches)  # (B, 16, D)
        tokens = torch.cat([self.cls.expand(b, -1, -1), tokens], dim=1) + self.pos  # (B, 17, D)
        h = self.encoder(tokens)  # (B, 17, D)
        return self.head(self.norm(h[:, 0]))  # type: ignore[no-any-return]


class GRU(nn.Module):
    """A GRU reading the image top to bottom, one row of 8 pixels per step.

    Shapes: (B, 8, 8) as (B, T=8, F=8) -> last hidden state (B, H) -> (B, 10).
    """

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.rnn = nn.GRU(IMAGE_SIZE, hidden, batch_first=True)
        self.head = nn.Linear(hidden, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map images (B, 8, 8) to logits (B, 10)."""
        _, h_n = self.rnn(x)  # (1, B, H)
        return self.head(h_n[-1])  # type: ignore[no-any-return]


def mlp(hidden: int = 128) -> nn.Module:
    """Return a randomly initialised :class:`MLP` with ``hidden`` units per hidden layer."""
    return MLP(hidden=hidden)


def cnn(channels: int = 16) -> nn.Module:
    """Return a randomly initialised :class:`CNN`; the second block has ``2 * channels``."""
    return CNN(channels=channels)


def vit(dim: int = 32, depth: int = 2, heads: int = 4) -> nn.Module:
    """Return a randomly initialised :class:`ViT`; ``dim`` must be divisible by ``heads``."""
    return ViT(dim=dim, depth=depth, heads=heads)


def gru(hidden: int = 64) -> nn.Module:
    """Return a randomly initialised :class:`GRU` with ``hidden`` units."""
    return GRU(hidden=hidden)
