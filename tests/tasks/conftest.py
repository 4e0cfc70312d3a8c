"""Task tests run tiny torch models: one intra-op thread is ~20x faster than two on a loaded
two-core machine (1.7 ms vs 40 ms per tiny-Llama forward pass, measured), and gives the same
numbers within float32 rounding."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    if not getattr(request.module, "USES_TORCH", False):
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
