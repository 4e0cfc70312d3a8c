"""Local Hugging Face folders (``hf:DIR``): config + safetensors (+ tokenizer).

Always ``local_files_only=True``: nothing is downloaded. The head is the class named first in the
config's ``architectures`` (e.g. ``BertForSequenceClassification``). A folder whose configs name
code of its own (``auto_map`` in config.json, tokenizer_config.json, ...) is refused unless
``trust_remote_code``; pickled weights (``pytorch_model.bin``) unless ``allow_pickle``; and every
safetensors header is checked against its file's size before transformers reads it.
"""

from __future__ import annotations

import json
import pickle
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
# The files in which transformers looks for ``auto_map`` (classes to import from the folder).
_CODE_MAPS = ("config.json", "tokenizer_config.json", "preprocessor_config.json",
              "processor_config.json", "video_preprocessor_config.json")


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
    refuse_folder_code(folder, trust_remote_code=options.trust_remote_code)
    _check_weights(folder, options)
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
    except pickle.UnpicklingError as exc:  # transformers unpickles with weights_only=True
        raise ModelLoadError(
            f"Cannot load the weights in {folder}: they hold Python objects besides tensors, "
            "which transformers refuses to unpickle. Convert them to safetensors."
        ) from exc
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


def refuse_folder_code(folder: Path, *, trust_remote_code: bool) -> None:
    """Refuse a folder whose configs map an Auto class to code shipped in the folder, unless the
    user trusts it. Checked before transformers reads anything: with ``trust_remote_code=False``
    it would raise for some files and quietly use its own class for others (a different model
    from the one the folder describes).

    Raises:
        UnsafeModelError: a config's ``auto_map`` names code and ``trust_remote_code`` is off.
    """
    if trust_remote_code:
        return
    for name in _CODE_MAPS:
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # absent or unreadable: transformers reports it where it matters
        auto_map = data.get("auto_map") if isinstance(data, dict) else None
        if auto_map:
            first = next(iter(auto_map.values())) if isinstance(auto_map, dict) else auto_map
            code = first[0] if isinstance(first, list) and first else first
            raise UnsafeModelError(
                f"{folder / name} asks to run code shipped with the model ({code}); "
                "pass --trust-remote-code if you trust it."
            )


def _check_weights(folder: Path, options: LoadOptions) -> None:
    """Safetensors headers are held against their files' sizes; pickled weights, which run code
    when unpickled, need ``allow_pickle`` when there are no safetensors to read instead."""
    from whichmodel.sources.weights import check_safetensors, pickled_weights

    safetensors = sorted(folder.glob("*.safetensors"))
    check_safetensors(safetensors)
    pickled = pickled_weights(folder)
    if pickled and not safetensors and not options.allow_pickle:
        raise UnsafeModelError(
            f"{folder} holds its weights as pickles ({', '.join(p.name for p in pickled)}), and "
            "unpickling can run code. Convert them to safetensors, or pass --allow-pickle if "
            "you trust them."
        )


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
