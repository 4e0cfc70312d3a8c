"""Constructed results.json dictionaries (schema 1) with known answers, for choose and report."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from whichmodel.comparison import Outcome


def cost(
    latency_ms: float,
    memory_mb: float,
    *,
    framework: str = "sklearn",
    architecture: str = "LogisticRegression",
    params: int | None = 650,
    batch: int = 64,
) -> dict[str, Any]:
    """A cost profile whose p50 latency at batch 1 is ``latency_ms``; the big batch takes 10×
    as long (so throughput is ``batch / (10 × latency)``)."""

    def lat(p50_s: float) -> dict[str, Any]:
        return {
            "p50_s": p50_s,
            "p90_s": p50_s * 1.2,
            "p99_s": p50_s * 1.5,
            "mean_s": p50_s,
            "n": 50,
        }

    p1, pb = latency_ms / 1e3, latency_ms * 10 / 1e3
    return {
        "framework": framework,
        "architecture": architecture,
        "parameters": params,
        "size_on_disk_bytes": 2**20,
        "load_time_s": 0.5,
        "first_call_s": 0.01,
        "latency": {"1": lat(p1), str(batch): lat(pb)},
        "peak_rss_bytes": int(memory_mb * 2**20) + 300 * 2**20,
        "model_memory_bytes": int(memory_mb * 2**20),
        "threads": 1,
        "throughput": {"1": 1 / p1, str(batch): batch / pb},
    }


def model(name: str, c: dict[str, Any] | None, cost_error: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "ref": f"sklearn:{name}.skops",
        "fingerprint": "f" * 16,
        "n_predicted": 500,
        "n_failed": 0,
        "failures": [],
        "reused_batches": 0,
        "computed_batches": 8,
        "cost": c,
        "cost_error": cost_error,
        "tables": {},
    }


def results(
    models: list[tuple[str, dict[str, float], dict[str, Any] | None]],
    *,
    higher: dict[str, bool] | None = None,
    half_width: float = 0.02,
    diff_ci: dict[tuple[str, str, str], tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """models: (name, {metric: value}, cost or None). CIs are value ± half_width; the CI of
    each difference a − b is diff ± 1.5·half_width unless ``diff_ci[(metric, a, b)]`` says."""
    higher = higher or {"accuracy": True}
    metrics, diffs = [], []
    for name, values, _ in models:
        for metric, v in values.items():
            metrics.append(
                {
                    "model": name,
                    "name": metric,
                    "value": v,
                    "ci_low": v - half_width,
                    "ci_high": v + half_width,
                    "higher_is_better": higher[metric],
                }
            )
    for (a, va, _), (b, vb, _) in itertools.combinations(models, 2):
        for metric in va:
            if metric not in vb:
                continue
            d = va[metric] - vb[metric]
            lo, hi = (diff_ci or {}).get(
                (metric, a, b), (d - 1.5 * half_width, d + 1.5 * half_width)
            )
            diffs.append(
                {
                    "name": metric,
                    "model_a": a,
                    "model_b": b,
                    "diff": d,
                    "ci_low": lo,
                    "ci_high": hi,
                    "higher_is_better": higher[metric],
                    "excludes_zero": lo > 0 or hi < 0,
                }
            )
    tests = [
        {
            "model_a": a,
            "model_b": b,
            "test": "mcnemar_exact",
            "statistic": 3.0,
            "p_value": 0.2,
            "a_only": 10,
            "b_only": 6,
            "n": 500,
        }
        for (a, _, _), (b, _, _) in itertools.combinations(models, 2)
    ]
    return {
        "schema": 1,
        "run_id": "constructed",
        "task": "classification",
        "config": {
            "refs": [f"sklearn:{n}.skops" for n, _, _ in models],
            "data": "d.csv",
            "task": "classification",
            "input_cols": None,
            "label_col": "label",
            "batch_size": 64,
            "seed": 0,
            "n_resamples": 1000,
            "confidence": 0.95,
            "measure_cost": True,
            "store": "s.db",
            "allow_pickle": False,
            "trust_remote_code": False,
        },
        "data": {
            "path": "d.csv",
            "fingerprint": "abc",
            "n_examples": 500,
            "n_scored": 500,
            "input_kind": "tabular",
        },
        "models": [model(n, c, None if c else "cost was not measured") for n, _, c in models],
        "metrics": metrics,
        "differences": diffs,
        "tests": tests,
        "bootstrap": {
            "n_resamples": 1000,
            "confidence": 0.95,
            "seed": 0,
            "method": "percentile, paired resamples",
        },
        "provenance": {
            "versions": {"python": "3.11"},
            "hardware": {"cpu": "x", "cpus": 2},
            "threads": {},
            "command": "whichmodel compare a b --data d.csv",
        },
    }


def outcome(data: dict[str, Any]) -> Outcome:
    """The typed form the choose and report stages take, of a results.json dictionary as JSON
    has it (``data`` is left as it is)."""
    import json

    from whichmodel.comparison import Outcome

    return Outcome.from_dict(json.loads(json.dumps(data)))
