"""Multiple choice by log-likelihood, the way lm-evaluation-harness scores it.

Data: a ``context`` column (text), a ``choices`` column (a list of strings in JSONL/Parquet, or a
JSON list in a CSV cell) and a label column with the index of the right choice (0-based).
Options: ``delimiter`` put between the context and each choice (default a space); ``bos``, what
each context starts with: ``tokenizer`` (default; lm-eval's ``add_bos_token`` unset: the
tokenizer's own special tokens), ``always`` (BOS, else EOS, first) or ``never`` (see
:class:`~whichmodel.sources.capabilities.ScoringSettings`).

For each example the model gives log p(delimiter + choice | context) for every choice, and the
task keeps which choice each rule picks (lm-evaluation-harness's ``multiple_choice`` metrics):

- ``accuracy`` (lm-eval ``acc``): the choice with the highest log-likelihood is the right one;
- ``accuracy_norm`` (``acc_norm``): the same after dividing each log-likelihood by the choice's
  length in characters, which removes the bias towards short choices;
- ``accuracy_bytes`` (``acc_bytes``): divided by the choice's length in UTF-8 bytes instead.

The lengths are those of the choice without the delimiter, as lm-eval counts them. All three are
scikit-learn's ``accuracy_score``; the paired test (McNemar) is on ``accuracy``.
"""

from __future__ import annotations

import json

import numpy as np

from whichmodel.errors import DataError
from whichmodel.sources.base import Inputs, Model, RawOutput
from whichmodel.sources.capabilities import BOS_CONVENTIONS, ScoringSettings, as_language_model
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.options import TaskOptions
from whichmodel.tasks.scoring import accuracy_metric

SCORES = ("choice", "choice_norm", "choice_bytes", "n_choices")


class MultipleChoiceTask(Task):
    outcome_kind = "binary"  # right or wrong: McNemar
    requires = "loglikelihood"
    keeps_scores = True
    takes_options = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("multiple-choice", {})
        self.delimiter = options.text("delimiter", " ")
        self.bos = options.choice("bos", BOS_CONVENTIONS)
        self.name = options.finish()

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        values = np.asarray(labels)
        if values.dtype.kind not in "iu" or (len(values) and values.min() < 0):
            raise DataError(
                "The label column of a multiple-choice task must hold the 0-based index of the "
                f"right choice (integers >= 0); got values like {values[:3].tolist()}."
            )
        return values.astype(np.int64)

    def run(self, model: Model, inputs: Inputs) -> RawOutput:
        lm = as_language_model(model, self.requires, "multiple-choice")
        contexts, choices = _read(inputs)
        requests = [
            (ctx, self.delimiter + c) for ctx, cs in zip(contexts, choices, strict=True) for c in cs
        ]
        # as many sequences per forward pass as the batch has examples (--batch-size)
        settings = ScoringSettings(bos=self.bos, batch_size=len(contexts))
        logprobs = np.array([r.logprob for r in lm.loglikelihood(requests, settings)])
        rows, start = [], 0
        for cs in choices:
            ll = logprobs[start : start + len(cs)]
            chars = np.array([max(len(c), 1) for c in cs], dtype=float)
            n_bytes = np.array([max(len(c.encode("utf-8")), 1) for c in cs], dtype=float)
            rows.append((np.argmax(ll), np.argmax(ll / chars), np.argmax(ll / n_bytes), len(cs)))
            start += len(cs)
        return RawOutput("scores", np.asarray(rows, dtype=np.float64).reshape(len(rows), 4))

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        scores = np.asarray(raw.array, dtype=np.float64)
        return scores[:, 0].astype(np.int64).astype(str), scores, SCORES

    def check(self, y_true: np.ndarray, preds: Predictions, model_name: str) -> None:
        n_choices = preds.score("n_choices")
        bad = np.flatnonzero(y_true[preds.rows] >= n_choices)
        if len(bad):
            row = int(preds.rows[bad[0]])
            raise DataError(
                f"Row {row}'s label {int(y_true[row])} is not a choice index: that example has "
                f"{int(n_choices[bad[0]])} choices (labels are 0-based)."
            )

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        return [
            # the task's outcome is whether "choice" is right: McNemar tests this accuracy
            accuracy_metric("accuracy", lambda p: p.score("choice"), mcnemar=True),
            accuracy_metric("accuracy_norm", lambda p: p.score("choice_norm")),
            accuracy_metric("accuracy_bytes", lambda p: p.score("choice_bytes")),
        ]

    def metric_names(self) -> tuple[str, ...]:
        return ("accuracy", "accuracy_norm", "accuracy_bytes")

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return _correct(y_true, preds.score("choice")).astype(bool)


def _correct(y: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    right = np.asarray(chosen).astype(np.int64) == np.asarray(y).astype(np.int64)
    return np.asarray(right, dtype=np.float64)


def _read(inputs: Inputs) -> tuple[list[str], list[list[str]]]:
    """(contexts, choices per example) from the ``context`` and ``choices`` columns."""
    columns = list(inputs.columns)
    missing = [c for c in ("context", "choices") if c not in columns]
    if inputs.kind != "tabular" or missing:
        raise DataError(
            "A multiple-choice task reads the columns 'context' and 'choices'; the inputs are "
            f"{', '.join(columns) or 'none'}. Name them with --input-cols context,choices."
        )
    data = inputs.data
    contexts = [str(v) for v in data[:, columns.index("context")]]
    choices = [_choice_list(v) for v in data[:, columns.index("choices")]]
    return contexts, choices


def _choice_list(value: object) -> list[str]:
    if isinstance(value, str):  # a CSV cell: a JSON list
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = None
    if isinstance(value, list | tuple | np.ndarray) and len(value) >= 2:
        return [str(v) for v in value]
    raise DataError(
        f"Each example's choices must be a list of at least two strings; got {value!r}."
    )
