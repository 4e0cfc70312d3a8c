"""Each model against each constraint: meets, breaks (and by how much), or unknown.

An unknown measurement never passes: a model whose latency was not measured cannot be shown to
meet a latency limit, so it is not eligible; the check says so and why the value is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from whichmodel.choose.constraints import Constraints
from whichmodel.choose.facts import ModelFacts


@dataclass(frozen=True)
class Check:
    """One model against one limit.

    Args:
        kind: "latency", "memory", "cost", "min" or "max" (metric limits).
        label: what is limited, e.g. "latency (p50, batch 1)" or "accuracy".
        status: "meets", "breaks" or "unknown".
        measured: the model's value in ``unit`` (None when unknown).
        limit: the limit in ``unit``.
        excess: how far past the limit, in ``unit`` (positive), when it breaks.
        reason: why the value is unknown.
    """

    model: str
    kind: str
    label: str
    status: str
    measured: float | None
    limit: float
    unit: str
    excess: float | None = None
    reason: str | None = None


def cost_per_1k(facts: ModelFacts, price_per_hour: float) -> float | None:
    """Cost of 1,000 predictions: the machine's price per second times the seconds 1,000
    examples take at the measured throughput (the largest batch size): price/3600 × 1000/thr."""
    if facts.throughput_per_s is None:
        return None
    return price_per_hour / 3600.0 * 1000.0 / facts.throughput_per_s


#: Why a model run here has no cost without an hourly price.
NO_HOURLY_PRICE = "no --price-per-hour: the cost of an hour of this machine"


def model_cost(facts: ModelFacts, price_per_hour: float | None) -> tuple[float | None, str]:
    """(cost of 1,000 predictions, how it was computed), or (None, why it is unknown): one
    figure for every model, so that a served model and a local one share a column.

    A served model with a price per token costs its tokens (:mod:`whichmodel.bench.tokens`,
    USD); a hosted one without has no cost. A local model, or one served on this machine
    without a price per token, costs the machine's time (:func:`cost_per_1k`), in the currency
    of ``price_per_hour``.
    """
    tokens = facts.tokens
    if tokens is not None and tokens.cost_per_1k is not None and tokens.price is not None:
        return tokens.cost_per_1k, (
            f"{tokens.mean_prompt_tokens:.1f} prompt + {tokens.mean_completion_tokens:.1f} "
            f"generated tokens per example at {tokens.price.describe()}"
        )
    if tokens is not None and (not tokens.loopback or price_per_hour is None):
        return None, tokens.unknown or "its tokens are unknown"
    if price_per_hour is None:
        return None, NO_HOURLY_PRICE
    cost = cost_per_1k(facts, price_per_hour)
    if cost is None:
        return None, facts.unknown.get("throughput", "no throughput measured")
    return cost, f"price per hour {price_per_hour:g} / 3600 × 1000 / measured throughput"


def check_model(facts: ModelFacts, c: Constraints, directions: dict[str, bool]) -> list[Check]:
    """Every limit in ``c`` applied to one model (``directions``: metric -> higher is better)."""
    checks: list[Check] = []
    if c.max_latency_ms is not None:
        label = f"latency ({c.latency_percentile}, batch {c.latency_batch_size})"
        checks.append(_upper(facts, "latency", label, facts.latency_ms, c.max_latency_ms, "ms"))
    if c.max_memory_mb is not None:
        checks.append(_upper(facts, "memory", "memory", facts.memory_mb, c.max_memory_mb, "MB"))
    if c.max_cost_per_1k is not None:
        cost, why = model_cost(facts, c.price_per_hour)
        check = _upper(facts, "cost", "cost per 1k", cost, c.max_cost_per_1k, "per 1k")
        checks.append(check if cost is not None else replace(check, reason=why))
    for metric, limit in c.min_metrics:
        checks.append(_metric(facts, "min", metric, limit, directions))
    for metric, limit in c.max_metrics:
        checks.append(_metric(facts, "max", metric, limit, directions))
    return checks


def _upper(
    facts: ModelFacts, kind: str, label: str, value: float | None, limit: float, unit: str
) -> Check:
    fact = "throughput" if kind == "cost" else kind
    if value is None:
        reason = facts.unknown.get(fact, f"{fact} is unknown")
        return Check(facts.name, kind, label, "unknown", None, limit, unit, reason=reason)
    if value <= limit:
        return Check(facts.name, kind, label, "meets", value, limit, unit)
    return Check(facts.name, kind, label, "breaks", value, limit, unit, excess=value - limit)


def _metric(
    facts: ModelFacts, kind: str, metric: str, limit: float, directions: dict[str, bool]
) -> Check:
    from whichmodel.errors import ConfigError

    if metric not in directions:
        known = ", ".join(sorted(directions)) or "none"
        raise ConfigError(
            f"--{kind} names the metric '{metric}', which this task does not "
            f"compute. Metrics: {known}."
        )
    if kind == "min" and not directions[metric]:
        raise ConfigError(f"'{metric}' is lower-is-better: limit it with --max {metric}=VALUE.")
    if kind == "max" and directions[metric]:
        raise ConfigError(f"'{metric}' is higher-is-better: limit it with --min {metric}=VALUE.")
    value = facts.metrics.get(metric, (None,))[0]
    if value is None:
        reason = f"{metric} was not computed for {facts.name}"
        return Check(facts.name, kind, metric, "unknown", None, limit, "", reason=reason)
    ok = value >= limit if kind == "min" else value <= limit
    if ok:
        return Check(facts.name, kind, metric, "meets", value, limit, "")
    return Check(facts.name, kind, metric, "breaks", value, limit, "", excess=abs(value - limit))
