"""Classification (binary and multiclass): accuracy, macro-F1, log loss, a per-class table.

Point values come from scikit-learn. Bootstrap replicates of accuracy, log loss and macro-F1 are
computed for all resamples at once from per-example terms and weighted confusion matrices; the
test suite checks that they equal scikit-learn's value with ``sample_weight`` for every resample.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from whichmodel.errors import DataError, TaskError
from whichmodel.sources.base import RawOutput, label_text
from whichmodel.tasks.base import Metric, Predictions, Task, WeightedSums, weighted_mean
from whichmodel.tasks.options import TaskOptions
from whichmodel.tasks.statistics import PermutationStatistic, sum_statistic
from whichmodel.tasks.top_k import top_k_metric

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix


class ClassificationTask(Task):
    """Options: ``top_k`` (e.g. ``classification?top_k=3,5``) adds ``top_3_accuracy``...: the
    right class is among the k most probable (scikit-learn's ``top_k_accuracy_score``)."""

    name = "classification"
    outcome_kind = "binary"
    takes_options = True
    class_predictions = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("classification", {})
        self.top_k = options.integers("top_k", ())
        self.name = options.finish()

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        values = np.asarray(labels)
        if values.dtype.kind in "iub":  # the common case, vectorized: ints are their own text
            return values.astype(str)
        values = values.astype(object)
        missing = [
            i for i, v in enumerate(values) if v is None or (isinstance(v, float) and v != v)
        ]
        if missing:
            raise DataError(
                f"The label column has {len(missing)} missing values (first at row {missing[0]}); "
                "drop or fill those rows."
            )
        return np.array([label_text(v) for v in values], dtype=str)

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        if raw.kind == "labels":
            labels = np.asarray(raw.array)
            if labels.ndim != 1:
                raise TaskError(
                    f"The model returned labels of shape {labels.shape}; classification needs "
                    "one label per example, shape (n,)."
                )
            return labels.astype(str), None, classes
        if raw.kind == "values":
            raise TaskError(
                "The model returned one number per example, not class scores; for a binary "
                "classifier with a single logit add '?output=logit' to its reference."
            )
        array = np.asarray(raw.array, dtype=np.float64)
        if array.ndim != 2:
            raise TaskError(
                f"The model returned {raw.kind} of shape {array.shape}; classification needs one "
                "row of class scores per example, shape (n, classes)."
            )
        if raw.kind == "logits":
            from scipy.special import softmax

            array = softmax(array, axis=1)
        else:
            array = _renormalized(array)
        names = classes if classes is not None else tuple(str(i) for i in range(array.shape[1]))
        if len(names) != array.shape[1]:
            raise TaskError(
                f"The model outputs {array.shape[1]} class scores but names {len(names)} classes."
            )
        if raw.labels is not None:  # the model's own decision, not its most probable class
            return _own_labels(raw.labels, len(array)), array, names
        pred = np.asarray(names, dtype=str)[np.argmax(array, axis=1)]
        return pred, array, names

    def check(self, y_true: np.ndarray, preds: Predictions, model_name: str) -> None:
        if preds.classes is None or not len(y_true):
            return
        known, labels = set(preds.classes), set(y_true.tolist())
        if not known & labels:
            sample = ", ".join(sorted(labels)[:5])
            raise TaskError(
                f"None of the labels in the data ({sample}, ...) is a class of {model_name} "
                f"({', '.join(preds.classes[:5])}, ...). Check --label-col; a torch model's class "
                "names go on its reference as '?classes=a,b,c' (scikit-learn and Hugging Face "
                "models carry their own)."
            )
        c = len(preds.classes)
        beyond = sorted(int(v) for v in labels - known if v.isdigit())
        if preds.classes == tuple(str(i) for i in range(c)) and beyond:
            raise TaskError(
                f"{model_name} returns {c} class scores (classes 0 to {c - 1}), but the data has "
                f"labels up to {beyond[-1]} ({len(labels)} labels): its output does not fit this "
                "data. Check the model's number of outputs and --label-col, or name a torch "
                "model's classes with '?classes=a,b,c' on its reference."
            )

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        labels = tuple(sorted(set(y_true.tolist())))
        k = len(labels)
        metrics = [
            ACCURACY,
            Metric(
                "macro_f1",
                True,
                lambda y, p, w: _macro_f1(y, p, w, labels),
                sums=WeightedSums(
                    lambda y, p: _confusion_cells(y, p, labels),
                    lambda sums, _total: f1_from_counts(sums, k),
                ),
                permutation=MACRO_F1_PERMUTATION,
            ),
        ]
        if preds.proba is not None and preds.classes and set(labels) <= set(preds.classes):
            metrics.append(LOG_LOSS)
            metrics += [top_k_metric(k) for k in self.top_k if k < len(preds.classes)]
        return metrics

    def metric_names(self) -> tuple[str, ...]:
        return ("accuracy", "macro_f1", "log_loss", *(f"top_{k}_accuracy" for k in self.top_k))

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return np.asarray(preds.pred == y_true)

    def tables(self, y_true: np.ndarray, preds: Predictions) -> dict[str, list[dict[str, object]]]:
        from sklearn.metrics import precision_recall_fscore_support

        labels = sorted(set(y_true.tolist()))
        p, r, f, s = precision_recall_fscore_support(
            y_true, preds.pred, labels=labels, zero_division=0
        )
        rows: list[dict[str, object]] = [
            {
                "class": c,
                "precision": float(pi),
                "recall": float(ri),
                "f1": float(fi),
                "support": int(si),
            }
            for c, pi, ri, fi, si in zip(labels, p, r, f, s, strict=True)
        ]
        return {"per_class": rows}


def _own_labels(labels: np.ndarray, n: int) -> np.ndarray:
    """The labels a model gave beside its probabilities, as text, one per example."""
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise TaskError(
            f"The model returned labels of shape {labels.shape} beside {n} rows of "
            f"probabilities; classification needs one label per example, shape ({n},)."
        )
    return labels.astype(str)


def disagreements(preds: Predictions) -> int | None:
    """On how many examples the predicted label is not the most probable class of ``proba``
    (a model whose own ``predict`` decides otherwise); None without probabilities. Ties go to
    the first class, as ``argmax`` breaks them."""
    if preds.proba is None or preds.classes is None or not len(preds.pred):
        return None
    most_probable = np.asarray(preds.classes, dtype=str)[np.argmax(preds.proba, axis=1)]
    return int((most_probable != preds.pred.astype(str)).sum())


def _renormalized(proba: np.ndarray) -> np.ndarray:
    """Rows of float32 probabilities sum to 1 only within ~1e-7; renormalize them in float64 so
    log loss sees probabilities. Rows that are far from 1 are not probabilities at all."""
    sums = proba.sum(axis=1, keepdims=True)
    if not np.allclose(sums, 1.0, atol=1e-3):
        raise TaskError(
            "The model's class probabilities do not sum to 1 (are they logits? add "
            "'?output=logits' to its reference)."
        )
    return np.asarray(proba / sums)


def _accuracy(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
    from sklearn.metrics import accuracy_score

    labels = np.unique(y)  # codes, not strings: scikit-learn sorts 20k strings several times
    return float(
        accuracy_score(label_codes(y, labels), label_codes(p.pred, labels), sample_weight=w)
    )


def label_codes(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each value's index in the sorted ``labels``; len(labels) for a value not among them.
    scikit-learn's metrics give the same result on these codes as on the labels (the order is
    kept) at a fraction of the cost for string labels."""
    idx = np.searchsorted(labels, values).clip(max=len(labels) - 1)
    return np.where(labels[idx] == values, idx, len(labels))


def _correct(y: np.ndarray, p: Predictions) -> np.ndarray:
    return np.asarray(p.pred == y, dtype=np.float64)[:, None]  # (n, 1)


def _macro_f1(
    y: np.ndarray, p: Predictions, w: np.ndarray | None, labels: tuple[str, ...]
) -> float:
    from sklearn.metrics import f1_score

    sorted_labels = np.asarray(labels)  # sorted, see metrics()
    return float(
        f1_score(
            label_codes(y, sorted_labels),
            label_codes(p.pred, sorted_labels),
            labels=list(range(len(labels))),
            average="macro",
            sample_weight=w,
            zero_division=0,
        )
    )


def _confusion_cells(y: np.ndarray, p: Predictions, labels: tuple[str, ...]) -> csr_matrix:
    """One-hot (n, k * (k + 1)) of each example's confusion-matrix cell; its weighted column sums
    are a resample's confusion matrix (true x predicted, column k = a label not in the data)."""
    from scipy.sparse import csr_matrix

    k = len(labels)
    sorted_labels = np.asarray(labels)  # sorted, see metrics()
    true_idx = np.searchsorted(sorted_labels, y)
    pred_idx = label_codes(p.pred, sorted_labels)  # k = a label not in the data
    cell = true_idx * (k + 1) + pred_idx  # (n,)
    return csr_matrix(
        (np.ones(len(cell)), (np.arange(len(cell)), cell)), shape=(len(cell), k * (k + 1))
    )


def f1_from_counts(counts: np.ndarray, k: int) -> np.ndarray:
    """Macro-F1 per resample from confusion counts (B, k * (k + 1)); column k = "other"."""
    confusion = counts.reshape(len(counts), k, k + 1)  # (B, true, pred)
    tp = confusion[:, np.arange(k), np.arange(k)]  # (B, k)
    fn = confusion.sum(axis=2) - tp
    fp = confusion[:, :, :k].sum(axis=1) - tp
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return np.asarray(f1.mean(axis=1))


def _sorted_columns(p: Predictions) -> tuple[list[str], np.ndarray]:
    """The model's classes sorted, and its probability columns in that order. scikit-learn's
    log_loss reads the columns in sorted label order, which need not be the model's order
    ("10" sorts before "2"; id2label may list "pos" before "neg")."""
    assert p.proba is not None and p.classes is not None
    order = np.argsort(np.asarray(p.classes))
    return [p.classes[i] for i in order], p.proba[:, order]


def _log_loss(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
    from sklearn.metrics import log_loss

    labels, proba = _sorted_columns(p)
    codes = label_codes(y, np.asarray(labels))  # every label of y is a class, see metrics()
    return float(log_loss(codes, proba, labels=list(range(len(labels))), sample_weight=w))


def nll_terms(y: np.ndarray, p: Predictions) -> np.ndarray:
    """Per-example negative log-likelihood of the true class, as scikit-learn's log_loss takes
    it: rows renormalized, clipped to [eps, 1 - eps] of the dtype. Returns (n, 1)."""
    labels, proba = _sorted_columns(p)
    proba = proba / proba.sum(axis=1, keepdims=True)
    eps = np.finfo(proba.dtype).eps
    proba = np.clip(proba, eps, 1 - eps)
    column = np.searchsorted(np.asarray(labels), y)
    return np.asarray(-np.log(proba[np.arange(len(y)), column]))[:, None]


def _nll(y: np.ndarray, p: Predictions) -> np.ndarray:
    """Per-example negative log-likelihood, as log loss scores it: (n,)."""
    return np.asarray(nll_terms(y, p)[:, 0])


def _macro_f1_terms(y: np.ndarray, p: Predictions) -> np.ndarray:
    """Predicted label as an index into the sorted true labels; k = a label not in the data."""
    return label_codes(p.pred, np.unique(y)).astype(np.float64)


def _confusion_counts(codes: np.ndarray, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Confusion counts over the data's labels, flattened: (..., m) predicted codes (indices
    into the sorted labels of all of ``y``; k = a label not in the data), y (n,) as codes ->
    (..., k (k + 1))."""
    k = int(y.max()) + 1
    flat = _cells(codes.reshape(math.prod(codes.shape[:-1]), codes.shape[-1]), y, rows)  # (b, m)
    b = len(flat)
    cell = flat + (np.arange(b) * k * (k + 1))[:, None]
    counts = np.bincount(cell.ravel(), minlength=b * k * (k + 1)).astype(np.float64)
    return counts.reshape(*codes.shape[:-1], k * (k + 1))


def _cells(codes: np.ndarray, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(..., m) predicted codes of the examples at ``rows`` -> their confusion cells, true code *
    (k + 1) + predicted code, as int64."""
    k = int(y.max()) + 1
    return np.asarray(y[rows] * (k + 1) + codes.astype(np.int64))


def _macro_f1_finish(counts: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Macro-F1 over the data's labels (scikit-learn's f1_score with labels=unique(y),
    zero_division=0) from confusion counts (..., k (k + 1)), y (n,) as codes."""
    k = int(y.max()) + 1
    f1 = f1_from_counts(counts.reshape(-1, k * (k + 1)), k)  # (b,)
    return np.asarray(f1.reshape(counts.shape[:-1]))


def _confusion_trade(
    codes_a: np.ndarray, codes_b: np.ndarray, y: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, csr_matrix]:
    """Confusion counts: a swap moves the example's count from A's cell to B's in A's counts
    (and back in B's); the step is sparse, two entries per example."""
    from scipy.sparse import csr_matrix

    k = int(y.max()) + 1
    width, m = k * (k + 1), len(rows)
    cell_a, cell_b = _cells(codes_a, y, rows), _cells(codes_b, y, rows)
    step = csr_matrix(
        (np.repeat([1.0, -1.0], m), (np.tile(np.arange(m), 2), np.concatenate([cell_b, cell_a]))),
        shape=(m, width),
    )
    counts = [np.bincount(c, minlength=width).astype(np.float64) for c in (cell_a, cell_b)]
    return counts[0], counts[1], step


# Macro-F1 is a function of the confusion counts, which a swap of two predictions shifts.
MACRO_F1_PERMUTATION = PermutationStatistic(
    _macro_f1_terms, _confusion_counts, _macro_f1_finish, codes=True, trade=_confusion_trade
)
# Accuracy is the share of right answers, the task's outcome: the exact McNemar test.
ACCURACY = Metric(
    "accuracy", True, _accuracy, sums=WeightedSums(_correct, weighted_mean), mcnemar=True
)
LOG_LOSS = Metric(
    "log_loss",
    False,
    _log_loss,
    sums=WeightedSums(nll_terms, weighted_mean),
    permutation=sum_statistic(_nll),
)
