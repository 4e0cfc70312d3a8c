"""Tasks: one module per kind of prediction problem, looked up by name."""

from __future__ import annotations

import difflib
import importlib

from whichmodel.errors import TaskError
from whichmodel.tasks.base import Metric, Predictions, Task

_TASKS = {
    "classification": "whichmodel.tasks.classification:ClassificationTask",
    "regression": "whichmodel.tasks.regression:RegressionTask",
}


def get_task(name: str) -> Task:
    """The task called ``name``.

    Raises:
        TaskError: unknown name; the message lists close matches and every known task.
    """
    target = _TASKS.get(name)
    if target is None:
        close = difflib.get_close_matches(name, _TASKS, n=2)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise TaskError(f"Unknown task {name!r}.{hint} Known tasks: {', '.join(_TASKS)}.")
    module_name, cls = target.split(":")
    task: Task = getattr(importlib.import_module(module_name), cls)()
    return task


__all__ = ["Metric", "Predictions", "Task", "get_task"]
