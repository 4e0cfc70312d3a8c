"""lm-evaluation-harness itself, run on a local model folder and local task YAMLs: the reference
the LLM tasks are tested against (issue 17), and the source of real ``--log_samples`` files.

lm-eval runs in its own process (``python -m lm_eval run``), offline, on the CPU, in float32, as
a user would run it. A run of two tiny tasks takes about 12 s, most of it lm-eval's start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LmEvalRun:
    """What one lm-eval run wrote: ``results[task][metric]`` (the ``,none`` filter suffix
    dropped) and, per task, the path of its ``--log_samples`` JSONL."""

    results: dict[str, dict[str, Any]]
    samples: dict[str, Path]

    def sample_rows(self, task: str) -> list[dict[str, Any]]:
        lines = self.samples[task].read_text(encoding="utf-8").splitlines()
        return sorted((json.loads(line) for line in lines), key=lambda row: row["doc_id"])


def task_yaml(
    name: str, data_file: Path, output_type: str, metrics: list[str], **fields: str
) -> str:
    """The YAML of an lm-eval task over a local JSONL file (``dataset_path: json``).
    ``fields``: doc_to_text, doc_to_choice, doc_to_target, ... written as quoted strings."""
    lines = [
        f"task: {name}",
        "dataset_path: json",
        "dataset_kwargs:",
        "  data_files:",
        f"    test: {json.dumps(str(data_file))}",
        "test_split: test",
        f"output_type: {output_type}",
        *(f"{key}: {json.dumps(value)}" for key, value in fields.items()),
        "metric_list:",
        *(f"  - metric: {metric}" for metric in metrics),
    ]
    return "\n".join(lines) + "\n"


def run_lm_eval(
    model: Path,
    tasks: dict[str, str],
    workdir: Path,
    *,
    batch_size: int = 1,
    model_args: str = "",
    timeout: float = 600,
) -> LmEvalRun:
    """Run lm-eval's ``hf`` model on ``model`` (a folder) over ``tasks`` (name -> YAML text),
    with ``--log_samples``. ``model_args``: more ``key=value`` pairs, e.g. ``add_bos_token=True``.
    Raises with lm-eval's output when it fails."""
    task_dir = workdir / "tasks"
    out_dir = workdir / "out"
    task_dir.mkdir(parents=True, exist_ok=True)
    for name, text in tasks.items():
        (task_dir / f"{name}.yaml").write_text(text, encoding="utf-8")
    args = ",".join(filter(None, [f"pretrained={model}", "dtype=float32", model_args]))
    command = [
        sys.executable, "-m", "lm_eval", "run", "--model", "hf", "--model_args", args,
        "--tasks", ",".join(tasks), "--include_path", str(task_dir), "--device", "cpu",
        "--batch_size", str(batch_size), "--log_samples", "--output_path", str(out_dir),
    ]  # fmt: skip
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_DATASETS_CACHE": str(workdir / "datasets-cache"),  # not the user's cache
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"lm-eval failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    [results_file] = out_dir.glob("*/results_*.json")
    raw = json.loads(results_file.read_text(encoding="utf-8"))["results"]
    results = {
        task: {key.removesuffix(",none"): value for key, value in metrics.items()}
        for task, metrics in raw.items()
    }
    samples = {
        task: next(results_file.parent.glob(f"samples_{task}_*.jsonl")) for task in tasks
    }
    return LmEvalRun(results, samples)
