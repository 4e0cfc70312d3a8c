"""What every Hugging Face model of ``whichmodel.sources.hf`` shares: :class:`HFModel`, a
transformers model with a task head, and its tokenizer. The checks that run before transformers
reads a folder (code shipped with the model, configs it refuses) are in :mod:`.config`, which
spec sheets use too.

The task-specific models (:mod:`.text`, :mod:`.speech`) subclass :class:`HFModel` and import only
this module; :mod:`.source` picks the class for a loaded model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from whichmodel.errors import ModelLoadError
from whichmodel.refs import ModelRef
from whichmodel.sources.base import Inputs, Model, ModelInfo, RawOutput
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
        self.device = "cpu"

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
            batch = {k: v.to(self.device) for k, v in batch.items()}
            logits = self.model(**batch).logits.float().cpu().numpy()
        if self.is_regression:
            return RawOutput("values", logits.reshape(len(logits), -1)[:, 0])
        return RawOutput("logits", logits)

    def to(self, device: str) -> None:
        if type(self).predict is not HFModel.predict:  # a subclass's own predict: CPU only
            super().to(device)
            return
        self.model.to(device)
        self.device = device
