"""whichmodel's own results checker (report/schema.py) says what jsonschema says of the shipped
schema, on real results and on every one-value edit of them; and choose reads nothing else."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

import whichmodel
from helpers.iris import save_iris_models
from whichmodel.report.schema import results_error, schema_error


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Any]:
    folder = save_iris_models(tmp_path_factory.mktemp("iris"))
    comparison = whichmodel.compare(
        [f"sklearn:{folder}/lr.skops", f"sklearn:{folder}/tree.skops"],
        folder / "iris.csv",
        label_col="target",
        measure_cost=False,
        n_resamples=100,
        store=str(folder / "store.db"),
    )
    results = comparison.results().to_dict()
    results["decision"] = whichmodel.choose(results).to_dict()
    results["decision"]["command"] = "whichmodel compare"
    return json.loads(json.dumps(results))  # as read back from results.json


FINDINGS = ("paired_tests", "disagreements", "slices", "calibration", "error_clusters")


def _jsonschema_error(value: Any) -> str | None:
    import jsonschema

    text = resources.files("whichmodel.report").joinpath("results.schema.json").read_text()
    errors = list(jsonschema.Draft202012Validator(json.loads(text)).iter_errors(value))
    return errors[0].message if errors else None


def _edits(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, new value) for each value under ``value`` (the first two items of each list),
    replaced by one of a few values of other types, or deleted (``KeyError``)."""
    if path:
        for new in ("x", None, [], {}, 5, 2.5, True, -1, KeyError):
            if not (new is KeyError and isinstance(path[-1], int)):
                yield path, new
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _edits(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:2]):
            yield from _edits(item, (*path, i))


def _edited(results: dict[str, Any], path: tuple[Any, ...], new: Any) -> dict[str, Any]:
    out = copy.deepcopy(results)
    target = out
    for key in path[:-1]:
        target = target[key]
    if new is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return out


def test_real_results_follow_the_schema(results) -> None:
    assert _jsonschema_error(results) is None
    assert results_error(results) is None


def test_the_checker_agrees_with_jsonschema_on_every_edit(results) -> None:
    edits = [(p, v) for p, v in _edits(results) if p[0] not in FINDINGS]  # not in the schema
    assert len(edits) > 1000
    disagree = [
        (p, v)
        for p, v in edits
        if (schema_error(_edited(results, p, v)) is None)
        != (_jsonschema_error(_edited(results, p, v)) is None)
    ]
    assert disagree == []


def test_every_edit_that_breaks_a_type_of_the_findings_is_caught(results) -> None:
    findings = {k: results[k] for k in FINDINGS}
    checked = 0
    for path in dict.fromkeys(p for p, _ in _edits(findings)):
        value = _at(results, path)
        wrong = 5 if isinstance(value, str) else [] if isinstance(value, dict) else "x"
        for new in (wrong, KeyError) if isinstance(path[-1], str) else (wrong,):
            assert results_error(_edited(results, path, new)) is not None, (path, new)
            checked += 1
    assert checked > 200


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def test_the_error_names_the_key(results) -> None:
    edited = _edited(results, ("models", 1, "n_failed"), "none")
    assert schema_error(edited) == "results.models[1].n_failed must be an integer; got 'none'"
    edited = _edited(results, ("calibration", 0, "bins", 0, "n"), None)
    assert results_error(edited) == "results.calibration[0].bins[0].n must be an integer; got None"
