"""compare's decision, `whichmodel choose` and `whichmodel gate` as a user runs them, on real
models and a real run store; results.json validates against the shipped JSON Schema."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from helpers.iris import compare_args, save_iris_models
from whichmodel.choose.gate import GATE_FAILED_EXIT_CODE

pytestmark = pytest.mark.slow  # two real cost probes and a few CLI subprocesses: ~30 s


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_iris_models(tmp_path_factory.mktemp("iris"))


@pytest.fixture(scope="module")
def run(iris: Path) -> dict[str, Any]:
    """One real comparison with cost, a latency limit and a minimum accuracy."""
    from conftest import run_cli

    proc = run_cli(
        *compare_args(
            iris, "--out", str(iris / "out"), "--min", "accuracy=0.9", "--max-latency-ms", "1000"
        )
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads((iris / "out" / "results.json").read_text())


def _schema() -> dict[str, Any]:
    text = resources.files("whichmodel.report").joinpath("results.schema.json").read_text()
    return json.loads(text)


def validate(results: dict[str, Any]) -> None:
    import jsonschema

    jsonschema.Draft202012Validator(_schema()).validate(results)


NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*")


def test_compare_stores_a_decision_whose_numbers_are_its_figures(run: dict[str, Any]) -> None:
    validate(run)
    d = run["decision"]
    # Both meet the limits, unless the machine was too busy to time one: an unreliable
    # latency cannot be shown to meet --max-latency-ms (bench/conditions.py).
    timed = {m["name"] for m in run["models"] if not m["cost"]["unreliable"]}
    assert set(d["eligible"]) == timed and d["pick"] in (*timed, None)
    latency = [c for c in d["checks"] if c["kind"] == "latency"]
    assert {c["model"] for c in latency if c["status"] == "unknown"} == {"lr", "tree"} - timed
    assert d["constraints"]["min_metrics"] == {"accuracy": 0.9}
    assert "--max-latency-ms 1000" in d["command"]
    text = " ".join(d["sentences"])
    for token in ("lr", "tree", "accuracy", "p50"):
        text = text.replace(token, " ")
    seen = {float(n.replace(",", "")) for n in NUMBER.findall(text)}
    printed = {float(n.replace(",", "")) for v in d["figures"].values() for n in NUMBER.findall(v)}
    assert seen and seen <= printed
    # The figures are the measured values, rounded: latency at batch 1, from the cost profile.
    for name in ("lr", "tree"):
        key = f"latency_ms[{name}]"
        if key in d["figures"]:
            model = next(m for m in run["models"] if m["name"] == name)
            measured_ms = model["cost"]["latency"]["1"]["p50_s"] * 1e3
            assert float(d["figures"][key]) == pytest.approx(measured_ms, rel=0.01)


def test_schema_rejects_a_broken_results_file(run: dict[str, Any]) -> None:
    import jsonschema

    broken = json.loads(json.dumps(run))
    broken["decision"]["checks"][0]["status"] = "probably fine"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    del broken["metrics"]
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_choose_from_a_results_file_and_from_the_store_without_recomputing(
    cli: Any, iris: Path, run: dict[str, Any]
) -> None:
    results_json = str(iris / "out" / "results.json")
    proc = cli("choose", results_json, "--max-latency-ms", "0.000001", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    decided = json.loads(proc.stdout)
    validate(decided)
    assert decided["decision"]["pick"] is None
    assert decided["decision"]["sentences"][0] == "No model meets every constraint."
    assert decided["metrics"] == run["metrics"]  # read, not measured again
    from_store = cli("choose", "--store", str(iris / "store.db"), "--prefer", "memory")
    assert from_store.returncode == 0, from_store.stderr
    assert "Pick " in from_store.stdout and "Decision" in from_store.stdout
    by_id = cli("choose", run["run_id"][:8], "--store", str(iris / "store.db"), "--format", "json")
    assert json.loads(by_id.stdout)["run_id"] == run["run_id"]


def test_markdown_for_pull_requests(cli: Any, iris: Path, run: dict[str, Any]) -> None:
    # `run` writes out/results.json: without it this test depended on running after another.
    proc = cli("choose", str(iris / "out" / "results.json"), "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    md = proc.stdout
    assert md.startswith("### whichmodel: classification on ")
    assert "**Pick: " in md and "| model | accuracy ↑ |" in md and "**Trade-offs**" in md


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--min", "accuracy"), "--min takes NAME=NUMBER"),
        (("--min", "acc=0.9"), "names the metric 'acc'"),
        (("--prefer", "sped"), "Did you mean 'speed'"),
        (("--max-cost-per-1k", "1"), "--max-cost-per-1k needs --price-per-hour"),
        (("--format", "pdf"), "--format must be text, markdown or json"),
    ],
)
def test_bad_choices_are_one_line_and_exit_2(
    cli: Any, iris: Path, run: dict[str, Any], args: tuple[str, ...], message: str
) -> None:
    proc = cli("choose", str(iris / "out" / "results.json"), *args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_choose_without_a_run_says_what_to_do(cli: Any, tmp_path: Path) -> None:
    proc = cli("choose", "--store", str(tmp_path / "none.db"))
    assert proc.returncode == 2 and "run compare first" in proc.stderr


def test_yaml_choose_block(cli: Any, iris: Path, run: dict[str, Any]) -> None:
    config = iris / "whichmodel.yaml"
    config.write_text(
        f"models: [sklearn:{iris}/lr.skops, sklearn:{iris}/tree.skops]\n"
        f"data: {iris}/iris.csv\nlabel_col: target\nstore: {iris}/store.db\n"
        "measure_cost: false\n"
        "choose: {min: {accuracy: 0.965}, prefer: memory}\n"
    )
    proc = cli("compare", str(config), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)["decision"]
    assert d["objective"]["prefer"] == "memory"
    assert d["eligible"] == ["lr"]  # tree's accuracy is 0.96 < 0.965
    typo = iris / "typo.yaml"
    typo.write_text(config.read_text().replace("prefer:", "prefr:"))
    bad = cli("compare", str(typo))
    assert bad.returncode == 2 and "Did you mean 'prefer'" in bad.stderr


def test_gate_fails_with_exit_3_on_a_significantly_worse_candidate(
    cli: Any, iris: Path, run: dict[str, Any]
) -> None:
    args = (
        f"sklearn:{iris}/lr.skops",
        "--data",
        f"{iris}/iris.csv",
        "--label-col",
        "target",
        "--store",
        str(iris / "store.db"),
        "--no-cost",
        "--metric",
        "accuracy",
    )
    worse = cli("gate", args[0], f"sklearn:{iris}/dummy.skops", *args[1:])
    assert worse.returncode == GATE_FAILED_EXIT_CODE == 3, worse.stderr
    assert "gate dummy vs lr: FAIL" in worse.stdout
    assert "significantly worse by more than the tolerated loss" in worse.stdout
    same = cli("gate", args[0], f"sklearn:{iris}/tree.skops", *args[1:], "--min-delta", "0.05")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "gate tree vs lr: PASS" in same.stdout
    limit = cli(
        "gate",
        args[0],
        f"sklearn:{iris}/tree.skops",
        *args[1:],
        "--min-delta",
        "0.05",
        "--max-memory-mb",
        "100",
        "--format",
        "markdown",
    )
    assert limit.returncode == 3  # --no-cost: memory is unknown, so the limit is not shown met
    assert "**Gate: ❌ FAIL**" in limit.stdout and "memory: unknown" in limit.stdout
