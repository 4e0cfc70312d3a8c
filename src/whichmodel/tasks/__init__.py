"""Tasks: one module per kind of prediction problem, looked up by name in :data:`TASKS`."""

from __future__ import annotations

from whichmodel.errors import TaskError, brief
from whichmodel.registry import Registry
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.options import TaskOptions, split_spec

#: name -> the Task class (constructed with its options by :func:`get_task`).
TASKS: Registry[type[Task]] = Registry("task", error=TaskError)
for _name, _target in {
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
}.items():
    TASKS.register(_name, _target)
# The smallest task, for tests: agreement of predicted and true labels (see tasks/fake.py).
TASKS.register("fake", "whichmodel.tasks.fake:FakeTask", hidden=True)


def get_task(spec: str) -> Task:
    """The task ``spec`` names: a name, optionally with options (``name?key=value&...``, see
    :mod:`whichmodel.tasks.options`).

    Raises:
        TaskError: unknown name (the message lists close matches and every known task), or an
            unknown or invalid option.
    """
    name, options = split_spec(spec)
    task_class = TASKS.get(name)
    if not options:
        return task_class()
    if not getattr(task_class, "takes_options", False):
        raise TaskError(f"The '{name}' task takes no options. Got {brief(spec)}.")
    task: Task = task_class(TaskOptions(name, options))  # type: ignore[call-arg]
    return task


__all__ = ["TASKS", "Metric", "Predictions", "Task", "get_task"]
