"""What a user asks of a model: hard constraints, and the objective that ranks those that pass.

Units: latency in milliseconds of one call at ``latency_batch_size`` examples (the percentile in
``latency_percentile``), memory in MB of 2^20 bytes (as the report prints sizes) of what loading
and running the model added to a fresh process (``CostProfile.model_memory_bytes``), cost in the
user's currency per 1,000 predictions at the user's price per hour of the machine, or, for a
served model (``openai:``), in USD per 1,000 examples at its price per token.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from whichmodel.errors import ConfigError, brief

PERCENTILES = ("p50", "p90", "p99")
DIMENSIONS = ("quality", "latency", "memory")
# `--prefer accuracy` reads as users say it; it means the quality metric, whichever it is.
_PREFER_ALIASES = {
    "accuracy": "quality",
    "quality": "quality",
    "latency": "latency",
    "memory": "memory",
    "speed": "latency",
}


@dataclass(frozen=True)
class Constraints:
    """Hard limits a model must meet to be picked. ``None`` / empty means no limit.

    Args:
        max_latency_ms: latency of one call on ``latency_batch_size`` examples, at
            ``latency_percentile``, in milliseconds.
        max_memory_mb: model memory in MB (2^20 bytes).
        min_metrics: (metric, lowest allowed value) for higher-is-better metrics.
        max_metrics: (metric, highest allowed value) for lower-is-better metrics (rmse, log_loss).
        max_cost_per_1k: cost of 1,000 predictions: a served model's tokens at their price
            (USD), another model's time at ``price_per_hour`` (at the throughput measured at
            the largest batch size).
        price_per_hour: what an hour of this machine costs (any currency).
    """

    max_latency_ms: float | None = None
    max_memory_mb: float | None = None
    min_metrics: tuple[tuple[str, float], ...] = ()
    max_metrics: tuple[tuple[str, float], ...] = ()
    max_cost_per_1k: float | None = None
    price_per_hour: float | None = None
    latency_batch_size: int = 1
    latency_percentile: str = "p50"

    def validate(self) -> Constraints:
        """Raise ConfigError for limits no model could be checked against; returns self."""
        for name in ("max_latency_ms", "max_memory_mb", "max_cost_per_1k", "price_per_hour"):
            value = getattr(self, name)
            if value is not None and not (_is_number(value) and value > 0):
                raise ConfigError(
                    f"The '{name}' limit must be a positive number. Got {brief(value)}."
                )
        for metric, value in (*self.min_metrics, *self.max_metrics):
            if not _is_number(value):
                raise ConfigError(f"The limit on '{metric}' must be a number. Got {brief(value)}.")
        if self.latency_percentile not in PERCENTILES:
            raise ConfigError(
                f"The latency percentile must be one of {', '.join(PERCENTILES)}. "
                f"Got {brief(self.latency_percentile)}."
            )
        if not isinstance(self.latency_batch_size, int) or self.latency_batch_size < 1:
            raise ConfigError(
                "The latency batch size must be a positive integer. "
                f"Got {brief(self.latency_batch_size)}."
            )
        return self

    def check_cost_basis(self, refs: Iterable[str]) -> Constraints:
        """Raise ConfigError for a cost limit no model of ``refs`` could be costed against:
        without ``price_per_hour`` only a served model (``openai:``, priced per token) can be;
        returns self."""
        if self.max_cost_per_1k is None or self.price_per_hour is not None:
            return self
        if not any(str(r).startswith("openai:") for r in refs):
            raise ConfigError(
                "--max-cost-per-1k needs --price-per-hour: the cost of an hour of this machine."
            )
        return self

    @property
    def any(self) -> bool:
        """True when at least one limit is set."""
        return bool(
            self.max_latency_ms is not None
            or self.max_memory_mb is not None
            or self.min_metrics
            or self.max_metrics
            or self.max_cost_per_1k is not None
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_latency_ms": self.max_latency_ms,
            "max_memory_mb": self.max_memory_mb,
            "min_metrics": dict(self.min_metrics),
            "max_metrics": dict(self.max_metrics),
            "max_cost_per_1k": self.max_cost_per_1k,
            "price_per_hour": self.price_per_hour,
            "latency_batch_size": self.latency_batch_size,
            "latency_percentile": self.latency_percentile,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Constraints:
        """The inverse of :meth:`to_dict`."""
        return cls(
            data["max_latency_ms"],
            data["max_memory_mb"],
            tuple(data["min_metrics"].items()),
            tuple(data["max_metrics"].items()),
            data["max_cost_per_1k"],
            data["price_per_hour"],
            data["latency_batch_size"],
            data["latency_percentile"],
        )


@dataclass(frozen=True)
class Objective:
    """How the models that meet every constraint are ranked.

    ``prefer`` ranks lexicographically: the preferred dimension first, then the others in the
    order quality, latency, memory. ``weights`` (dimension -> weight) ranks by the weighted mean
    of each dimension's position between the worst and the best candidate (latency and memory on
    a log scale, as their ratios are what matter); ties fall back to ``prefer``.

    Args:
        prefer: "quality" (alias "accuracy"), "latency" or "memory".
        weights: ((dimension, weight), ...), weights >= 0, not all zero.
        metric: the quality metric; default the task's first metric.
    """

    prefer: str = "quality"
    weights: tuple[tuple[str, float], ...] = ()
    metric: str | None = None

    def validate(self) -> Objective:
        if self.prefer not in DIMENSIONS:
            raise ConfigError(_unknown("--prefer", self.prefer, _PREFER_ALIASES))
        for dim, weight in self.weights:
            if dim not in DIMENSIONS:
                raise ConfigError(_unknown("a weight's dimension", dim, _PREFER_ALIASES))
            if not _is_number(weight) or weight < 0:
                raise ConfigError(
                    f"The weight of '{dim}' must be a number >= 0. Got {brief(weight)}."
                )
        if self.weights and not any(w > 0 for _, w in self.weights):
            raise ConfigError("At least one weight must be above 0.")
        return self

    def describe(self) -> str:
        if self.weights:
            return "weighted: " + ", ".join(f"{d} {w:g}" for d, w in self.weights)
        return f"best {self.prefer}"


def preferred(name: str) -> str:
    """Normalize a ``--prefer`` value ("accuracy" -> "quality"); raise ConfigError if unknown."""
    key = name.strip().lower()
    if key not in _PREFER_ALIASES:
        raise ConfigError(_unknown("--prefer", name, _PREFER_ALIASES))
    return _PREFER_ALIASES[key]


def parse_pairs(items: Iterable[str], *, option: str) -> tuple[tuple[str, float], ...]:
    """``["accuracy=0.9", "macro_f1=0.85"]`` -> ``(("accuracy", 0.9), ("macro_f1", 0.85))``.

    Also accepts comma-separated items (``"accuracy=2,latency=1"``).
    """
    out: list[tuple[str, float]] = []
    for item in items:
        for part in (p.strip() for p in item.split(",")):
            if not part:
                continue
            name, sep, value = part.partition("=")
            try:
                number = float(value) if sep and name.strip() else math.nan
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise ConfigError(f"{option} takes NAME=NUMBER (e.g. accuracy=0.9). Got {part!r}.")
            out.append((name.strip(), number))
    return tuple(out)


def weights_from(items: Iterable[str]) -> tuple[tuple[str, float], ...]:
    """``--weights accuracy=2,latency=1`` with dimension aliases normalized."""
    return tuple((preferred(d), w) for d, w in parse_pairs(items, option="--weights"))


_YAML_KEYS = {f.name for f in fields(Constraints)} | {"min", "max", "prefer", "weights", "metric"}


def from_mapping(raw: Any, *, where: str) -> tuple[Constraints, Objective]:
    """The ``choose:`` block of a whichmodel.yaml -> (Constraints, Objective).

    ``min``/``max`` and ``weights`` are mappings (``min: {accuracy: 0.9}``).
    """
    if raw is None:
        return Constraints(), Objective()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"'choose' in {where} must be a mapping (e.g. max_latency_ms: 5).")
    for key in raw:
        if key not in _YAML_KEYS:
            raise ConfigError(_unknown(f"key under 'choose' in {where}", str(key), _YAML_KEYS))
    values = {k: v for k, v in raw.items() if k in {f.name for f in fields(Constraints)}}
    values["min_metrics"] = _mapping_pairs(raw.get("min"), "min", where)
    values["max_metrics"] = _mapping_pairs(raw.get("max"), "max", where)
    constraints = Constraints(**values).validate()
    weights = tuple(
        (preferred(d), w) for d, w in _mapping_pairs(raw.get("weights"), "weights", where)
    )
    prefer, metric = raw.get("prefer", "quality"), raw.get("metric")
    for key, value in (("prefer", prefer), ("metric", metric)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"'choose.{key}' in {where} must be a name. Got {brief(value)}.")
    objective = Objective(preferred(prefer), weights, metric).validate()
    return constraints, objective


def _mapping_pairs(raw: Any, key: str, where: str) -> tuple[tuple[str, float], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"'choose.{key}' in {where} must be a mapping of name: number.")
    return tuple((str(k), v) for k, v in raw.items())


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    choices = sorted(set(known))
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"Unknown {what} {brief(name)}.{hint} Choose from: {', '.join(choices)}."
