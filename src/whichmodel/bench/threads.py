"""Intra-op threads, set the one way every measurement uses: torch's count and, through
threadpoolctl, every loaded OpenMP/BLAS pool (MKL, OpenBLAS). The probe's parent also sets
``OMP_NUM_THREADS`` & co. in the child's environment, for libraries that read it at import."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def set_threads(n: int) -> Any:
    """Set every runtime's intra-op threads to ``n``; returns the threadpoolctl limiter (its
    ``restore_original_limits()`` undoes the BLAS/OpenMP part)."""
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    return threadpool_limits(limits=n)


@contextmanager
def threads_set(n: int) -> Iterator[None]:
    """:func:`set_threads` for the ``with`` block, in this process; every count (torch's
    included) is restored afterwards, so a measurement leaves its caller's settings alone."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    limiter = set_threads(n)
    try:
        yield
    finally:
        limiter.restore_original_limits()
        if torch is not None and before is not None:
            torch.set_num_threads(before)
