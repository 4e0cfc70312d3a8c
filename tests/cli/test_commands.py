"""Every command run in-process through main(): exit code and the text the user reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cli.conftest import Invoke  # the fixture's type; conftest is not imported at run time


def compare_args(iris: Path, *extra: str) -> tuple[str, ...]:
    return ("compare", f"sklearn:{iris}/lr.skops", f"sklearn:{iris}/tree.skops",
            "--data", f"{iris}/iris.csv", "--label-col", "target", "--no-cost", *extra)  # fmt: skip


def one_line(stderr: str) -> str:
    """The one line a command printed on stderr, apart from its progress lines (a pipe gets
    ``[whichmodel] predict lr: 3/3 batches`` as the work goes)."""
    (line,) = [line for line in stderr.strip().splitlines() if not line.startswith("[whichmodel] ")]
    return line


def test_compare_prints_the_tables_and_the_decision(invoke: Invoke, iris: Path) -> None:
    ran = invoke(*compare_args(iris, "--min", "accuracy=0.9", "--prefer", "memory"))
    assert ran.exit_code == 0, ran.stderr
    assert "classification, n=150, 95% bootstrap CI" in ran.stdout
    assert "\nDecision\n  Pick lr: of the 2 models that meet every constraint" in ran.stdout
    assert "ranks first on best memory" in ran.stdout
    assert (Path(".whichmodel") / "store.db").is_file()  # the default store, in the cwd


def test_compare_json_records_the_decision_and_its_command(invoke: Invoke, iris: Path) -> None:
    ran = invoke(*compare_args(iris, "--json", "--max", "log_loss=0.13"))
    assert ran.exit_code == 0, ran.stderr
    decision = json.loads(ran.stdout)["decision"]
    assert decision["eligible"] == ["lr"]  # tree's log_loss is 0.14
    assert decision["constraints"]["max_metrics"] == {"log_loss": 0.13}
    assert decision["command"].startswith("whichmodel compare ")
    assert decision["command"].endswith("--json --max log_loss=0.13")


def test_compare_writes_the_report_folder(invoke: Invoke, iris: Path, tmp_path: Path) -> None:
    ran = invoke(*compare_args(iris, "--out", str(tmp_path / "out"), "--format", "markdown"))
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith("### whichmodel: classification on ")
    written = f"Wrote {tmp_path / 'out' / 'results.json'}, {tmp_path / 'out' / 'report.html'}"
    assert one_line(ran.stderr) == written


def test_compare_from_a_yaml_file_with_flags_over_it(invoke: Invoke, iris: Path) -> None:
    config = Path("whichmodel.yaml")
    config.write_text(
        f"models: [sklearn:{iris}/lr.skops, sklearn:{iris}/tree.skops]\n"
        f"data: {iris}/iris.csv\nlabel_col: target\nmeasure_cost: false\nseed: 3\n"
        "choose: {min: {accuracy: 0.965}, prefer: memory}\n"
    )
    ran = invoke("compare", str(config), "--format", "json", "--seed", "5", "--prefer", "latency")
    assert ran.exit_code == 0, ran.stderr
    results = json.loads(ran.stdout)
    assert results["config"]["seed"] == 5 and results["config"]["measure_cost"] is False
    assert results["decision"]["objective"]["prefer"] == "latency"
    assert results["decision"]["eligible"] == ["lr"]  # the file's min: tree has 0.96


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("compare", "sklearn:m.skops"), "error: Missing --data: the file to evaluate the models"),
        (("compare", "sklearn:m.skops", "-d", "x.csv", "--format", "pdf"),
         "error: --format must be text, markdown or json. Got 'pdf'."),
        (("compare", "sklearn:m.skops", "-d", "x.csv", "--min", "acc"),
         "error: --min takes NAME=NUMBER (e.g. accuracy=0.9). Got 'acc'."),
        (("compare", "sklearn:m.skops", "-d", "x.csv", "--max-cost-per-1k", "1"),
         "error: --max-cost-per-1k needs --price-per-hour"),
        (("compare", "sklearn:m.skops", "-d", "x.csv", "--prefer", "sped"),
         "Did you mean 'speed'?"),
        (("compare", "missing.yaml"), "error: No config file at missing.yaml."),
        # click names the program after __main__: pytest here, so only the end is fixed
        (("comapre",), "error: No such command 'comapre'. Did you mean 'compare'? (see: "),
        (("comapre",), "whichmodel --help)"),
        # click words it "No such option: --bogus" or "No such option '--bogus'." by version
        (("compare", "sklearn:m.skops", "--bogus"), "error: No such option"),
        (("compare", "sklearn:m.skops", "--bogus"), "--bogus"),
        (("compare", "sklearn:m.skops", "--bogus"), "whichmodel compare --help)"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(invoke: Invoke, args: tuple[str, ...], message: str
                                         ) -> None:  # fmt: skip
    ran = invoke(*args)
    assert ran.exit_code == 2
    assert message in one_line(ran.stderr)
    assert not Path(".whichmodel").exists()  # refused before any work


def test_no_arguments_prints_the_help(invoke: Invoke) -> None:
    ran = invoke()
    assert ran.exit_code == 2 and ran.stderr == ""
    for command in (
        "compare", "demo", "inspect", "diff", "windows", "bench", "machine", "choose", "gate",
        "report",
    ):
        assert f"\n  {command} " in ran.stdout


def test_ctrl_c_is_one_line_and_exit_130(invoke: Invoke, iris: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import whichmodel.api

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(whichmodel.api, "run", interrupted)
    ran = invoke(*compare_args(iris))
    assert ran.exit_code == 130
    assert one_line(ran.stderr).startswith("stopped: interrupted; what finished is in the store")


def test_demo_in_a_folder_it_cannot_make_is_one_line(invoke: Invoke) -> None:
    Path("taken").write_text("a file\n")
    ran = invoke("demo", "--workdir", "taken/demo", "--no-cost")
    assert ran.exit_code == 2
    assert one_line(ran.stderr).startswith("error: cannot use taken/demo")


def test_inspect_prints_the_sheet_or_its_json(invoke: Invoke, iris: Path) -> None:
    ran = invoke("inspect", f"sklearn:{iris}/lr.skops")
    assert ran.exit_code == 0, ran.stderr
    assert "lr: LogisticRegression" in ran.stdout
    assert "identity.family          linear" in ran.stdout
    as_json = invoke("inspect", f"sklearn:{iris}/lr.skops", "--json")
    assert json.loads(as_json.stdout)["identity"]["name"] == "lr"
    bad = invoke("inspect", f"sklearn:{iris}/lr.skops", "--input-shape", "a,b")
    assert bad.exit_code == 2
    assert one_line(bad.stderr) == (
        "error: --input-shape must be integers separated by commas. Got 'a,b'."
    )


def test_diff_says_what_differs(invoke: Invoke, iris: Path) -> None:
    lr, tree = f"sklearn:{iris}/lr.skops", f"sklearn:{iris}/tree.skops"
    ran = invoke("diff", lr, tree)
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith("lr vs tree: 12 differences, 6 facts the same\n")
    assert "  • tree: parameters 3.0× smaller than lr" in ran.stdout
    as_json = json.loads(invoke("diff", lr, tree, "--json").stdout)
    assert as_json["a"]["identity"]["name"] == "lr"


def test_windows_writes_the_windows_and_says_how_to_compare(invoke: Invoke) -> None:
    import pandas as pd

    rows = [{"unique_id": s, "ds": t, "y": float(t * (s + 1))} for s in range(2) for t in range(30)]
    pd.DataFrame(rows).to_csv("long.csv", index=False)
    ran = invoke("windows", "long.csv", "--out", "w.jsonl", "--history", "5", "--horizon", "2",
                 "--last", "2")  # fmt: skip
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.startswith("4 windows of 2 series -> w.jsonl; compare with --input-cols")
    assert len(Path("w.jsonl").read_text().splitlines()) == 4
    bad = invoke("windows", "long.csv", "--out", "w.jsonl", "--history", "0", "--horizon", "2")
    assert bad.exit_code == 2
    line = one_line(bad.stderr)
    # the reason is click's, worded by version ("0 is not in the range x>=1.", "Input should be
    # greater than or equal to 1")
    assert line.startswith("error: Invalid value for '--history': ")
    assert line.endswith("whichmodel windows --help)")


def test_bench_times_a_model_on_its_data(invoke: Invoke, iris: Path) -> None:
    args = ("bench", f"sklearn:{iris}/lr.skops", "--data", f"{iris}/iris.csv", "--label-col",
            "target", "--batch", "1,2", "--budget", "0.05", "--store", "b.db")  # fmt: skip
    ran = invoke(*args, "--json")
    assert ran.exit_code == 0, ran.stderr
    (result,) = json.loads(ran.stdout)
    assert result["name"] == "lr" and set(result["latency"]) == {"1", "2"}
    text = invoke(*args)
    assert "lr (LogisticRegression) on " in text.stdout and "memory and cold start" in text.stdout
    bad = invoke("bench", f"sklearn:{iris}/lr.skops", "--batch", "one")
    assert bad.exit_code == 2
    assert one_line(bad.stderr) == (
        "error: The '--batch' option must be comma-separated integers, e.g. 1,8,32. Got 'one'."
    )


def test_choose_decides_again_from_a_results_file_or_the_store(
    invoke: Invoke, iris: Path, tmp_path: Path
) -> None:
    assert invoke(*compare_args(iris, "--out", "out", "--format", "json")).exit_code == 0
    ran = invoke("choose", "out/results.json", "--max-latency-ms", "0.000001", "--format", "json")
    assert ran.exit_code == 0, ran.stderr
    assert json.loads(ran.stdout)["decision"]["sentences"][0] == "No model meets every constraint."
    text = invoke("choose", "--prefer", "memory", "--metric", "macro_f1")  # the latest run
    assert text.exit_code == 0, text.stderr
    assert "\nDecision\n  Pick lr" in text.stdout
    missing = invoke("choose", "--store", "none.db")
    assert missing.exit_code == 2
    assert one_line(missing.stderr) == (
        "error: No run store at none.db; run compare first or name a results.json."
    )


def test_gate_fails_with_exit_3_and_passes_with_0(invoke: Invoke, iris: Path) -> None:
    def gate(candidate: str, *extra: str) -> tuple[str, ...]:
        models = (f"sklearn:{iris}/lr.skops", f"sklearn:{iris}/{candidate}.skops")
        return ("gate", *models, "--data", f"{iris}/iris.csv", "--label-col", "target",
                "--no-cost", *extra)  # fmt: skip

    worse = invoke(*gate("dummy", "--metric", "accuracy"))
    assert worse.exit_code == 3, worse.stderr
    assert "gate dummy vs lr: FAIL\n  ✗ accuracy: dummy − lr = -0.6400" in worse.stdout
    same = invoke(*gate("tree", "--min-delta", "0.05", "--format", "json"))
    assert same.exit_code == 0, same.stderr
    verdict = json.loads(same.stdout)["gate"]
    assert verdict["passed"] is True and verdict["exit_code"] == 0
    bad = invoke(*gate("tree", "--min-delta", "lots"))
    assert bad.exit_code == 2
    assert one_line(bad.stderr) == (
        "error: --min-delta takes a number >= 0 (the tolerated loss) or METRIC=NUMBER. "
        "Got 'lots'."
    )
    no_prefer = invoke(*gate("tree", "--prefer", "memory"))
    assert no_prefer.exit_code == 2
    assert "No such option" in no_prefer.stderr and "--prefer" in no_prefer.stderr
