"""Speech to text's own overhead: per-clip jiwer terms, the bootstrap over them, resampling.

Figures, not pass/fail. Times are CPU seconds of this process (``time.process_time``), which a
busy shared machine distorts less than wall time; still noisy: run it twice.

    python benchmarks/speech_wer.py [n_clips]
"""

from __future__ import annotations

import sys
import time

import numpy as np


def _sentences(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    words = np.array([f"word{i}" for i in range(50)])  # a 50-word vocabulary
    return [" ".join(rng.choice(words, size=int(rng.integers(5, 20)))) for _ in range(n)]


def main(n: int) -> None:
    import jiwer

    from whichmodel.analysis.stats import compute_statistics
    from whichmodel.sources.audio import resample
    from whichmodel.tasks import Predictions, get_task
    from whichmodel.tasks.speech import error_terms

    refs = _sentences(n, 0)
    hyps = {name: _sentences(n, seed) for name, seed in (("a", 1), ("b", 2))}
    y = np.asarray(refs, dtype=str)
    start = time.process_time()
    terms = error_terms(y, np.asarray(hyps["a"], dtype=object), "process_words", True)
    per_clip_s = time.process_time() - start
    start = time.process_time()
    transform = jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
            jiwer.ReduceToListOfListOfWords(),
        ]
    )
    corpus = jiwer.wer(refs, hyps["a"], transform, transform)
    corpus_s = time.process_time() - start
    assert abs(terms[:, 0].sum() / terms[:, 1].sum() - corpus) < 1e-12
    print(f"{n} clips: per-clip WER terms {per_clip_s:.2f} s, one jiwer.wer call {corpus_s:.2f} s")

    task = get_task("speech-to-text")
    preds = {k: Predictions(np.arange(n), np.asarray(v, dtype=object)) for k, v in hyps.items()}
    start = time.process_time()
    compute_statistics(task, y, preds, n_resamples=1000)
    print(f"statistics (2 models, wer + cer, 1000 resamples): {time.process_time() - start:.2f} s")

    audio = np.random.default_rng(0).standard_normal(8000 * 600).astype(np.float32)  # 10 min
    start = time.process_time()
    resample(audio, 8000, 16000)
    print(f"resample_poly 10 min of 8 kHz audio to 16 kHz: {time.process_time() - start:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
