"""What a run ended with, as results.json holds it: :class:`Outcome` (the results, the decision
and, for ``gate``, the verdict): what the report stage renders.

Apart from :mod:`whichmodel.comparison`, whose :class:`~whichmodel.comparison.Comparison` (the
whole result, per-example predictions included) sits right of the report stage, so that it can
save itself as a report (:meth:`~whichmodel.comparison.Comparison.save`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from whichmodel.results import Results

if TYPE_CHECKING:
    from whichmodel.choose.decision import Decision
    from whichmodel.choose.gate import GateResult

__all__ = ["Outcome"]


@dataclass(frozen=True)
class Outcome:
    """What a run ended with, as results.json holds it: the results, the decision (with the
    ``command`` that asked for it) and, for ``gate``, the verdict."""

    results: Results
    decision: Decision | None = None
    command: str | None = None  # results.json lists it with the decision when it is known
    gate: GateResult | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        """A results.json's data, which the results schema accepts
        (:func:`whichmodel.report.schema.check_results`)."""
        from whichmodel.choose.decision import Decision
        from whichmodel.choose.gate import GateResult

        decision, verdict = data.get("decision"), data.get("gate")
        return cls(
            Results.from_dict(data),
            None if decision is None else Decision.from_dict(decision),
            None if decision is None else decision.get("command"),
            None if verdict is None else GateResult.from_dict(verdict),
        )

    def to_dict(self) -> dict[str, Any]:
        """results.json (the gate's verdict is listed before the decision)."""
        out = self.results.to_dict()
        if self.gate is not None:
            out["gate"] = self.gate.to_dict()
        if self.decision is not None:
            command = {} if self.command is None else {"command": self.command}
            out["decision"] = {**self.decision.to_dict(), **command}
        return out
