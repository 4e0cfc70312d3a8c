"""The :class:`Decision` value: what :func:`~whichmodel.choose.decide.decide` returns.

Apart from ``decide`` so that :mod:`.explain`, which words a draft decision, can import the type
while ``decide`` imports ``explain``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from whichmodel.choose.checks import Check
from whichmodel.choose.constraints import Constraints, Objective
from whichmodel.choose.pareto import Front
from whichmodel.choose.tradeoffs import Tradeoffs

DECISION_FORMAT = 1


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`decide`.

    Args:
        pick: the chosen model, or None when no model meets every constraint.
        ranking: the eligible models, best first.
        ties: models that rank equal with the pick on every ranked dimension.
        scores: model -> weighted score in [0, 1] (weights objective only).
        ranked_on: the dimensions the ranking used (unknown ones are left out).
        sentences: the decision in words; every number in them is a value of ``figures``.
    """

    pick: str | None
    metric: str
    higher_is_better: bool
    constraints: Constraints
    objective: Objective
    eligible: tuple[str, ...]
    checks: tuple[Check, ...]
    front: Front
    ranking: tuple[str, ...]
    ranked_on: tuple[str, ...]
    ties: tuple[str, ...]
    scores: dict[str, float]
    tradeoffs: Tradeoffs
    sentences: tuple[str, ...]
    figures: dict[str, str]

    def __repr__(self) -> str:  # short: the checks, front and trade-offs stay in the fields
        from whichmodel.display import names_text

        first = self.sentences[0] if self.sentences else ""
        first = first if len(first) <= 160 else first[:157] + "..."
        return (
            f"Decision(pick={self.pick!r}, ranking=[{names_text(self.ranking)}], "
            f"metric={self.metric!r}: {first!r})"
        )

    def _repr_html_(self) -> str:
        from whichmodel.display import card, names_text

        facts = [
            ("pick", self.pick or "none: no model meets every constraint"),
            ("ranking", names_text(self.ranking, limit=10)),
            ("metric", self.metric),
            ("objective", self.objective.describe()),
        ]
        return card("Decision", facts, lines=self.sentences)

    def to_dict(self) -> dict[str, Any]:
        """The ``decision`` key of results.json (see the JSON schema)."""
        return {
            "format": DECISION_FORMAT,
            "pick": self.pick,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "constraints": self.constraints.to_dict(),
            "objective": {
                "prefer": self.objective.prefer,
                "weights": dict(self.objective.weights),
                "description": self.objective.describe(),
            },
            "eligible": list(self.eligible),
            "checks": [asdict(c) for c in self.checks],
            "front": {
                "members": list(self.front.members),
                "dimensions": list(self.front.dimensions),
                "dropped": list(self.front.dropped),
                "unplaced": {k: list(v) for k, v in self.front.unplaced.items()},
                "ties": [list(t) for t in self.front.ties],
                "dominated_by": {k: list(v) for k, v in self.front.dominated_by.items()},
            },
            "ranking": list(self.ranking),
            "ranked_on": list(self.ranked_on),
            "ties": list(self.ties),
            "scores": self.scores,
            "tradeoffs": self.tradeoffs.to_dict(),
            "sentences": list(self.sentences),
            "figures": self.figures,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        """The inverse of :meth:`to_dict` (results.json's ``decision``, its ``command`` aside)."""
        objective, front = data["objective"], data["front"]
        return cls(
            pick=data["pick"],
            metric=data["metric"],
            higher_is_better=data["higher_is_better"],
            constraints=Constraints.from_dict(data["constraints"]),
            objective=Objective(
                objective["prefer"], tuple(objective["weights"].items()), data["metric"]
            ),
            eligible=tuple(data["eligible"]),
            checks=tuple(Check(**c) for c in data["checks"]),
            front=Front(
                members=tuple(front["members"]),
                dimensions=tuple(front["dimensions"]),
                dropped=tuple(front["dropped"]),
                unplaced={k: tuple(v) for k, v in front["unplaced"].items()},
                ties=tuple(tuple(t) for t in front["ties"]),
                dominated_by={k: tuple(v) for k, v in front["dominated_by"].items()},
            ),
            ranking=tuple(data["ranking"]),
            ranked_on=tuple(data["ranked_on"]),
            ties=tuple(data["ties"]),
            scores=dict(data["scores"]),
            tradeoffs=Tradeoffs.from_dict(data["tradeoffs"]),
            sentences=tuple(data["sentences"]),
            figures=dict(data["figures"]),
        )
