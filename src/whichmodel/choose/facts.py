"""The facts a decision rests on, read from a comparison's :class:`~whichmodel.results.Results`.

Each fact is either measured (metrics, latency, memory, throughput), read from the model
(parameters, size on disk, framework, architecture) or unknown; an unknown fact is ``None`` with
the reason in ``ModelFacts.unknown``, never a zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import TYPE_CHECKING

from whichmodel.choose.constraints import Constraints

if TYPE_CHECKING:
    from whichmodel.bench.base import CostProfile
    from whichmodel.bench.tokens import TokenCost
    from whichmodel.results import ModelSummary, Results

MIB = 2**20
# Why an unreliable cost's latency is unknown to a decision. Without the reasons' own figures:
# every number a decision prints is one of its figures, and those are the machine's, not the
# model's (they stay in the cost profile and the report's notes; the decision's last sentence
# says what to do).
UNRELIABLE = "its latency was measured unreliably (the cost profile says why)"

# Why a latency is unknown to a decision when the models' medians measured one at a time order
# a pair against the interleaved rounds (bench/paired.py), which a slow spell disturbs less.
DISAGREE = (
    "its latency measured one model at a time and in interleaved rounds disagree on which "
    "model is faster (the report shows both)"
)

# Ratios closer to 1 than this are "about the same": timing noise on a shared machine is larger.
# The decision's sentences cite neither a measured nor a spec-sheet ratio inside this band.
SAME = 1.05

# Architecture names (class names) read as interpretable: one readable model whose weights or
# splits explain each prediction. Tree *ensembles* are only partly so (importances, not one tree).
_LINEAR = (
    "LogisticRegression",
    "LinearRegression",
    "Ridge",
    "RidgeClassifier",
    "Lasso",
    "ElasticNet",
    "LinearSVC",
    "LinearSVR",
    "SGDClassifier",
    "SGDRegressor",
    "Perceptron",
    "HuberRegressor",
    "BayesianRidge",
    "LinearDiscriminantAnalysis",
    "PoissonRegressor",
    "QuantileRegressor",
)
_SINGLE_TREES = (
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "ExtraTreeClassifier",
    "ExtraTreeRegressor",
)
_OTHER_SIMPLE = (
    "GaussianNB",
    "MultinomialNB",
    "BernoulliNB",
    "ComplementNB",
    "KNeighborsClassifier",
    "KNeighborsRegressor",
)
_ENSEMBLES = (
    "RandomForest",
    "ExtraTrees",
    "GradientBoosting",
    "HistGradientBoosting",
    "XGB",
    "LGBM",
    "AdaBoost",
    "Bagging",
)
_DEEP_FRAMEWORKS = ("torch", "transformers", "onnx", "tensorflow", "keras", "jax")


@dataclass(frozen=True)
class Interpretability:
    """``level`` is "yes", "partly", "no" or "unknown"; ``source`` says what it was read from."""

    level: str
    source: str


@dataclass(frozen=True)
class ModelFacts:
    """One model's facts. Times in seconds, sizes in bytes; ``None`` is unknown (see ``unknown``).

    Args:
        metrics: metric -> (value, ci_low, ci_high).
        latency_s: one call on ``Constraints.latency_batch_size`` examples at the constraints'
            percentile.
        latency_by_batch_s: batch size -> median latency of one call.
        throughput_per_s / throughput_batch_size: examples per second at the largest measured
            batch size.
        unknown: fact -> why it is unknown.
        tokens: a served model's tokens and their price (its cost per 1,000 examples), or None.
    """

    name: str
    metrics: dict[str, tuple[float, float, float]]
    latency_s: float | None
    latency_by_batch_s: dict[int, float]
    memory_bytes: int | None
    throughput_per_s: float | None
    throughput_batch_size: int | None
    size_bytes: int | None
    parameters: int | None
    framework: str | None
    architecture: str | None
    interpretability: Interpretability
    unknown: dict[str, str] = field(default_factory=dict)
    tokens: TokenCost | None = None

    @property
    def memory_mb(self) -> float | None:
        return None if self.memory_bytes is None else self.memory_bytes / MIB

    @property
    def latency_ms(self) -> float | None:
        return None if self.latency_s is None else self.latency_s * 1e3


def read_facts(results: Results, constraints: Constraints) -> list[ModelFacts]:
    """Every model's facts, in the order of ``results.models``."""
    metrics: dict[str, dict[str, tuple[float, float, float]]] = {}
    for m in results.statistics.metrics:
        metrics.setdefault(m.model, {})[m.name] = (m.value, m.ci_low, m.ci_high)
    facts = [
        replace(_facts(m, metrics.get(m.name, {}), constraints), tokens=m.token_cost)
        for m in results.models
    ]
    torn = set(contradicted(results))
    return [_latency_unknown(f, DISAGREE) if f.name in torn else f for f in facts]


def secondary_metric(results: Results, metric: str) -> str | None:
    """The metric that breaks ties on ``metric``: the task's first other metric (CER for WER,
    macro-F1 for accuracy), or None when the task has one metric."""
    return next((n for n in results.metric_names() if n != metric), None)


def contradicted(results: Results) -> list[str]:
    """The models whose median latencies, measured one at a time, order a pair against the
    reliable interleaved rounds where those tell the pair apart (the interval excludes 1 and
    the ratio is at least :data:`SAME`), in the order of ``results.models``."""
    rounds = results.paired_latency
    if rounds is None or not rounds.reliable:
        return []
    p50 = {
        m.name: m.cost.latency[rounds.batch_size].p50_s
        for m in results.models
        if m.cost is not None and m.cost.reliable and rounds.batch_size in m.cost.latency
        and m.name in rounds.medians_s
    }  # fmt: skip
    torn: set[str] = set()
    for a, b in combinations(p50, 2):
        r = rounds.ratio(a, b)
        if r.decided and r.factor()[0] >= SAME and (p50[a] < p50[b]) != (r.speedup > 1):
            torn |= {a, b}
    return [name for name in p50 if name in torn]


def _latency_unknown(f: ModelFacts, why: str) -> ModelFacts:
    """``f`` with its latency and throughput unknown for ``why``."""
    unknown = {**f.unknown, "latency": why, "throughput": why}
    return replace(f, latency_s=None, latency_by_batch_s={}, throughput_per_s=None,
                   throughput_batch_size=None, unknown=unknown)  # fmt: skip


def _facts(
    model: ModelSummary, metrics: dict[str, tuple[float, float, float]], c: Constraints
) -> ModelFacts:
    cost = model.cost
    if cost is None:
        return _without_cost(model, metrics)
    unknown: dict[str, str] = {}
    latency_s, by_batch, throughput, throughput_batch = _speed(cost, c, unknown)
    if not cost.reliable:  # a disturbed timing decides nothing: no limit met, no "faster"
        latency_s, by_batch, throughput, throughput_batch = None, {}, None, None
        unknown["latency"] = unknown["throughput"] = UNRELIABLE
    memory = cost.model_memory_bytes
    if memory is None:
        unknown["memory"] = "the cost profile has no model memory"
    if cost.parameters is None:
        unknown["parameters"] = f"whichmodel cannot count the parameters of {cost.architecture}"
    return ModelFacts(
        model.name,
        metrics,
        latency_s,
        by_batch,
        memory,
        throughput,
        throughput_batch,
        cost.size_on_disk_bytes,
        cost.parameters,
        cost.framework,
        cost.architecture,
        interpretability(cost.framework, cost.architecture),
        unknown,
    )


def _without_cost(
    model: ModelSummary, metrics: dict[str, tuple[float, float, float]]
) -> ModelFacts:
    """A model whose cost was not measured: every cost fact unknown, with the reason."""
    why = model.cost_error or "cost was not measured (--no-cost)"
    unknown = dict.fromkeys(("latency", "memory", "throughput", "size", "parameters"), why)
    return ModelFacts(
        model.name,
        metrics,
        None,
        {},
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        Interpretability("unknown", f"no cost profile: {why}"),
        unknown,
    )


def _speed(
    cost: CostProfile, c: Constraints, unknown: dict[str, str]
) -> tuple[float | None, dict[int, float], float | None, int | None]:
    """(latency at the constraints' batch size and percentile, p50 latency by batch size,
    throughput at the largest batch, that batch); what is missing goes into ``unknown``."""
    latency = cost.latency
    by_batch = {b: float(lat.p50_s) for b, lat in sorted(latency.items())}
    latency_s = None
    if c.latency_batch_size in latency:
        latency_s = float(getattr(latency[c.latency_batch_size], f"{c.latency_percentile}_s"))
    else:
        measured = ", ".join(str(b) for b in sorted(latency)) or "none"
        unknown["latency"] = (
            f"latency was not measured at batch size {c.latency_batch_size} (measured: {measured})"
        )
    throughput, throughput_batch = None, None
    if latency:
        throughput_batch = max(latency)
        throughput = throughput_batch / float(latency[throughput_batch].p50_s)
    else:
        unknown["throughput"] = "no latency was measured"
    return latency_s, by_batch, throughput, throughput_batch


def interpretability(framework: str | None, architecture: str | None) -> Interpretability:
    """Read interpretability from the framework and architecture (class name, or a pipeline
    ``"StandardScaler → LogisticRegression"`` whose last step decides).

    >>> interpretability("sklearn", "StandardScaler → LogisticRegression").level
    'yes'
    >>> interpretability("torch", "CNN").level
    'no'
    """
    if not architecture:
        return Interpretability("unknown", "no architecture was recorded")
    final = architecture.split("→")[-1].strip()
    source = f"read from the architecture {architecture!r} ({framework})"
    if final in _LINEAR:
        return Interpretability("yes", f"linear model, {source}")
    if final in _SINGLE_TREES:
        return Interpretability("yes", f"single decision tree, {source}")
    if final in _OTHER_SIMPLE:
        return Interpretability("yes", f"simple probabilistic or neighbour model, {source}")
    if any(final.startswith(e) for e in _ENSEMBLES) or framework in ("xgboost", "lightgbm"):
        return Interpretability("partly", f"tree ensemble (feature importances), {source}")
    if framework in _DEEP_FRAMEWORKS or final.startswith("MLP"):
        return Interpretability("no", f"neural network, {source}")
    return Interpretability("unknown", f"not a kind whichmodel classifies, {source}")
