"""Language modeling: perplexity, bits per byte and per-token loss of text under a causal LM.

Data: one text column (``--input-cols text`` when the file has others); no label column.
Options: ``window`` (tokens per forward pass; default the model's context, at most 2048) and
``stride`` (new tokens scored per window after the first; default window // 2), e.g.
``--task "language-modeling?window=512&stride=256"``.

Each text is scored after the tokenizer's BOS token (else EOS, as lm-evaluation-harness does), so
every one of its tokens counts. Per example the task keeps the summed NLL in nats, the token count
and the UTF-8 byte count; the metrics are ratios of their sums over the corpus:

- ``perplexity`` = exp(sum NLL / sum tokens), token-level (Jelinek et al. 1977);
- ``bits_per_byte`` = sum NLL / (ln 2 * sum bytes) (Gao et al. 2020, the Pile, section 5.1),
  comparable across tokenizers;
- ``token_loss`` = sum NLL / sum tokens, nats per token (the cross-entropy training reports).
"""

from __future__ import annotations

import math

import numpy as np

from whichmodel.errors import TaskError
from whichmodel.sources.base import Inputs, Model, RawOutput
from whichmodel.sources.capabilities import as_language_model
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.options import TaskOptions
from whichmodel.tasks.scoring import score_columns, sums_metric

SCORES = ("nll_sum", "tokens", "bytes")


class LanguageModelingTask(Task):
    outcome_kind = "continuous"  # per-text mean NLL: paired Wilcoxon test
    requires = "loglikelihood"
    needs_labels = False
    keeps_scores = True
    takes_options = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("language-modeling", {})
        self.window = options.integer("window", None, minimum=2)
        self.stride = options.integer("stride", None)
        if self.window is not None and self.stride is not None and self.stride >= self.window:
            raise TaskError(
                f"The stride ({self.stride}) must be smaller than the window ({self.window})."
            )
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
        nll = lm.loglikelihood_rolling(texts, window=self.window, stride=self.stride)
        rows = [
            (float(np.sum(x)), float(len(x)), float(len(t.encode("utf-8"))))
            for x, t in zip(nll, texts, strict=True)
        ]
        return RawOutput("scores", np.asarray(rows, dtype=np.float64).reshape(len(rows), 3))

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
                "bits_per_byte",
                False,
                score_columns("nll_sum", "bytes"),
                lambda s: s[:, 0] / (math.log(2) * s[:, 1]),
            ),
            sums_metric("token_loss", False, nll_tokens, lambda s: s[:, 0] / s[:, 1]),
        ]

    def metric_names(self) -> tuple[str, ...]:
        return ("perplexity", "bits_per_byte", "token_loss")

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return np.asarray(preds.pred, dtype=np.float64)


def _texts(inputs: Inputs) -> list[str]:
    if inputs.kind != "text":
        raise TaskError(
            "Language modeling reads one text column; name it with --input-cols "
            f"(got the columns {', '.join(inputs.columns) or 'none'})."
        )
    return [str(t) for t in inputs.data]
