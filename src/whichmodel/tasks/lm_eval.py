"""``--task lm-eval:TASK.yaml``: a local lm-evaluation-harness task YAML, run as the whichmodel task
that scores its ``output_type`` the same way.

- ``multiple_choice`` -> ``multiple-choice``: context ``doc_to_text`` (after the
  ``description``), choices ``doc_to_choice``, label ``doc_to_target`` (an index, or the right
  choice's text), the ``target_delimiter`` before each choice;
- ``loglikelihood_rolling`` -> ``language-modeling`` on the text ``doc_to_target``;
- ``generate_until`` -> ``generation``: prompt ``doc_to_text``, reference ``doc_to_target`` (a
  choice's text when it is an index into ``doc_to_choice``), ``generation_kwargs``'s ``until``,
  ``max_gen_toks``, ``do_sample``, ``temperature`` and ``top_p`` as the generation settings.

The YAML's data files are the dataset: the comparison's data is the YAML itself (``--data`` may
be left out; another ``--data`` is refused, since the YAML already says what to read). The YAML
and its data files are part of the prediction cache key. Building the examples:
:mod:`whichmodel.tasks.lm_eval_yaml`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from whichmodel.errors import DataError, TaskError
from whichmodel.tasks.base import Task
from whichmodel.tasks.generation import GenerationTask
from whichmodel.tasks.language_modeling import LanguageModelingTask
from whichmodel.tasks.lm_eval_yaml import (
    DEFAULT_MAX_GEN_TOKS,
    PREFIX,
    DocFields,
    LmEvalYaml,
    read_docs,
    read_task_yaml,
)
from whichmodel.tasks.multiple_choice import MultipleChoiceTask
from whichmodel.tasks.options import TaskOptions

if TYPE_CHECKING:
    import pandas as pd

    from whichmodel.data.dataset import Dataset


def lm_eval_task(spec: str) -> Task:
    """The task ``lm-eval:PATH`` names (see the module docstring).

    Raises:
        TaskError: the YAML is missing, unreadable, or uses what whichmodel does not run.
    """
    path = spec[len(PREFIX) :]
    if not path:
        raise TaskError("Name the task YAML after 'lm-eval:', e.g. --task lm-eval:tasks/mc.yaml.")
    task = read_task_yaml(path)
    kinds: dict[str, type[Task]] = {
        "multiple_choice": LmEvalMultipleChoice,
        "loglikelihood_rolling": LmEvalLanguageModeling,
        "generate_until": LmEvalGeneration,
    }
    made: Task = kinds[task.output_type](task)  # type: ignore[call-arg]
    made.name = f"{PREFIX}{path}"
    return made


class _FromYaml(Task):
    """What the three lm-eval tasks share: their data comes from the YAML."""

    lm_eval: LmEvalYaml

    def data_files(self) -> tuple[str, ...]:
        return (str(self.lm_eval.path), *(str(f) for f in self.lm_eval.data_files))

    def read_data(
        self, path: str, *, input_cols: tuple[str, ...] | None, label_col: str | None
    ) -> Dataset:
        from whichmodel.data.dataset import Dataset
        from whichmodel.data.tables import table_inputs

        task = self.lm_eval
        if Path(path).resolve() != task.path.resolve():
            raise DataError(
                f"The task {self.name} reads its examples from the YAML's data_files; leave out "
                f"the data ({path}), or point the YAML's data_files at it."
            )
        if input_cols:
            raise DataError(f"The task {self.name} builds its inputs from the YAML's doc_to_* "
                            "fields; leave out --input-cols.")
        docs = read_docs(task)
        frame, inputs, label = self.examples(docs, DocFields(task, list(docs[0])))
        # One data file: it is the dataset (its digest is the data's; --slice-by reads it).
        where = str(task.data_files[0]) if len(task.data_files) == 1 else str(task.path)
        labels = frame[label].to_numpy() if label else np.full(len(frame), None, dtype=object)
        return Dataset(where, table_inputs(frame, inputs), labels, tuple(inputs), label)

    def examples(
        self, docs: list[dict[str, Any]], fields: DocFields
    ) -> tuple[pd.DataFrame, list[str], str | None]:
        """(a table of the examples, its input columns, its label column or None)."""
        raise NotImplementedError


class LmEvalMultipleChoice(_FromYaml, MultipleChoiceTask):
    """``output_type: multiple_choice``: the ``multiple-choice`` task."""

    def __init__(self, task: LmEvalYaml) -> None:
        super().__init__(TaskOptions("multiple-choice", {"delimiter": task.target_delimiter}))
        self.lm_eval = task

    def examples(
        self, docs: list[dict[str, Any]], fields: DocFields
    ) -> tuple[pd.DataFrame, list[str], str | None]:
        import pandas as pd

        rows = []
        for i, doc in enumerate(docs):
            choices = fields.choices(doc)
            rows.append((fields.text(doc), choices, _label(fields.target(doc), choices, i)))
        return pd.DataFrame(rows, columns=["context", "choices", "label"]), [
            "context", "choices"
        ], "label"


def _label(target: Any, choices: list[str], row: int) -> int:
    """lm-eval's gold index: an integer as it is, a string as its index among the choices."""
    if isinstance(target, bool) or not isinstance(target, int | str):
        raise TaskError(_one_target(row, target))
    if isinstance(target, int):
        return target
    if target not in choices:
        raise DataError(f"Document {row}'s target {target!r} is not one of its choices "
                        f"{choices!r}.")
    return choices.index(target)


def _one_target(row: int, target: Any) -> str:
    return (f"Document {row}'s doc_to_target gave {target!r}; whichmodel reads one target per "
            "document (an index or a text), not several.")


class LmEvalLanguageModeling(_FromYaml, LanguageModelingTask):
    """``output_type: loglikelihood_rolling``: the ``language-modeling`` task on
    ``doc_to_target``."""

    def __init__(self, task: LmEvalYaml) -> None:
        super().__init__()
        self.lm_eval = task

    def examples(
        self, docs: list[dict[str, Any]], fields: DocFields
    ) -> tuple[pd.DataFrame, list[str], str | None]:
        import pandas as pd

        texts = [fields.target(doc) for doc in docs]
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TaskError(_one_target(i, text))
        return pd.DataFrame({"text": texts}), ["text"], None


class LmEvalGeneration(_FromYaml, GenerationTask):
    """``output_type: generate_until``: the ``generation`` task."""

    def __init__(self, task: LmEvalYaml) -> None:
        kwargs = dict(task.config.get("generation_kwargs") or {})
        until = kwargs.pop("until", [task.config.get("fewshot_delimiter", "\n\n")])
        options = {
            "max_new_tokens": str(kwargs.pop("max_gen_toks", DEFAULT_MAX_GEN_TOKS)),
            "do_sample": str(bool(kwargs.pop("do_sample", False))).lower(),
        }
        for key in ("temperature", "top_p"):
            if key in kwargs:
                value = float(kwargs.pop(key))
                if options["do_sample"] == "true":  # greedy decoding reads neither
                    options[key] = str(value)
        if kwargs:
            raise TaskError(f"{task.path}: generation_kwargs '{sorted(kwargs)[0]}' has no "
                            "whichmodel equivalent (it reads until, max_gen_toks, do_sample, "
                            "temperature, top_p).")
        super().__init__(TaskOptions("generation", options))
        stops = [until] if isinstance(until, str) else list(until)
        self.settings = replace(self.settings, stop=tuple(str(s) for s in stops if s))
        self.lm_eval = task

    def examples(
        self, docs: list[dict[str, Any]], fields: DocFields
    ) -> tuple[pd.DataFrame, list[str], str | None]:
        import pandas as pd

        has_choices = self.lm_eval.config.get("doc_to_choice") is not None
        rows = []
        for i, doc in enumerate(docs):
            target = fields.target(doc)
            if has_choices and isinstance(target, int) and not isinstance(target, bool):
                target = fields.choices(doc)[target]  # lm-eval's gold for generate_until
            if isinstance(target, list):
                raise TaskError(_one_target(i, target))
            rows.append((fields.text(doc), str(target)))
        return pd.DataFrame(rows, columns=["prompt", "reference"]), ["prompt"], "reference"
