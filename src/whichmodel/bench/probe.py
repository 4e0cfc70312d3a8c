"""The probe: ``python -m whichmodel.bench.probe REQUEST.json`` prints one CostProfile as JSON.

One fresh process per model × variant, so one variant's memory cannot pollute the next. The
framework is imported and its thread pool started before the memory baseline is taken, and the
kernel's peak-RSS counter is reset there, so the reported model memory is what loading, applying
the variant and running the model added. Threads are set before anything runs (the parent also
sets ``OMP_NUM_THREADS`` & co. in the environment, for libraries that read it at import).

Order: baseline → load (timed) → variant (timed) → first call → timed batches → activations →
peak memory read → generation and KV cache (LLMs) → quality outputs → timer overhead.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from whichmodel.bench.base import CostProfile, ProbeRequest
from whichmodel.bench.device import device_memory, device_name, reset_peak, synchronizer
from whichmodel.bench.device import start as start_device
from whichmodel.bench.inputs import read_inputs, synthesize
from whichmodel.bench.memory import (
    activation_bytes,
    reset_peak_rss,
    status_bytes,
    weight_and_buffer_bytes,
)
from whichmodel.bench.threads import set_threads
from whichmodel.bench.timing import Latency, time_calls, timer_overhead_s
from whichmodel.bench.variants import get_variant, torch_module
from whichmodel.provenance import hardware
from whichmodel.refs import parse_ref
from whichmodel.sources import load_timed, reference_files
from whichmodel.sources.base import Inputs, LoadOptions, Model

if TYPE_CHECKING:
    from whichmodel.bench.variants.base import Applied, Variant
    from whichmodel.sources.detection import Detector

_FRAMEWORK_IMPORTS = {
    "sklearn": ("sklearn", "skops.io"),
    "torch": ("torch", "safetensors.torch"),
    "hf": ("torch", "safetensors.torch", "transformers"),
}


def _warm_up_runtime() -> None:
    """Start torch's thread pool and allocator before the baseline, so the memory they take on
    first use is not charged to whichever model happens to run first."""
    torch = sys.modules.get("torch")
    if torch is not None:
        importlib.import_module("torch.utils._python_dispatch")  # activation counting
        with torch.inference_mode():
            torch.ones(256, 256) @ torch.ones(256, 256)


def probe(request: ProbeRequest) -> dict[str, Any]:
    """Measure one model × variant; returns ``CostProfile.to_dict()`` or ``{"skipped": why}``."""
    ref = parse_ref(request.ref)
    limiter = prepare_process(ref.kind, request.threads, request.device)
    baseline = status_bytes("VmRSS")
    reset_peak_rss()
    loaded = load_timed(ref, LoadOptions(request.allow_pickle, request.trust_remote_code))
    original = loaded.model
    variant = get_variant(request.variant)
    reason = _why_not(variant, original, request.device)
    if reason is not None:
        return {"skipped": reason}
    original.to(request.device)
    calls = Calls(original, request)
    applied, variant_time = _apply_timed(variant, original, calls, request)
    calls.model = applied.model
    sync = synchronizer(request.device)
    first_call, latency, energy = _latencies(calls, request, sync)
    module: Any = torch_module(applied.model)
    activations = _activations(calls, request, module)
    peak = max(status_bytes("VmHWM"), status_bytes("VmRSS"))
    weights, buffers = _model_bytes(applied.model)
    generation, kv, notes = calls.generation(module, sync)
    if request.quality_inputs and request.quality_out:
        calls.write_quality_outputs(Path(request.quality_inputs), Path(request.quality_out))
    profile = CostProfile(
        framework=applied.framework, architecture=original.info.architecture,
        parameters=original.info.parameters,
        size_on_disk_bytes=sum(Path(f).stat().st_size for f in reference_files(ref)),
        load_time_s=loaded.load_time_s,
        first_call_s=first_call,
        latency=latency,
        **energy,
        peak_rss_bytes=peak,
        model_memory_bytes=max(peak - baseline, 0),
        threads=request.threads,
        variant=request.variant,
        variant_time_s=variant_time,
        weight_bytes=weights,
        buffer_bytes=buffers,
        activation_bytes=activations,
        tokens=calls.tokens,
        timer_overhead_s=timer_overhead_s(sync=sync),
        generation=generation,
        kv_cache=kv,
        notes=(*applied.notes, *calls.notes, *notes),
        **_where(request.device),
    )
    limiter.restore_original_limits()
    return profile.to_dict()


def _why_not(variant: Variant, model: Model, device: str) -> str | None:
    """Why ``variant`` cannot run for ``model`` on ``device``, or None."""
    reason = variant.unavailable(model)
    if reason is None and device != "cpu" and not variant.on_device:
        reason = f"{variant.name} runs on the CPU only here, not on {device}"
    return reason


def _where(device: str) -> dict[str, Any]:
    """The profile's fields on where it ran: the machine (with its GPU), the device, and the
    device's peak memory (read now: after every timed call)."""
    return {
        "hardware": hardware() | device_name(device),
        "device": device,
        "device_memory": device_memory(device),
    }


def _apply_timed(
    variant: Variant, original: Model, calls: Calls, request: ProbeRequest
) -> tuple[Applied, float]:
    """``variant`` applied to ``original`` with ``calls``' example batch, and the seconds that
    took (making the example included, as it always was). The device's peak-memory counters
    restart after it: the variant's own memory from there (fp16 is not charged its fp32)."""
    began = time.perf_counter()
    applied = variant.apply(original, calls.example(), Path(request.workdir))
    elapsed = time.perf_counter() - began
    reset_peak(request.device)
    return applied, elapsed


def _activations(calls: Calls, request: ProbeRequest, module: Any) -> dict[int, int]:
    """Activation bytes per batch size of a torch ``module``, when the request asks for them
    (never for the ``compile`` variant); empty otherwise."""
    if module is None or not request.activations or request.variant == "compile":
        return {}
    return {b: activation_bytes(partial(calls.run, b)) for b in request.batch_sizes}


def prepare_process(kind: str, threads: int, device: str = "cpu") -> Any:
    """Import what the framework and the harness need, set the threads, warm the runtime up
    and start the device's peak-memory counters (CUDA's context starts then), so none of it is
    charged to the model; returns the thread limiter to restore."""
    for name in _FRAMEWORK_IMPORTS.get(kind, ()):
        importlib.import_module(name)
    importlib.import_module("scipy.stats")  # the harness's CI
    limiter = set_threads(threads)
    _warm_up_runtime()
    start_device(device)
    return limiter


def _latencies(
    calls: Calls, request: ProbeRequest, sync: Callable[[], object]
) -> tuple[float, dict[int, Latency], dict[str, Any]]:
    """(seconds of the first call at batch 1, the timed latency per batch size, the profile's
    energy fields: joules per example per batch size where RAPL counts them, and what the
    energy covers or why it is unknown)."""
    from whichmodel.bench.energy import domains, joules

    start = time.perf_counter()
    calls.run(1)
    sync()
    first_call = time.perf_counter() - start
    found, why = domains()
    latency: dict[int, Latency] = {}
    energy: dict[int, float] = {}
    for b in request.batch_sizes:
        timed = partial(
            time_calls, partial(calls.run, b), sync=sync, budget_s=request.budget_s,
            target_rel=request.target_rel,
        )  # fmt: skip
        if not found:
            latency[b] = timed()
            continue
        latency[b], used_j = joules(timed, found)
        energy[b] = used_j / (latency[b].warmup_runs + latency[b].n) / b
    names = ", ".join(d.name for d in found)
    note = why or (
        f"RAPL counters ({names}): everything the CPU package ran while the calls were timed, "
        "warm-up included, over the calls and their examples"
    )
    return first_call, latency, {"energy_j_per_example": energy, "energy_note": note}


def _model_bytes(model: Model) -> tuple[int | None, int | None]:
    module = torch_module(model)
    if module is not None:
        return weight_and_buffer_bytes(module)
    runner: Any = getattr(model, "module", None) or getattr(model, "model", None)
    if hasattr(runner, "initializer_bytes"):  # ONNX Runtime: weights are graph initializers
        return runner.initializer_bytes(), 0
    return None, None


class Calls:
    """The call that is timed: ``predict`` on the first ``b`` examples, ``detect`` on the first
    ``b`` images (decoded beforehand: the detector is timed, not the image files), or for a
    language model one forward pass over ``b`` random prompts of the first prompt length."""

    def __init__(self, original: Model, request: ProbeRequest) -> None:
        from whichmodel.bench.generation import is_causal_lm

        self.model = original
        self.request = request
        self.images: list[np.ndarray] = []
        self._detecting: tuple[Model, Detector] | None = None
        self.notes: list[str] = []
        self.tokens: dict[int, int] = {}
        self.lm = torch_module(original)
        if self.lm is None or not is_causal_lm(self.lm):
            self.lm = None
            n = max(request.batch_sizes)
            if request.inputs:
                self.inputs = read_inputs(Path(request.inputs), request.kind, request.columns, n)
            else:
                self.inputs = synthesize(original, request.input_shape, n)
            self._count_tokens()
            if request.capability == "detect":  # decoded once: the detector is what is timed
                from whichmodel.sources.detection import load_images

                self.images = load_images(self.inputs)
        else:
            self.vocab = int(self.lm.config.vocab_size)
            gen = request.generation
            self.prompt_tokens = gen.prompt_tokens[0] if gen else 32
            self.tokens = {b: b * self.prompt_tokens for b in request.batch_sizes}

    def example(self) -> Inputs:
        """A small batch (2 examples: exporters specialize a batch of 1) for variants."""
        if self.lm is not None:
            from whichmodel.bench.generation import prompts

            return Inputs("array", prompts(self.vocab, 2, self.prompt_tokens).numpy())
        return self.inputs.take(np.arange(2) % len(self.inputs))

    def run(self, b: int) -> object:
        if self.request.capability == "detect":
            return self._detector().detect(self.images[:b])
        if self.lm is None:
            return self.model.predict(self.inputs.take(slice(0, b)))
        from whichmodel.bench.generation import prompts

        runner: Any = torch_module(self.model) or getattr(self.model, "model", None)
        ids = prompts(self.vocab, b, self.prompt_tokens)
        import torch

        with torch.inference_mode():
            return runner(input_ids=ids, use_cache=False)

    def _detector(self) -> Detector:
        """The current model (a variant replaces it) as a detector, made once per model."""
        from whichmodel.sources.detection import as_detector

        if self._detecting is None or self._detecting[0] is not self.model:
            self._detecting = (self.model, as_detector(self.model, "detection"))
        return self._detecting[1]

    def _count_tokens(self) -> None:
        tokenizer = getattr(self.model, "tokenizer", None)
        if self.inputs.kind != "text" or tokenizer is None:
            return
        for b in self.request.batch_sizes:
            texts = [str(t) for t in self.inputs.data[:b]]
            encoded = tokenizer(texts, truncation=True, max_length=512)
            self.tokens[b] = sum(len(ids) for ids in encoded["input_ids"])

    def generation(self, module: Any, sync: Any) -> tuple[Any, Any, tuple[str, ...]]:
        """LLM generation grid and KV-cache growth (nothing for other models)."""
        from whichmodel.bench.generation import kv_cache_growth, measure_generation

        gen = self.request.generation
        if self.lm is None or gen is None:
            return (), None, ()
        runner = module if module is not None else getattr(self.model, "model", None)
        results, notes = measure_generation(
            runner,
            self.vocab,
            gen,
            budget_s=self.request.budget_s,
            target_rel=self.request.target_rel,
            supports_cache=module is not None,
        )
        kv = None
        if module is not None and gen.kv_growth_tokens > 0:
            kv = kv_cache_growth(module, self.vocab, tokens=gen.kv_growth_tokens)
        return results, kv, notes

    def write_quality_outputs(self, inputs_path: Path, out: Path) -> None:
        """Predictions on the quality data: raw outputs, or per-token outputs for an LLM."""
        from whichmodel.bench.generation import lm_outputs

        if self.lm is not None:
            texts = json.loads(inputs_path.read_text())
            tokenizer = self.model.tokenizer  # type: ignore[attr-defined]
            enc = tokenizer(
                texts, padding=True, truncation=True, max_length=512, return_tensors="pt"
            )
            runner: Any = torch_module(self.model) or getattr(self.model, "model", None)
            lm = lm_outputs(runner, enc["input_ids"], enc["attention_mask"])
            np.savez(out, next_token=lm["next_token"], nll=lm["nll"])
            return
        inputs = read_inputs(inputs_path, self.request.kind, self.request.columns, None)
        batches = [
            self.model.predict(inputs.take(slice(i, i + 64))) for i in range(0, len(inputs), 64)
        ]
        arrays = {
            "kind": np.asarray(batches[0].kind),
            "array": np.concatenate([b.array for b in batches]),
            "classes": np.asarray(self.model.classes or (), dtype=str),
        }
        labels = [b.labels for b in batches if b.labels is not None]
        if len(labels) == len(batches):  # a classifier's own predict (sources/sklearn.py)
            arrays["labels"] = np.concatenate(labels)
        np.savez(out, **arrays)  # type: ignore[arg-type]


def main() -> None:
    from whichmodel.errors import WhichModelError

    request = ProbeRequest.from_dict(json.loads(Path(sys.argv[1]).read_text()))
    try:
        result = probe(request)
    except WhichModelError as exc:  # the parent shows this line to the user
        print(json.dumps({"error": str(exc)}))
        return
    print(json.dumps(result))


if __name__ == "__main__":
    main()
