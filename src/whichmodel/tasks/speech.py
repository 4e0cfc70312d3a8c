"""Speech to text: word and character error rates (jiwer), from audio files or arrays.

Data: an audio folder or a column of audio (see :mod:`whichmodel.data.audio`) and a transcript
column, named with ``--label-col`` (e.g. ``text``). Models: speech recognizers (``hf:DIR`` of a
``*ForCTC`` architecture or of ``WhisperForConditionalGeneration``); each clip is resampled to the
model's sampling rate when its own differs (SciPy's ``resample_poly``), and the ``audio`` table of
the results says how many were.

Text normalization, applied by jiwer to references and transcripts alike before aligning them,
and recorded in the ``text_normalization`` table:

- ``normalize=true`` (the default, what ASR evaluations usually report): lowercase, remove
  punctuation (Unicode category P), collapse runs of spaces, strip;
- ``normalize=false``: jiwer's own defaults, which keep case and punctuation (``Hello,`` and
  ``hello`` are different words).

Metrics (lower is better), corpus-level as jiwer computes them:

- ``wer``: (substitutions + deletions + insertions) / reference words, over the whole corpus
  (jiwer's ``wer``; Morris et al. 2004);
- ``cer``: the same over characters (jiwer's ``cer``).

Each is a ratio of sums, so the bootstrap sums per-example (errors, reference length), from
jiwer's alignment of each example, under each resample's weights. The per-example outcome, for
the paired Wilcoxon test and the disagreements, is the example's word-error count.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from whichmodel.errors import DataError, MissingExtraError
from whichmodel.sources.audio import waveforms
from whichmodel.sources.base import Inputs, Model, RawOutput
from whichmodel.sources.capabilities import as_transcriber
from whichmodel.tasks.base import Metric, Predictions, Task, WeightedSums
from whichmodel.tasks.options import TaskOptions

SCORE_NAMES = ("duration_s", "clip_rate_hz", "model_rate_hz")
NORMALIZATION_STEPS = "lowercase, remove punctuation, collapse spaces, strip"
RESAMPLER = "scipy.signal.resample_poly"


class SpeechToTextTask(Task):
    outcome_kind = "continuous"  # per-example word errors: paired Wilcoxon test
    requires = "transcribe"
    keeps_scores = True  # (duration, clip rate, model rate) per example, for the audio table
    text_predictions = True
    audio = True
    takes_options = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("speech-to-text", {})
        self.normalize = options.flag("normalize", True)
        self.name = options.finish()

    # -- reading and running ------------------------------------------------------------------
    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        """(n,) str transcripts; raises DataError for a missing or (after normalization) empty
        one: WER is undefined for a reference without words."""
        texts = ["" if _missing(v) else str(v) for v in labels]
        words = _jiwer_words(self.normalize)
        empty = [i for i, t in enumerate(texts) if not words(t)]
        if empty:
            how = " after normalization" if self.normalize else ""
            raise DataError(
                f"The transcript of row {empty[0]} is empty{how} ({len(empty)} such rows); every "
                "clip needs a reference transcript with at least one word."
            )
        return np.asarray(texts, dtype=str)

    def run(self, model: Model, inputs: Inputs) -> RawOutput:
        """``texts``: an (n, 4) object array of (transcript, duration_s, clip rate, model rate)."""
        transcriber = as_transcriber(model, "speech-to-text")
        if inputs.kind != "audio":
            raise DataError(
                "Speech to text reads audio: an audio folder, or a column of arrays or encoded "
                "audio (name it with --input-cols)."
            )
        rate = int(transcriber.sampling_rate_hz)
        texts = transcriber.transcribe(waveforms(list(inputs.data), rate))
        out = np.empty((len(inputs), 4), dtype=object)
        for i, (clip, text) in enumerate(zip(inputs.data, texts, strict=True)):
            out[i] = (str(text), clip.duration_s, clip.sampling_rate_hz, rate)
        return RawOutput("texts", out)

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        rows = np.asarray(raw.array, dtype=object).reshape(len(raw.array), 4)
        pred = np.asarray([str(t) for t in rows[:, 0]], dtype=object)
        return pred, rows[:, 1:].astype(np.float64), SCORE_NAMES

    # -- scoring ------------------------------------------------------------------------------
    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        return [
            _error_rate("wer", "wer", "process_words", self.normalize),
            _error_rate("cer", "cer", "process_characters", self.normalize),
        ]

    def metric_names(self) -> tuple[str, ...]:
        return ("wer", "cer")

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        terms = error_terms(y_true, preds.pred, "process_words", self.normalize)
        return terms[:, 0]

    def tables(self, y_true: np.ndarray, preds: Predictions) -> dict[str, list[dict[str, object]]]:
        jiwer = _jiwer()
        words = jiwer.process_words(
            y_true.tolist(), _hyps(preds.pred), *[_transform(self.normalize, "words")] * 2
        )
        return {
            "text_normalization": [
                {
                    "normalize": self.normalize,
                    "steps": NORMALIZATION_STEPS
                    if self.normalize
                    else "jiwer defaults (strip, collapse spaces; case and punctuation kept)",
                }
            ],
            "word_errors": [
                {
                    "substitutions": int(words.substitutions),
                    "deletions": int(words.deletions),
                    "insertions": int(words.insertions),
                    "hits": int(words.hits),
                }
            ],
            "audio": [_audio_summary(preds)],
        }


def _audio_summary(preds: Predictions) -> dict[str, object]:
    clip_rates = preds.score("clip_rate_hz").astype(np.int64)
    model_rates = preds.score("model_rate_hz").astype(np.int64)
    resampled = int(np.sum(clip_rates != model_rates))
    return {
        "clips": len(clip_rates),
        "audio_s": round(float(preds.score("duration_s").sum()), 3),
        "clip_rates_hz": ", ".join(str(r) for r in np.unique(clip_rates)),
        "model_rate_hz": ", ".join(str(r) for r in np.unique(model_rates)),
        "resampled_clips": resampled,
        "resampler": RESAMPLER if resampled else "none",
    }


def error_terms(y: np.ndarray, hyps: np.ndarray, process: str, normalize: bool) -> np.ndarray:
    """(n, 2) float64 per example: (errors = substitutions + deletions + insertions, reference
    length), from jiwer's alignment of that example alone (``process`` is jiwer's
    ``process_words`` or ``process_characters``). Summed over examples they give jiwer's corpus
    counts, so sum(errors) / sum(length) is jiwer's corpus WER or CER."""
    pairs = zip(y.tolist(), _hyps(hyps), strict=True)
    out = np.array([_pair_terms(process, normalize, ref, hyp) for ref, hyp in pairs])
    return out.reshape(len(y), 2).astype(np.float64)


# Metrics, the paired tests, slices and error clusters all ask for the same pairs' terms (in
# subsets and resampled orders); jiwer aligns each pair once (~0.1 ms a pair).
@functools.lru_cache(maxsize=1 << 18)
def _pair_terms(process: str, normalize: bool, ref: str, hyp: str) -> tuple[int, int]:
    unit = "words" if process == "process_words" else "chars"
    transform = _transform(normalize, unit)
    o = getattr(_jiwer(), process)(ref, hyp, transform, transform)
    return o.substitutions + o.deletions + o.insertions, o.hits + o.substitutions + o.deletions


def _error_rate(name: str, corpus_fn: str, process: str, normalize: bool) -> Metric:
    unit = "words" if process == "process_words" else "chars"

    def terms(y: np.ndarray, p: Predictions) -> np.ndarray:
        return error_terms(y, p.pred, process, normalize)

    def finish(sums: np.ndarray, _weight: np.ndarray) -> np.ndarray:
        return np.asarray(sums[:, 0] / sums[:, 1])  # (B,) errors / reference length

    def score(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
        if w is None:  # the point value: jiwer's own corpus computation
            transform = _transform(normalize, unit)
            return float(
                getattr(_jiwer(), corpus_fn)(y.tolist(), _hyps(p.pred), transform, transform)
            )
        sums = np.asarray(w, dtype=np.float64) @ terms(y, p)  # (2,) weighted errors, length
        return float(sums[0] / sums[1])

    return Metric(name, False, score, sums=WeightedSums(terms, finish))


@functools.cache
def _transform(normalize: bool, unit: str) -> Any:
    """jiwer's transformation for references and transcripts (see the module docstring)."""
    jiwer = _jiwer()
    default = jiwer.wer_default if unit == "words" else jiwer.cer_default
    if not normalize:
        return default
    reduce = (
        jiwer.ReduceToListOfListOfWords() if unit == "words" else jiwer.ReduceToListOfListOfChars()
    )
    return jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
            reduce,
        ]
    )


def _jiwer_words(normalize: bool) -> Callable[[str], list[str]]:
    """text -> its words after the task's normalization (jiwer's transformation)."""
    transform = _transform(normalize, "words")
    return lambda text: [w for sentence in transform(text) for w in sentence]


def _hyps(pred: np.ndarray) -> list[str]:
    return [str(t) for t in np.asarray(pred).tolist()]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _jiwer() -> Any:
    try:
        import jiwer
    except ImportError as exc:
        raise MissingExtraError("jiwer", "tasks") from exc
    return jiwer
