"""In-process runs of the ``whichmodel`` command: ``invoke("compare", ...)`` -> Ran.

Each run calls :func:`whichmodel.cli.main`, as the console script does, inside Typer's
``CliRunner`` isolation (captured stdout and stderr, a fixed terminal width): ``main``, not the
Typer app alone, is what turns every failure into one line and an exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers.iris import save_iris_models


@dataclass(frozen=True)
class Ran:
    """What one command did: its exit code and what it printed."""

    exit_code: int
    stdout: str
    stderr: str


Invoke = Callable[..., Ran]


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    """Run ``whichmodel ARGS`` in this process, in ``tmp_path`` (the default store lands
    there); sys.argv and sys.path are restored afterwards."""
    from whichmodel.cli import main, render

    monkeypatch.chdir(tmp_path)
    # The consoles read COLUMNS once, when whichmodel.cli.render is first imported: under
    # pytest-xdist that is the worker's COLUMNS=80, whatever the isolation below sets.
    for console in (render.out, render.err):
        monkeypatch.setattr(console, "width", 200)
    monkeypatch.setattr(sys, "path", list(sys.path))  # main() puts the current folder first

    def run(*args: str) -> Ran:
        monkeypatch.setattr(sys, "argv", ["whichmodel", *args])
        with CliRunner().isolation(env={"COLUMNS": "200"}) as streams:
            try:
                main()
            except SystemExit as exit_:
                code = exit_.code
            else:
                code = 0
            sys.stdout.flush()
            sys.stderr.flush()
            stdout, stderr = (s.getvalue().decode() for s in streams[:2])
        assert isinstance(code, int)
        return Ran(code, stdout, stderr)

    return run


@pytest.fixture(scope="session")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """iris.csv with lr, tree and dummy skops classifiers (see helpers.iris)."""
    return save_iris_models(tmp_path_factory.mktemp("iris"))
