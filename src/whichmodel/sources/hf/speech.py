"""Hugging Face speech recognizers (capability ``transcribe``): CTC models and Whisper.

The folder holds the model (config + safetensors), its feature extractor
(``preprocessor_config.json`` or ``processor_config.json``) and its tokenizer; all are read with
``local_files_only=True``. The feature extractor's ``sampling_rate`` is the model's: the speech
task resamples clips to it.

- :class:`HFCTCRecognizer` (``*ForCTC``, e.g. ``Wav2Vec2ForCTC``): greedy CTC decoding, the
  argmax token per frame, repeats merged and blanks dropped by the tokenizer's ``decode``.
  Clips are batched with an attention mask when the feature extractor returns one; otherwise
  one at a time, since zero padding changes the outputs of models trained without a mask.
- :class:`HFSeq2SeqRecognizer` (``WhisperForConditionalGeneration``,
  ``Speech2TextForConditionalGeneration``, ``SpeechEncoderDecoderModel``): ``generate`` with the
  folder's generation config (greedy unless it says otherwise). Whisper's feature extractor pads
  or cuts every clip to 30 s, so longer clips are transcribed only up to 30 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.errors import DataError, ModelLoadError
from whichmodel.sources.audio import waveforms
from whichmodel.sources.base import Inputs, RawOutput
from whichmodel.sources.hf.base import HFModel

SEQ2SEQ = (
    "WhisperForConditionalGeneration",
    "Speech2TextForConditionalGeneration",
    "SpeechEncoderDecoderModel",
)


class HFSpeechRecognizer(HFModel):
    """A speech-to-text model; :meth:`predict` (what the cost probe times) transcribes audio
    inputs and returns ``texts`` (n,)."""

    capabilities = frozenset({"predict", "transcribe"})
    _extractor: Any = None

    @property
    def feature_extractor(self) -> Any:
        """The folder's feature extractor, read on first use."""
        if self._extractor is None:
            import transformers

            folder = Path(self.ref.target)
            auto: Any = transformers.AutoFeatureExtractor
            try:
                self._extractor = auto.from_pretrained(folder, local_files_only=True)
            except (OSError, ValueError) as exc:
                raise ModelLoadError(
                    f"{folder} has no feature extractor a speech model needs "
                    f"(preprocessor_config.json): {str(exc).splitlines()[0]}"
                ) from exc
        return self._extractor

    @property
    def sampling_rate_hz(self) -> int:
        return int(self.feature_extractor.sampling_rate)

    def _tok(self) -> Any:
        if self.tokenizer is None:
            raise ModelLoadError(
                f"{self.ref} has no tokenizer files, so its output cannot be read as text."
            )
        return self.tokenizer

    def predict(self, inputs: Inputs) -> RawOutput:
        if inputs.kind != "audio":
            raise DataError(f"{self.name} is a speech model: it reads audio, not {inputs.kind}.")
        texts = self.transcribe(waveforms(list(inputs.data), self.sampling_rate_hz))
        return RawOutput("texts", np.asarray(texts, dtype=object))

    def transcribe(self, waveforms: Sequence[np.ndarray]) -> list[str]:
        raise NotImplementedError


class HFCTCRecognizer(HFSpeechRecognizer):
    """A CTC model (``*ForCTC``), decoded greedily (see the module docstring)."""

    def transcribe(self, waveforms: Sequence[np.ndarray]) -> list[str]:
        extractor = self.feature_extractor
        if getattr(extractor, "return_attention_mask", False):
            return self._transcribe(list(waveforms))
        return [text for w in waveforms for text in self._transcribe([w])]

    def _transcribe(self, batch: list[np.ndarray]) -> list[str]:
        import torch

        features = self.feature_extractor(
            batch, sampling_rate=self.sampling_rate_hz, padding=True, return_tensors="pt"
        )
        with torch.inference_mode():
            logits = self.model(**features).logits  # (n, frames, vocab)
        best = logits.argmax(dim=-1)  # (n, frames): greedy CTC path
        frames = [best.shape[1]] * len(batch)
        mask = features.get("attention_mask")
        lengths = getattr(self.model, "_get_feat_extract_output_lengths", None)
        if mask is not None and lengths is not None:
            # Frames of the zero padding past a clip's end are not the clip's: drop them.
            frames = [int(f) for f in lengths(mask.sum(-1))]
        tok = self._tok()
        return [
            str(tok.decode(path[:n], skip_special_tokens=True))
            for path, n in zip(best, frames, strict=True)
        ]


class HFSeq2SeqRecognizer(HFSpeechRecognizer):
    """An encoder-decoder speech model (Whisper and the like), decoded with ``generate``."""

    def transcribe(self, waveforms: Sequence[np.ndarray]) -> list[str]:
        import torch

        features = self.feature_extractor(
            list(waveforms),
            sampling_rate=self.sampling_rate_hz,
            return_tensors="pt",
            return_attention_mask=True,
        )
        import transformers

        hf_logging: Any = transformers.utils.logging
        # Whisper's generate logs deprecation notes about arguments it passes itself (the
        # folder's suppress_tokens) on every call: nothing the user can act on.
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()
        try:
            with torch.inference_mode():
                out = self.model.generate(**features)  # (n, tokens)
        finally:
            hf_logging.set_verbosity(verbosity)
        return [str(t).strip() for t in self._tok().batch_decode(out, skip_special_tokens=True)]


def speech_model_class(architecture: str) -> type[HFSpeechRecognizer] | None:
    """The recognizer class for an architecture, or None when it is not a speech recognizer."""
    if architecture.endswith("ForCTC"):
        return HFCTCRecognizer
    if architecture in SEQ2SEQ:
        return HFSeq2SeqRecognizer
    return None
