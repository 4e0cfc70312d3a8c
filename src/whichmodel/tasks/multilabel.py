"""Multilabel classification: each example has a set of labels; the model scores every label
independently (sigmoid of its logits, or probabilities).

Data: the label column holds the example's labels: a list (JSONL, Parquet) or, in a CSV, labels
separated by ``|`` (an empty cell is the empty set). Option: ``threshold`` (default 0.5) above
which a label is predicted.

Metrics (scikit-learn, on the binarized label matrix): ``micro_f1``, ``macro_f1``,
``subset_accuracy`` (all labels right) and ``hamming_loss``. Each is a function of per-example
sums (true/false positives and negatives per label), so bootstrap replicates are exact weighted
sums.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from whichmodel.data.tables import text_list
from whichmodel.errors import DataError, TaskError
from whichmodel.sources.base import RawOutput
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.options import TaskOptions

SEPARATOR = "|"


class MultilabelTask(Task):
    outcome_kind = "binary"  # all labels right or not: McNemar
    takes_options = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("multilabel", {})
        self.threshold = options.number("threshold", 0.5)
        if not 0 < self.threshold < 1:
            raise TaskError(f"The threshold must be in (0, 1). Got {self.threshold}.")
        self.name = options.finish()

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        """(n,) str: each example's sorted labels joined by ``|``."""
        return np.array([SEPARATOR.join(sorted(_label_set(v))) for v in labels], dtype=str)

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        if raw.kind not in ("logits", "proba"):
            raise TaskError("A multilabel task needs a score per label (logits or probabilities).")
        array = np.asarray(raw.array, dtype=np.float64)
        if array.ndim != 2:
            raise TaskError(
                f"The model returned {raw.kind} of shape {array.shape}; a multilabel task needs "
                "one row of label scores per example, shape (n, labels)."
            )
        if raw.kind == "logits":
            from scipy.special import expit

            array = expit(array)  # independent labels: sigmoid, not softmax
        names = classes if classes is not None else tuple(str(i) for i in range(array.shape[1]))
        on = array >= self.threshold
        pred = np.array([SEPARATOR.join(sorted(np.asarray(names)[row])) for row in on], dtype=str)
        return pred, array, names

    def check(self, y_true: np.ndarray, preds: Predictions, model_name: str) -> None:
        known = set(preds.classes or ())
        unknown = sorted({x for v in y_true for x in v.split(SEPARATOR) if x} - known)
        if unknown:
            raise DataError(
                f"The labels {', '.join(unknown[:5])} are not labels {model_name} scores "
                f"({', '.join(sorted(known)[:8])}); check --label-col or the model's id2label."
            )

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        labels = tuple(sorted(preds.classes or ()))
        macro_f1 = _metric(
            "macro_f1", True, labels, lambda t, p, w: _f1(t, p, w, "macro"), _macro_f1
        )
        # No permutation statistic: classification's macro-F1 statistic (which the analysis once
        # picked by this metric's name) scores whole label sets ("a|b" one class), not this
        # macro-F1 over labels; the paired bootstrap tests the metric as reported. A statistic of
        # its own (per-label tp/fp/fn sums) would be faster.
        return [
            _metric("micro_f1", True, labels, lambda t, p, w: _f1(t, p, w, "micro"), _micro_f1),
            macro_f1,
            _metric("subset_accuracy", True, labels, _subset_accuracy, _subset_from_sums),
            _metric("hamming_loss", False, labels, _hamming, _hamming_from_sums),
        ]

    def metric_names(self) -> tuple[str, ...]:
        return ("micro_f1", "macro_f1", "subset_accuracy", "hamming_loss")

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return np.asarray(preds.pred == y_true)


def _label_set(value: object) -> list[str]:
    labels = text_list(value, SEPARATOR)
    if labels is not None:
        return labels
    raise DataError(f"A multilabel label must be a list of labels or 'a|b' text; got {value!r}.")


def _binarize(
    y: np.ndarray, p: Predictions, labels: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(true (n, C), predicted (n, C)) 0/1 int matrices over ``labels``."""
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = MultiLabelBinarizer(classes=list(labels))
    split = [[x for x in v.split(SEPARATOR) if x] for v in y]
    pred = [[x for x in v.split(SEPARATOR) if x] for v in p.pred]
    return np.asarray(binarizer.fit_transform(split)), np.asarray(binarizer.transform(pred))


Score = Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]


def _metric(
    name: str,
    higher: bool,
    labels: tuple[str, ...],
    score: Score,
    from_sums: Callable[[np.ndarray, int], np.ndarray],
) -> Metric:
    """A scikit-learn point value; replicates from per-example counts per label (tp, fp, fn,
    whether all labels are right, 1), summed under the bootstrap weights."""

    def point(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
        true, pred = _binarize(y, p, labels)
        return score(true, pred, w)

    def replicates(y: np.ndarray, p: Predictions, weights: np.ndarray) -> np.ndarray:
        true, pred = _binarize(y, p, labels)
        true, pred = true.astype(bool), pred.astype(bool)
        exact = (true == pred).all(axis=1)[:, None]
        ones = np.ones_like(exact)
        terms = np.hstack([true & pred, ~true & pred, true & ~pred, exact, ones])
        return from_sums(weights @ terms.astype(np.float64), len(labels))  # (B, 3C + 2)

    return Metric(name, higher, point, replicates)


def _f1(true: np.ndarray, pred: np.ndarray, w: np.ndarray | None, average: str) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(true, pred, average=average, sample_weight=w, zero_division=0))


def _subset_accuracy(true: np.ndarray, pred: np.ndarray, w: np.ndarray | None) -> float:
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(true, pred, sample_weight=w))


def _hamming(true: np.ndarray, pred: np.ndarray, w: np.ndarray | None) -> float:
    from sklearn.metrics import hamming_loss

    return float(hamming_loss(true, pred, sample_weight=w))


def _counts(sums: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tp, fp, fn), each (B, C), from summed terms (B, 3C + 2)."""
    return sums[:, :c], sums[:, c : 2 * c], sums[:, 2 * c : 3 * c]


def _micro_f1(sums: np.ndarray, c: int) -> np.ndarray:
    tp, fp, fn = (x.sum(axis=1) for x in _counts(sums, c))
    denominator = 2 * tp + fp + fn
    return np.asarray(np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0))


def _macro_f1(sums: np.ndarray, c: int) -> np.ndarray:
    tp, fp, fn = _counts(sums, c)
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return np.asarray(f1.mean(axis=1))


def _subset_from_sums(sums: np.ndarray, c: int) -> np.ndarray:
    return np.asarray(sums[:, 3 * c] / sums[:, 3 * c + 1])


def _hamming_from_sums(sums: np.ndarray, c: int) -> np.ndarray:
    _, fp, fn = _counts(sums, c)
    return np.asarray((fp.sum(axis=1) + fn.sum(axis=1)) / (c * sums[:, 3 * c + 1]))
