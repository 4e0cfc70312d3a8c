"""Language modeling: perplexity, bits per byte and per-token loss of text under a causal LM.

Data: one text column (``--input-cols text`` when the file has others); no label column.
Options (lm-evaluation-harness's ``loglikelihood_rolling`` by default):

- ``rolling``: ``disjoint`` (default, lm-eval's: the prefix token, then windows that each score
  up to ``window`` new tokens, the last with a full window of context) or ``sliding`` (each
  window after the first scores ``stride`` tokens after ``window - stride`` of context);
- ``window``: tokens per forward pass (default the model's context, at most 2048);
- ``stride``: new tokens per sliding window (default window // 2), with ``rolling=sliding`` only;
- ``bos``: ``tokenizer`` (default: the tokenizer's own special tokens, scored, after the prefix
  token BOS or EOS, as lm-eval), ``always`` (the prefix token, then the text without special
  tokens) or ``never`` (no prefix token: a text's first token is context only).

E.g. ``--task "language-modeling?rolling=sliding&window=512&stride=256"``. Per example the task
keeps the summed NLL in nats, the token count, the UTF-8 byte count and the word count; the
metrics are ratios of their sums over the corpus (lm-eval's names in brackets):

- ``perplexity`` = exp(sum NLL / sum tokens), token-level (Jelinek et al. 1977);
- ``word_perplexity`` (``word_perplexity``) = exp(sum NLL / sum words), words counted as lm-eval
  does, ``len(re.split(r"\\s+", text))``;
- ``byte_perplexity`` (``byte_perplexity``) = exp(sum NLL / sum bytes);
- ``bits_per_byte`` (``bits_per_byte``) = sum NLL / (ln 2 * sum bytes) (Gao et al. 2020, the
  Pile, section 5.1), comparable across tokenizers;
- ``token_loss`` = sum NLL / sum tokens, nats per token (the cross-entropy training reports).
"""

from __future__ import annotations

import math
import re

import numpy as np

from whichmodel.errors import TaskError
from whichmodel.sources.base import Inputs, Model, RawOutput
from whichmodel.sources.capabilities import (
    BOS_CONVENTIONS,
    ROLLING_CONVENTIONS,
    ScoringSettings,
    as_language_model,
)
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.options import TaskOptions
from whichmodel.tasks.scoring import score_columns, sums_metric

SCORES = ("nll_sum", "tokens", "bytes", "words")


class LanguageModelingTask(Task):
    outcome_kind = "continuous"  # per-text mean NLL: paired Wilcoxon test
    requires = "loglikelihood"
    needs_labels = False
    keeps_scores = True
    takes_options = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("language-modeling", {})
        self.rolling = options.choice("rolling", ROLLING_CONVENTIONS)
        self.bos = options.choice("bos", BOS_CONVENTIONS)
        self.window = options.integer("window", None, minimum=2)
        self.stride = options.integer("stride", None)
        # checks window, stride and rolling together (raises TaskError)
        ScoringSettings(rolling=self.rolling, window=self.window, stride=self.stride)
        self.name = options.finish()

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        return np.zeros(len(labels))

    def run(self, model: Model, inputs: Inputs) -> RawOutput:
        lm = as_language_model(model, "loglikelihood", "language-modeling")
        texts = _texts(inputs)
        if not all(t.strip() for t in texts):
            # Not a WhichModelError: compare retries the batch text by text and records this
            # example as failed, and the run goes on.
            raise ValueError("the text is empty, so it has no tokens to score")
        settings = ScoringSettings(
            bos=self.bos, rolling=self.rolling, window=self.window, stride=self.stride,
            batch_size=len(texts),  # as many windows per forward pass as the batch has texts
        )  # fmt: skip
        nll = lm.loglikelihood_rolling(texts, settings)
        rows = [
            (float(np.sum(x)), float(len(x)), float(len(t.encode("utf-8"))), _words(t))
            for x, t in zip(nll, texts, strict=True)
        ]
        return RawOutput("scores", np.asarray(rows, dtype=np.float64).reshape(len(rows), 4))

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        scores = np.asarray(raw.array, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_nll = scores[:, 0] / scores[:, 1]  # NaN for a text of no tokens: a failure
        return mean_nll, scores, SCORES

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        nll_tokens = score_columns("nll_sum", "tokens")
        return [
            sums_metric("perplexity", False, nll_tokens, lambda s: np.exp(s[:, 0] / s[:, 1])),
            sums_metric(
                "word_perplexity",
                False,
                score_columns("nll_sum", "words"),
                lambda s: np.exp(s[:, 0] / s[:, 1]),
            ),
            sums_metric(
                "byte_perplexity",
                False,
                score_columns("nll_sum", "bytes"),
                lambda s: np.exp(s[:, 0] / s[:, 1]),
            ),
            sums_metric(
                "bits_per_byte",
                False,
                score_columns("nll_sum", "bytes"),
                lambda s: s[:, 0] / (math.log(2) * s[:, 1]),
            ),
            sums_metric("token_loss", False, nll_tokens, lambda s: s[:, 0] / s[:, 1]),
        ]

    def metric_names(self) -> tuple[str, ...]:
        return ("perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte", "token_loss")

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return np.asarray(preds.pred, dtype=np.float64)


def _words(text: str) -> float:
    """lm-eval's ``Task.count_words``: pieces between runs of whitespace (an empty piece
    counts where the text starts or ends with whitespace)."""
    return float(len(re.split(r"\s+", text)))


def _texts(inputs: Inputs) -> list[str]:
    if inputs.kind != "text":
        raise TaskError(
            "Language modeling reads one text column; name it with --input-cols "
            f"(got the columns {', '.join(inputs.columns) or 'none'})."
        )
    return [str(t) for t in inputs.data]
