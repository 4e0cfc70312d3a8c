"""What compare, choose and gate store in a results dictionary: the decision and the gate's
verdict, under the ``decision`` and ``gate`` keys of results.json (see its JSON Schema)."""

from __future__ import annotations

from typing import Any

from whichmodel.choose.constraints import Constraints, Objective
from whichmodel.choose.decide import decide
from whichmodel.choose.decision import Decision
from whichmodel.choose.gate import GateResult, gate


def record_decision(
    results: dict[str, Any], constraints: Constraints, objective: Objective, *, command: str
) -> Decision:
    """Decide between the models of ``results`` and store the decision, with the ``command``
    that asked for it, under ``results["decision"]``; returns the decision."""
    decision = decide(results, constraints, objective)
    results["decision"] = {**decision.to_dict(), "command": command}
    return decision


def record_gate(
    results: dict[str, Any],
    *,
    metrics: tuple[str, ...],
    min_delta: dict[str, float] | float,
    constraints: Constraints,
) -> GateResult:
    """Gate the second model of ``results`` (the candidate) against the first (the baseline),
    as :func:`whichmodel.choose.gate.gate` does, and store the verdict under
    ``results["gate"]``; returns it."""
    baseline, candidate = (m["name"] for m in results["models"])
    verdict = gate(
        results,
        baseline=baseline,
        candidate=candidate,
        metrics=metrics,
        min_delta=min_delta,
        constraints=constraints,
    )
    results["gate"] = verdict.to_dict()
    return verdict
