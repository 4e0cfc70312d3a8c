"""The bad-input suite's one check: a refused input is one line, the right exit code, no
traceback, an answer within 30 s, and no file written or changed outside the run store.

Each case runs the real command in a subprocess (``python -m whichmodel``), in its own folder,
with crash reports sent to a folder of the test's (an internal error would leave one there).

    result = refuse(tmp_path, "compare", ref, "--data", "x.csv", says="No data file at x.csv")
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TIME_LIMIT_S = 30.0
STORE_PARTS = (".whichmodel",)  # the default store's folder: the only place a refusal may write


@dataclass(frozen=True)
class Case:
    """One bad input: its id, the command line and a fragment of the one line it must print
    (or several fragments, each of which it must print). ``{tmp}`` in an argument is the case's
    folder."""

    id: str
    args: tuple[str, ...]
    says: str | tuple[str, ...]
    exit_code: int = 2


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """{relative path: (size, mtime_ns)} of every file under ``folder``, the store left out."""
    files = {}
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_file() and rel.parts[0] not in STORE_PARTS and rel.parts[0] != "crashes":
            stat = path.stat()
            files[str(rel)] = (stat.st_size, stat.st_mtime_ns)
    return files


def refuse(
    cwd: Path,
    *args: str,
    says: str | tuple[str, ...],
    exit_code: int = 2,
    watch: tuple[Path, ...] = (),
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``whichmodel ARGS`` in ``cwd`` and assert it refuses cleanly (see the module); the
    files under ``cwd`` and the ``watch`` folders (the models', say) must stay as they were.
    ``preexec_fn`` runs in the child before whichmodel starts (e.g. to limit file sizes)."""
    args = tuple(a.replace("{tmp}", str(cwd)) for a in args)
    crashes = cwd / "crashes"
    folders = (cwd, *watch)
    before = [snapshot(f) for f in folders]
    env = {**os.environ, "COLUMNS": "200", "WHICHMODEL_REPORT_DIR": str(crashes)}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "whichmodel", *args],
            capture_output=True, text=True, cwd=cwd, env=env, timeout=TIME_LIMIT_S,
            stdin=subprocess.DEVNULL, check=False, preexec_fn=preexec_fn,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise AssertionError(f"no answer within {TIME_LIMIT_S:.0f} s: {args}") from None
    context = f"{args}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
    assert proc.returncode == exit_code, context
    assert "Traceback" not in proc.stderr + proc.stdout, context
    # A pipe gets progress lines ("[whichmodel] predict lr: 3/8 batches") before the answer.
    lines = [ln for ln in proc.stderr.strip().splitlines() if not ln.startswith("[whichmodel] ")]
    assert len(lines) == 1, context
    assert all(part in lines[0] for part in ((says,) if isinstance(says, str) else says)), context
    assert not crashes.exists() or exit_code == 1, f"an internal error report was saved: {context}"
    assert [snapshot(f) for f in folders] == before, f"files changed outside the store: {context}"
    return proc
