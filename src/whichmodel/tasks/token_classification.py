"""Token classification / named-entity recognition: entity-level F1 with seqeval.

Data: a ``tokens`` column (a list of words in JSONL/Parquet, or space-separated words in a CSV)
and a label column with one tag per word in the IOB2 scheme (``B-PER``, ``I-PER``, ``O``), as a
list or space-separated text. A sentence whose tag count differs from its word count is a data
error.

Metrics (seqeval, the CoNLL-2000 ``conlleval`` convention, micro-averaged over entities):
``entity_f1``, ``entity_precision``, ``entity_recall``, and ``token_accuracy``. Entity counts
decompose by sentence (seqeval's ``get_entities`` per sentence: predicted, true, and correct
entities), so bootstrap replicates sum them under the weights; the tests check each replicate
equals seqeval on the resampled corpus.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from whichmodel.errors import DataError, MissingExtraError
from whichmodel.sources.base import Inputs, Model, RawOutput
from whichmodel.sources.capabilities import as_tagger
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.scoring import sums_metric

SCORES = ("n_true", "n_pred", "n_correct", "n_tokens", "n_tokens_right")


class TokenClassificationTask(Task):
    name = "token-classification"
    outcome_kind = "binary"  # every tag of the sentence right: McNemar
    requires = "tag"
    word_lists = True

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        """(n,) str: each sentence's tags joined by spaces."""
        out = []
        for i, value in enumerate(labels):
            tags = _words(value)
            if not tags:
                raise DataError(f"Sentence {i} has no tags in the label column.")
            out.append(" ".join(tags))
        return np.asarray(out, dtype=str)

    def run(self, model: Model, inputs: Inputs) -> RawOutput:
        tagger = as_tagger(model, "token-classification")
        sentences = [_words(v) for v in _column(inputs)]
        tags = tagger.tag(sentences)
        return RawOutput("texts", np.asarray([" ".join(t) for t in tags], dtype=object))

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        return np.asarray([str(t) for t in raw.array], dtype=str), None, None

    def check(self, y_true: np.ndarray, preds: Predictions, model_name: str) -> None:
        for row, pred in zip(preds.rows, preds.pred, strict=True):
            n_true, n_pred = len(y_true[row].split()), len(str(pred).split())
            if n_true != n_pred:
                raise DataError(
                    f"Sentence {int(row)} has {n_pred} words but {n_true} tags; give one tag "
                    "per word."
                )

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        return [
            _entity_metric(
                "entity_f1", "f1_score", lambda s: _ratio(2 * s[:, 2], s[:, 0] + s[:, 1])
            ),
            _entity_metric(
                "entity_precision", "precision_score", lambda s: _ratio(s[:, 2], s[:, 1])
            ),
            _entity_metric("entity_recall", "recall_score", lambda s: _ratio(s[:, 2], s[:, 0])),
            _entity_metric("token_accuracy", "accuracy_score", lambda s: _ratio(s[:, 4], s[:, 3])),
        ]

    def metric_names(self) -> tuple[str, ...]:
        return ("entity_f1", "entity_precision", "entity_recall", "token_accuracy")

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return np.asarray(preds.pred == y_true)


def _entity_metric(
    name: str, seqeval_name: str, from_sums: Callable[[np.ndarray], np.ndarray]
) -> Metric:
    """seqeval's own value without weights; with weights (seqeval has none), the same formula
    over per-sentence counts from seqeval's entity extraction, summed under the weights."""
    counted = sums_metric(name, True, _counts, from_sums)

    def score(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
        if w is not None:
            return counted.score(y, p, w)
        from seqeval import metrics

        function = getattr(metrics, seqeval_name)
        extra = {} if seqeval_name == "accuracy_score" else {"zero_division": 0}
        return float(function(_split(y), _split(p.pred), **extra))

    return Metric(name, True, score, sums=counted.sums)


def _counts(y: np.ndarray, p: Predictions) -> np.ndarray:
    """(n, 5) per sentence: true entities, predicted, correct, tokens, tokens tagged right."""
    try:
        from seqeval.metrics.sequence_labeling import get_entities
    except ImportError as exc:
        raise MissingExtraError("seqeval", "tasks") from exc
    rows = []
    for true, pred in zip(_split(y), _split(p.pred), strict=True):
        t, q = set(get_entities(true)), set(get_entities(pred))
        right = sum(a == b for a, b in zip(true, pred, strict=False))
        rows.append((len(t), len(q), len(t & q), len(true), right))
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), 5)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(np.divide(a, b, out=np.zeros_like(a), where=b > 0))


def _split(texts: np.ndarray) -> list[list[str]]:
    return [str(t).split() for t in texts]


def _column(inputs: Inputs) -> np.ndarray:
    if inputs.kind == "text":
        return inputs.data
    if inputs.kind == "tabular" and inputs.data.ndim == 2 and inputs.data.shape[1] == 1:
        return inputs.data[:, 0]
    raise DataError(
        "Token classification reads one column of words (a list, or space-separated text); "
        f"the inputs are {', '.join(inputs.columns)}. Name it with --input-cols tokens."
    )


def _words(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list | tuple | np.ndarray):
        return [str(v) for v in value]
    raise DataError(f"Expected a list of words or tags, or space-separated text; got {value!r}.")
