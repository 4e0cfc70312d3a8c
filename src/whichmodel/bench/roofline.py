"""How close each model runs to this machine's limits: a roofline per model, variant and batch.

The roofline model (Williams, Waterman & Patterson, "Roofline", CACM 52(4), 2009): a call that
does F FLOPs and moves B bytes in t seconds runs at F/t FLOP/s, bounded by the machine's peak
FLOP/s when its arithmetic intensity F/B is above the ridge point (peak / bandwidth), and by
bandwidth × F/B below it. The figures here, per variant and batch size b:

- **FLOPs per call**: the spec sheet's forward FLOPs per example × b, or per token × the tokens
  in the timed batch (``CostProfile.tokens[b]``); a multiply-add is 2 FLOPs, as the peak counts.
- **achieved FLOP/s** = FLOPs per call / the p50 latency, as a % of the peak matmul rate
  (:mod:`.machine`) for the variant's compute dtype.
- **bytes per call**: the weights (and buffers) read once, plus the activations written once
  when measured (``CostProfile.activation_bytes[b]``); the inputs are not counted.
  ``bytes_counted`` names the parts. Achieved bytes/s as a % of the **copy** bandwidth
  (STREAM's copy, :data:`REFERENCE_KERNEL`).
- **intensity** = FLOPs / bytes against the **ridge** = peak / copy bandwidth: ``bound`` is
  ``"compute"`` at or above it, ``"memory"`` below.
- **LLM decode** (generation with a KV cache): each step reads the active weights once and each
  sequence's KV cache, so tokens/s ≤ b × bandwidth / (active-weight bytes + b × KV bytes per
  token × context), at the middle step's context; and the KV cache's share of the bytes per
  token as the context grows.

A figure that cannot be computed is None, and ``unknown`` says why under its name. No % is
claimed on an unreliable latency or an unreliable machine measurement. A model whose bytes fit
in the last-level cache can read them faster than memory allows: such a % of bandwidth above
100 is cache reuse, and ``notes`` says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from whichmodel.bench.base import CostProfile, GenerationCost
    from whichmodel.bench.machine import MachineLimits
    from whichmodel.spec.compact import CompactSpec

REFERENCE_KERNEL = "copy"  # the bandwidth a % of bandwidth is of: STREAM's copy
KV_CONTEXTS = (128, 1024, 8192, 32768)  # contexts the KV cache's share is given at
QUICK_BUDGET_S = 0.5  # seconds per machine figure when a comparison or bench measures it
_FLOAT = {"float32": "fp32", "float64": "fp64", "bfloat16": "bf16", "float16": "fp16"}


@dataclass(frozen=True)
class Roofline:
    """One variant at one batch size against the machine's roof (see the module docstring).

    Args:
        variant, batch_size: what was timed.
        dtype: the compute dtype whose peak is the roof (None when no float peak applies).
        flops_per_call, flops_per_s: FLOPs of one call, and over its p50 latency.
        peak_flops_per_s, flops_pct: the dtype's peak, and the achieved share of it (100 = peak).
        bytes_per_call, bytes_counted: bytes one call moves, and which parts are counted.
        bytes_per_s, bandwidth_pct: over the p50 latency, and as a % of the copy bandwidth.
        intensity: FLOPs per byte; ridge: peak FLOP/s / bandwidth, in FLOPs per byte.
        bound: ``"compute"`` or ``"memory"``.
        notes: how the figures were made, where that is not obvious.
        unknown: figure name -> why it is None.
    """

    variant: str
    batch_size: int
    dtype: str | None
    flops_per_call: float | None
    flops_per_s: float | None
    peak_flops_per_s: float | None
    flops_pct: float | None
    bytes_per_call: int | None
    bytes_counted: tuple[str, ...]
    bytes_per_s: float | None
    bandwidth_pct: float | None
    intensity: float | None
    ridge: float | None
    bound: str | None
    notes: tuple[str, ...] = ()
    unknown: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KVShare:
    """The KV cache's share of the bytes one decode step reads per sequence at ``context``."""

    context: int
    kv_bytes: float
    share: float


@dataclass(frozen=True)
class DecodeRoofline:
    """One generation grid point (with a KV cache) against the bandwidth bound.

    Args:
        variant, prompt_tokens, new_tokens, batch_size: the grid point.
        context: tokens in the cache at the middle decode step (prompt + new / 2).
        tokens_per_s: measured: batch size / the p50 inter-token latency.
        weight_bytes: active weights read per step; kv_bytes_per_token: per sequence and token
            of context (``kv_source``: ``measured`` or ``spec sheet``).
        bytes_per_step: weights + batch × KV bytes per token × context.
        bound_tokens_per_s: batch × bandwidth / bytes per step; pct_of_bound: measured over it.
        kv_share: the KV cache's share of the bytes per token at a few contexts (batch 1).
    """

    variant: str
    prompt_tokens: int
    new_tokens: int
    batch_size: int
    context: int
    tokens_per_s: float
    weight_bytes: int | None
    kv_bytes_per_token: float | None
    kv_source: str
    bytes_per_step: float | None
    bound_tokens_per_s: float | None
    pct_of_bound: float | None
    kv_share: tuple[KVShare, ...]
    notes: tuple[str, ...] = ()
    unknown: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelRoofline:
    """A model's rooflines: the machine's roof it is measured against, one :class:`Roofline` per
    variant × batch size, one :class:`DecodeRoofline` per generation point with a KV cache."""

    peak_flops_per_s: dict[str, float | None]
    bandwidth_kernel: str
    bandwidth_bytes_per_s: float
    threads: int
    machine_unreliable: tuple[str, ...]
    calls: tuple[Roofline, ...]
    decode: tuple[DecodeRoofline, ...] = ()

    def call(self, variant: str, batch_size: int) -> Roofline | None:
        """The roofline of ``variant`` at ``batch_size``, or None when there is none."""
        return next((r for r in self.calls
                     if (r.variant, r.batch_size) == (variant, batch_size)), None)

    def to_dict(self) -> dict[str, Any]:
        """results.json's ``roofline``: JSON's own types (tuples as lists), so a dict written
        and one read back compare equal."""
        import json

        return json.loads(json.dumps(asdict(self)))  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelRoofline:
        calls = tuple(
            Roofline(**(c | {"bytes_counted": tuple(c["bytes_counted"]),
                             "notes": tuple(c.get("notes", ()))}))
            for c in data["calls"]
        )
        decode = tuple(
            DecodeRoofline(**(d | {"kv_share": tuple(KVShare(**s) for s in d["kv_share"]),
                                   "notes": tuple(d.get("notes", ()))}))
            for d in data.get("decode", ())
        )
        return cls(dict(data["peak_flops_per_s"]), data["bandwidth_kernel"],
                   data["bandwidth_bytes_per_s"], data["threads"],
                   tuple(data.get("machine_unreliable", ())), calls, decode)


def model_roofline(
    cost: CostProfile, *, spec: CompactSpec | None, limits: MachineLimits,
    cache_bytes: int | None = None, spec_error: str | None = None,
) -> ModelRoofline:
    """``cost`` (every variant and batch size) against ``limits``; ``spec`` gives the FLOPs
    (None: FLOPs unknown, ``spec_error`` says why); ``cache_bytes``: the last-level cache, for
    the cache-reuse note.

    Raises nothing: a figure that cannot be made is None with its reason in ``unknown``.
    """
    band = getattr(limits, REFERENCE_KERNEL).bytes_per_s
    peaks = {d: p.flops_per_s for d, p in limits.peak_flops.items()}
    no_pct = _no_pct_reason(limits)
    calls, decode = [], []
    for profile in (cost, *cost.variants):
        why = no_pct or _cost_reason(profile, limits)
        for b in sorted(profile.latency):
            calls.append(roofline_at(profile, b, spec=spec, limits=limits, no_pct=why,
                                     cache_bytes=cache_bytes, spec_error=spec_error))
        for g in profile.generation:
            if g.kv_cache:
                decode.append(decode_roofline(profile, g, spec=spec, bandwidth=band, no_pct=why,
                                              cache_bytes=cache_bytes))
    return ModelRoofline(peaks, REFERENCE_KERNEL, band, limits.threads, limits.unreliable,
                         tuple(calls), tuple(decode))


def _no_pct_reason(limits: MachineLimits) -> str | None:
    if limits.reliable:
        return None
    return "not claimed: the machine's limits were measured while disturbed (" + "; ".join(
        limits.unreliable) + ")"


def _cost_reason(profile: CostProfile, limits: MachineLimits) -> str | None:
    """Why no % is claimed for this profile's latencies, or None."""
    if profile.unreliable:
        return "not claimed: the latency is unreliable (" + "; ".join(profile.unreliable) + ")"
    if profile.threads != limits.threads:
        return (f"not claimed: the model ran on {profile.threads} threads, the machine's limits "
                f"are for {limits.threads}")
    return None


def compute_dtype(profile: CostProfile, spec: CompactSpec | None) -> tuple[str | None, str]:
    """(the dtype whose peak is the roof, why): a float variant's own dtype; else the stored
    dtype when the weights are 2 bytes per parameter and it is bf16/fp16; else fp32. None for
    int8 variants (no integer peak is measured)."""
    name = profile.variant
    if name in _FLOAT.values():
        return name, f"the {name} variant"
    if name.startswith("int8"):
        return None, "int8 variant: the machine's peak is measured for float matmuls only"
    stored = None
    if spec is not None:
        value = spec.facts.get("size.stored_dtype")
        raw = (value.value if value is not None else None) or spec.memory_dtype
        stored = _FLOAT.get(str(raw), str(raw)) if raw else None
    params, weights = profile.parameters, profile.weight_bytes
    per = round(weights / params) if params and weights else None
    if stored in ("bf16", "fp16") and per == 2:
        return stored, f"{stored}: stored and run as it (2 bytes per parameter)"
    if per is None:
        return "fp32", "fp32: assumed (the weights' bytes per parameter are unknown)"
    return "fp32", f"fp32 (the weights take {per} bytes per parameter)"


def flops_per_call(
    profile: CostProfile, batch_size: int, spec: CompactSpec | None, *,
    spec_error: str | None = None,
) -> tuple[float | None, str]:
    """(FLOPs of one call at ``batch_size``, how they were counted or why unknown)."""
    if spec is None:
        return None, "no spec sheet, so no FLOPs" + (f" ({spec_error})" if spec_error else "")
    fact = spec.facts.get("compute.forward_flops")
    if fact is None or fact.value is None or spec.flops_per is None:
        note = fact.note if fact is not None and fact.note else "not counted"
        return None, f"no FLOPs on the spec sheet ({note})"
    per = float(fact.value)
    if spec.flops_per == "example":
        return per * batch_size, f"{per:,.0f} FLOPs per example × {batch_size}"
    tokens = profile.tokens.get(batch_size)
    if tokens is None:
        return None, "FLOPs are per token and the timed batch's tokens were not counted"
    return per * tokens, (f"{per:,.0f} FLOPs per token (at a context of {spec.context}) × "
                          f"{tokens} tokens")


def bytes_per_call(
    profile: CostProfile, batch_size: int, spec: CompactSpec | None
) -> tuple[int | None, tuple[str, ...], str]:
    """(bytes one call moves, the parts counted, why unknown or ""): weights and buffers read
    once (the spec sheet's weight bytes for the original when the runtime has no tensors), plus
    the activations written once when measured."""
    parts: list[str] = []
    total = 0
    if profile.weight_bytes is not None:
        total += profile.weight_bytes + (profile.buffer_bytes or 0)
        parts.append("weights" + (" and buffers" if profile.buffer_bytes else ""))
    else:
        fact = spec.facts.get("memory.weights_bytes") if spec is not None else None
        if profile.variant != "original" or fact is None or fact.value is None:
            return None, (), "the runtime exposes no weight tensors and no spec weight bytes apply"
        total += int(fact.value)
        parts.append(f"weights (spec sheet, {spec.memory_dtype if spec else '?'})")
    acts = profile.activation_bytes.get(batch_size)
    if acts is not None:
        total += acts
        parts.append("activations")
    return total, tuple(parts), ""


def roofline_at(
    profile: CostProfile, batch_size: int, *, spec: CompactSpec | None, limits: MachineLimits,
    no_pct: str | None = None, cache_bytes: int | None = None, spec_error: str | None = None,
) -> Roofline:
    """One variant at ``batch_size`` (see the module docstring); ``no_pct``: why no % is
    claimed (an unreliable latency or machine), or None."""
    unknown: dict[str, str] = {}
    p50 = profile.latency[batch_size].p50_s
    dtype, dtype_note = compute_dtype(profile, spec)
    flops, flops_note = flops_per_call(profile, batch_size, spec, spec_error=spec_error)
    notes = [f"compute dtype {dtype_note}"]
    if flops is None:
        unknown["flops_per_call"] = flops_note
    else:
        notes.append(flops_note)
    peak = _peak(limits, dtype, unknown)
    moved, counted, bytes_why = bytes_per_call(profile, batch_size, spec)
    if moved is None:
        unknown["bytes_per_call"] = bytes_why
    band = getattr(limits, REFERENCE_KERNEL).bytes_per_s
    flops_s = None if flops is None else flops / p50
    bytes_s = None if moved is None else moved / p50
    flops_pct = _pct(flops_s, peak, no_pct, "flops_pct", unknown)
    band_pct = _pct(bytes_s, band, no_pct, "bandwidth_pct", unknown)
    intensity = None if flops is None or not moved else flops / moved
    ridge = None if peak is None else peak / band
    bound = None
    if intensity is not None and ridge is not None:
        bound = "compute" if intensity >= ridge else "memory"
    else:
        unknown["bound"] = "needs the FLOPs, the bytes and the dtype's peak"
    if moved is not None and cache_bytes and moved <= cache_bytes:
        notes.append(f"the {moved:,} bytes per call fit in the {cache_bytes >> 20} MiB "
                     "last-level cache: repeated calls read them from cache, so a % of "
                     "memory bandwidth above 100 is cache reuse")
    return Roofline(profile.variant, batch_size, dtype, flops, flops_s, peak, flops_pct, moved,
                    counted, bytes_s, band_pct, intensity, ridge, bound, tuple(notes), unknown)


def _peak(limits: MachineLimits, dtype: str | None, unknown: dict[str, str]) -> float | None:
    if dtype is None:
        unknown["peak_flops_per_s"] = "no float compute dtype (int8: no integer peak measured)"
        return None
    measured = limits.peak_flops.get(dtype)
    if measured is None:
        unknown["peak_flops_per_s"] = f"the machine's {dtype} peak was not measured"
        return None
    if measured.flops_per_s is None:
        unknown["peak_flops_per_s"] = f"the machine's {dtype} peak is unknown: {measured.unknown}"
    return measured.flops_per_s


def _pct(
    achieved: float | None, roof: float | None, no_pct: str | None, name: str,
    unknown: dict[str, str],
) -> float | None:
    """100 × achieved / roof, or None with the reason under ``name``."""
    if no_pct is not None:
        unknown[name] = no_pct
    elif achieved is None or roof is None:
        unknown[name] = "needs the achieved rate and the machine's roof (see the other figures)"
    else:
        return 100 * achieved / roof
    return None


def decode_bound(
    weight_bytes: float, kv_bytes_per_token: float, context: int, bandwidth: float,
    batch_size: int = 1,
) -> float:
    """Tokens/s a decode step can reach when bandwidth-bound: each step reads the weights once
    and every sequence's KV cache (``context`` tokens), and yields ``batch_size`` tokens.

    >>> decode_bound(1e9, 1e5, 1000, 1e10)  # 1 GB weights + 0.1 GB KV at 10 GB/s
    9.090909090909092
    """
    return batch_size * bandwidth / (weight_bytes + batch_size * kv_bytes_per_token * context)


def decode_roofline(
    profile: CostProfile, g: GenerationCost, *, spec: CompactSpec | None, bandwidth: float,
    no_pct: str | None, cache_bytes: int | None = None,
) -> DecodeRoofline:
    """Measured decode tokens/s at ``g`` against :func:`decode_bound`; ``cache_bytes``: the
    last-level cache, for the note that a step's bytes fit in it."""
    notes = ["all weights counted per step (an untied embedding is read one row a token: "
             "an over-count)"]
    unknown: dict[str, str] = {}
    weights = _decode_weights(profile, spec, notes)
    kv_source = "measured"
    kv = profile.kv_cache.bytes_per_token if profile.kv_cache is not None else None
    if kv is None:
        spec_kv = _spec_int(spec, "memory.kv_cache_bytes_per_token")
        kv, kv_source = (None, "") if spec_kv is None else (float(spec_kv), "spec sheet")
    context, b = g.prompt_tokens + g.new_tokens // 2, g.batch_size
    step = bound = pct = None
    shares: tuple[KVShare, ...] = ()
    if weights is None or kv is None or not (weights or kv):
        unknown["bound_tokens_per_s"] = ("needs the weight bytes and the KV bytes per token "
                                         "(neither the runtime nor the spec sheet gives "
                                         + ("them" if weights is None and kv is None else
                                            "the weights" if weights is None else "the KV") + ")")
    else:
        step = weights + b * kv * context
        bound = decode_bound(weights, kv, context, bandwidth, b)
        shares = tuple(KVShare(c, kv * c, kv * c / (weights + kv * c))
                       for c in _kv_contexts(spec, context))
        if cache_bytes and step <= cache_bytes:
            notes.append(f"the {step:,.0f} bytes per step fit in the {cache_bytes >> 20} MiB "
                         "last-level cache: the memory-bandwidth bound understates what the "
                         "cache allows")
    measured = b / g.inter_token.p50_s
    if no_pct is not None:
        unknown["pct_of_bound"] = no_pct
    elif bound is not None:
        pct = 100 * measured / bound
    return DecodeRoofline(profile.variant, g.prompt_tokens, g.new_tokens, b, context, measured,
                          weights, kv, kv_source, step, bound, pct, shares, tuple(notes),
                          unknown)


def _decode_weights(
    profile: CostProfile, spec: CompactSpec | None, notes: list[str]
) -> int | None:
    """The active weight bytes one decode step reads: the runtime's (else the spec sheet's),
    scaled by active / total parameters for a mixture of experts."""
    weights = profile.weight_bytes
    if weights is None:
        weights = _spec_int(spec, "memory.weights_bytes")
        notes.append("weight bytes from the spec sheet")
    active, total = _spec_int(spec, "size.active"), _spec_int(spec, "size.total")
    if weights is not None and active and total and active < total:
        notes.append(f"active weights only: {active:,} of {total:,} parameters per token")
        return int(weights * active / total)
    return weights


def _kv_contexts(spec: CompactSpec | None, context: int) -> tuple[int, ...]:
    """The measured context, :data:`KV_CONTEXTS` up to the model's context length, and that
    length."""
    limit = _spec_int(spec, "design.context_length")
    kept = {c for c in KV_CONTEXTS if limit is None or c <= limit}
    return tuple(sorted({context, *kept, *([limit] if limit else [])}))


def _spec_int(spec: CompactSpec | None, key: str) -> int | None:
    fact = spec.facts.get(key) if spec is not None else None
    return None if fact is None or not isinstance(fact.value, int | float) else int(fact.value)


def needed_dtypes(pairs: Sequence[tuple[CostProfile, CompactSpec | None]]) -> tuple[str, ...]:
    """The matmul dtypes the machine must be measured at for these models: fp32 (the others are
    checked against it) and every variant's compute dtype, in :data:`~.machine.DTYPES` order."""
    from whichmodel.bench.machine import DTYPES

    wanted = {"fp32"} | {compute_dtype(p, spec)[0] for cost, spec in pairs
                         for p in (cost, *cost.variants)}
    return tuple(d for d in DTYPES if d in wanted)


def rooflines_for(
    pairs: Sequence[tuple[CostProfile, CompactSpec | None]], *, threads: int, store: str,
    progress: Callable[[str, int, int], None] | None = None,
    spec_errors: Sequence[str | None] | None = None, device: str = "cpu",
) -> list[ModelRoofline]:
    """Each (cost, spec)'s roofline against this machine at ``threads`` on ``device``
    (``spec_errors``: why a spec is None). The machine's limits are ``whichmodel machine``'s
    when the store holds them for every dtype needed; else measured once at just those dtypes,
    on a shorter budget (:data:`QUICK_BUDGET_S` per figure, a few seconds in all) and cached
    when reliable."""
    from whichmodel.bench.machine import device_sizes, l3_cache_bytes, machine, stored

    dtypes = needed_dtypes(pairs)
    sizes = device_sizes(device)
    limits = stored(threads=threads, store=store, sizes=sizes)
    if limits is None or any(d not in limits.peak_flops for d in dtypes):
        quick = replace(sizes, dtypes=dtypes, budget_s=QUICK_BUDGET_S)
        limits = machine(threads=threads, store=store, sizes=quick, progress=progress)
    cache = l3_cache_bytes() if device == "cpu" else None  # the CPU's cache, not a GPU's
    errors = spec_errors or [None] * len(pairs)
    return [model_roofline(cost, spec=spec, limits=limits, cache_bytes=cache, spec_error=error)
            for (cost, spec), error in zip(pairs, errors, strict=True)]
