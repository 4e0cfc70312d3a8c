"""The paired analysis in a few lines of text (terminal), from the ``results.json`` dictionary.

One short group per finding: significant paired tests after Holm, disagreement counts, each
slice column's worst slice and fairness gaps, ECE, and each model's biggest error cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whichmodel.report.summary import ALPHA, signed

if TYPE_CHECKING:
    from whichmodel.results import Results


def finding_lines(typed: Results) -> list[str]:
    """Plain-text lines (no markup); empty when ``results`` holds no findings."""
    results = typed.to_dict()  # TRANSITION: typed access below
    if "paired_tests" not in results:
        return []
    return [
        *_tests(results["paired_tests"]),
        *_disagreements(results["disagreements"]),
        *_slices(results["slices"]),
        *_calibration(results["calibration"]),
        *_clusters(results["error_clusters"]),
    ]


def _tests(tests: list[dict[str, Any]]) -> list[str]:
    if not tests:
        return []
    pairs = len({(t["model_a"], t["model_b"]) for t in tests})
    hits = [t for t in tests if t["p_holm"] < ALPHA]
    adjust = f", Holm-adjusted over {pairs} pairs" if pairs > 1 else ""
    line = (
        f"Paired tests per metric{adjust}: {len(hits)} of {len(tests)} significant at {ALPHA:.0%}"
    )
    shown = [
        f"{t['model_a']} − {t['model_b']} {t['metric']} {signed(t['diff'])} "
        f"({t['method']}, p={t['p_holm']:.3g})"
        for t in sorted(hits, key=lambda t: t["p_holm"])[:3]
    ]
    return [line + (": " + "; ".join(shown) if shown else ".")]


def _disagreements(pairs: list[dict[str, Any]]) -> list[str]:
    lines = []
    for d in pairs[:3]:
        a, b = d["model_a"], d["model_b"]
        regression = d["ranking"].startswith("absolute")
        what = "smaller error" if regression else "right, the other wrong"
        line = (
            f"Disagreements {a} vs {b}: {a} {what} on {d['a_only']}, {b} on {d['b_only']} "
            f"of {d['n']}"
        )
        top = (d["a_wins"] or d["b_wins"] or [None])[0]
        if top is not None and not regression:
            line += (
                f" (e.g. row {top['row']}: true {top['label']}, {a} {top['pred_a']}, "
                f"{b} {top['pred_b']})"
            )
        lines.append(line)
    if len(pairs) > 3:
        lines.append(f"  … and {len(pairs) - 3} more pairs in results.json / report.html")
    return lines


def _slices(reports: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in reports:
        worst = "; ".join(
            f"{w['model']} {w['value']} {w['metric']} {w['metric_value']:.4f} "
            f"(n={w['n']}; overall {w['overall']:.4f})"
            for w in r["worst"]
        )
        lines.append(
            f"Slices by {r['column']} ({r['binning']}, {len(r['slices'])} slices): "
            f"worst {worst or '—'}"
        )
        if r["fairness"]:
            gaps = ", ".join(
                f"{g['model']} DP {g['demographic_parity_difference']:.3f} "
                f"EO {g['equalized_odds_difference']:.3f}"
                for g in r["fairness"]
            )
            lines.append(f"  fairness gaps across {r['column']} (fairlearn): {gaps}")
    return lines


def _calibration(cals: list[dict[str, Any]]) -> list[str]:
    if not cals:
        return []
    values = ", ".join(f"{c['model']} {c['ece']:.4f}" for c in cals)
    return [f"Expected calibration error (top label, {cals[0]['n_bins']} equal bins): {values}"]


def _clusters(models: list[dict[str, Any]]) -> list[str]:
    lines = []
    for m in models:
        if not m["clusters"]:
            continue
        c = m["clusters"][0]
        lines.append(
            f"{m['model']}: {c['share']:.0%} of its error in {c['description']} "
            f"({c['n']} examples, error rate {c['error_rate']:.3g} vs {c['overall_rate']:.3g})"
        )
    return lines
