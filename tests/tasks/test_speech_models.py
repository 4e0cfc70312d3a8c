"""Speech to text end to end with tiny recognizers built in code (random weights): compare's
transcripts are the models' own greedy decodings, its WER and CER are jiwer's on those
transcripts, clips at 8 kHz are resampled for 16 kHz models and the results say so, a clip that
fails to decode mid-run is recorded while the run goes on, and bad data is one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

import whichmodel
from helpers.tiny_speech import (
    TRANSCRIPTS,
    build_tiny_wav2vec2,
    build_tiny_whisper,
    write_audio_folder,
)
from whichmodel.errors import TaskError

USES_TORCH = True
OPTIONS = {"measure_cost": False, "n_resamples": 100, "label_col": "text"}
NORMALIZE = jiwer.Compose(
    [jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip()]
)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("speech")
    build_tiny_wav2vec2(root / "ctc-masked", seed=0, attention_mask=True)
    build_tiny_wav2vec2(root / "ctc-plain", seed=1, attention_mask=False)
    write_audio_folder(root / "audio")
    return root


def _by_hand_ctc(folder: Path, audio: Path) -> list[str]:
    """Greedy CTC transcripts computed directly with transformers, one clip at a time."""
    import torch
    import transformers as tr

    model = tr.Wav2Vec2ForCTC.from_pretrained(folder, local_files_only=True).eval()
    processor = tr.Wav2Vec2Processor.from_pretrained(folder, local_files_only=True)
    out = []
    for i in range(len(TRANSCRIPTS)):
        samples, rate = sf.read(audio / "clips" / f"{i:02d}.wav", dtype="float32")
        if rate != 16000:
            samples = resample_poly(samples, 16000 // rate, 1).astype(np.float32)
        features = processor(samples, sampling_rate=16000, return_tensors="pt")
        with torch.inference_mode():
            ids = model(**features).logits.argmax(-1)
        out.append(processor.batch_decode(ids, skip_special_tokens=True)[0])
    return out


def test_ctc_models_through_compare(speech, tmp_path):
    refs = [f"hf:{speech / 'ctc-masked'}", f"hf:{speech / 'ctc-plain'}"]
    c = whichmodel.compare(
        refs,
        speech / "audio",
        task="speech-to-text",
        batch_size=3,
        slice_by=["speaker"],
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    assert c.input_kind == "audio" and c.n_examples == len(TRANSCRIPTS)
    references = [NORMALIZE(t) for t in TRANSCRIPTS]
    for name in ("ctc-masked", "ctc-plain"):
        pred = [str(t) for t in c.model(name).predictions.pred]
        assert pred == _by_hand_ctc(speech / name, speech / "audio")
        hyps = [NORMALIZE(t) for t in pred]
        assert c.metric(name, "wer") == pytest.approx(jiwer.wer(references, hyps))
        assert c.metric(name, "cer") == pytest.approx(jiwer.cer(references, hyps))
        tables = c.model(name).tables
        assert tables["audio"] == [
            {
                "clips": 8,
                "audio_s": pytest.approx(4.5),
                "clip_rates_hz": "8000, 16000",
                "model_rate_hz": "16000",
                "resampled_clips": 4,
                "resampler": "scipy.signal.resample_poly",
            }
        ]
        assert tables["text_normalization"][0]["normalize"] is True
        errors = tables["word_errors"][0]
        words = sum(len(r.split()) for r in references)
        assert errors["hits"] + errors["substitutions"] + errors["deletions"] == words
    (test,) = c.statistics.tests
    assert test.test == "wilcoxon" and test.n == 8
    assert c.findings is not None
    (slices,) = c.findings.slices
    assert {s.value for s in slices.slices} == {"a", "b"}
    (pair,) = c.findings.disagreements
    shown = [d.input.text for d in (*pair.a_wins, *pair.b_wins)]
    assert shown and all(".wav (" in t and " Hz)" in t for t in shown)


def test_batch_size_changes_no_transcript(speech, tmp_path):
    runs = [
        whichmodel.compare(
            [f"hf:{speech / 'ctc-masked'}"],
            speech / "audio",
            task="speech-to-text",
            batch_size=b,
            store=str(tmp_path / f"{b}.db"),
            **OPTIONS,
        )
        for b in (1, 8)
    ]
    one, eight = (r.model("ctc-masked").predictions.pred.tolist() for r in runs)
    assert one == eight


def test_a_clip_that_fails_to_decode_is_recorded_and_the_run_goes_on(speech, tmp_path):
    folder = write_audio_folder(tmp_path / "audio", fmt="flac")
    broken = folder / "clips" / "05.flac"
    data = bytearray(broken.read_bytes())
    for i in range(len(data) // 2, len(data)):  # the header stays valid, the frames do not
        data[i] = (data[i] * 7 + 13) % 256
    broken.write_bytes(bytes(data))
    c = whichmodel.compare(
        [f"hf:{speech / 'ctc-masked'}"],
        folder,
        task="speech-to-text",
        batch_size=4,
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    preds = c.model("ctc-masked").predictions
    assert [row for row, _ in preds.failed_rows] == [5]
    assert "Error" in preds.failed_rows[0][1]
    assert c.n_examples == 8 and preds.rows.tolist() == [0, 1, 2, 3, 4, 6, 7]
    assert c.statistics.n_examples == 7


def test_a_model_that_cannot_transcribe_is_refused(speech, tmp_path):
    from helpers.tiny_hf import build_tiny_bert

    build_tiny_bert(tmp_path / "bert", ["cat", "dog"], {0: "a", 1: "b"})
    with pytest.raises(TaskError, match="needs a model that can transcribe speech"):
        whichmodel.compare(
            [f"hf:{tmp_path / 'bert'}"],
            speech / "audio",
            task="speech-to-text",
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )


def test_bad_audio_data_is_one_line_and_exit_code_2(speech, cli, tmp_path):
    ref = f"hf:{speech / 'ctc-masked'}"
    missing = write_audio_folder(tmp_path / "missing")
    (missing / "clips" / "02.wav").unlink()
    unreadable = write_audio_folder(tmp_path / "unreadable")
    (unreadable / "clips" / "04.wav").write_bytes(b"\x00" * 64)
    empty = write_audio_folder(tmp_path / "empty", ["fine", "?!", "also fine"])
    cases = [
        (missing, "text", "No audio file"),
        (unreadable, "text", "Cannot read the audio file"),
        (speech / "audio", "transcript", "no transcript column 'transcript'"),
        (empty, "text", "The transcript of row 1 is empty after normalization"),
    ]
    for folder, label, message in cases:
        proc = cli(
            "compare", ref, "--data", str(folder), "--task", "speech-to-text",
            "--label-col", label, "--no-cost", "--store", str(tmp_path / "s.db"),
        )  # fmt: skip
        assert proc.returncode == 2, (message, proc.stderr)
        assert message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_whisper_through_compare(speech, tmp_path):
    import torch
    import transformers as tr

    folder = tmp_path / "whisper"
    build_tiny_whisper(folder, seed=2)
    c = whichmodel.compare(
        [f"hf:{folder}", f"hf:{speech / 'ctc-masked'}"],
        speech / "audio",
        task="speech-to-text",
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    pred = [str(t) for t in c.model("whisper").predictions.pred]
    model = tr.WhisperForConditionalGeneration.from_pretrained(folder, local_files_only=True)
    extractor = tr.WhisperFeatureExtractor.from_pretrained(folder, local_files_only=True)
    tokenizer = tr.WhisperTokenizer.from_pretrained(folder, local_files_only=True)
    clips = []
    for i in range(len(TRANSCRIPTS)):
        samples, rate = sf.read(speech / "audio" / "clips" / f"{i:02d}.wav", dtype="float32")
        clips.append(resample_poly(samples, 16000 // rate, 1).astype(np.float32))
    features = extractor(clips, sampling_rate=16000, return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(features.input_features)
    assert pred == [t.strip() for t in tokenizer.batch_decode(out, skip_special_tokens=True)]
    references = [NORMALIZE(t) for t in TRANSCRIPTS]
    hyps = [NORMALIZE(t) for t in pred]
    assert c.metric("whisper", "wer") == pytest.approx(jiwer.wer(references, hyps))
    assert c.metric("whisper", "cer") == pytest.approx(jiwer.cer(references, hyps))


@pytest.mark.slow
def test_cost_of_a_speech_model_is_measured_on_the_clips(speech, tmp_path):
    c = whichmodel.compare(
        [f"hf:{speech / 'ctc-masked'}"],
        speech / "audio",
        task="speech-to-text",
        batch_size=4,
        store=str(tmp_path / "s.db"),
        **{**OPTIONS, "measure_cost": True},
    )
    result = c.model("ctc-masked")
    assert result.cost_error is None and result.cost is not None
    assert result.cost.architecture == "Wav2Vec2ForCTC"
    assert set(result.cost.latency) == {1, 4}  # timed on the first clips, decoded and resampled
    assert all(lat.p50_s > 0 for lat in result.cost.latency.values())
