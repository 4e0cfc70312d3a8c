"""What ``bench`` measures, as typed values: the request one probe runs, and its results.

Every result is plain data (frozen dataclasses with ``to_dict``/``from_dict``) so it can cross the
probe subprocess boundary as JSON and be cached in the store. Rendering lives in ``report/``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from whichmodel.bench.conditions import Conditions
from whichmodel.bench.timing import Latency


@dataclass(frozen=True)
class GenerationConfig:
    """The LLM generation grid: every prompt length × output length × batch size × cache setting.

    Args:
        prompt_tokens: prompt lengths in tokens (random token ids unless data gives prompts).
        new_tokens: tokens generated after the prompt (greedy).
        batch_sizes: sequences generated together.
        kv_cache: which cache settings to run: True reuses past keys/values, False recomputes
            the whole sequence at every step.
        kv_growth_tokens: tokens generated to measure the KV cache's growth per token.
    """

    prompt_tokens: tuple[int, ...] = (32,)
    new_tokens: tuple[int, ...] = (16,)
    batch_sizes: tuple[int, ...] = (1,)
    kv_cache: tuple[bool, ...] = (True, False)
    kv_growth_tokens: int = 64


@dataclass(frozen=True)
class ProbeRequest:
    """What one fresh probe process measures: one model, one variant.

    Args:
        ref: the model reference as the user wrote it.
        variant: a name from :mod:`whichmodel.bench.variants`.
        inputs: path of the sample inputs file (``.npy``, ``.json`` text or ``.parquet``), or
            None to synthesize inputs of ``input_shape`` (``bench.inputs.synthesize``).
        kind, columns: the :class:`~whichmodel.sources.base.Inputs` kind and column names.
        batch_sizes: batch sizes to time.
        threads: intra-op threads to set (torch, BLAS/OpenMP, ONNX Runtime).
        budget_s: time budget per timed configuration (warm-up included).
        target_rel: stop sampling when the median's 95% CI is within ± this fraction.
        quality_inputs: when set, a file of inputs to predict on for the quality delta; the
            outputs are written to ``quality_out``.
        generation: the LLM generation grid, for causal language models.
        activations: count activation bytes (one extra call per batch size).
        capability: what the timed call asks of the model: ``predict`` (or, for a causal LM, a
            forward pass), or ``detect`` (a detector on the decoded images; see
            :mod:`whichmodel.sources.detection`), as the comparison's task does.
        device: where to run it (``cpu``, ``cuda``, ``cuda:N``; :mod:`whichmodel.bench.device`).
    """

    ref: str
    variant: str
    inputs: str | None
    kind: str
    columns: tuple[str, ...]
    batch_sizes: tuple[int, ...]
    threads: int
    input_shape: tuple[int, ...] | None = None
    budget_s: float = 1.0
    target_rel: float = 0.02
    allow_pickle: bool = False
    trust_remote_code: bool = False
    quality_inputs: str | None = None
    quality_out: str | None = None
    generation: GenerationConfig | None = None
    activations: bool = True
    workdir: str = ""
    capability: str = "predict"
    device: str = "cpu"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeRequest:
        values = dict(data)
        values["columns"] = tuple(values["columns"])
        values["batch_sizes"] = tuple(values["batch_sizes"])
        if values.get("input_shape") is not None:
            values["input_shape"] = tuple(values["input_shape"])
        gen = values.get("generation")
        if gen is not None:
            values["generation"] = GenerationConfig(
                prompt_tokens=tuple(gen["prompt_tokens"]),
                new_tokens=tuple(gen["new_tokens"]),
                batch_sizes=tuple(gen["batch_sizes"]),
                kv_cache=tuple(gen["kv_cache"]),
                kv_growth_tokens=int(gen["kv_growth_tokens"]),
            )
        values["activations"] = bool(values.get("activations", True))
        return cls(**values)


@dataclass(frozen=True)
class GenerationCost:
    """Greedy generation at one point of the grid.

    Args:
        prompt_tokens, new_tokens, batch_size, kv_cache: the grid point.
        ttft: time to first token (prefill + the first sampled token), one sample per run.
        inter_token: latency of each later decode step, all steps of all runs.
        total: end-to-end time of one generation, one sample per run.
        tokens_per_s: ``batch_size * new_tokens / total.p50_s``.
    """

    prompt_tokens: int
    new_tokens: int
    batch_size: int
    kv_cache: bool
    ttft: Latency
    inter_token: Latency
    total: Latency
    tokens_per_s: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationCost:
        values = dict(data)
        for key in ("ttft", "inter_token", "total"):
            values[key] = latency_from_dict(values[key])
        return cls(**values)


@dataclass(frozen=True)
class KVCacheGrowth:
    """Measured growth of a decoder's KV cache while generating.

    Args:
        tokens: tokens generated between the two measurements.
        batch_size: sequences generated together.
        bytes_per_token: growth of the cache's own tensors per generated token, per sequence
            (exact: ``nbytes`` of every key and value tensor the cache holds).
        rss_bytes_per_token: growth of the process's resident memory per token per sequence
            (what the OS sees; allocator rounding and reuse make it noisy on small models).
        element_bytes: bytes per cached element (the cache tensors' dtype).
    """

    tokens: int
    batch_size: int
    bytes_per_token: float
    rss_bytes_per_token: float
    element_bytes: int


@dataclass(frozen=True)
class QualityDelta:
    """How far a variant's predictions moved from the reference variant's, on the user's data.

    Args:
        reference: the variant compared against (the first one measured).
        n_examples: examples both predicted.
        agreement: fraction of examples (tokens, for language models) with the same prediction.
        metrics: the variant's metric values (the task's metrics, or ``nll`` for language models).
        deltas: variant minus reference, per metric (same direction as the metric).
    """

    reference: str
    n_examples: int
    agreement: float
    metrics: dict[str, float]
    deltas: dict[str, float]


@dataclass(frozen=True, kw_only=True)
class CostProfile:
    """What one model (one variant of it) costs on this machine.

    Args:
        framework, architecture, parameters: read while loading (see ``ModelInfo``).
        size_on_disk_bytes: total bytes of the files the model was read from.
        load_time_s: from nothing to a loaded model (variant applied), in a fresh process.
        first_call_s: the first (cold) call at batch size 1.
        latency: batch size -> latency of one call with that many examples.
        peak_rss_bytes: the probe process's peak resident memory.
        model_memory_bytes: peak resident memory minus the process's memory just before loading
            (weights, buffers, activations for the largest batch, allocator slack).
        threads: intra-op threads set for the framework.
        variant: the variant measured (``original``, ``fp32``, ``bf16``, ``int8``, ``onnx``...).
        variant_time_s: applying the variant after loading (casting, quantizing, exporting,
            compiling): a one-off cost, not part of ``load_time_s``.
        weight_bytes, buffer_bytes: bytes of the model's parameters and buffers, each storage
            counted once (None when the framework exposes no tensors, e.g. scikit-learn).
        energy_j_per_example: batch size -> joules per example, where RAPL counters are readable
            (:mod:`whichmodel.bench.energy`); empty otherwise, with ``energy_note`` saying why.
        energy_note: what the energy covers, or why it is unknown.
        activation_bytes: batch size -> bytes of the tensors the model's operators create in
            one call (every intermediate result, an upper bound on what is live at once).
        tokens: batch size -> input tokens in the timed batch (text models), for tokens/s.
        timer_overhead_s: what the harness adds to each latency sample (a timed no-op).
        generation: LLM generation figures, for causal language models.
        kv_cache: measured KV-cache growth per generated token, for causal language models.
        quality: the change in predictions against the reference variant, with data.
        notes: facts about how the figures were obtained (fallbacks, hardware support).
        variants: the other variants measured, each in its own process.
        skipped_variants: variant -> why it could not be measured here.
        hardware: the machine (``whichmodel.provenance.hardware``).
        conditions: what the machine was doing while it was measured (threads, CPUs, load).
        unreliable: why its latencies cannot be trusted, one sentence each; empty when they
            can (:func:`whichmodel.bench.conditions.unreliable_reasons`).
        device: where the model ran: ``cpu``, or ``cuda`` / ``cuda:N``
            (:mod:`whichmodel.bench.device`).
        device_memory: on a GPU, the device's ``peak_allocated_bytes`` and
            ``peak_reserved_bytes`` since before loading; empty on the CPU.
    """

    framework: str
    architecture: str
    parameters: int | None
    size_on_disk_bytes: int
    load_time_s: float
    first_call_s: float
    latency: dict[int, Latency]
    peak_rss_bytes: int
    model_memory_bytes: int
    threads: int
    variant: str = "original"
    variant_time_s: float = 0.0
    weight_bytes: int | None = None
    buffer_bytes: int | None = None
    activation_bytes: dict[int, int] = field(default_factory=dict)
    energy_j_per_example: dict[int, float] = field(default_factory=dict)
    energy_note: str = ""
    tokens: dict[int, int] = field(default_factory=dict)
    timer_overhead_s: float | None = None
    generation: tuple[GenerationCost, ...] = ()
    kv_cache: KVCacheGrowth | None = None
    quality: QualityDelta | None = None
    notes: tuple[str, ...] = ()
    variants: tuple[CostProfile, ...] = ()
    skipped_variants: dict[str, str] = field(default_factory=dict)
    hardware: dict[str, Any] = field(default_factory=dict)
    conditions: Conditions | None = None
    unreliable: tuple[str, ...] = ()
    device: str = "cpu"
    device_memory: dict[str, int] = field(default_factory=dict)

    @property
    def reliable(self) -> bool:
        """Whether the latencies can be trusted (see :mod:`whichmodel.bench.conditions`)."""
        return not self.unreliable

    def __repr__(self) -> str:  # short: the raw samples and notes stay in the fields
        p50 = ", ".join(f"{b}: {lat.p50_s * 1e3:.3g} ms" for b, lat in sorted(self.latency.items()))
        memory = f"{self.model_memory_bytes / 2**20:.3g} MiB"
        state = "reliable" if self.reliable else "unreliable"
        return (
            f"CostProfile({self.architecture[:40]!r}, p50 by batch size {{{p50}}}, "
            f"memory {memory}, {state})"
        )

    def _repr_html_(self) -> str:
        from whichmodel.display import card, ms

        facts = [
            ("model", f"{self.framework} {self.architecture}"),
            ("variant", self.variant),
            ("memory", f"{self.model_memory_bytes / 2**20:.3g} MiB"),
            ("load time", ms(self.load_time_s)),
            ("threads", str(self.threads)),
        ]
        rows = [
            (str(b), ms(lat.p50_s), ms(lat.p90_s), ms(lat.p99_s), str(lat.n or len(lat.samples_s)))
            for b, lat in sorted(self.latency.items())
        ]
        lines = [*self.notes, *(f"unreliable: {why}" for why in self.unreliable)]
        return card("CostProfile", facts, header=("batch", "p50", "p90", "p99", "calls"),
                    rows=rows, lines=lines)

    def throughput(self, batch_size: int) -> float:
        """Examples per second at ``batch_size`` (batch size over median latency)."""
        return batch_size / self.latency[batch_size].p50_s

    def tokens_per_s(self, batch_size: int) -> float | None:
        """Input tokens per second at ``batch_size``, for text models (else None)."""
        if batch_size not in self.tokens:
            return None
        return self.tokens[batch_size] / self.latency[batch_size].p50_s

    def variant_named(self, name: str) -> CostProfile:
        """This profile or one of its ``variants`` by variant name (KeyError if absent)."""
        for profile in (self, *self.variants):
            if profile.variant == name:
                return profile
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency"] = {str(b): asdict(lat) for b, lat in self.latency.items()}
        data["activation_bytes"] = {str(b): v for b, v in self.activation_bytes.items()}
        data["tokens"] = {str(b): v for b, v in self.tokens.items()}
        data["energy_j_per_example"] = {str(b): v for b, v in self.energy_j_per_example.items()}
        data["variants"] = [v.to_dict() for v in self.variants]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CostProfile:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["latency"] = {int(b): latency_from_dict(lat) for b, lat in data["latency"].items()}
        values["energy_j_per_example"] = {
            int(b): float(v) for b, v in data.get("energy_j_per_example", {}).items()
        }
        for key in ("activation_bytes", "tokens"):
            values[key] = {int(b): int(v) for b, v in data.get(key, {}).items()}
        values["generation"] = tuple(
            GenerationCost.from_dict(g) for g in data.get("generation", ())
        )
        if data.get("kv_cache"):
            values["kv_cache"] = KVCacheGrowth(**data["kv_cache"])
        if data.get("quality"):
            values["quality"] = QualityDelta(**data["quality"])
        values["notes"] = tuple(data.get("notes", ()))
        values["unreliable"] = tuple(data.get("unreliable", ()))
        if data.get("conditions"):
            values["conditions"] = Conditions.from_dict(data["conditions"])
        values["variants"] = tuple(cls.from_dict(v) for v in data.get("variants", ()))
        return cls(**values)


def latency_from_dict(data: dict[str, Any]) -> Latency:
    """A :class:`Latency` from its ``asdict`` form, or from results.json's (no samples)."""
    known = {f.name for f in fields(Latency)}
    values = {k: v for k, v in data.items() if k in known}
    values["samples_s"] = tuple(values.get("samples_s", ()))
    values.setdefault("n", len(values["samples_s"]))  # cached before the count was a field
    return Latency(**values)


def _strip(lat: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in lat.items() if k != "samples_s"}


def cost_to_dict(cost: CostProfile, *, name: str | None = None) -> dict[str, Any]:
    """A profile (and its variants) as results.json and ``bench --format json`` write it:
    without the latency samples (each latency keeps its count ``n``), with throughput and
    tokens/s added. :meth:`CostProfile.from_dict` reads it back (with no samples)."""
    data = cost.to_dict()
    data["latency"] = {b: _strip(lat) for b, lat in data["latency"].items()}
    data["throughput"] = {str(b): cost.throughput(b) for b in cost.latency}
    data["tokens_per_s"] = {
        str(b): v for b in cost.latency if (v := cost.tokens_per_s(b)) is not None
    }
    data["generation"] = [
        {
            **asdict(g),
            **{k: _strip(asdict(getattr(g, k))) for k in ("ttft", "inter_token", "total")},
        }
        for g in cost.generation
    ]
    data["variants"] = [cost_to_dict(v) for v in cost.variants]
    if name is not None:
        data["name"] = name
    return data
