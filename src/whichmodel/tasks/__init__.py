"""Tasks: one module per kind of prediction problem, looked up by name."""

from __future__ import annotations

import difflib
import importlib

from whichmodel.errors import TaskError, brief
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.options import TaskOptions, split_spec

_TASKS = {
    "classification": "whichmodel.tasks.classification:ClassificationTask",
    "regression": "whichmodel.tasks.regression:RegressionTask",
    "language-modeling": "whichmodel.tasks.language_modeling:LanguageModelingTask",
    "multiple-choice": "whichmodel.tasks.multiple_choice:MultipleChoiceTask",
    "multilabel": "whichmodel.tasks.multilabel:MultilabelTask",
    "retrieval": "whichmodel.tasks.retrieval:RetrievalTask",
    "generation": "whichmodel.tasks.generation:GenerationTask",
    "token-classification": "whichmodel.tasks.token_classification:TokenClassificationTask",
    "detection": "whichmodel.tasks.detection:DetectionTask",
    "speech-to-text": "whichmodel.tasks.speech:SpeechToTextTask",
    "forecasting": "whichmodel.tasks.forecasting:ForecastingTask",
    "ranking": "whichmodel.tasks.ranking:RankingTask",
}


def get_task(spec: str) -> Task:
    """The task ``spec`` names: a name, optionally with options (``name?key=value&...``, see
    :mod:`whichmodel.tasks.options`).

    Raises:
        TaskError: unknown name (the message lists close matches and every known task), or an
            unknown or invalid option.
    """
    name, options = split_spec(spec)
    target = _TASKS.get(name)
    if target is None:
        close = difflib.get_close_matches(name, _TASKS, n=2)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise TaskError(f"Unknown task {brief(name)}.{hint} Known tasks: {', '.join(_TASKS)}.")
    module_name, cls = target.split(":")
    task_class = getattr(importlib.import_module(module_name), cls)
    if not options:
        task: Task = task_class()
        return task
    if not getattr(task_class, "takes_options", False):
        raise TaskError(f"The '{name}' task takes no options. Got {brief(spec)}.")
    task = task_class(TaskOptions(name, options))
    return task


__all__ = ["Metric", "Predictions", "Task", "get_task"]
