"""Tiny speech recognizers built offline (random seeded weights) and synthesized audio folders.

Random weights transcribe garbage, which is what the tests want: real model outputs whose WER
jiwer can check, not a perfect score.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

LETTERS = "abcdefghijklmnopqrstuvwxyz'"
WHISPER_SPECIAL = (
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|transcribe|>",
    "<|translate|>",
    "<|notimestamps|>",
)
TRANSCRIPTS = (
    "the cat sat on the mat",
    "Hello, world!",
    "a quick brown fox",
    "rain is expected tomorrow",
    "she sells sea shells",
    "the meeting moved to friday",
    "one two three",
    "Good morning.",
)


def build_tiny_wav2vec2(folder: Path, *, seed: int = 0, attention_mask: bool = True) -> Any:
    """Save a Wav2Vec2ForCTC (hidden 32, 2 layers; frames every 20 samples), a character CTC
    tokenizer from a vocab json and a feature extractor at 16 kHz into ``folder``."""
    import torch
    import transformers as tr

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    vocab.update({c: i + 5 for i, c in enumerate(LETTERS)})
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = tr.Wav2Vec2CTCTokenizer(
        str(folder / "vocab.json"), unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|"
    )
    extractor = tr.Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=16000,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=attention_mask,
    )
    config = tr.Wav2Vec2Config(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        conv_dim=(16, 16),
        conv_stride=(5, 4),
        conv_kernel=(10, 8),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        pad_token_id=0,
        feat_extract_norm="layer",
        do_stable_layer_norm=True,
    )
    torch.manual_seed(seed)
    model = tr.Wav2Vec2ForCTC(config).eval()
    model.save_pretrained(folder)
    tr.Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    return model


def build_tiny_whisper(folder: Path, *, seed: int = 0, max_new_tokens: int = 6) -> Any:
    """Save a WhisperForConditionalGeneration (d_model 16, 1+1 layers), a byte-level BPE
    tokenizer over letters (vocab.json + an empty merges.txt) and Whisper's default feature
    extractor (80 mel bins, 16 kHz) into ``folder``."""
    import torch
    import transformers as tr

    folder.mkdir(parents=True, exist_ok=True)
    pieces = [*"abcdefghijklmnopqrstuvwxyz", *("Ġ" + c for c in "abcdefghijklmnopqrstuvwxyz")]
    vocab = {p: i for i, p in enumerate([*pieces, "Ġ", ".", *WHISPER_SPECIAL])}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tokenizer = tr.WhisperTokenizer(
        str(folder / "vocab.json"),
        str(folder / "merges.txt"),
        unk_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    tokenizer.add_special_tokens({"additional_special_tokens": list(WHISPER_SPECIAL[1:])})
    end = vocab["<|endoftext|>"]
    config = tr.WhisperConfig(
        vocab_size=len(vocab),
        num_mel_bins=80,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_source_positions=1500,
        max_target_positions=32,
        pad_token_id=end,
        bos_token_id=end,
        eos_token_id=end,
        decoder_start_token_id=vocab["<|startoftranscript|>"],
        begin_suppress_tokens=None,
        suppress_tokens=None,
    )
    torch.manual_seed(seed)
    model = tr.WhisperForConditionalGeneration(config).eval()
    model.generation_config.max_new_tokens = max_new_tokens
    model.generation_config.begin_suppress_tokens = None
    model.generation_config.suppress_tokens = None
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    tr.WhisperFeatureExtractor().save_pretrained(folder)
    return model


def tone(seconds: float, rate_hz: int, *, freq_hz: float = 440.0, seed: int = 0) -> np.ndarray:
    """(seconds * rate_hz,) float32: a sine tone plus a little seeded noise, in [-1, 1]."""
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    noise = np.random.default_rng(seed).normal(0.0, 0.05, len(t))
    return np.asarray(0.5 * np.sin(2 * np.pi * freq_hz * t) + noise, dtype=np.float32)


def write_audio_folder(
    folder: Path,
    transcripts: Sequence[str] = TRANSCRIPTS,
    *,
    rates_hz: Sequence[int] = (16000, 8000),
    fmt: str = "wav",
) -> Path:
    """An audio folder: ``clips/NN.wav`` tones of 0.3-0.9 s (rates cycling through
    ``rates_hz``), and ``metadata.csv`` with file_name, text and speaker."""
    import pandas as pd
    import soundfile as sf

    (folder / "clips").mkdir(parents=True, exist_ok=True)
    rows = []
    for i, text in enumerate(transcripts):
        rate = rates_hz[i % len(rates_hz)]
        name = f"clips/{i:02d}.{fmt}"
        samples = tone(0.3 + 0.1 * (i % 7), rate, freq_hz=200.0 + 60 * i, seed=i)
        sf.write(folder / name, samples, rate)
        rows.append({"file_name": name, "text": text, "speaker": "ab"[i % 2]})
    pd.DataFrame(rows).to_csv(folder / "metadata.csv", index=False)
    return folder


if __name__ == "__main__":  # the README's example: python tests/helpers/tiny_speech.py DIR
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "speech-example")
    build_tiny_wav2vec2(out / "ctc-a", seed=0)
    build_tiny_wav2vec2(out / "ctc-b", seed=1, attention_mask=False)
    build_tiny_whisper(out / "whisper", seed=2)
    write_audio_folder(out / "audio")
    print(f"Wrote {out}/ctc-a, {out}/ctc-b, {out}/whisper and {out}/audio")
