"""The command line as a user runs it: real subprocesses, exit codes and messages."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from helpers.iris import compare_args, save_iris_models


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    return save_iris_models(tmp_path_factory.mktemp("iris"))


def test_compare_prints_a_table_with_winners_and_significance(cli, iris):
    proc = cli(*compare_args(iris, "--no-cost"))
    assert proc.returncode == 0, proc.stderr
    assert "accuracy ↑" in proc.stdout and "log_loss ↓" in proc.stdout
    assert "★" in proc.stdout
    # the significance verdict is the metric's (Holm-adjusted) McNemar, as the decision's
    assert re.search(r"McNemar p [=<] \d", proc.stdout), proc.stdout


def test_json_and_report_files(cli, iris, tmp_path):
    proc = cli(*compare_args(iris, "--json", "--out", str(tmp_path / "out")))
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    on_disk = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["metrics"] == on_disk["metrics"]
    assert {m["name"] for m in results["models"]} == {"lr", "tree"}
    cost = results["models"][0]["cost"]
    assert cost["parameters"] == 4 * 3 + 3  # coef_ (3 classes x 4 features) + intercept_
    assert cost["latency"]["1"]["p50_s"] > 0 and cost["latency"]["64"]["n"] >= 5
    assert cost["model_memory_bytes"] > 0 and cost["size_on_disk_bytes"] > 0
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<svg" in html and "lr" in html


def test_config_file(cli, iris, tmp_path):
    config = tmp_path / "whichmodel.yaml"
    config.write_text(
        f"models:\n  - sklearn:{iris}/lr.skops\n"
        f"  - {{ref: 'sklearn:{iris}/tree.skops', name: stump}}\n"
        f"data: {iris}/iris.csv\nlabel_col: target\nmeasure_cost: false\nbootstrap: 200\n"
        f"store: {tmp_path}/store.db\n"
    )
    proc = cli("compare", str(config), "--json")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert [m["name"] for m in results["models"]] == ["lr", "stump"]
    assert results["bootstrap"]["n_resamples"] == 200


def lr_path(folder):
    return f"sklearn:{folder}/lr.skops"


def _bad_inputs(folder, tmp):
    (tmp / "model.joblib").write_bytes(b"not really")
    (tmp / "bad.yaml").write_text("models: [a.skops]\ndata: x.csv\nbatchsize: 3\n")
    (tmp / "latin1.csv").write_bytes("a,label\ncaf\xe9,1\n".encode("latin-1"))
    (tmp / "types.yaml").write_text(
        f"models: [{lr_path(folder)}]\ndata: {folder}/iris.csv\n"
        "label_col: target\nbatch_size: '8'\n"
    )
    (tmp / "string.yaml").write_text(f"models: {lr_path(folder)}\ndata: x.csv\n")
    data = f"{folder}/iris.csv"
    lr = f"sklearn:{folder}/lr.skops"
    return [
        (("compare", lr, "--data", "missing.csv"), "No data file at missing.csv"),
        (("compare", lr, "--data", data), "no label column 'label'"),
        (
            ("compare", lr, "--data", data, "--label-col", "target", "--task", "clasification"),
            "Did you mean 'classification'",
        ),
        (
            ("compare", f"sklearn:{tmp}/model.joblib", "--data", data, "--label-col", "target"),
            "--allow-pickle",
        ),
        (("compare", "sklaern:thing.skops", "--data", data), "Did you mean 'sklearn:'?"),
        (("compare", str(tmp / "bad.yaml")), "Did you mean 'batch_size'"),
        (("compare", lr, "--data", str(tmp / "latin1.csv")), "not UTF-8"),
        (
            ("compare", lr, "--data", data, "--label-col", "target", "--batch-size", "0"),
            "batch size must be at least 1",
        ),
        (("compare", lr), "Missing --data"),
        (("compare", str(tmp / "types.yaml")), "The 'batch_size' option must be int. Got '8'"),
        (("compare", str(tmp / "string.yaml")), "'models' in"),
    ]


def test_bad_input_is_one_clear_line_and_exit_code_2(cli, iris, tmp_path):
    for args, message in _bad_inputs(iris, tmp_path):
        proc = cli(*args, "--store", str(tmp_path / "s.db"), cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_a_task_that_does_not_fit_the_models_is_refused(cli, iris, tmp_path):
    # Regression on a classifier's output: one line, and no report half-written.
    proc = cli(*compare_args(iris, "--task", "regression", "--out", str(tmp_path / "out")))
    assert proc.returncode == 2
    assert "use --task classification" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_help_is_instant_and_imports_no_heavy_library(cli):
    import subprocess
    import sys

    proc = cli("--help")
    assert proc.returncode == 0 and "compare" in proc.stdout
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, whichmodel.cli; heavy = ('torch', 'sklearn', 'pandas', 'transformers'); "
            "print(sorted(m for m in heavy if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "[]"


def test_unseen_numbers_match_sklearn_through_the_cli(cli, iris):
    from sklearn.metrics import accuracy_score

    proc = cli(*compare_args(iris, "--no-cost", "--json"))
    results = json.loads(proc.stdout)
    frame = pd.read_csv(iris / "iris.csv")
    model = sio.load(iris / "tree.skops", trusted=sio.get_untrusted_types(file=iris / "tree.skops"))
    expected = accuracy_score(frame["target"], model.predict(frame.drop(columns="target")))
    (acc,) = [m for m in results["metrics"] if m["model"] == "tree" and m["name"] == "accuracy"]
    assert acc["value"] == expected
    assert np.isfinite(acc["ci_low"]) and acc["ci_low"] <= expected <= acc["ci_high"]


def test_names_and_messages_are_printed_as_text_not_markup(cli, iris):
    named = f"sklearn:{iris}/lr.skops?name=a[/b][bold]x"
    proc = cli(
        "compare",
        named,
        "--data",
        f"{iris}/iris.csv",
        "--label-col",
        "target",
        "--store",
        f"{iris}/store.db",
        "--no-cost",
    )
    assert proc.returncode == 0, proc.stderr
    assert "a[/b][bold]x" in proc.stdout
    missing = cli("compare", named, "--data", f"{iris}/iris.csv", "--label-col", "[nope]")
    assert missing.returncode == 2 and "'[nope]'" in missing.stderr
