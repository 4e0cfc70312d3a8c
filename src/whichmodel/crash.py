"""What the command line does with a failure that is not the user's: save a report, say one line.

An unexpected exception is a bug in whichmodel (or in a library under it). The terminal gets one
line, ``internal error: ...`` with the path of a report that holds the traceback, the command, the
library versions and the platform, so that the user can attach it to an issue. Nothing in the
report comes from the environment beyond that: no variables, so no API keys.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPORT_DIR_ENV = "WHICHMODEL_REPORT_DIR"


def report_dir() -> Path:
    """Where crash reports go: ``$WHICHMODEL_REPORT_DIR``, else ``$XDG_CACHE_HOME/whichmodel/
    crashes`` (``~/.cache/...``)."""
    if os.environ.get(REPORT_DIR_ENV):
        return Path(os.environ[REPORT_DIR_ENV])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "whichmodel" / "crashes"


def save_report(exc: BaseException, argv: list[str]) -> Path | None:
    """Write a report of ``exc`` and return its path; None when no folder could take it (a
    full disk must not turn one error into two)."""
    from whichmodel.provenance import library_versions

    lines = [
        f"whichmodel internal error, {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        "command: " + " ".join(argv),
        f"python: {sys.version.split()[0]} on {platform.platform()}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in sorted(library_versions().items())),
        "",
        *traceback.format_exception(exc),
    ]
    text = "\n".join(line.rstrip("\n") for line in lines) + "\n"
    name = f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    for folder in (report_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, at most 300 characters."""
    message = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
