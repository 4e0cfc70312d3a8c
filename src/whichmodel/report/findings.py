"""The paired analysis in a few lines of text (terminal), from the typed findings.

One short group per finding: significant paired tests after Holm, disagreement counts, each
slice column's worst slice and fairness gaps, ECE, and each model's biggest error cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whichmodel.choose.evidence import ALPHA, METHODS, p_floor
from whichmodel.report.summary import signed
from whichmodel.units import p_text

if TYPE_CHECKING:
    from whichmodel.analysis.calibration import Calibration
    from whichmodel.analysis.clusters import ModelErrorClusters
    from whichmodel.analysis.disagreements import PairDisagreements
    from whichmodel.analysis.paired import MetricTest
    from whichmodel.analysis.slices import SliceReport
    from whichmodel.results import Results


def finding_lines(results: Results) -> list[str]:
    """Plain-text lines (no markup); empty when ``results`` holds no findings."""
    found = results.findings
    if found is None:
        return []
    return [
        *_tests(found.paired_tests),
        *_disagreements(found.disagreements),
        *_slices(found.slices),
        *_calibration(found.calibration),
        *_clusters(found.error_clusters),
    ]


def _tests(tests: tuple[MetricTest, ...]) -> list[str]:
    if not tests:
        return []
    pairs = len({(t.model_a, t.model_b) for t in tests})
    hits = [t for t in tests if t.p_holm < ALPHA]
    adjust = f", Holm-adjusted over {pairs} pairs" if pairs > 1 else ""
    line = (
        f"Paired tests per metric{adjust}: {len(hits)} of {len(tests)} significant at {ALPHA:.0%}"
    )
    shown = [
        f"{t.model_a} − {t.model_b} {t.metric} {signed(t.diff)} "
        f"({METHODS.get(t.method, t.method)}, {p_text(t.p_holm, floor=_floor(t, tests))})"
        for t in sorted(hits, key=lambda t: t.p_holm)[:3]
    ]
    return [line + (": " + "; ".join(shown) if shown else ".")]


def _floor(t: MetricTest, tests: tuple[MetricTest, ...]) -> float:
    return p_floor(t, len({(x.model_a, x.model_b) for x in tests if x.metric == t.metric}))


def _disagreements(pairs: tuple[PairDisagreements, ...]) -> list[str]:
    lines = []
    for d in pairs[:3]:
        a, b = d.model_a, d.model_b
        regression = d.ranking.startswith("absolute")
        what = "smaller error" if regression else "right, the other wrong"
        line = f"Disagreements {a} vs {b}: {a} {what} on {d.a_only}, {b} on {d.b_only} of {d.n}"
        examples = d.a_wins or d.b_wins
        if examples and not regression:
            top = examples[0]
            line += (
                f" (e.g. row {top.row}: true {top.label}, {a} {top.pred_a}, {b} {top.pred_b})"
            )
        lines.append(line)
    if len(pairs) > 3:
        lines.append(f"  … and {len(pairs) - 3} more pairs in results.json / report.html")
    return lines


def _slices(reports: tuple[SliceReport, ...]) -> list[str]:
    lines = []
    for r in reports:
        worst = "; ".join(
            f"{w.model} {w.value} {w.metric} {w.metric_value:.4f} "
            f"(n={w.n}; overall {w.overall:.4f})"
            for w in r.worst
        )
        lines.append(
            f"Slices by {r.column} ({r.binning}, {len(r.slices)} slices): worst {worst or '—'}"
        )
        if r.fairness:
            gaps = ", ".join(
                f"{g.model} DP {g.demographic_parity_difference:.3f} "
                f"EO {g.equalized_odds_difference:.3f}"
                for g in r.fairness
            )
            lines.append(f"  fairness gaps across {r.column} (fairlearn): {gaps}")
    return lines


def _calibration(cals: tuple[Calibration, ...]) -> list[str]:
    if not cals:
        return []
    values = ", ".join(f"{c.model} {c.ece:.4f}" for c in cals)
    return [f"Expected calibration error (top label, {cals[0].n_bins} equal bins): {values}"]


def _clusters(models: tuple[ModelErrorClusters, ...]) -> list[str]:
    lines = []
    for m in models:
        if not m.clusters:
            continue
        c = m.clusters[0]
        lines.append(
            f"{m.model}: {c.share:.0%} of its error in {c.description} "
            f"({c.n} examples, error rate {c.error_rate:.3g} vs {c.overall_rate:.3g})"
        )
    return lines
