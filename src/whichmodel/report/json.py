"""``results.json``: a comparison as plain JSON-ready data (schema version in ``schema``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from whichmodel.comparison import Comparison, ModelResult

SCHEMA_VERSION = 1


def comparison_to_dict(c: Comparison) -> dict[str, Any]:
    """Everything a report needs, without per-example rows (those stay in the store)."""
    stats = c.statistics
    return {
        "schema": SCHEMA_VERSION,
        "run_id": c.run_id,
        "task": c.task,
        "config": asdict(c.config),
        "data": {
            "path": c.config.data,
            "fingerprint": c.data_fingerprint,
            "n_examples": c.n_examples,
            "n_scored": stats.n_examples,
            "input_kind": c.input_kind,
        },
        "models": [_model(m) for m in c.models],
        "metrics": [asdict(m) for m in stats.metrics],
        "differences": [{**asdict(d), "excludes_zero": d.excludes_zero} for d in stats.differences],
        "tests": [asdict(t) for t in stats.tests],
        "bootstrap": {
            "n_resamples": stats.n_resamples,
            "confidence": stats.confidence,
            "seed": stats.seed,
            "method": "percentile, paired resamples",
        },
        "provenance": c.provenance,
        **_findings(c),
    }


def _findings(c: Comparison) -> dict[str, Any]:
    """The paired analysis as top-level keys: paired_tests, disagreements, slices, calibration,
    error_clusters (see whichmodel.analysis.findings)."""
    if c.findings is None:
        return {}
    from whichmodel.analysis.findings import findings_to_dict

    return findings_to_dict(c.findings)


def _model(m: ModelResult) -> dict[str, Any]:
    from whichmodel.report.bench import cost_to_dict

    # raw samples stay in the store; each latency keeps its run count ``n``
    cost = None if m.cost is None else cost_to_dict(m.cost)
    return {
        "name": m.name,
        "ref": m.ref,
        "fingerprint": m.fingerprint,
        "n_predicted": len(m.predictions.rows),
        "n_failed": len(m.predictions.failed_rows),
        "failures": [{"row": r, "error": e} for r, e in m.predictions.failed_rows[:20]],
        "reused_batches": m.reused_batches,
        "computed_batches": m.computed_batches,
        "cost": cost,
        "cost_error": m.cost_error,
        "spec": m.spec,
        "spec_error": m.spec_error,
        "store_note": m.store_note,
        "tables": m.tables,
    }
