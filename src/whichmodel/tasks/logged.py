"""One metric's per-example values as another evaluation logged them (lm-eval's
``--log_samples``), scored as that evaluation aggregates them, so whichmodel's intervals and
paired tests apply (``whichmodel compare-samples``).

The values are the predictions' scores (:attr:`Predictions.scores`); there are no labels. Kinds:

- ``binary``: 0/1 per example (``acc``, ``acc_norm``, ``exact_match``): the mean; outcome right
  or wrong, so the exact McNemar test;
- ``mean``: any other number per example: the mean; the paired Wilcoxon test on the values;
- ``perplexity``: a log-likelihood per example, aggregated as exp(-mean) (lm-eval's
  ``perplexity``);
- ``word_perplexity``, ``byte_perplexity``, ``bits_per_byte``: (log-likelihood, words or bytes)
  per example, aggregated from the sums as lm-eval does (exp(-Σll / Σn); -Σll / (Σn ln 2)); the
  Wilcoxon test on each example's NLL per word or byte.
"""

from __future__ import annotations

import math

import numpy as np

from whichmodel.sources.base import Inputs, Model, RawOutput
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.scoring import mean_metric, score_columns, sums_metric

#: kind -> lower is better (lm-eval's higher_is_better, negated, for the kinds it fixes)
_LOWER_BETTER = {"perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"}
SCORES = ("value", "count")


class LoggedMetricTask(Task):
    """The logged metric ``metric`` of kind ``kind`` (see the module docstring)."""

    needs_labels = False
    keeps_scores = True

    def __init__(self, metric: str, kind: str) -> None:
        self.metric, self.kind = metric, kind
        self.name = f"logged:{metric}"
        self.outcome_kind = "binary" if kind == "binary" else "continuous"
        self.higher_is_better = kind not in _LOWER_BETTER

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        return np.zeros(len(labels))

    def run(self, model: Model, inputs: Inputs) -> RawOutput:
        raise NotImplementedError("logged values are read, never predicted")

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        raise NotImplementedError("logged values are read, never predicted")

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        if self.kind == "binary":
            metric = mean_metric(self.metric, True, lambda y, p: p.score("value"))
            return [Metric(metric.name, True, metric.score, sums=metric.sums, mcnemar=True)]
        if self.kind == "mean":
            return [mean_metric(self.metric, True, lambda y, p: p.score("value"))]
        if self.kind == "perplexity":
            return [sums_metric(self.metric, False, score_columns("value", "count"),
                                lambda s: np.exp(-s[:, 0] / s[:, 1]))]
        if self.kind == "bits_per_byte":
            return [sums_metric(self.metric, False, score_columns("value", "count"),
                                lambda s: -s[:, 0] / (s[:, 1] * math.log(2)))]
        return [sums_metric(self.metric, False, score_columns("value", "count"),
                            lambda s: np.exp(-s[:, 0] / s[:, 1]))]

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        value = preds.score("value")
        if self.kind == "binary":
            return np.asarray(value > 0.5)
        if self.kind == "mean":
            return np.asarray(-value)  # an outcome is an error: smaller is better
        return np.asarray(-value / preds.score("count"))  # NLL per example, word or byte


def predictions(values: np.ndarray, counts: np.ndarray) -> Predictions:
    """(n,) logged values and (n,) counts (words, bytes; 1 for a plain value) as predictions
    of examples 0..n-1."""
    scores = np.stack([values, counts], axis=1).astype(np.float64)
    return Predictions(
        np.arange(len(values), dtype=np.int64), values.astype(np.float64), scores=scores,
        score_names=SCORES,
    )
