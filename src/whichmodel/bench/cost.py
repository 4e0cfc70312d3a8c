"""Measure a model's cost: one fresh probe subprocess per variant, then the quality deltas.

The orchestration, in short::

    for variant in variants: probe subprocess (load, apply variant, time, memory) -> CostProfile
    the first variant that ran is the reference; the others go into its ``variants``;
    with quality data: every variant's predictions vs the reference's (agreement, metric delta)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.bench.base import CostProfile, GenerationConfig, ProbeRequest, QualityDelta
from whichmodel.bench.conditions import measured, unreliable_reasons
from whichmodel.bench.inputs import write_inputs
from whichmodel.refs import ModelRef
from whichmodel.sources.base import Inputs, LoadOptions, RawOutput

PROBE_TIMEOUT_S = 900
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

__all__ = ["CostProfile", "QualityData", "measure_cost"]


@dataclass(frozen=True)
class QualityData:
    """The user's examples to measure each variant's quality change on.

    Args:
        inputs: the examples.
        y_true: (n,) labels in the task's type, or None for a language model (its own next
            tokens are the labels).
        task: the task whose metrics are compared (any object with ``interpret`` and
            ``metrics``, see :class:`whichmodel.tasks.Task`), or None for a language model.
        units: (n,) resampling unit of each example (``Dataset.units``: ranking's queries,
            which its metrics score), or None.
    """

    inputs: Inputs
    y_true: np.ndarray | None = None
    task: Any = None
    units: np.ndarray | None = None


def measure_cost(
    ref: ModelRef,
    sample: Inputs | None,
    *,
    batch_sizes: Sequence[int],
    options: LoadOptions | None = None,
    budget_s: float = 1.0,
    target_rel: float = 0.02,
    variants: Sequence[str] = ("original",),
    threads: int = 1,
    input_shape: tuple[int, ...] | None = None,
    generation: GenerationConfig | None = None,
    quality: QualityData | None = None,
    progress: Callable[[str], None] | None = None,
    activations: bool = False,
    in_process: bool = False,
    capability: str = "predict",
    device: str = "cpu",
) -> CostProfile:
    """Measure ``ref`` for each variant, each in its own fresh subprocess.

    Args:
        sample: examples to time (the first ``max(batch_sizes)``, repeated when fewer), or None
            to synthesize inputs from the model and ``input_shape``.
        variants: names from :mod:`whichmodel.bench.variants`; the first that runs is the
            reference the others' quality is compared with.
        threads: intra-op threads for every runtime (1 by default: bench/conditions.py).
        generation: the LLM generation grid (used for causal language models).
        activations: also count the bytes of activations per batch size (one more call per
            batch size; ``bench`` does, ``compare`` keeps its cost step short).
        in_process: run each probe in this process, for tests and debugging only (memory
            figures then include all this process holds; its thread settings change).
        capability: ``predict``, or ``detect`` to time a detector on the decoded ``sample``
            images (see :class:`~whichmodel.bench.base.ProbeRequest`).
        device: where the model runs (``cpu``, ``cuda``: :mod:`whichmodel.bench.device`).

    Raises:
        ModelLoadError: no variant could be measured (each one's reason is in the message).
    """
    options = options or LoadOptions()
    settings = ProbeRequest(  # the input files and workdir are filled in by _measure
        ref=ref.raw or str(ref), variant="", inputs=None, kind="array", columns=(),
        batch_sizes=tuple(sorted(set(batch_sizes))), threads=threads,
        input_shape=input_shape, budget_s=budget_s, target_rel=target_rel,
        allow_pickle=options.allow_pickle, trust_remote_code=options.trust_remote_code,
        generation=generation, activations=activations, capability=capability, device=device,
    )
    return _measure(
        ref, settings, sample, variants, quality, in_process=in_process, progress=progress
    )


def _measure(
    ref: ModelRef,
    settings: ProbeRequest,
    sample: Inputs | None,
    variants: Sequence[str],
    quality: QualityData | None,
    *,
    in_process: bool,
    progress: Callable[[str], None] | None,
) -> CostProfile:
    """:func:`measure_cost` once its arguments are ``settings``: write the inputs to a
    temporary folder, probe each variant, add the quality deltas."""
    from whichmodel.errors import ModelLoadError

    with tempfile.TemporaryDirectory(prefix="whichmodel-probe-") as tmp:
        folder = Path(tmp)
        base = replace(
            settings,
            inputs=(
                str(write_inputs(folder, sample, max(settings.batch_sizes))) if sample else None
            ),
            kind=sample.kind if sample else "array",
            columns=tuple(sample.columns) if sample else (),
            quality_inputs=(
                str(write_inputs(folder, quality.inputs, len(quality.inputs), "quality"))
                if quality
                else None
            ),
            workdir=str(folder),
        )
        profiles, skipped, outputs = _probe_variants(
            ref, base, variants, folder, in_process=in_process, progress=progress
        )
        if not profiles:
            reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
            raise ModelLoadError(f"No variant of {ref} could be measured ({reasons}).")
        if quality:
            profiles = _with_quality(profiles, outputs, quality)
    first, rest = profiles[0], profiles[1:]
    return replace(first, variants=tuple(rest), skipped_variants=skipped)

def _probe_variants(
    ref: ModelRef,
    base: ProbeRequest,
    variants: Sequence[str],
    folder: Path,
    *,
    in_process: bool,
    progress: Callable[[str], None] | None,
) -> tuple[list[CostProfile], dict[str, str], dict[str, Path]]:
    """Each variant's probe, in order: (profiles of those that ran, variant -> why it did not,
    variant -> its quality outputs file when ``base`` asks for them)."""
    profiles: list[CostProfile] = []
    skipped: dict[str, str] = {}
    outputs: dict[str, Path] = {}
    for name in variants:
        if progress:
            progress(name)
        out = folder / f"quality-{name}.npz"
        request = replace(base, variant=name, quality_out=str(out) if base.quality_inputs else None)
        path = folder / f"request-{name}.json"
        here, there = partial(_probe_here, request), partial(_run_probe, request, path, ref)
        result, conditions = measured(request.threads, here if in_process else there)
        if "skipped" in result or "error" in result:
            skipped[name] = result.get("skipped") or f"failed: {result['error']}"
            continue
        profile = CostProfile.from_dict(result)
        reasons = unreliable_reasons(profile.latency, conditions)
        profiles.append(replace(profile, conditions=conditions, unreliable=tuple(reasons)))
        if base.quality_inputs:
            outputs[name] = out
    return profiles, skipped, outputs


def _run_probe(request: ProbeRequest, path: Path, ref: ModelRef) -> dict[str, Any]:
    from whichmodel.errors import ModelLoadError

    path.write_text(json.dumps(request.to_dict()))
    env = {**os.environ, **{k: str(request.threads) for k in _THREAD_ENV}}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "whichmodel.bench.probe", str(path)],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        raise ModelLoadError(
            f"Measuring the cost of {ref} took over {PROBE_TIMEOUT_S} s; stopped."
        ) from exc
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        errors = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return {"error": errors[-1] if errors else "no output"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _probe_here(request: ProbeRequest) -> dict[str, Any]:
    from whichmodel.bench.probe import probe
    from whichmodel.errors import WhichModelError

    try:
        return probe(request)
    except WhichModelError as exc:
        return {"error": str(exc)}


def _with_quality(
    profiles: list[CostProfile], outputs: dict[str, Path], quality: QualityData
) -> list[CostProfile]:
    """Each profile with its :class:`QualityDelta` against the first profile's predictions."""
    reference = profiles[0].variant
    ref_out = dict(np.load(outputs[reference], allow_pickle=False))
    ref_scores = _scores(ref_out, quality)
    out = []
    for p in profiles:
        mine = dict(np.load(outputs[p.variant], allow_pickle=False))
        scores = _scores(mine, quality)
        delta = QualityDelta(
            reference=reference,
            n_examples=len(quality.inputs),
            agreement=_agreement(ref_out, mine, quality),
            metrics=scores,
            deltas={k: scores[k] - ref_scores[k] for k in scores if k in ref_scores},
        )
        out.append(replace(p, quality=delta))
    return out


def _predictions(out: dict[str, np.ndarray], quality: QualityData) -> Any:
    from whichmodel.tasks import Predictions

    classes = tuple(str(c) for c in out["classes"]) if "classes" in out else None
    labels = out.get("labels")  # a classifier's own predict (sources/sklearn.py)
    raw = RawOutput(str(out["kind"]), out["array"], labels=labels)  # type: ignore[arg-type]
    pred, proba, classes = quality.task.interpret(raw, classes or None)
    return Predictions(np.arange(len(pred)), pred, proba, classes, units=quality.units)


def _scores(out: dict[str, np.ndarray], quality: QualityData) -> dict[str, float]:
    if "nll" in out:  # a language model: mean negative log-likelihood of the data's tokens
        return {"nll": float(np.nanmean(out["nll"]))}
    preds = _predictions(out, quality)
    return {
        m.name: float(m.score(quality.y_true, preds, None))
        for m in quality.task.metrics(quality.y_true, preds)
    }


def _agreement(a: dict[str, np.ndarray], b: dict[str, np.ndarray], quality: QualityData) -> float:
    if "nll" in a:  # same greedy next token, at every non-padding position
        mask = ~np.isnan(a["nll"])
        return float(np.mean(a["next_token"][mask] == b["next_token"][mask]))
    return float(np.mean(_predictions(a, quality).pred == _predictions(b, quality).pred))
