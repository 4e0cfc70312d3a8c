"""The task interface: how to read labels, interpret a model's output, and score predictions."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from whichmodel.sources.base import Inputs, Model, RawOutput

if TYPE_CHECKING:
    from scipy.sparse import spmatrix

    from whichmodel.data.dataset import Dataset
    from whichmodel.tasks.statistics import PermutationStatistic

OutcomeKind = Literal["binary", "continuous"]


@dataclass(frozen=True)
class Predictions:
    """One model's predictions over the examples it succeeded on.

    Args:
        rows: (n,) int64 indices of the examples in the dataset, ascending.
        pred: (n,) predicted labels (str) or values (float64).
        proba: (n, C) float64 probabilities over ``classes``, or None.
        classes: the labels of ``proba``'s columns, or None.
        failed_rows: indices of examples on which the model raised, with the error text.
        scores: (n, S) float64 per-example numbers a task keeps to compute its metrics (e.g. a
            text's summed NLL in nats, its token and byte counts), or None. Not probabilities:
            tasks with ``keeps_scores`` store them where others store ``proba``.
        score_names: the names of ``scores``' columns.
        units: (n,) int64 resampling unit of each example in ``rows`` (ranking: its query; see
            :attr:`Dataset.units`), or None when each example is its own unit. Metrics that
            score per unit (nDCG per query) read them here; the analysis attaches them from
            the dataset, so a task never keeps them.
    """

    rows: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None = None
    classes: tuple[str, ...] | None = None
    failed_rows: tuple[tuple[int, str], ...] = ()
    scores: np.ndarray | None = None
    score_names: tuple[str, ...] | None = None
    units: np.ndarray | None = None

    def take(self, positions: np.ndarray) -> Predictions:
        """The predictions at ``positions`` (indices into ``rows``, not example ids)."""
        proba = None if self.proba is None else self.proba[positions]
        scores = None if self.scores is None else self.scores[positions]
        return Predictions(
            self.rows[positions],
            self.pred[positions],
            proba,
            self.classes,
            scores=scores,
            score_names=self.score_names,
            units=None if self.units is None else self.units[positions],
        )

    def with_units(self, units: np.ndarray | None) -> Predictions:
        """These predictions with ``units`` ((n,), aligned with :attr:`rows`); the same object
        when it has them already (a metric's work on it may be memoized by identity)."""
        if units is self.units:
            return self
        return dataclasses.replace(self, units=units)

    def score(self, name: str) -> np.ndarray:
        """The (n,) column ``name`` of :attr:`scores`."""
        if self.scores is None or self.score_names is None or name not in self.score_names:
            raise KeyError(name)
        return np.asarray(self.scores[:, self.score_names.index(name)])


# score(y_true, predictions, sample_weight) -> float, computed with the reference library.
ScoreFn = Callable[[np.ndarray, Predictions, np.ndarray | None], float]
# replicates(y_true, predictions, weights (B, n)) -> (B,): score under each row of weights, the
# same numbers as ScoreFn with sample_weight=weights[b] (tests check this), only vectorized.
ReplicateFn = Callable[[np.ndarray, Predictions, np.ndarray], np.ndarray]
# terms(y_true, predictions) -> (n, k) per-example terms, a dense array or a scipy sparse matrix.
TermsFn = Callable[[np.ndarray, Predictions], "np.ndarray | spmatrix"]
# finish(sums (B, k), total_weight (B,)) -> (B,): the metric from each resample's weighted sums.
FinishFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

_SUM_CELLS_PER_CHUNK = 1 << 22  # weighted sums of sparse terms held at once (32 MiB of float64)


def weighted_mean(sums: np.ndarray, total: np.ndarray) -> np.ndarray:
    """The weighted mean of a single per-example term: (B, 1) sums, (B,) weights -> (B,)."""
    return np.asarray(sums[:, 0] / total)


@dataclass(frozen=True)
class WeightedSums:
    """A metric that is a function of weighted sums of per-example terms.

    Accuracy is ``sum(w * correct) / sum(w)``, macro-F1 a function of the weighted confusion
    matrix. Written this way, the metrics of every model under every bootstrap resample come
    from one matrix product per chunk of resamples (see ``analysis.stats``), not one pass over
    the resample weights per model and metric.
    """

    terms: TermsFn
    finish: FinishFn

    def replicates(self, y_true: np.ndarray, preds: Predictions, weights: np.ndarray) -> np.ndarray:
        """(B, n) weights -> (B,): the metric under each row of ``weights``."""
        total = weights.sum(axis=1)
        return np.concatenate(
            [
                self.finish(sums, total[rows])
                for rows, sums in weighted_sums(weights, self.terms(y_true, preds))
            ]
        )


def weighted_sums(
    weights: np.ndarray, terms: np.ndarray | spmatrix
) -> Iterator[tuple[slice, np.ndarray]]:
    """``weights @ terms``, (B, n) x (n, k) -> (B, k), as (rows, (b, k) sums) chunks.

    Dense terms come in one chunk. Sparse terms (e.g. one-hot confusion cells, k = classes²)
    come in chunks of resamples that keep each dense result under ``_SUM_CELLS_PER_CHUNK``
    cells.
    """
    if isinstance(terms, np.ndarray):
        yield slice(0, len(weights)), np.asarray(weights @ terms)
        return
    step = max(1, _SUM_CELLS_PER_CHUNK // max(terms.shape[1], 1))
    transposed = terms.T.tocsr()  # (k, n): (terms.T @ w.T).T is w @ terms, reading w.T in place
    for i in range(0, len(weights), step):
        yield slice(i, i + step), np.asarray(transposed @ weights[i : i + step].T).T


@dataclass(frozen=True)
class Metric:
    """A metric of a task.

    Args:
        name: short name, e.g. ``accuracy``; ``*_loss`` / ``*_error`` style names are lower-better.
        higher_is_better: direction.
        score: the reference computation (scikit-learn), honouring ``sample_weight``.
        replicates: a vectorized equivalent for bootstrap weights, or None to call ``score`` per
            replicate.
        sums: the metric as a function of weighted sums of per-example terms, when it is one;
            preferred over ``replicates`` because all models share one product per resample chunk.
        permutation: what the metric is made of for the paired permutation test (see
            ``tasks.statistics``), when it is additive over examples; a metric without one (and
            every metric of a task with resampling units or vector labels) gets the paired
            bootstrap test.
        mcnemar: True when the metric is the share of examples whose :meth:`Task.outcome` is
            right (a ``binary`` outcome): it gets the exact McNemar test on those outcomes.
    """

    name: str
    higher_is_better: bool
    score: ScoreFn
    replicates: ReplicateFn | None = None
    sums: WeightedSums | None = None
    permutation: PermutationStatistic | None = None
    mcnemar: bool = False

    def replicate(self, y_true: np.ndarray, preds: Predictions, weights: np.ndarray) -> np.ndarray:
        """The metric under each bootstrap weight vector: (B, n) -> (B,)."""
        if self.sums is not None:
            return self.sums.replicates(y_true, preds, weights)
        if self.replicates is not None:
            return self.replicates(y_true, preds, weights)
        return np.array([self.score(y_true, preds, w) for w in weights])


class Task(ABC):
    """A kind of prediction problem. Implementations are stateless apart from their options.

    Class attributes a task may override:
        requires: the model capability :meth:`run` uses (see ``whichmodel.sources.capabilities``).
        needs_labels: False when the data has no label column (language modeling).
        keeps_scores: True when :meth:`interpret`'s second value is per-example scores
            (:attr:`Predictions.scores`), not class probabilities.
        word_lists: True when the task reads a column of lists of words (token
            classification): the data reader keeps them as objects.
        input_files: True when text inputs may be file paths (detection's images), which
            analyses must not read as text (error clusters by terms).
        text_predictions: True when a task with continuous outcomes predicts text (speech to
            text: transcripts, scored by word errors); binary tasks' predictions are text anyway.
        audio: True when the task reads audio (an audio folder or column; inputs of kind
            ``audio``).
        outcome_per_unit: True when every example of a resampling unit (see
            :meth:`unit_column`)
            has its unit's outcome (ranking: each row of a query, the query's nDCG), so the
            analyses that list examples list units; False when units only group resampling
            (forecasting: a series' windows, each with its own error).
        class_predictions: True when each prediction is one class label of the data's labels
            (classification), so slice reports add each model's fairness gaps (demographic
            parity, equalized odds) over the slices.
    """

    name: str
    outcome_kind: OutcomeKind
    requires: str = "predict"
    needs_labels: bool = True
    keeps_scores: bool = False
    word_lists: bool = False
    input_files: bool = False
    text_predictions: bool = False
    outcome_per_unit: bool = False
    audio: bool = False
    class_predictions: bool = False

    def data_files(self) -> tuple[str, ...]:
        """Files besides the dataset the task reads (e.g. a retrieval corpus); their contents
        are part of the prediction cache key."""
        return ()

    def read_data(
        self, path: str, *, input_cols: tuple[str, ...] | None, label_col: str | None
    ) -> Dataset | None:
        """The dataset at ``path`` when this task reads its data its own way (e.g. detection's
        COCO annotations and image files), else None: the usual reader reads it."""
        return None

    def read(
        self,
        path: str,
        *,
        input_cols: tuple[str, ...] | None = None,
        label_col: str = "label",
    ) -> tuple[Dataset, np.ndarray]:
        """The dataset at ``path`` as this task reads it, and its labels in the task's type
        ((n,), :meth:`read_labels`). The one reader of every stage (compare, evaluate, bench):
        the task's own format (:meth:`read_data`) or the usual reader with what the task needs
        (word lists, audio); the unit column (:meth:`unit_column`) is read apart, not as an
        input. Raises DataError for data this task cannot use, before any model runs.
        """
        from whichmodel.data.dataset import read_dataset, read_unit_column

        labels = label_col if self.needs_labels else None
        unit_column = self.unit_column()  # e.g. ranking's query id: groups rows, not an input
        dataset = self.read_data(path, input_cols=input_cols, label_col=labels) or read_dataset(
            path,
            input_cols=input_cols,
            label_col=labels,
            word_lists=self.word_lists,
            audio=self.audio,
            exclude=(unit_column,) if unit_column else (),
        )
        y_true = self.read_labels(dataset.labels)
        self.check_inputs(dataset.inputs)
        if unit_column:
            values = read_unit_column(dataset.path, unit_column)
            names, inverse = np.unique(values, return_inverse=True)
            units = inverse.astype(np.int64)
            self.check_units(y_true, units, names)
            dataset = dataclasses.replace(dataset, units=units, unit_names=names)
        return dataset, y_true

    def run(self, model: Model, inputs: Inputs) -> RawOutput:
        """Ask ``model`` for what this task scores, for one batch. The default is
        :meth:`Model.predict`; other tasks call the capability they require (log-likelihoods,
        generation, embeddings), and raise TaskError when the model lacks it."""
        return model.predict(inputs)

    @abstractmethod
    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        """Validate and convert the label column: (n,) -> (n,) in the task's label type."""

    @abstractmethod
    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        """A batch of raw model output -> (pred (n,), proba (n, C) or None, classes or None)."""

    @abstractmethod
    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        """The metrics that apply to these predictions (e.g. log loss only with probabilities)."""

    def metric_names(self) -> tuple[str, ...] | None:
        """Every name :meth:`metrics` may give, in its order, known from the task's options
        alone (some apply only to some predictions, e.g. log loss with probabilities), so that
        a limit on a metric the task never reports fails before any model runs; None when only
        the data can tell."""
        return None

    @abstractmethod
    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        """Per-example outcome for paired tests: correct (bool) or absolute error (float)."""

    def check_inputs(self, inputs: Inputs) -> None:  # noqa: B027
        """Raise DataError when the dataset's inputs cannot be used by this task (checked once,
        before any model runs)."""

    def check(self, y_true: np.ndarray, preds: Predictions, model_name: str) -> None:  # noqa: B027
        """Raise TaskError when the predictions cannot be scored against these labels."""

    def tables(self, y_true: np.ndarray, preds: Predictions) -> dict[str, list[dict[str, object]]]:
        """Extra per-model tables for reports (e.g. per-class precision and recall)."""
        return {}

    def unit_column(self) -> str | None:
        """The data column that groups examples into resampling units (ranking: the query id of
        each row), or None when each example is its own unit. :meth:`read` reads it into
        :attr:`Dataset.units` (checked by :meth:`check_units`); it is not a model input.
        Bootstrap resamples and paired tests draw units, not examples."""
        return None

    def check_units(  # noqa: B027
        self, y_true: np.ndarray, units: np.ndarray, names: np.ndarray
    ) -> None:
        """Raise DataError when the (N,) labels and (N,) unit index (into ``names``, the
        units' ids) cannot be scored together (ranking: a query without a relevant item)."""


def check_metric_names(task: Task, named: Iterable[tuple[str, str]]) -> None:
    """Raise ConfigError for the first ``(option, metric)`` pair whose metric ``task`` never
    reports (nothing when the task cannot tell before reading data), before any model runs."""
    import difflib

    from whichmodel.errors import ConfigError

    known = task.metric_names()
    if known is None:
        return
    for option, name in named:
        if name in known:
            continue
        close = [k for k in known if k.startswith(name)] or difflib.get_close_matches(name, known)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"{option} names the metric '{name}', which the {task.name} task does not "
            f"compute.{hint} Metrics: {', '.join(known)}."
        )
