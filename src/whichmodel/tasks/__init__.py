"""Tasks: one module per kind of prediction problem, looked up by name in :data:`TASKS`.

Importing this package imports no NumPy (``Metric``, ``Predictions`` and ``Task`` load on first
use), so the command line's help lists every registered task and stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from whichmodel.errors import TaskError, brief
from whichmodel.registry import Registry
from whichmodel.tasks.options import TaskOptions, split_spec

if TYPE_CHECKING:
    from whichmodel.tasks.base import Metric, Predictions, Task

#: name -> the Task class (constructed with its options by :func:`get_task`).
TASKS: Registry[type[Task]] = Registry("task", error=TaskError)
TASKS.register("classification", "whichmodel.tasks.classification:ClassificationTask")
TASKS.register("regression", "whichmodel.tasks.regression:RegressionTask")
TASKS.register("regression-huber", "whichmodel.tasks.huber:HuberRegressionTask")
TASKS.register("language-modeling", "whichmodel.tasks.language_modeling:LanguageModelingTask")
TASKS.register("multiple-choice", "whichmodel.tasks.multiple_choice:MultipleChoiceTask")
TASKS.register("multilabel", "whichmodel.tasks.multilabel:MultilabelTask")
TASKS.register("retrieval", "whichmodel.tasks.retrieval:RetrievalTask")
TASKS.register("generation", "whichmodel.tasks.generation:GenerationTask")
TASKS.register(
    "token-classification", "whichmodel.tasks.token_classification:TokenClassificationTask"
)
TASKS.register("detection", "whichmodel.tasks.detection:DetectionTask")
TASKS.register("speech-to-text", "whichmodel.tasks.speech:SpeechToTextTask")
TASKS.register("forecasting", "whichmodel.tasks.forecasting:ForecastingTask")
TASKS.register("ranking", "whichmodel.tasks.ranking:RankingTask")
# The smallest task, for tests: agreement of predicted and true labels (see tasks/fake.py).
TASKS.register("fake", "whichmodel.tasks.fake:FakeTask", hidden=True)


def get_task(spec: str) -> Task:
    """The task ``spec`` names: a name, optionally with options (``name?key=value&...``, see
    :mod:`whichmodel.tasks.options`), or ``lm-eval:PATH`` for a local lm-evaluation-harness task
    YAML (:mod:`whichmodel.tasks.lm_eval`).

    Raises:
        TaskError: unknown name (the message lists close matches and every known task), or an
            unknown or invalid option.
    """
    if spec.startswith("lm-eval:"):
        from whichmodel.tasks.lm_eval import lm_eval_task

        return lm_eval_task(spec)
    name, options = split_spec(spec)
    task_class = TASKS.get(name)
    if not options:
        return task_class()
    if not getattr(task_class, "takes_options", False):
        raise TaskError(f"The '{name}' task takes no options. Got {brief(spec)}.")
    task: Task = task_class(TaskOptions(name, options))  # type: ignore[call-arg]
    return task


def __getattr__(name: str) -> Any:
    if name in ("Metric", "Predictions", "Task"):
        from whichmodel.tasks import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["TASKS", "Metric", "Predictions", "Task", "get_task"]
