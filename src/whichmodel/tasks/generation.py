"""Text generation: exact match, BLEU and chrF (sacrebleu), ROUGE (rouge-score).

Data: a ``prompt`` text column (``--input-cols prompt`` if the file has others) and a label column
with the reference text. Options, recorded with the results (the task's name and its
``generation_settings`` table): ``max_new_tokens`` (32), ``do_sample`` (false), ``temperature``
(1.0), ``top_p`` (1.0), ``stop`` (a string that ends the generation, e.g. ``stop=%0A`` for a
newline), ``seed`` (0). E.g. ``--task "generation?max_new_tokens=16&stop=%0A"``.

Metrics:

- ``exact_match``: generated == reference after stripping surrounding whitespace
  (scikit-learn's ``accuracy_score``);
- ``bleu``, ``chrf``: sacrebleu's corpus BLEU and chrF (0-100). Both are functions of n-gram
  counts summed over the corpus, so each bootstrap replicate sums sacrebleu's own per-sentence
  statistics under its weights and lets sacrebleu compute the score: exact, no re-implementation
  (the same scheme as sacrebleu's paired bootstrap, Koehn 2004);
- ``rouge1``, ``rouge2``, ``rougeL``: rouge-score's F-measure (with its Porter stemmer),
  averaged over examples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from whichmodel.errors import DataError, MissingExtraError
from whichmodel.sources.base import Inputs, Model, RawOutput
from whichmodel.sources.capabilities import GenerationSettings, as_language_model
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.options import TaskOptions
from whichmodel.tasks.scoring import accuracy_metric, mean_metric, sums_metric

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


class GenerationTask(Task):
    outcome_kind = "binary"  # exact match or not: McNemar
    requires = "generate"
    takes_options = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("generation", {})
        default = GenerationSettings()
        stop = options.text("stop", "")
        self.settings = GenerationSettings(
            max_new_tokens=options.integer("max_new_tokens", default.max_new_tokens) or 1,
            do_sample=options.flag("do_sample", default.do_sample),
            temperature=options.number("temperature", default.temperature),
            top_p=options.number("top_p", default.top_p),
            stop=(stop,) if stop else (),
            seed=options.integer("seed", default.seed, minimum=0) or 0,
        )
        self.name = options.finish()

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        missing = [
            i for i, v in enumerate(labels) if v is None or (isinstance(v, float) and v != v)
        ]
        if missing:
            raise DataError(
                f"The reference column has {len(missing)} missing values (first at "
                f"row {missing[0]}); every prompt needs a reference text."
            )
        return np.asarray([str(v) for v in labels], dtype=str)

    def run(self, model: Model, inputs: Inputs) -> RawOutput:
        lm = as_language_model(model, self.requires, "generation")
        if inputs.kind != "text":
            raise DataError(
                "Generation reads one text column of prompts; name it with --input-cols."
            )
        texts = lm.generate_until([str(p) for p in inputs.data], self.settings)
        return RawOutput("texts", np.asarray(texts, dtype=object))

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        return np.asarray([str(t) for t in raw.array], dtype=str), None, None

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        return [
            accuracy_metric("exact_match", lambda p: _strip(p.pred), _strip),
            _sacrebleu_metric("bleu", "BLEU"),
            _sacrebleu_metric("chrf", "CHRF"),
            *[mean_metric(t, True, _rouge(t)) for t in ROUGE_TYPES],
        ]

    def metric_names(self) -> tuple[str, ...]:
        return ("exact_match", "bleu", "chrf", *ROUGE_TYPES)

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return np.asarray(_strip(preds.pred) == _strip(y_true))

    def tables(self, y_true: np.ndarray, preds: Predictions) -> dict[str, list[dict[str, object]]]:
        settings: dict[str, object] = asdict(self.settings)
        settings["stop"] = list(self.settings.stop)
        return {"generation_settings": [settings]}


def _sacrebleu_metric(name: str, cls_name: str) -> Metric:
    """Corpus BLEU/chrF from sacrebleu's per-sentence statistics, summed under weights."""

    def scorer() -> Any:
        try:
            from sacrebleu import metrics
        except ImportError as exc:
            raise MissingExtraError("sacrebleu", "tasks") from exc
        return getattr(metrics, cls_name)()

    def columns(y: np.ndarray, p: Predictions) -> np.ndarray:
        stats = scorer()._extract_corpus_statistics(p.pred.astype(str).tolist(), [y.tolist()])
        return np.asarray(stats, dtype=np.float64)  # (n, S) counts per sentence

    def from_sums(sums: np.ndarray) -> np.ndarray:
        metric = scorer()
        return np.array([metric._compute_score_from_stats(list(row)).score for row in sums])

    return sums_metric(name, True, columns, from_sums)


def _rouge(rouge_type: str) -> Callable[[np.ndarray, Predictions], np.ndarray]:
    def per_example(y: np.ndarray, p: Predictions) -> np.ndarray:
        try:
            from rouge_score import rouge_scorer
        except ImportError as exc:
            raise MissingExtraError("rouge-score", "tasks") from exc
        scorer = rouge_scorer.RougeScorer([rouge_type], use_stemmer=True)
        return np.array(
            [
                scorer.score(ref, hyp)[rouge_type].fmeasure
                for ref, hyp in zip(y.tolist(), p.pred.astype(str).tolist(), strict=True)
            ]
        )

    return per_example


def _strip(texts: np.ndarray) -> np.ndarray:
    return np.asarray(np.char.strip(np.asarray(texts).astype(str)))
