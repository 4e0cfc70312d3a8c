"""Hand-made machines, spec sheets and rooflines with known answers (no timing involved)."""

from __future__ import annotations

from typing import Any

from whichmodel.bench.base import CostProfile
from whichmodel.bench.machine import Bandwidth, MachineLimits, PeakFlops
from whichmodel.bench.roofline import ModelRoofline, model_roofline
from whichmodel.bench.timing import Latency
from whichmodel.spec.base import Fact
from whichmodel.spec.compact import SPEC_KEYS, CompactSpec

PEAK = 100e9  # FLOP/s
COPY = 10e9  # bytes/s: the ridge is 10 FLOPs per byte


def lat(p50_s: float, *, stop: str = "converged") -> Latency:
    """A latency whose every summary is ``p50_s``, stopped for ``stop``."""
    return Latency((), p50_s, p50_s, p50_s, p50_s, p50_s * 0.99, p50_s * 1.01, stop, 0.02, 5,
                   True, 20)  # type: ignore[arg-type]


def limits(*, bf16: float | None = None, stop: str = "converged") -> MachineLimits:
    """A machine of :data:`PEAK` fp32 FLOP/s and :data:`COPY` bytes/s; bf16 emulated unless
    ``bf16`` gives its peak; its fp32 figure stopped for ``stop``."""
    peaks = {"fp32": PeakFlops("fp32", 1000, int(PEAK), lat(1.0, stop=stop))}
    peaks["bf16"] = (PeakFlops("bf16", 1000, int(bf16), lat(1.0)) if bf16 else
                     PeakFlops("bf16", 1000, int(1e9), lat(1.0), "emulated: 1.0 GFLOP/s"))
    return MachineLimits(peaks, Bandwidth("copy", 1, int(COPY), lat(1.0)),
                         Bandwidth("triad", 1, int(1.5 * COPY), lat(1.0)), 1, {}, "now",
                         (0.1, 0.1))


def spec(per: str | None = "example", flops: int | None = 10**9, **facts: Any) -> CompactSpec:
    """A compact spec counting ``flops`` per ``per`` (None: not counted), with ``facts``."""
    values: dict[str, Fact[Any]] = {k: Fact(None, "unknown", "not on the sheet") for k in SPEC_KEYS}
    values["compute.forward_flops"] = (Fact(flops, "measured") if flops is not None
                                       else Fact(None, "unknown", "an estimator"))
    values.update({k: Fact(v, "config") for k, v in facts.items()})
    return CompactSpec(1, per if flops is not None else None, 64, None, "fp32", values)


def roofline_dict(cost: dict[str, Any], **spec_facts: Any) -> dict[str, Any]:
    """The results.json ``roofline`` of a helpers.results cost dictionary on :func:`limits`."""
    import json

    roof: ModelRoofline = model_roofline(CostProfile.from_dict(cost), spec=spec(**spec_facts),
                                         limits=limits())
    return json.loads(json.dumps(roof.to_dict()))  # type: ignore[no-any-return]
