"""What every Hugging Face model of ``whichmodel.sources.hf`` shares: :class:`HFModel` (a
transformers model with a task head, and its tokenizer), and the checks that run before
transformers reads a folder (code shipped with the model, configs it refuses).

The task-specific models (:mod:`.text`, :mod:`.speech`) subclass :class:`HFModel` and import only
this module; :mod:`.source` picks the class for a loaded model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.errors import ModelLoadError, UnsafeModelError, WhichModelError
from whichmodel.refs import ModelRef
from whichmodel.sources.base import Inputs, Model, ModelInfo, RawOutput
from whichmodel.sources.hf.config import config_error, short
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


def load_error(exc: Exception, what: str) -> UnsafeModelError | ModelLoadError:
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
        return load_error(exc, str(path))
    return None
