"""Writing a report folder: ``results.json`` and a self-contained ``report.html``.

Each file is written under a temporary name and renamed into place, so an interrupted write never
leaves a half-written report.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from whichmodel.errors import ConfigError


def write_report(results: dict[str, Any], folder: Path) -> list[Path]:
    """Write ``results.json`` and ``report.html`` into ``folder``; returns their paths."""
    from whichmodel.report.html import render_html

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create the output folder {folder}: {exc}") from exc
    json_path = _write_atomic(folder / "results.json", json.dumps(results, indent=2, default=str))
    html_path = _write_atomic(folder / "report.html", render_html(results))
    return [json_path, html_path]


def _write_atomic(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
