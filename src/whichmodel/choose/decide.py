"""``decide``: results + constraints + objective -> Decision (eligible models, Pareto front, the
pick, the trade-offs matrix, and sentences saying why).

The flow::

    facts <- Results                (measured / read / unknown; never a silent zero)
    checks = facts × constraints    (meets / breaks by how much / unknown -> not eligible)
    front  = Pareto(quality, latency, memory) over the dimensions every model has
    pick   = first eligible model by the objective
    sentences, figures = explain(...) (every number printed is stored in figures)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from whichmodel.choose.checks import check_model
from whichmodel.choose.constraints import DIMENSIONS, Constraints, Objective
from whichmodel.choose.decision import Decision
from whichmodel.choose.explain import explain
from whichmodel.choose.facts import ModelFacts, read_facts, secondary_metric
from whichmodel.choose.pareto import pareto_front
from whichmodel.choose.tradeoffs import tradeoffs
from whichmodel.errors import ConfigError

if TYPE_CHECKING:
    from whichmodel.results import Results


def decide(
    results: Results,
    constraints: Constraints | None = None,
    objective: Objective | None = None,
) -> Decision:
    """Choose a model from a comparison's results. Pure: reads, never measures.

    Raises:
        ConfigError: a limit or the objective names a metric the results do not have.
    """
    c = (constraints or Constraints()).validate().check_cost_basis(m.ref for m in results.models)
    obj = (objective or Objective()).validate()
    directions = {m.name: m.higher_is_better for m in results.statistics.metrics}
    metric = obj.metric or next(iter(directions), None)
    if metric is None or metric not in directions:
        known = ", ".join(directions) or "none"
        raise ConfigError(f"The quality metric '{metric}' is not in the results. Metrics: {known}.")
    facts = read_facts(results, c)
    checks = [ch for f in facts for ch in check_model(f, c, directions)]
    eligible = tuple(
        f.name for f in facts if all(ch.status == "meets" for ch in checks if ch.model == f.name)
    )
    points = {f.name: _point(f, metric) for f in facts}
    higher = {"quality": directions[metric], "latency": False, "memory": False}
    candidates = {n: points[n] for n in eligible}
    breaker = _tie_breaker(facts, secondary_metric(results, metric), directions)
    ranking, ranked_on, scores = _rank(candidates, higher, obj, breaker)
    pick = ranking[0] if ranking else None
    draft = Decision(
        pick,
        metric,
        directions[metric],
        c,
        obj,
        eligible,
        tuple(checks),
        pareto_front(points, higher_is_better=higher),
        ranking,
        ranked_on,
        _ties(pick, ranking, ranked_on, candidates, scores, breaker),
        scores,
        tradeoffs(facts, metric=metric, higher_is_better=directions[metric], constraints=c),
        (),
        {},
    )
    sentences, figures = explain(draft, results, {f.name: f for f in facts})
    return replace(draft, sentences=tuple(sentences), figures=figures)


def _ties(
    pick: str | None,
    ranking: tuple[str, ...],
    ranked_on: tuple[str, ...],
    candidates: Points,
    scores: dict[str, float],
    breaker: TieBreaker,
) -> tuple[str, ...]:
    """The models after the pick that equal it on every ranked dimension, in score and on the
    tie-breaking metric."""
    if pick is None:
        return ()
    return tuple(
        n
        for n in ranking[1:]
        if all(candidates[n][d] == candidates[pick][d] for d in ranked_on)
        and scores.get(n) == scores.get(pick)
        and breaker.key(n) == breaker.key(pick)
    )


@dataclass(frozen=True)
class TieBreaker:
    """The task's next metric, which orders models equal on the decision's metric (the pick of
    two models tied on WER is the one with the lower CER, not the one listed first)."""

    values: dict[str, float | None]
    higher_is_better: bool

    def key(self, name: str) -> tuple[bool, float]:
        """Sorts better first, an unknown value last."""
        value = self.values.get(name)
        return value is None, _better_first(value, self.higher_is_better)


def _tie_breaker(
    facts: list[ModelFacts], metric: str | None, directions: dict[str, bool]
) -> TieBreaker:
    if metric is None:
        return TieBreaker({}, True)
    values = {f.name: f.metrics[metric][0] if metric in f.metrics else None for f in facts}
    return TieBreaker(values, directions[metric])


def _point(f: ModelFacts, metric: str) -> dict[str, float | None]:
    quality = f.metrics[metric][0] if metric in f.metrics else None
    return {"quality": quality, "latency": f.latency_s, "memory": f.memory_mb}


Points = dict[str, dict[str, float | None]]


def _rank(
    candidates: Points, higher: dict[str, bool], obj: Objective, breaker: TieBreaker
) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, float]]:
    """(ranking best first, dimensions ranked on, weighted scores).

    Lexicographic on the preferred dimension, then the others, quality's ties broken by the
    ``breaker`` metric right after quality; on each dimension a candidate
    whose value is unknown ranks after every candidate whose value is known (it cannot be shown
    better). With weights, candidates known on every weighted dimension are scored; the others
    rank after them. Dimensions no candidate has are left out.
    """
    known = tuple(d for d in DIMENSIONS if any(p[d] is not None for p in candidates.values()))
    order = [obj.prefer, *(d for d in DIMENSIONS if d != obj.prefer)]
    lexi = tuple(d for d in order if d in known)

    def lexi_key(name: str) -> tuple[tuple[bool, float], ...]:
        p = candidates[name]
        key: list[tuple[bool, float]] = []
        for d in lexi:
            key.append((p[d] is None, _better_first(p[d], higher[d])))
            if d == "quality":
                key.append(breaker.key(name))
        return tuple(key)

    weighted = tuple(d for d, w in obj.weights if w > 0 and d in known)
    if not weighted:
        return tuple(sorted(candidates, key=lexi_key)), lexi, {}
    scored = {n: p for n, p in candidates.items() if all(p[d] is not None for d in weighted)}
    scores = _weighted_scores(scored, higher, dict(obj.weights), weighted) if scored else {}
    ranking = sorted(candidates, key=lambda n: (n not in scores, -scores.get(n, 0.0), lexi_key(n)))
    return tuple(ranking), weighted, scores


def _better_first(value: float | None, higher: bool) -> float:
    if value is None:
        return 0.0  # only reached behind the "unknown" flag, which already sorts it last
    return -value if higher else value


def _weighted_scores(
    candidates: Points, higher: dict[str, bool], weights: dict[str, float], dims: tuple[str, ...]
) -> dict[str, float]:
    """Weighted mean over ``dims`` of each candidate's position between the worst (0) and the
    best (1) candidate; latency and memory on a log scale (a 2× gap counts the same anywhere)."""
    total = sum(weights[d] for d in dims)
    scores = dict.fromkeys(candidates, 0.0)
    for d in dims:
        raw = {n: float(p[d]) for n, p in candidates.items()}  # type: ignore[arg-type]
        vals = {n: math.log(max(v, 1e-12)) if d != "quality" else v for n, v in raw.items()}
        lo, hi = min(vals.values()), max(vals.values())
        for n, v in vals.items():
            pos = 1.0 if hi == lo else (v - lo) / (hi - lo)
            scores[n] += weights[d] * (pos if higher[d] else 1.0 - pos) / total
    return {n: round(s, 4) for n, s in scores.items()}
