"""What any good command-line tool does, checked as a user in CI sees it: a real subprocess with
pipes for stdout and stderr (no terminal) and an 80-column ``COLUMNS``.

--version, shell completion, --quiet and --verbose, plain progress lines, the Ctrl-C message,
help that names every task and fits 80 columns, and ``report``'s re-rendering.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

HELPERS = Path(__file__).parents[1] / "helpers"
COMMANDS = ("compare", "demo", "inspect", "diff", "windows", "bench", "machine", "choose", "gate",
            "report", "compare-samples")  # fmt: skip


def whichmodel(*args: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``python -m whichmodel ARGS`` with pipes (not a terminal) at 80 columns."""
    return subprocess.run(
        [sys.executable, "-m", "whichmodel", *args], capture_output=True, text=True, cwd=cwd,
        timeout=timeout, env={**os.environ, "COLUMNS": "80", **(env or {})}, check=False,
    )  # fmt: skip


def iris_compare(iris: Path, *extra: str) -> tuple[str, ...]:
    return ("compare", f"sklearn:{iris}/lr.skops", f"sklearn:{iris}/tree.skops",
            "--data", f"{iris}/iris.csv", "--label-col", "target", "--no-cost", *extra)  # fmt: skip


def progress_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("[whichmodel] ")]


def test_version_is_one_line_with_the_package_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    proc = whichmodel("--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"whichmodel {version('whichmodel')}\n"
    assert proc.stderr == ""


# Typer guesses the shell from the parent processes unless told not to; then "bash" is the
# option's value. Without it the test depended on its parent shell ("Shell sh not supported").
NO_SHELL_GUESS = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def test_completion_is_shown_and_installed_under_home_only(tmp_path: Path) -> None:
    shown = whichmodel("--show-completion", "bash", cwd=tmp_path, env=NO_SHELL_GUESS)
    assert shown.returncode == 0, shown.stderr
    assert "_whichmodel_completion()" in shown.stdout
    assert "complete -o default -F _whichmodel_completion whichmodel" in shown.stdout

    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    real_rc = Path.home() / ".bashrc"
    before = real_rc.stat().st_mtime_ns if real_rc.exists() else None
    proc = whichmodel(
        "--install-completion", "bash", cwd=cwd, env={"HOME": str(home), **NO_SHELL_GUESS}
    )
    assert proc.returncode == 0, proc.stderr
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
    assert written == [".bash_completions/whichmodel.sh", ".bashrc"]
    assert "_whichmodel_completion" in (home / ".bash_completions/whichmodel.sh").read_text()
    assert "whichmodel.sh" in (home / ".bashrc").read_text()
    assert list(cwd.iterdir()) == []  # nothing beside the command either
    assert (real_rc.stat().st_mtime_ns if real_rc.exists() else None) == before


def test_help_names_every_task_and_fits_80_columns(tmp_path: Path) -> None:
    from whichmodel.tasks import TASKS

    helps = {c: whichmodel(*[c] * bool(c), "--help", cwd=tmp_path) for c in ("", *COMMANDS)}
    for command, proc in helps.items():
        assert proc.returncode == 0, (command, proc.stderr)
        lines = proc.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80, command
        # Options name their values in words (FILE, DIR, N, METRIC=VALUE), flags none.
        options = [line for line in lines if line.lstrip().startswith("-")]
        assert not [line for line in options if "<" in line], command
        # ... and arguments too: no Python type such as <list[str]> beside REF
        assert not re.findall(r"<[\w\[\], ]+>", proc.stdout), command
    assert all(f"\n  {c} " in helps[""].stdout for c in COMMANDS)
    task_help = helps["compare"].stdout.split("--task TASK")[1].split("--input-cols")[0]
    words = set(re.findall(r"[\w-]+", task_help))
    assert set(TASKS.names()) <= words  # each whole: no name broken at its hyphen
    assert "-d, --data PATH " in helps["compare"].stdout
    assert "  --min METRIC=VALUE " in helps["compare"].stdout
    assert "  --out DIR " in helps["report"].stdout


def test_quiet_prints_the_decision_and_verbose_each_step(iris: Path, tmp_path: Path) -> None:
    verbose = whichmodel("--verbose", *iris_compare(iris), cwd=tmp_path)
    assert verbose.returncode == 0, verbose.stderr
    steps = progress_lines(verbose.stderr)
    assert "[whichmodel] predict lr: 0/3 batches" in steps  # a step's start, then its end
    assert "[whichmodel] predict lr: 3/3 batches" in steps
    assert "[whichmodel] statistics: started" in steps
    assert steps.index("[whichmodel] statistics: started") < steps.index(
        "[whichmodel] statistics: done"
    )

    normal = whichmodel(*iris_compare(iris, "--out", "out"), cwd=tmp_path)
    assert normal.returncode == 0, normal.stderr
    assert "classification, n=150" in normal.stdout and "\nDecision\n" in normal.stdout
    # Ends only: everything came from the store, so each step is one line.
    assert progress_lines(normal.stderr) == [
        "[whichmodel] predict lr: 3/3 batches", "[whichmodel] predict tree: 3/3 batches"
    ]
    assert normal.stderr.splitlines()[-1].startswith("Wrote ")

    quiet = whichmodel("-q", *iris_compare(iris, "--out", "out"), cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert quiet.stdout.startswith("Decision\n  Pick lr")
    assert "n=150" not in quiet.stdout
    assert max(len(line) for line in quiet.stdout.splitlines()) <= 80
    # Wrapped sentences keep their indent.
    assert all(line.startswith("  ") for line in quiet.stdout.splitlines()[1:])

    both = whichmodel("-q", "-v", *iris_compare(iris), cwd=tmp_path)
    assert both.returncode == 2
    assert both.stderr == "error: --quiet and --verbose contradict each other; give one.\n"


def test_plain_progress_lines_are_bounded_in_rate() -> None:
    from whichmodel.cli.render import PlainProgress

    now = [0]
    lines: list[str] = []
    progress = PlainProgress(lines.append, every_s=2.0, clock=lambda: now[0] / 100)
    for done in range(1001):  # a million-batch run in miniature: 1,000 batches over 10 s
        now[0] = done
        progress("predict big", done, 1000)
    # One line per 2 s, the last when the step ends.
    assert lines == [f"[whichmodel] predict big: {n}/1000 batches" for n in range(200, 1001, 200)]
    progress("statistics", 0, 1)
    progress("statistics", 1, 1)
    progress("statistics", 1, 1)  # its end again: said already
    progress("statistics", 0, 1)  # the same step run again: its end is news
    progress("statistics", 1, 1)
    assert lines[5:] == ["[whichmodel] statistics: done"] * 2


def _slow_rows(tmp_path: Path) -> Path:
    rows = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 4)), columns=list("abcd"))
    rows["label"] = ["x", "y"] * 100  # the model scores x, y and z
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    return path


def _stored_batches(store: Path) -> int:
    try:
        with sqlite3.connect(store, timeout=30) as db:
            return int(db.execute("SELECT COUNT(*) FROM prediction_batches").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.slow
def test_ctrl_c_says_what_was_kept_and_how_to_resume(tmp_path: Path) -> None:
    data, store = _slow_rows(tmp_path), tmp_path / "store.db"
    ref = f"torch:{HELPERS / 'slow_torch.py'}:slow?delay_s=0.05&classes=x,y,z"
    args = ["compare", ref, "--data", str(data), "--batch-size", "4", "--no-cost",
            "--store", str(store)]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "whichmodel", *args], cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "80"},
        # A shell without job control starts a background command with SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while (not store.exists() or _stored_batches(store) < 3) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (130, -signal.SIGINT), err  # -2: ended by the signal in shutdown
    if proc.returncode == -signal.SIGINT:
        return
    last = err.strip().splitlines()[-1]
    match = re.fullmatch(
        r"stopped: interrupted; what finished is in the store \(predict slow: (\d+)/50 "
        r"batches\), and the same command resumes from it",
        last,
    )
    assert match, err
    assert int(match.group(1)) == _stored_batches(store) >= 3
    assert all(line.startswith("[whichmodel] predict slow: ") for line in err.splitlines()[:-1])

    resumed = whichmodel(*args, "--json", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["models"][0]["name"] == "slow"
    assert _stored_batches(store) == 50


def test_inspect_keeps_fact_names_whole_at_80_columns(iris: Path, tmp_path: Path) -> None:
    proc = whichmodel("inspect", f"sklearn:{iris}/lr.skops", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    sheet = json.loads(whichmodel("inspect", f"sklearn:{iris}/lr.skops", "--json",
                                  cwd=tmp_path).stdout)  # fmt: skip
    facts = [f"{group}.{name}" for group, values in sheet.items() if isinstance(values, dict)
             for name in values]  # fmt: skip
    first_column = {line.split()[0] for line in proc.stdout.splitlines()[4:] if line.strip()}
    assert "identity.architecture" in first_column
    assert {f for f in first_column if "." in f} <= set(facts)
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80


def test_report_writes_again_what_choose_wrote(iris: Path, tmp_path: Path) -> None:
    ran = whichmodel(*iris_compare(iris, "--json"), cwd=tmp_path)
    run_id = json.loads(ran.stdout)["run_id"]
    assert whichmodel("choose", run_id, "--out", "chosen", cwd=tmp_path).returncode == 0

    again = whichmodel("report", "chosen/results.json", "--out", "again", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert again.stderr == "Wrote again/results.json, again/report.html\n"
    for name in ("results.json", "report.html"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "chosen" / name).read_bytes()

    # From the store: the same report, with the decision choose gives without flags; only the
    # command that asked differs.
    stored = whichmodel("-q", "report", run_id[:8], "--out", "stored", cwd=tmp_path)
    assert stored.returncode == 0 and stored.stderr == "", stored.stderr
    html = [(tmp_path / f / "report.html").read_bytes() for f in ("stored", "chosen")]
    assert html[0] == html[1]
    results = [json.loads((tmp_path / f / "results.json").read_text())
               for f in ("stored", "chosen")]  # fmt: skip
    commands = [r["decision"].pop("command") for r in results]
    assert results[0] == results[1]
    assert commands[0].endswith(f"report {run_id[:8]} --out stored")

    missing = whichmodel("report", "nope", "--out", "x", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: No run 'nope' in .whichmodel/store.db")
