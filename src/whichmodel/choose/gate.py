"""The regression gate for CI: does a candidate model lose to the baseline, or break a limit?

The candidate fails on a metric when the whole paired confidence interval of
``candidate − baseline`` lies on the worse side of ``−min_delta`` (in the metric's units): the
data show it is worse by more than the tolerated loss. A loss whose interval reaches back past
``−min_delta`` is not proven and passes, and the gate says how close it came.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from whichmodel.choose.checks import Check, check_model
from whichmodel.choose.constraints import Constraints
from whichmodel.choose.facts import read_facts
from whichmodel.errors import ConfigError

if TYPE_CHECKING:
    from whichmodel.results import Results

# Exit status of `whichmodel gate` when the candidate fails (2 is reserved for bad input).
GATE_FAILED_EXIT_CODE = 3


@dataclass(frozen=True)
class GateResult:
    """``passed`` is False when any line of ``failures`` exists; ``lines`` explain every check."""

    baseline: str
    candidate: str
    passed: bool
    failures: tuple[str, ...]
    lines: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``gate`` key of results.json."""
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "passed": self.passed,
            "failures": list(self.failures),
            "lines": list(self.lines),
            "exit_code": 0 if self.passed else GATE_FAILED_EXIT_CODE,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateResult:
        """The inverse of :meth:`to_dict` (the exit code follows from ``passed``)."""
        return cls(
            data["baseline"],
            data["candidate"],
            data["passed"],
            tuple(data["failures"]),
            tuple(data["lines"]),
        )


def gate(
    results: Results,
    *,
    baseline: str,
    candidate: str,
    metrics: tuple[str, ...] = (),
    min_delta: dict[str, float] | float = 0.0,
    constraints: Constraints | None = None,
) -> GateResult:
    """Check ``candidate`` against ``baseline`` in a comparison's results.

    Args:
        metrics: the metrics that must not regress (default: every metric of the task).
        min_delta: tolerated loss per metric (or one value for all), in the metric's units.
        constraints: limits the candidate must meet (unknown values fail: they are not shown).
    """
    directions = {m.name: m.higher_is_better for m in results.statistics.metrics}
    _check_names(results, directions, (baseline, candidate), metrics)
    fails: list[str] = []
    lines: list[str] = []
    confidence = round(results.statistics.confidence * 100)
    for metric in metrics or tuple(directions):
        tol = min_delta.get(metric, 0.0) if isinstance(min_delta, dict) else float(min_delta)
        if not (math.isfinite(tol) and tol >= 0):  # NaN would compare False: a silent pass
            raise ConfigError(f"The tolerated loss of {metric} must be a number >= 0. Got {tol}.")
        line, failed = _metric_line(
            results, metric, directions[metric], baseline, candidate, tol, confidence
        )
        lines.append(line)
        if failed:
            fails.append(line)
    c = (constraints or Constraints()).validate()
    facts = next(f for f in read_facts(results, c) if f.name == candidate)
    for check in check_model(facts, c, directions):
        line, failed = _check_line(check)
        lines.append(line)
        if failed:
            fails.append(line)
    return GateResult(baseline, candidate, not fails, tuple(fails), tuple(lines))


def _check_names(
    results: Results,
    directions: dict[str, bool],
    models: tuple[str, ...],
    metrics: tuple[str, ...],
) -> None:
    """Raise ConfigError for a model or metric the results do not have."""
    names = set(results.model_names)
    for who in models:
        if who not in names:
            raise ConfigError(
                f"No model named '{who}' in the results ({', '.join(sorted(names))})."
            )
    for metric in metrics:
        if metric not in directions:
            raise ConfigError(
                f"The gate names the metric '{metric}', which the results do not "
                f"have. Metrics: {', '.join(directions)}."
            )


def _check_line(check: Check) -> tuple[str, bool]:
    """(the line saying how the candidate meets one constraint, whether the gate fails on it);
    an unknown value fails: it cannot be shown to meet the limit."""
    unit = f" {check.unit}" if check.unit else ""
    if check.status == "meets":
        return (
            f"{check.label}: {check.measured:.4g}{unit} meets the limit {check.limit:g}{unit}.",
            False,
        )
    if check.status == "breaks":
        return (
            f"{check.label}: {check.measured:.4g}{unit} breaks the limit {check.limit:g}{unit}.",
            True,
        )
    return f"{check.label}: unknown ({check.reason}), so the limit cannot be shown met.", True


def _metric_line(
    results: Results,
    metric: str,
    higher: bool,
    baseline: str,
    candidate: str,
    tol: float,
    confidence: int,
) -> tuple[str, bool]:
    found = results.difference(metric, candidate, baseline)
    if found is None or not all(map(math.isfinite, (found[0], *found[1]))):
        # Fail closed: a gate that cannot compare must not pass.
        return f"{metric}: no paired difference of {candidate} and {baseline}; cannot check.", True
    diff, ci = found
    sign = 1.0 if higher else -1.0
    # Oriented so that positive is better for the candidate.
    gain, hi = sign * diff, max(sign * ci[0], sign * ci[1])
    text = (
        f"{metric}: {candidate} − {baseline} = {diff:+.4f}, {confidence}% CI "
        f"[{ci[0]:+.4f}, {ci[1]:+.4f}] ({'higher' if higher else 'lower'} is better; "
        f"tolerated loss {tol:g})"
    )
    if hi < -tol:
        return f"{text}: significantly worse by more than the tolerated loss.", True
    if gain < 0:
        return f"{text}: a loss that the data do not show beyond the tolerance.", False
    return f"{text}: no regression.", False
