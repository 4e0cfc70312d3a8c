"""Writing a report folder: ``results.json`` and a self-contained ``report.html``.

Each file is written under a temporary name and renamed into place, so an interrupted write never
leaves a half-written report.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from whichmodel.errors import ConfigError

if TYPE_CHECKING:
    from whichmodel.outcome import Outcome

REPORT_FILES = ("results.json", "report.html")


def write_report(outcome: Outcome, folder: Path) -> list[Path]:
    """Write ``results.json`` and ``report.html`` into ``folder``; returns their paths.

    Both are rendered and written under temporary names first and renamed into place together,
    so a full disk or an interrupt leaves the folder as it was, not one new file beside an old.
    """
    from whichmodel.report.html import render_html

    texts = (json.dumps(outcome.to_dict(), indent=2, default=str), render_html(outcome))
    return write_together(folder, dict(zip(REPORT_FILES, texts, strict=True)), "the report")


def write_together(folder: Path, texts: dict[str, str], what: str) -> list[Path]:
    """Write each ``texts[name]`` to ``folder / name``, all under temporary names first and
    renamed into place together; returns the paths.

    Raises:
        ConfigError: the folder cannot be written (``what`` names the files in the message).
    """
    paths = [folder / name for name in texts]
    temps = [p.with_name(f".{p.name}.{os.getpid()}.tmp") for p in paths]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for tmp, text in zip(temps, texts.values(), strict=True):
            tmp.write_text(text, encoding="utf-8")
        for tmp, path in zip(temps, paths, strict=True):
            os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"Cannot write {what} into {folder}: {exc.strerror or exc}.") from exc
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
    return paths


def check_report_folder(folder: Path) -> None:
    """Raise ConfigError unless ``folder`` is, or can be made, a folder this process may write:
    checked before any model runs, so a bad ``--out`` costs nothing."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"--out {folder} is a file; give a folder for results.json and report.html."
        )
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"--out {folder} is under {existing}, which is a file, not a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {folder}: this user cannot write in {existing}.")


def discard_report(folder: Path) -> None:
    """Remove the report files from ``folder``: a run that failed must not leave an earlier
    run's report looking like its own."""
    for name in REPORT_FILES:
        (folder / name).unlink(missing_ok=True)


@contextlib.contextmanager
def report_guard(folder: Path | None) -> Iterator[None]:
    """Check ``folder`` (``--out``; None: no report) before any work; if the work in the
    ``with`` block then fails, remove the report files an earlier run left there, so that none
    looks like this run's."""
    if folder is not None:
        check_report_folder(folder)
    try:
        yield
    except BaseException:
        if folder is not None and folder.is_dir():
            discard_report(folder)
        raise
