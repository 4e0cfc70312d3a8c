"""Reading lm-evaluation-harness's ``--log_samples`` files (``samples_TASK_DATE.jsonl``).

One JSON object per document and filter, as ``lm_eval/loggers/evaluation_tracker.py`` writes it:
``doc_id``, ``doc``, ``target``, ``arguments`` (``gen_args_i.arg_j``: the requests, the first
argument being the prompt), ``resps``, ``filter``, ``metrics`` (the names), ``doc_hash``,
``prompt_hash``, ``target_hash``, and each metric's per-document value: a number (``acc``,
``exact_match``, ``perplexity``'s log-likelihood) or a pair (``word_perplexity``:
[log-likelihood, words]; ``f1``: [gold, prediction]).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whichmodel.errors import DataError

_FILE_NAME = re.compile(r"^samples_(?P<task>.+)_\d{4}-\d{2}-\d{2}T[\d\-.:]+$")


@dataclass(frozen=True)
class LoggedSample:
    """One document's logged line: its id and filter, hashes, prompt, target and metrics."""

    doc_id: int
    filter: str
    doc_hash: str | None
    prompt_hash: str | None
    prompt: str
    target: str
    values: dict[str, Any]  # metric -> the logged value (a number or a list)


@dataclass(frozen=True)
class LoggedSamples:
    """A ``--log_samples`` file as read.

    Args:
        path: the file.
        task: the task name in its file name (``samples_TASK_DATE.jsonl``), or None.
        model: the model name lm-eval gave its folder (``org__name`` -> ``name``), or None.
        samples: the lines, in file order.
    """

    path: Path
    task: str | None
    model: str | None
    samples: tuple[LoggedSample, ...]


def read_samples(path: str | Path) -> LoggedSamples:
    """Read one ``--log_samples`` file.

    Raises:
        DataError: no such file, not JSON Lines, or a line without ``doc_id`` or metrics.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"No lm-eval samples file at {p}.")
    samples = []
    try:
        with p.open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    samples.append(_sample(json.loads(line), p, number))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{p} is not an lm-eval samples file (JSON Lines): {exc}.") from exc
    if not samples:
        raise DataError(f"{p} holds no samples.")
    match = _FILE_NAME.match(p.stem)
    model = p.parent.name.split("__")[-1] or None
    return LoggedSamples(p, match.group("task") if match else None, model, tuple(samples))


def _sample(row: Any, path: Path, number: int) -> LoggedSample:
    if not isinstance(row, dict) or not isinstance(row.get("doc_id"), int):
        raise DataError(f"Line {number} of {path} has no doc_id: is it lm-eval's --log_samples "
                        "output (samples_TASK_DATE.jsonl)?")
    names = row.get("metrics")
    if not isinstance(names, list) or not all(isinstance(n, str) and n in row for n in names):
        raise DataError(f"Line {number} of {path} does not list its metrics' values.")
    arguments = row.get("arguments") or {}
    first = arguments.get("gen_args_0", {}) if isinstance(arguments, dict) else {}
    prompt = first.get("arg_0", "") if isinstance(first, dict) else ""
    return LoggedSample(
        doc_id=row["doc_id"],
        filter=str(row.get("filter", "none")),
        doc_hash=row.get("doc_hash"),
        prompt_hash=row.get("prompt_hash"),
        prompt=str(prompt),
        target=str(row.get("target", "")),
        values={n: row[n] for n in names},
    )
