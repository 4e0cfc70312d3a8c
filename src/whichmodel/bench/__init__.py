"""Cost on this machine: latency, throughput and memory of models and their variants.

``whichmodel.bench(ref, ...)`` and ``whichmodel.bench.bench(ref, ...)`` are the same call (this
package is callable, so the public API name and the package name can coincide); see
:func:`whichmodel.bench.run.bench`. Layout: ``base.py`` (typed requests and results),
``timing.py`` (the harness), ``memory.py``, ``inputs.py``, ``generation.py`` (LLMs),
``variants/`` (one module per kind), ``probe.py`` (the subprocess), ``cost.py`` (one probe per
variant, quality deltas), ``run.py`` (configs and the store cache).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from whichmodel.bench.base import CostProfile


def bench(ref: str, **options: Any) -> CostProfile:
    """Benchmark one model; see :func:`whichmodel.bench.run.bench`."""
    from whichmodel.bench.run import bench as run_bench

    return run_bench(ref, **options)


class _CallablePackage(ModuleType):
    """Importing ``whichmodel.bench.x`` sets ``whichmodel.bench`` to this package, which would
    shadow the API function of the same name; calling the package calls :func:`bench`."""

    def __call__(self, ref: str, **options: Any) -> CostProfile:
        return bench(ref, **options)


sys.modules[__name__].__class__ = _CallablePackage
