"""How the command line ends when something goes wrong that is not a bad option: an internal
error, Ctrl-C, and names that carry terminal control bytes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.iris import compare_args, save_iris_models

HELPERS = Path(__file__).parents[1] / "helpers"


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    return save_iris_models(tmp_path_factory.mktemp("iris"))


def test_an_internal_error_is_one_line_and_a_saved_report(iris, tmp_path, monkeypatch, capsys):
    import whichmodel.api
    from whichmodel import cli

    def broken(*args, **kwargs):
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(whichmodel.api, "run", broken)
    monkeypatch.setenv("WHICHMODEL_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-never-written")
    monkeypatch.setattr(sys, "argv", ["whichmodel", *compare_args(iris, "--no-cost")])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 1
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("internal error: RuntimeError: a bug over two lines; report saved to")
    (report,) = (tmp_path / "reports").iterdir()
    assert str(report) in line
    text = report.read_text()
    assert "Traceback" in text and "RuntimeError: a bug" in text and "compare" in text
    assert "scikit-learn" in text  # library versions
    assert "sk-secret" not in text


def test_ctrl_c_says_what_was_kept_and_exits_130(tmp_path):
    import numpy as np
    import pandas as pd

    rows = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 4)), columns=list("abcd"))
    rows["label"] = ["x", "y"] * 100
    rows.to_csv(tmp_path / "rows.csv", index=False)
    ref = f"torch:{HELPERS / 'slow_torch.py'}:slow?delay_s=0.05&classes=x,y,z"
    proc = subprocess.Popen(
        [sys.executable, "-m", "whichmodel", "compare", ref, "--data", str(tmp_path / "rows.csv"),
         "--batch-size", "4", "--no-cost"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (tmp_path / ".whichmodel" / "store.db").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # into the predictions
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    # 130 from sys.exit; under load the interpreter has once ended by the signal itself while
    # shutting down (-2), which a shell reports as the same $? of 130.
    assert proc.returncode in (130, -signal.SIGINT), err
    # Besides the progress lines a pipe gets ("[whichmodel] predict slow: 9/50 batches"): one line.
    (line,) = [line for line in err.strip().splitlines() if not line.startswith("[whichmodel] ")]
    assert line.startswith("stopped: interrupted; what finished is in the store")


def test_terminal_control_bytes_in_names_never_reach_the_terminal(cli, iris):
    lr, named = f"sklearn:{iris}/lr.skops", f"sklearn:{iris}/lr.skops?name=evil\x1b[2J\x1b]0;t\x07"
    for extra in ((), ("--format", "markdown")):
        args = [named if a == lr else a for a in compare_args(iris, "--no-cost", *extra)]
        proc = cli(*args)
        assert proc.returncode == 0, proc.stderr
        assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout, extra
        assert "evil\\x1b" in proc.stdout, extra  # shown, not sent
