"""The report of a comparison decided again as if the machine had been quiet, for the browser
tests: they check the page, not the machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def decided_as_if_quiet(results: dict[str, Any], folder: Path) -> Path:
    """``report.html`` of ``results`` (results.json's data) with every cost's and the interleaved
    rounds' unreliability set aside, written by ``whichmodel choose`` under ``folder / "q"``.

    On a busy machine (CI runs two test workers on two cores) the costs come out unreliable and
    decide nothing, and the interleaved rounds can order two models against their one-at-a-time
    medians, and then neither latency decides. Set aside (still shown on the page, names and
    all), the decision, its Pareto plot and the latency plot have figures to show.
    """
    from conftest import run_cli

    for model in results["models"]:
        model["cost"]["unreliable"] = []
    rounds = results.get("paired_latency")
    if rounds is not None and rounds["skipped"] is None:
        rounds["unreliable"] = ["set aside by this test: it checks the page, not the machine"]
    quiet = folder / "quiet.json"
    quiet.write_text(json.dumps(results), encoding="utf-8")
    proc = run_cli("choose", str(quiet), "--max-latency-ms", "10000", "--out", str(folder / "q"))
    assert proc.returncode == 0, proc.stderr
    return folder / "q" / "report.html"
