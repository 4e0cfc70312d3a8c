"""Where a result came from: library versions, hardware, threads."""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

_LIBRARIES = (
    "whichmodel",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "skops",
    "torch",
    "transformers",
    "tokenizers",
    "safetensors",
    "xgboost-cpu",
    "xgboost",
    "lightgbm",
    "pyarrow",
)


# Libraries whose version can change a model's predictions: part of every prediction key.
RESULT_LIBRARIES = (
    "numpy",
    "scikit-learn",
    "skops",
    "xgboost-cpu",
    "xgboost",
    "lightgbm",
    "torch",
    "safetensors",
    "transformers",
    "tokenizers",
)


@functools.cache
def result_library_versions() -> tuple[tuple[str, str], ...]:
    """Installed versions of :data:`RESULT_LIBRARIES` (absent ones left out)."""
    return tuple((k, v) for k, v in library_versions().items() if k in RESULT_LIBRARIES)


@functools.cache
def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that can change a result (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> dict[str, Any]:
    """The machine: CPU model, logical CPUs usable by this process, OS, total memory."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    memory = 0
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpu": cpu_model(),
        "cpus": cpus,
        "machine": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "memory_bytes": memory,
    }


def provenance(argv: list[str] | None = None) -> dict[str, Any]:
    return {
        "versions": dict(library_versions()),
        "hardware": hardware(),
        "threads": threads(),
        "command": " ".join(argv if argv is not None else sys.argv),
    }


# (modules imported when made, threadpoolctl's controller): finding the loaded BLAS/OpenMP
# libraries takes ~2 ms; it is done again only after an import, which may load another.
_POOLS: tuple[int, Any] | None = None


def threads() -> dict[str, int]:
    """Intra-op threads each numeric runtime in this process uses (torch, OpenMP, BLAS)."""
    global _POOLS
    result: dict[str, int] = {}
    torch = sys.modules.get("torch")
    if torch is not None:
        result["torch"] = int(torch.get_num_threads())
    from threadpoolctl import ThreadpoolController

    if _POOLS is None or _POOLS[0] != len(sys.modules):
        _POOLS = (len(sys.modules), ThreadpoolController())
    for pool in _POOLS[1].info():  # the current thread counts
        name = f"{pool['user_api']}:{pool['internal_api']}"
        result[name] = max(result.get(name, 0), int(pool["num_threads"]))
    return result
