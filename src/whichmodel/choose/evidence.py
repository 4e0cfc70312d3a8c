"""One verdict per metric and pair: the paired test the report's tables show, Holm-adjusted.

The decision's sentences and the report's significance lines both read a difference's
significance here, from ``findings.paired_tests`` (:mod:`whichmodel.analysis.paired`: the test
that suits the metric, Holm-adjusted over the model pairs), so a sentence can never call a
difference significant that the table's adjusted test does not (an unadjusted interval that
excludes 0 is not a verdict when several pairs are compared).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from whichmodel.units import P_FLOOR, p_number, resampled_p_floor

if TYPE_CHECKING:
    from whichmodel.analysis.paired import MetricTest
    from whichmodel.results import Results

#: The significance level every verdict uses (the intervals are 95%).
ALPHA = 0.05

#: How each test is named in words.
METHODS = {
    "mcnemar_exact": "McNemar",
    "permutation": "permutation",
    "paired_t": "paired t-test",
    "paired_bootstrap": "paired bootstrap",
}


@dataclass(frozen=True)
class Verdict:
    """The test of ``metric`` between ``model_a`` and ``model_b`` as the tables show it.

    Args:
        method: the test in words ("McNemar", "permutation", ...).
        pairs: model pairs the p-value is adjusted over (1: not adjusted).
        p: the Holm-adjusted p-value (the raw one for a single pair).
        floor: the smallest p-value the test can show as a number (see ``p_number``).
    """

    metric: str
    model_a: str
    model_b: str
    method: str
    pairs: int
    p: float
    floor: float

    @property
    def significant(self) -> bool:
        return self.p < ALPHA

    @property
    def p_number(self) -> str:
        """The p-value as printed: "0.012" or "< 0.001"."""
        return p_number(self.p, floor=self.floor)

    def name(self) -> str:
        """ "Holm-adjusted McNemar" (or "McNemar" when a single pair is tested)."""
        return f"Holm-adjusted {self.method}" if self.pairs > 1 else self.method

    def over(self) -> str:
        """ " over 15 pairs" when adjusted, else ""."""
        return f" over {self.pairs} pairs" if self.pairs > 1 else ""


def verdict(results: Results, metric: str, a: str, b: str) -> Verdict | None:
    """The verdict on ``metric`` between ``a`` and ``b`` (either order), or None when the
    results hold no paired test of it (results without findings)."""
    tests = () if results.findings is None else results.findings.paired_tests
    family = [t for t in tests if t.metric == metric]
    for t in family:
        if {t.model_a, t.model_b} == {a, b}:
            pairs = len({(x.model_a, x.model_b) for x in family})
            return Verdict(metric, a, b, METHODS.get(t.method, t.method), pairs, t.p_holm,
                           p_floor(t, pairs))  # fmt: skip
    return None


def p_floor(t: MetricTest, pairs: int) -> float:
    """The floor of ``t``'s Holm-adjusted p-value among ``pairs`` pairs: a resampled p-value of 0
    is bounded by its resamples, not by 0."""
    if t.p_holm == 0 and t.n_resamples > 0:
        return resampled_p_floor(t.n_resamples, pairs)
    return P_FLOOR
