"""Energy per example, where the hardware counts it: RAPL's energy counters on the CPU.

Linux exposes each RAPL domain (a CPU package, its cores, DRAM) as a folder under
``/sys/class/powercap`` whose ``energy_uj`` counts microjoules since boot and wraps at
``max_energy_range_uj``. The probe reads every package-level domain before and after the timed
calls of a batch size and divides by the calls made: joules per call, then per example.

Never an estimate: where no counter can be read (a container without ``/sys/class/powercap``, a
kernel that keeps ``energy_uj`` to root since CVE-2020-8694, another vendor), the energy is
unknown and the reason says which. A package counter counts everything the package ran, this
process's work and every other process's: the figure says so, and on a busy machine
(:mod:`whichmodel.bench.conditions`) it is an upper bound of the model's share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

POWERCAP = Path("/sys/class/powercap")


@dataclass(frozen=True)
class Domain:
    """One RAPL package domain: its name (``package-0``), counter file and wrap-around range."""

    name: str
    counter: Path
    max_uj: int


def domains(root: Path = POWERCAP) -> tuple[list[Domain], str | None]:
    """(the package domains whose counters this process can read, why there are none)."""
    if not root.is_dir():
        return [], f"no RAPL energy counters: {root} does not exist here"
    found, unreadable = [], []
    for folder in sorted(root.glob("*rapl:*")):
        if folder.name.count(":") != 1:  # intel-rapl:0 is a package; intel-rapl:0:1 a subdomain
            continue
        counter = folder / "energy_uj"
        try:
            name = (folder / "name").read_text(encoding="ascii").strip()
            int(counter.read_text(encoding="ascii"))
            max_uj = int((folder / "max_energy_range_uj").read_text(encoding="ascii"))
        except PermissionError:
            unreadable.append(str(counter))
            continue
        except (OSError, ValueError):
            continue
        found.append(Domain(name, counter, max_uj))
    if found:
        return found, None
    if unreadable:
        return [], f"the RAPL counters are readable only by root here ({unreadable[0]})"
    return [], f"no RAPL package domain under {root}"


def _read(found: list[Domain]) -> list[int]:
    return [int(d.counter.read_text(encoding="ascii")) for d in found]


def joules(work: Callable[[], T], found: list[Domain]) -> tuple[T, float]:
    """Run ``work()``; (its result, the joules every package domain counted meanwhile), each
    counter's wrap-around undone (a counter can wrap at most once in a probe's few seconds)."""
    before = _read(found)
    result = work()
    after = _read(found)
    total_uj = sum(
        (b - a) if b >= a else (d.max_uj - a + b)
        for d, a, b in zip(found, before, after, strict=True)
    )
    return result, total_uj / 1e6
