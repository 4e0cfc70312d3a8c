"""Speech to text: WER and CER equal jiwer's on the whole corpus (with and without the text
normalization), bootstrap replicates equal the metric on the resampled corpus, the paired test
runs on per-example word errors, and audio is read from folders, arrays and encoded bytes and
resampled to the model's rate with SciPy."""

from __future__ import annotations

import io

import jiwer
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy.signal import resample_poly
from scipy.stats import wilcoxon

from helpers.tiny_speech import tone, write_audio_folder
from whichmodel.analysis.stats import bootstrap_weights, compute_statistics
from whichmodel.data.dataset import read_dataset
from whichmodel.errors import DataError, TaskError
from whichmodel.sources.audio import AudioClip, resample, waveforms
from whichmodel.tasks import Predictions, get_task
from whichmodel.tasks.speech import error_terms

REFERENCES = [
    "The cat sat on the mat.",
    "Hello, world!",
    "a quick brown fox jumps over the lazy dog",
    "rain is expected tomorrow",
    "She sells sea-shells",
    "one two three",
]
HYPOTHESES = [
    "the cat sat on a mat",
    "hello world",
    "a quick brown fox jumped over lazy dog",
    "",
    "she sells seashells by the shore",
    "One, two, three.",
]
NORMALIZE = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
    ]
)


def _preds(hyps: list[str]) -> Predictions:
    return Predictions(np.arange(len(hyps)), np.asarray(hyps, dtype=object))


def _values(spec: str, hyps: list[str] = HYPOTHESES) -> dict[str, float]:
    task = get_task(spec)
    y = task.read_labels(np.asarray(REFERENCES, dtype=object))
    return {m.name: m.score(y, _preds(hyps), None) for m in task.metrics(y, _preds(hyps))}


def test_wer_and_cer_equal_jiwer_on_the_corpus_with_normalization():
    values = _values("speech-to-text")
    refs, hyps = [NORMALIZE(r) for r in REFERENCES], [NORMALIZE(h) for h in HYPOTHESES]
    assert values["wer"] == pytest.approx(jiwer.wer(refs, hyps))
    assert values["cer"] == pytest.approx(jiwer.cer(refs, hyps))
    assert 0.2 < values["wer"] < 1.0 and 0.05 < values["cer"] < values["wer"]


def test_without_normalization_case_and_punctuation_count_as_errors():
    values = _values("speech-to-text?normalize=false")
    assert values["wer"] == pytest.approx(jiwer.wer(REFERENCES, HYPOTHESES))
    assert values["cer"] == pytest.approx(jiwer.cer(REFERENCES, HYPOTHESES))
    assert values["wer"] > _values("speech-to-text")["wer"]


@pytest.mark.parametrize("normalize", [True, False])
def test_per_example_terms_finish_to_jiwer_corpus_values(normalize):
    # sum(errors) / sum(reference length) over per-example alignments is jiwer's corpus value.
    y = np.asarray(REFERENCES, dtype=str)
    refs = [NORMALIZE(r) for r in REFERENCES] if normalize else REFERENCES
    hyps = [NORMALIZE(h) for h in HYPOTHESES] if normalize else HYPOTHESES
    for process, corpus in (("process_words", jiwer.wer), ("process_characters", jiwer.cer)):
        terms = error_terms(y, np.asarray(HYPOTHESES, dtype=object), process, normalize)
        assert terms.shape == (len(y), 2)
        assert terms[:, 0].sum() / terms[:, 1].sum() == pytest.approx(corpus(refs, hyps))
    words = error_terms(y, np.asarray(HYPOTHESES, dtype=object), "process_words", normalize)
    assert words[3, 0] == words[3, 1] == 4  # the empty transcript: 4 deletions of 4 words


def test_bootstrap_replicates_are_the_metric_on_the_resampled_corpus():
    task = get_task("speech-to-text")
    y = task.read_labels(np.asarray(REFERENCES, dtype=object))
    preds = _preds(HYPOTHESES)
    weights = bootstrap_weights(len(y), 5, seed=3)
    for metric in task.metrics(y, preds):
        replicates = metric.replicate(y, preds, weights)
        for w, value in zip(weights, replicates, strict=True):
            drawn = np.repeat(np.arange(len(y)), w.astype(int))
            expected = metric.score(y[drawn], _preds([HYPOTHESES[i] for i in drawn]), None)
            assert value == pytest.approx(expected, rel=1e-12), metric.name


def test_paired_test_is_wilcoxon_on_per_example_word_errors():
    task = get_task("speech-to-text")
    y = task.read_labels(np.asarray(REFERENCES, dtype=object))
    worse = ["the dog sat", "hello", "a fox", "", "she", "one"]
    stats = compute_statistics(
        task, y, {"a": _preds(HYPOTHESES), "b": _preds(worse)}, n_resamples=50
    )
    errors = {
        name: [
            jiwer.process_words(NORMALIZE(r), NORMALIZE(h)).wer * len(NORMALIZE(r).split())
            for r, h in zip(REFERENCES, hyps, strict=True)
        ]
        for name, hyps in (("a", HYPOTHESES), ("b", worse))
    }
    (test,) = stats.tests
    assert test.test == "wilcoxon"
    assert test.p_value == pytest.approx(wilcoxon(errors["a"], errors["b"]).pvalue)
    assert test.a_only == sum(a < b for a, b in zip(errors["a"], errors["b"], strict=True))
    (wer_diff,) = [d for d in stats.differences if d.name == "wer"]
    assert wer_diff.diff < 0 and not wer_diff.higher_is_better


def test_empty_or_missing_transcripts_are_refused():
    task = get_task("speech-to-text")
    with pytest.raises(DataError, match=r"transcript of row 1 is empty after normalization"):
        task.read_labels(np.asarray(["fine", " ... ", None], dtype=object))
    with pytest.raises(TaskError, match="has no option 'normalise'"):
        get_task("speech-to-text?normalise=false")


# -- audio ----------------------------------------------------------------------------------
def test_resampling_is_scipy_resample_poly_and_recorded_per_clip():
    samples = tone(0.5, 8000, seed=1)
    clip = AudioClip("row 0", 8000, len(samples), samples=samples)
    (up,) = waveforms([clip], 16000)
    np.testing.assert_array_equal(up, resample_poly(samples, 2, 1).astype(np.float32))
    assert len(up) == 8000 and up.dtype == np.float32
    assert resample(samples, 8000, 8000) is samples
    down = resample(tone(0.25, 44100), 44100, 16000)  # gcd 100: up 160, down 441
    assert len(down) == 4000


def test_audio_folder_reads_headers_first_and_samples_on_demand(tmp_path):
    folder = write_audio_folder(tmp_path / "audio", fmt="flac")
    data = read_dataset(folder, label_col="text", audio=True)
    assert data.inputs.kind == "audio" and len(data) == 8
    assert data.labels[1] == "Hello, world!"
    clips = list(data.inputs.data)
    assert [c.sampling_rate_hz for c in clips[:2]] == [16000, 8000]
    assert clips[0].samples is None  # not read yet
    expected, rate = sf.read(folder / "clips" / "01.flac", dtype="float32")
    assert rate == 8000
    np.testing.assert_array_equal(clips[1].read(), expected)
    assert str(clips[1]) == "01.flac (0.40 s at 8000 Hz)"


def test_audio_arrays_and_encoded_bytes_from_a_parquet_file(tmp_path):
    a, b = tone(0.2, 16000, seed=2), tone(0.3, 8000, seed=3)
    buffer = io.BytesIO()
    sf.write(buffer, b, 8000, format="WAV")
    arrays = pd.DataFrame(
        {"audio": [a.tolist(), b.tolist()], "sampling_rate": [16000, 8000], "text": ["x", "y"]}
    )
    arrays.to_parquet(tmp_path / "arrays.parquet")
    encoded = pd.DataFrame(
        {"audio": [{"bytes": buffer.getvalue(), "path": "b.wav"}], "text": ["y"]}
    )
    encoded.to_parquet(tmp_path / "encoded.parquet")
    first = read_dataset(tmp_path / "arrays.parquet", label_col="text", audio=True)
    assert first.inputs.columns == ("audio",)  # its rates come from the sampling_rate column
    clips = list(first.inputs.data)
    assert [c.sampling_rate_hz for c in clips] == [16000, 8000]
    np.testing.assert_allclose(clips[1].read(), b)
    (clip,) = read_dataset(tmp_path / "encoded.parquet", label_col="text", audio=True).inputs.data
    assert clip.sampling_rate_hz == 8000
    np.testing.assert_allclose(clip.read(), b, atol=1 / 32768)  # 16-bit PCM round trip


def test_a_datasets_folder_with_an_audio_feature(tmp_path):
    import datasets

    buffer = io.BytesIO()
    sf.write(buffer, tone(0.2, 16000), 16000, format="FLAC")
    ds = datasets.Dataset.from_dict(
        {"audio": [{"bytes": buffer.getvalue(), "path": "a.flac"}], "text": ["hello"]}
    ).cast_column("audio", datasets.Audio(decode=False))
    ds.save_to_disk(str(tmp_path / "ds"))
    (clip,) = read_dataset(tmp_path / "ds", label_col="text", audio=True).inputs.data
    assert clip.sampling_rate_hz == 16000 and clip.n_frames == 3200


def test_bad_audio_data_says_what_is_wrong(tmp_path):
    folder = write_audio_folder(tmp_path / "audio")
    (folder / "clips" / "03.wav").write_bytes(b"RIFF not really a wave file")
    with pytest.raises(DataError, match=r"Cannot read the audio file .*03\.wav"):
        read_dataset(folder, label_col="text", audio=True)
    (folder / "clips" / "03.wav").unlink()
    with pytest.raises(DataError, match=r"No audio file .*03\.wav \(row 3"):
        read_dataset(folder, label_col="text", audio=True)
    with pytest.raises(DataError, match=r"has no metadata.csv"):
        read_dataset(tmp_path / "audio" / "clips", label_col="text", audio=True)
    pd.DataFrame({"audio": [[0.1, 0.2]], "text": ["x"]}).to_parquet(tmp_path / "a.parquet")
    with pytest.raises(DataError, match="has no sampling rate; add a 'sampling_rate' column"):
        read_dataset(tmp_path / "a.parquet", label_col="text", audio=True)
    pd.DataFrame({"x": [0.5], "text": ["x"]}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match=r"t\.csv has no audio column .* are 'x', 'text'"):
        read_dataset(tmp_path / "t.csv", label_col="text", audio=True)
