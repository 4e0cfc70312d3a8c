"""The conformance suite runs tiny torch models: one intra-op thread is ~20x faster than two on
a loaded two-core machine (see tests/tasks/conftest.py), and gives the same numbers within
float32 rounding."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
