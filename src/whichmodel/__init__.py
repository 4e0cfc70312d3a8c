"""whichmodel: why do two models behave differently, and which one should you ship?

The public API (imported lazily, so ``import whichmodel`` stays cheap)::

    whichmodel.load(ref)                        -> Model
    whichmodel.evaluate(ref, data, task=...)    -> Evaluation
    whichmodel.compare(refs, data, task=...)    -> Comparison (its .decision: which to ship;
                                                   .results(): what results.json holds)
    whichmodel.compare_samples(a, b)            -> SamplesComparison (two lm-eval --log_samples
                                                   files: paired tests, CIs, disagreements)
    whichmodel.Results.from_dict(json)          -> Results (a saved results.json, typed)
    whichmodel.inspect(ref)                     -> SpecSheet
    whichmodel.choose(results, max_latency_ms=...) -> Decision
    whichmodel.bench(ref, variants=..., ...)    -> CostProfile
    whichmodel.machine(threads=1)               -> MachineLimits (peak FLOP/s, bandwidth)
    whichmodel.weight_diff(a, b)                -> WeightDiff (two checkpoints, tensor by
                                                   tensor: what fine-tuning changed)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from whichmodel.analysis.samples import compare_samples
    from whichmodel.analysis.weights import WeightDiff, weight_diff
    from whichmodel.api import Evaluation, compare, evaluate
    from whichmodel.bench.base import CostProfile
    from whichmodel.bench.machine import MachineLimits, machine
    from whichmodel.choose import Decision, choose
    from whichmodel.comparison import CompareConfig, Comparison, Outcome
    from whichmodel.results import Results
    from whichmodel.sources import inspect, load
    from whichmodel.spec.base import SpecSheet

_EXPORTS = {
    "compare": "whichmodel.api",
    "compare_samples": "whichmodel.analysis.samples",
    "evaluate": "whichmodel.api",
    "Evaluation": "whichmodel.api",
    "Comparison": "whichmodel.comparison",
    "CompareConfig": "whichmodel.comparison",
    "Outcome": "whichmodel.comparison",
    "Results": "whichmodel.results",
    "load": "whichmodel.sources",
    "inspect": "whichmodel.sources",
    "SpecSheet": "whichmodel.spec.base",
    "choose": "whichmodel.choose",
    "Decision": "whichmodel.choose",
    "CostProfile": "whichmodel.bench.base",
    "machine": "whichmodel.bench.machine",
    "MachineLimits": "whichmodel.bench.machine",
    "weight_diff": "whichmodel.analysis.weights",
    "WeightDiff": "whichmodel.analysis.weights",
}


def __getattr__(name: str) -> Any:
    if name == "bench":  # a callable package: whichmodel.bench(ref, ...) runs a benchmark
        import importlib

        return importlib.import_module("whichmodel.bench")
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'whichmodel' has no attribute {name!r}")


__all__ = [
    "CompareConfig",
    "Comparison",
    "CostProfile",
    "Decision",
    "Evaluation",
    "MachineLimits",
    "Outcome",
    "Results",
    "SpecSheet",
    "WeightDiff",
    "bench",
    "choose",
    "compare",
    "compare_samples",
    "evaluate",
    "inspect",
    "load",
    "machine",
    "weight_diff",
]
