"""`whichmodel demo` as a new user runs it: trains six models once, then reuses everything."""

import json

import pytest

pytestmark = pytest.mark.slow


def test_demo_trains_compares_and_reuses_everything_the_second_time(cli, tmp_path):
    first = cli("demo", cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr
    report = tmp_path / ".whichmodel" / "demo" / "report"
    results = json.loads((report / "results.json").read_text())
    names = [m["name"] for m in results["models"]]
    assert names == ["logreg", "gboost", "mlp", "cnn", "vit", "gru"]
    accuracy = {m["model"]: m["value"] for m in results["metrics"] if m["name"] == "accuracy"}
    assert min(accuracy.values()) > 0.9  # every family learns digits
    assert all(m["cost"] is not None for m in results["models"]), results["models"]
    assert len(results["tests"]) == 15
    assert "Report:" in first.stdout and "cnn" in first.stdout

    second = cli("demo", cwd=tmp_path, timeout=600)
    assert second.returncode == 0, second.stderr
    again = json.loads((report / "results.json").read_text())
    assert [m["computed_batches"] for m in again["models"]] == [0] * 6
    assert again["metrics"] == results["metrics"]
    assert [m["cost"] for m in again["models"]] == [m["cost"] for m in results["models"]]
