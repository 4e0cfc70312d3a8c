"""This machine's limits: peak matmul FLOP/s per dtype and memory bandwidth, the roofline's roof.

``whichmodel.machine(threads=1)`` measures once and caches the result in the run store, keyed by
the hardware (``whichmodel.provenance.hardware``), the thread count, the sizes and the torch and
NumPy versions. Every figure is timed with the project's harness (:mod:`.timing`: warm-up until
settled, then samples until the median's 95% CI is within ±2%) at the given thread count (set as
every probe sets it, :mod:`.threads`):

- **Peak FLOP/s** per dtype: ``torch.matmul(a, b, out=c)`` on square (n, n) matrices, n grown
  from 128 until one call takes ``min_call_s``; FLOPs per call = 2·n³ (n² outputs, each n
  multiply-adds). A dtype torch refuses, or a reduced-precision one running at under a quarter of
  fp32's rate (emulated, not a hardware path), is ``unknown`` with the reason, not a number.
- **Bandwidth**, STREAM-like (McCalpin, https://www.cs.virginia.edu/stream/ref.html) on NumPy
  float64 arrays far larger than the last-level cache: copy ``a = b`` and triad ``a = b + s*c``,
  bytes counted as STREAM counts them (copy 2 words per element, triad 3; the write-allocate read
  is not counted). The kernels are torch's on the NumPy arrays' memory (``torch.from_numpy``):
  its triad is one fused pass (NumPy's ``b + s*c`` makes two, and a temporary) and it runs on the
  threads set, where NumPy's copy always uses one.

A figure that is unreliable by the criteria every cost is held to (sampling stopped on its
budget, warm-up never settled, runs too spread, halves that disagree:
:func:`whichmodel.bench.conditions.latency_reasons`) makes the result ``reliable=False`` with
the reason; such a result is returned but never cached, so the next call
measures again (``refresh=True`` measures again in any case).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from whichmodel.bench.conditions import latency_reasons
from whichmodel.bench.device import check_device, synchronizer
from whichmodel.bench.timing import Latency

DTYPES = ("fp32", "fp64", "bf16", "fp16")
_TORCH_DTYPES = {"fp32": "float32", "fp64": "float64", "bf16": "bfloat16", "fp16": "float16"}
EMULATED_BELOW = 0.25  # a bf16/fp16 matmul under this fraction of fp32's rate is emulated
MIN_STREAM_BYTES = 256 << 20
TRIAD_SCALAR = 3.0


@dataclass(frozen=True)
class MachineSizes:
    """How large and how long the measurements are; part of the cache key. Stores values only.

    Args:
        min_call_s: the matmul size grows (from 128) until one call takes at least this long.
        max_matmul_n: the largest matmul size tried.
        stream_bytes: bytes of the triad's three arrays together; None: 4 × the L3 cache, and
            at least 256 MiB.
        budget_s: seconds of the harness per figure (warm-up included).
        target_rel: the CI half-width of the median the harness aims for (0.02 = ±2%).
        dtypes: the matmul dtypes to measure (of :data:`DTYPES`; fp32 first: the others are
            checked against it).
        device: where the kernels run: ``cpu``, or a CUDA device (``cuda``, ``cuda:N``;
            :func:`device_sizes` gives the sizes a GPU needs).
    """

    min_call_s: float = 0.01
    max_matmul_n: int = 4096
    stream_bytes: int | None = None
    budget_s: float = 2.0
    target_rel: float = 0.02
    dtypes: tuple[str, ...] = DTYPES
    device: str = "cpu"


DEFAULT_SIZES = MachineSizes()

#: A GPU's triad arrays together: far above any GPU's L2 cache (50 MiB on an H100).
GPU_STREAM_BYTES = 3 * 2**30


def device_sizes(device: str) -> MachineSizes:
    """The default sizes on ``device``: on a GPU, matmuls up to n = 16384 (a 4096² fp16 matmul
    takes ~0.2 ms on an H100, far below the time a peak needs) and :data:`GPU_STREAM_BYTES`."""
    if device == "cpu":
        return DEFAULT_SIZES
    return MachineSizes(max_matmul_n=16384, stream_bytes=GPU_STREAM_BYTES, device=device)


@dataclass(frozen=True)
class PeakFlops:
    """One dtype's matmul rate: ``flops_per_call`` = 2·n³ over the median call time.

    ``unknown`` (the reason) is set when there is no figure: the dtype is not supported, or is
    emulated (its latency is then kept, for the record).
    """

    dtype: str
    matmul_n: int
    flops_per_call: int
    latency: Latency | None
    unknown: str | None = None

    @property
    def flops_per_s(self) -> float | None:
        if self.unknown is not None or self.latency is None:
            return None
        return self.flops_per_call / self.latency.p50_s

    @property
    def ci_flops_per_s(self) -> tuple[float, float] | None:
        """The 95% CI of the rate, from the CI of the median time (a longer call, a lower rate)."""
        if self.flops_per_s is None or self.latency is None:
            return None
        flops = self.flops_per_call
        return flops / self.latency.ci_high_s, flops / self.latency.ci_low_s


@dataclass(frozen=True)
class Bandwidth:
    """One STREAM kernel: ``bytes_per_call`` (STREAM's count) over the median call time."""

    kernel: str  # "copy" or "triad"
    array_bytes: int  # each array's size
    bytes_per_call: int
    latency: Latency

    @property
    def bytes_per_s(self) -> float:
        return self.bytes_per_call / self.latency.p50_s


@dataclass(frozen=True)
class MachineLimits:
    """What this machine allows at ``threads`` intra-op threads.

    Args:
        peak_flops: dtype -> its matmul rate (or why unknown).
        copy, triad: memory bandwidth, STREAM's kernels.
        threads: intra-op threads the figures were measured at.
        hardware: ``whichmodel.provenance.hardware()`` when measured.
        measured_at: ISO 8601 UTC time the measurement started.
        load_average: the 1-minute load average before and after measuring.
        sizes: what was asked for (:class:`MachineSizes`).
    """

    peak_flops: Mapping[str, PeakFlops]
    copy: Bandwidth
    triad: Bandwidth
    threads: int
    hardware: dict[str, Any]
    measured_at: str
    load_average: tuple[float, float]
    sizes: MachineSizes = DEFAULT_SIZES

    @property
    def unreliable(self) -> tuple[str, ...]:
        """Why a figure cannot be trusted (a disturbed measurement); empty when none."""
        timed = [(f"{p.dtype} matmul", p.latency) for p in self.peak_flops.values()
                 if p.unknown is None and p.latency is not None]
        timed += [(self.copy.kernel, self.copy.latency), (self.triad.kernel, self.triad.latency)]
        return tuple(why for name, lat in timed for why in latency_reasons(name, lat))

    @property
    def reliable(self) -> bool:
        return not self.unreliable

    def to_dict(self, *, samples: bool = True) -> dict[str, Any]:
        """JSON-ready; ``samples=False`` leaves the raw timings out (each latency keeps ``n``).
        ``reliable`` and ``unreliable`` are added for readers; :meth:`from_dict` ignores them."""
        data = asdict(self)
        for lat in [p["latency"] for p in data["peak_flops"].values()] + [
            data["copy"]["latency"], data["triad"]["latency"]
        ]:
            if lat is not None and not samples:
                lat.pop("samples_s")
        for name, p in self.peak_flops.items():
            data["peak_flops"][name]["flops_per_s"] = p.flops_per_s
        for kernel in ("copy", "triad"):
            data[kernel]["bytes_per_s"] = getattr(self, kernel).bytes_per_s
        return data | {"reliable": self.reliable, "unreliable": list(self.unreliable)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MachineLimits:
        from whichmodel.bench.base import latency_from_dict

        def peak(d: dict[str, Any]) -> PeakFlops:
            lat = d["latency"]
            return PeakFlops(d["dtype"], d["matmul_n"], d["flops_per_call"],
                             latency_from_dict(lat) if lat is not None else None, d["unknown"])

        def band(d: dict[str, Any]) -> Bandwidth:
            return Bandwidth(d["kernel"], d["array_bytes"], d["bytes_per_call"],
                             latency_from_dict(d["latency"]))

        sizes = dict(data["sizes"]) | {"dtypes": tuple(data["sizes"]["dtypes"])}
        return cls(
            peak_flops={k: peak(v) for k, v in data["peak_flops"].items()},
            copy=band(data["copy"]),
            triad=band(data["triad"]),
            threads=data["threads"],
            hardware=data["hardware"],
            measured_at=data["measured_at"],
            load_average=(data["load_average"][0], data["load_average"][1]),
            sizes=MachineSizes(**sizes),
        )


def machine(
    *,
    threads: int = 1,
    store: str | Path = ".whichmodel/store.db",
    refresh: bool = False,
    sizes: MachineSizes | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    device: str = "cpu",
) -> MachineLimits:
    """This machine's limits at ``threads`` intra-op threads on ``device`` (``cpu``, ``cuda``),
    from the run store when a reliable measurement of the same hardware, threads and sizes is
    there, else measured (seconds).

    Raises:
        ConfigError: ``threads`` below 1, or a device this machine does not have.

    Example::

        limits = whichmodel.machine(threads=1)
        limits.peak_flops["fp32"].flops_per_s, limits.triad.bytes_per_s, limits.reliable
    """
    from whichmodel.errors import ConfigError
    from whichmodel.store import Store
    from whichmodel.store.cache import Codec, cached

    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"Threads must be at least 1. Got {threads} instead.")
    sizes = sizes or device_sizes(check_device(device))
    codec: Codec[MachineLimits] = Codec(MachineLimits.to_dict, MachineLimits.from_dict)
    return cached(
        Store.open(store),
        "machine",
        cache_parts(threads, sizes),
        lambda: measure(threads=threads, sizes=sizes),
        codec,
        final=lambda limits: limits.reliable,
        refresh=refresh,
        progress=progress,
        label="measuring this machine",
    )


def stored(
    *, threads: int, store: str | Path, sizes: MachineSizes | None = None
) -> MachineLimits | None:
    """The reliable measurement :func:`machine` would read from the store, or None (nothing is
    measured)."""
    from whichmodel.store import Store
    from whichmodel.store.cache import cache_key

    key = cache_key("machine", *cache_parts(threads, sizes or DEFAULT_SIZES))
    data = Store.open(store).get_cached("machine", key)
    return None if data is None else MachineLimits.from_dict(data)


def cache_parts(threads: int, sizes: MachineSizes) -> tuple[Any, ...]:
    """What a stored measurement depends on: the hardware, the threads, the sizes, and the torch
    and NumPy versions (another release can bring other kernels)."""
    from whichmodel.provenance import hardware, library_versions

    versions = {k: v for k, v in library_versions().items() if k in ("torch", "numpy")}
    parts: tuple[Any, ...] = (hardware(), threads, asdict(sizes), versions)
    if sizes.device != "cpu":  # which GPU: the host's hardware does not say
        import torch

        parts += (torch.cuda.get_device_name(sizes.device),)
    return parts


def measure(*, threads: int = 1, sizes: MachineSizes | None = None) -> MachineLimits:
    """Measure (never read the store): every dtype's matmul, then copy and triad."""
    import torch

    from whichmodel.bench.threads import threads_set
    from whichmodel.provenance import hardware

    sizes = sizes or DEFAULT_SIZES
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    load_before = os.getloadavg()[0]
    with threads_set(threads), torch.inference_mode():
        peaks: dict[str, PeakFlops] = {}
        for dtype in sizes.dtypes:
            peaks[dtype] = _peak(dtype, sizes, reference=peaks.get("fp32"))
        copy, triad = _stream(sizes)
    return MachineLimits(
        peak_flops=peaks,
        copy=copy,
        triad=triad,
        threads=threads,
        hardware=hardware(),
        measured_at=started,
        load_average=(load_before, os.getloadavg()[0]),
        sizes=sizes,
    )


def _time(fn: Callable[[], object], sizes: MachineSizes) -> Latency:
    """``fn`` through the project's harness, synchronized as the probe does."""
    from whichmodel.bench.timing import time_calls

    return time_calls(fn, sync=synchronizer(sizes.device), budget_s=sizes.budget_s,
                      target_rel=sizes.target_rel)


def matmul_call(dtype: str, n: int, device: str = "cpu") -> Callable[[], object]:
    """One (n, n) @ (n, n) matmul of ``dtype`` on ``device`` into a preallocated output (no
    allocation timed)."""
    import torch

    torch_dtype = getattr(torch, _TORCH_DTYPES[dtype])
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=gen).to(device, torch_dtype) for _ in range(2))
    c = torch.empty(n, n, dtype=torch_dtype, device=device)
    return lambda: torch.matmul(a, b, out=c)


def matmul_size(dtype: str, sizes: MachineSizes) -> int:
    """The first n of 128, 192, 256, 384, 512, ... (×1.5 then ×4/3: a call at most ~3.4× the
    one before, so calls stay near ``sizes.min_call_s`` and the harness's warm-up windows fit its
    budget) whose one call takes ``sizes.min_call_s``; at most ``sizes.max_matmul_n``. The
    fastest of three calls after the first is timed (the first pays for page faults; one call
    that a busy machine delayed would stop the search at too small an n, and a peak measured on
    a small matmul reads low)."""
    import time

    sync = synchronizer(sizes.device)
    n = 128
    while n < sizes.max_matmul_n:
        call = matmul_call(dtype, n, sizes.device)
        call()
        sync()
        elapsed = []
        for _ in range(3):
            start = time.perf_counter()
            call()
            sync()
            elapsed.append(time.perf_counter() - start)
        if min(elapsed) >= sizes.min_call_s:
            break
        n = n * 3 // 2 if n & (n - 1) == 0 else n * 4 // 3  # a power of two, or 1.5× one
    return min(n, sizes.max_matmul_n)


def _peak(dtype: str, sizes: MachineSizes, *, reference: PeakFlops | None) -> PeakFlops:
    """``dtype``'s matmul rate; unknown when torch refuses it, or when it runs at under
    :data:`EMULATED_BELOW` of the ``reference`` (fp32) rate."""
    if dtype not in _TORCH_DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}.")
    try:
        matmul_call(dtype, 8, sizes.device)()
    except RuntimeError as exc:  # e.g. a dtype with no CPU kernel in this torch build
        return PeakFlops(dtype, 0, 0, None, f"torch cannot multiply {dtype} matrices here: {exc}")
    n = matmul_size(dtype, sizes)
    peak = PeakFlops(dtype, n, 2 * n**3, _time(matmul_call(dtype, n, sizes.device), sizes))
    rate, fp32 = peak.flops_per_s, reference.flops_per_s if reference else None
    if dtype in ("bf16", "fp16") and rate and fp32 and rate < EMULATED_BELOW * fp32:
        why = (f"emulated: {rate / 1e9:.1f} GFLOP/s, under {EMULATED_BELOW:.0%} of fp32's "
               f"{fp32 / 1e9:.1f}; this CPU has no fast {dtype} matmul in torch")
        return PeakFlops(dtype, n, peak.flops_per_call, peak.latency, why)
    return peak


def l3_cache_bytes() -> int | None:
    """The last-level (L3) cache of CPU 0 in bytes, from Linux's sysfs; None when not known."""
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            if (index / "level").read_text().strip() != "3":
                continue
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
        return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)
    return None


def stream_arrays(total_bytes: int | None) -> tuple[Any, Any, Any]:
    """The three float64 arrays (a, b, c) of ``total_bytes`` together (default: see
    :class:`MachineSizes`), b and c filled, a written by the kernels."""
    import numpy as np

    if total_bytes is None:
        total_bytes = max(4 * (l3_cache_bytes() or 0), MIN_STREAM_BYTES)
    n = max(total_bytes // 3 // 8, 1)
    return np.zeros(n), np.full(n, 1.0), np.full(n, 2.0)


def _stream(sizes: MachineSizes) -> tuple[Bandwidth, Bandwidth]:
    """(copy, triad), each over the same arrays; STREAM's byte counts (8-byte words)."""
    import torch

    a, b, c = stream_arrays(sizes.stream_bytes)
    # the same memory with torch's kernels on the CPU; on a GPU, copies in its memory
    ta, tb, tc = (torch.from_numpy(x).to(sizes.device) for x in (a, b, c))
    copy = _time(lambda: ta.copy_(tb), sizes)
    triad = _time(lambda: torch.add(tb, tc, alpha=TRIAD_SCALAR, out=ta), sizes)
    return (
        Bandwidth("copy", a.nbytes, 2 * a.nbytes, copy),
        Bandwidth("triad", a.nbytes, 3 * a.nbytes, triad),
    )
