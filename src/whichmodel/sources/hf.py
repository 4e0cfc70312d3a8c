"""Local Hugging Face folders (``hf:DIR``): config + safetensors (+ tokenizer).

Always ``local_files_only=True``: nothing is downloaded. The head is the class named first in the
config's ``architectures`` (e.g. ``BertForSequenceClassification``). Code shipped inside the folder
runs only with ``trust_remote_code``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.errors import (
    MissingExtraError,
    ModelLoadError,
    ModelReferenceError,
    UnsafeModelError,
    WhichModelError,
)
from whichmodel.refs import ModelRef
from whichmodel.sources import reference_files
from whichmodel.sources.base import Inputs, LoadOptions, Model, ModelInfo, RawOutput
from whichmodel.sources.hf_config import config_error, read_config_json, short
from whichmodel.sources.torch import count_parameters

_MAX_LENGTH = 512


class HFModel(Model):
    """A transformers model with a task head; text goes through the folder's tokenizer."""

    def __init__(self, ref: ModelRef, model: Any, tokenizer: Any, files: tuple[str, ...]) -> None:
        self.ref = ref
        self.model = model
        self.tokenizer = tokenizer
        config = model.config
        self.is_regression = config.problem_type == "regression" or config.num_labels == 1
        labels = [config.id2label[i] for i in sorted(config.id2label)] if config.id2label else []
        default = [f"LABEL_{i}" for i in range(len(labels))]
        self.classes = tuple(str(x) for x in labels) if labels and labels != default else None
        arch = (config.architectures or [type(model).__name__])[0]
        self.info = ModelInfo("transformers", arch, count_parameters(model), files)

    def predict(self, inputs: Inputs) -> RawOutput:
        import torch

        if inputs.kind == "text":
            if self.tokenizer is None:
                raise ModelLoadError(f"{self.ref} has no tokenizer files, so it cannot read text.")
            max_length = min(int(self.tokenizer.model_max_length or _MAX_LENGTH), _MAX_LENGTH)
            batch = self.tokenizer(
                [str(t) for t in inputs.data],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
        else:
            pixels = torch.from_numpy(np.ascontiguousarray(inputs.data, dtype=np.float32))
            batch = {"pixel_values": pixels.unsqueeze(1) if pixels.ndim == 3 else pixels}
        with torch.inference_mode():
            logits = self.model(**batch).logits.float().numpy()
        if self.is_regression:
            return RawOutput("values", logits.reshape(len(logits), -1)[:, 0])
        return RawOutput("logits", logits)


def load(ref: ModelRef, options: LoadOptions) -> Model:
    folder = Path(ref.target)
    if not (folder / "config.json").is_file():
        raise ModelReferenceError(f"{folder} is not a Hugging Face model folder (no config.json).")
    read_config_json(folder / "config.json")  # sizes checked before anything is built from them
    try:
        import transformers
    except ImportError as exc:
        raise MissingExtraError("transformers", "hf") from exc
    try:
        config = transformers.AutoConfig.from_pretrained(
            folder, local_files_only=True, trust_remote_code=options.trust_remote_code
        )
    except Exception as exc:
        refused = config_refused(exc, folder / "config.json")
        if refused is None:
            raise
        raise refused from exc
    from safetensors import SafetensorError

    model_class = _head_class(config, folder, options, transformers)
    try:
        with _quiet_progress_bars(transformers):
            model = model_class.from_pretrained(
                folder, local_files_only=True, trust_remote_code=options.trust_remote_code
            )
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        raise ModelLoadError(f"Cannot load the weights in {folder}: {exc}") from exc
    model.eval()
    tokenizer = _tokenizer(folder, transformers, options)
    from whichmodel.sources.detection import detection_model_class
    from whichmodel.sources.hf_speech import speech_model_class
    from whichmodel.sources.hf_text import text_model_class

    # causal LMs, encoders, detectors, speech recognizers: capabilities beyond a task head
    name = type(model).__name__
    detector = detection_model_class(name)
    if detector is not None:
        return detector(ref, model, reference_files(ref))
    cls = speech_model_class(name) or text_model_class(name) or HFModel
    return cls(ref, model, tokenizer, reference_files(ref))


@contextmanager
def _quiet_progress_bars(transformers: Any) -> Iterator[None]:
    """transformers 5 draws a "Loading weights" bar on stderr; whichmodel draws its own."""
    hf_logging = transformers.utils.logging
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _head_class(config: Any, folder: Path, options: LoadOptions, transformers: Any) -> Any:
    architectures = getattr(config, "architectures", None) or []
    if architectures and hasattr(transformers, architectures[0]):
        return getattr(transformers, architectures[0])
    if architectures and getattr(config, "auto_map", None):
        if not options.trust_remote_code:
            raise UnsafeModelError(
                f"{folder} uses the custom class {architectures[0]} from code in the folder; "
                "pass --trust-remote-code if you trust it."
            )
        return transformers.AutoModelForSequenceClassification
    raise ModelLoadError(
        f"{folder}/config.json names no architecture transformers knows "
        f"({architectures or 'none'}); "
        "set 'architectures' to e.g. ['BertForSequenceClassification']."
    )


def _tokenizer(folder: Path, transformers: Any, options: LoadOptions) -> Any:
    names = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "spiece.model", "vocab.json")
    if not any((folder / n).is_file() for n in names):
        return None
    try:
        return transformers.AutoTokenizer.from_pretrained(
            folder, local_files_only=True, trust_remote_code=options.trust_remote_code
        )
    except (OSError, ValueError) as exc:
        raise _load_error(exc, f"the tokenizer in {folder}") from exc


def _load_error(exc: Exception, what: str) -> UnsafeModelError | ModelLoadError:
    """transformers refuses folder code without trust_remote_code by raising ValueError."""
    if "trust_remote_code" in str(exc):
        return UnsafeModelError(
            f"Loading {what} needs code shipped in the folder; "
            "pass --trust-remote-code if you trust it."
        )
    return ModelLoadError(f"Cannot load {what}: {short(exc)}")


def config_refused(exc: Exception, path: Path) -> WhichModelError | None:
    """What ``AutoConfig.from_pretrained`` raised, as the user's error it is (a config
    transformers validates and refuses, folder code without permission, an unreadable file), or
    None when it is none of these: a bug, to be raised as it is."""
    refused = config_error(exc, path)
    if refused is not None:
        return refused
    if isinstance(exc, ValueError | TypeError | KeyError | OSError):
        return _load_error(exc, str(path))
    return None
