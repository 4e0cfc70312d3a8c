"""Golden outputs: every case of tests/golden/cases.py run again must give the results.json
recorded from the code before the refactor (tests/golden/<case>.json; see README.md there)."""

from __future__ import annotations

import json

import pytest

from golden.cases import CASES
from golden.record import (
    differences,
    golden_path,
    installed_versions,
    run_case,
    structure_differences,
    versions_match,
)

SLOW = {"demo"}  # trains six models in a subprocess: ~15 s of CPU


def _params() -> list[object]:
    return [pytest.param(name, marks=pytest.mark.slow) if name in SLOW else name for name in CASES]


@pytest.mark.parametrize("case", _params())
def test_results_equal_the_golden_file(case: str) -> None:
    """With the library versions the file was recorded with, the normalized results.json must
    equal the file exactly: every metric, CI, p-value and float bit for bit, every table, spec
    sheet, finding and decision sentence (dictionary key order aside). With other versions
    (``make test-oldest``, ``make test-latest``) numbers may move in the last digits, so only
    the structure is compared: the same key paths with the same value types (null matching
    any type, as a fact one version cannot compute is null)."""
    expected = json.loads(golden_path(case).read_text(encoding="utf-8"))
    actual = run_case(case)
    assert actual["case"] == expected["case"] == case
    if versions_match(expected["versions"]):
        found = differences(expected["results"], actual["results"])
        what = "differs from"
    else:
        found = structure_differences(expected["results"], actual["results"])
        what = "has another structure than"
    assert not found, (
        f"{case}: results.json {what} tests/golden/{case}.json at (first {len(found)}):\n  "
        + "\n  ".join(found)
        + "\nRe-record (python tests/golden/record.py) only for a behaviour change you intend and"
        " name in the commit message."
    )


def test_every_case_has_a_golden_file_recorded_with_the_same_libraries_list() -> None:
    """A new case without its file, or a file recorded with another set of libraries than
    the recorder now lists, is an error rather than a silent structure-only comparison."""
    for case in CASES:
        recorded = json.loads(golden_path(case).read_text(encoding="utf-8"))["versions"]
        assert set(recorded) == set(installed_versions()), case


def test_the_comparison_reports_a_changed_float_and_a_changed_type() -> None:
    """The checks above could fail: a last-bit change, an int for a float, a missing key."""
    expected = {"metrics": [{"value": 0.1, "n": 3}], "note": None}
    assert differences(expected, expected) == []
    assert differences({"x": float("nan")}, {"x": float("nan")}) == []
    changed = {"metrics": [{"value": 0.1 + 2**-56, "n": 3.0}]}
    assert differences(expected, changed) == [
        "$.metrics[0].value: expected 0.1, found 0.10000000000000002",
        "$.metrics[0].n: expected 3, found 3.0",
        "$.note: missing key",
    ]
    assert structure_differences(expected, changed) == ["$.note: missing key"]
    assert structure_differences(expected, {**expected, "note": "text"}) == []
    assert structure_differences({"n": 3}, {"n": "3"}) == ["$.n: number expected, str found"]
