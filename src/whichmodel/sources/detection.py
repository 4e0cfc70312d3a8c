"""Object detectors: the ``detect`` capability, for PyTorch modules and Hugging Face DETR folders.

The contract (:class:`Detector`): ``detect(images)`` takes a list of (3, H, W) float32 images
with values in [0, 1] (sizes may differ) and returns one :class:`Detections` per image: boxes
xyxy in pixels of that image, confidences, and class labels as text.

- ``torch:pkg.module:factory``: any module whose ``forward(images)`` takes that list of (3, H, W)
  tensors and returns, per image, a dict with ``boxes`` (m, 4) xyxy pixels, ``scores`` (m,) and
  ``labels`` (m,) integer class ids (torchvision's detection contract). ``?classes=a,b,c`` names
  the ids; without it a label is its id as text.
- ``hf:DIR`` of a ``*ForObjectDetection`` architecture (e.g. DETR) with its image processor
  (``preprocessor_config.json``): the processor prepares the images and its
  ``post_process_object_detection`` (threshold 0) turns the outputs into boxes in pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from whichmodel.errors import ModelLoadError, TaskError
from whichmodel.refs import ModelRef
from whichmodel.sources.base import Inputs, Model, ModelInfo, RawOutput


@dataclass(frozen=True)
class Detections:
    """One image's detections.

    Args:
        boxes: (m, 4) float64 xyxy in pixels.
        scores: (m,) float64 confidences (higher = more confident).
        labels: (m,) str class labels.
    """

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray


class Detector(Protocol):
    """A model that finds objects in images (capability ``detect``)."""

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """One :class:`Detections` per (3, H, W) float32 image in [0, 1]."""
        ...


def load_images(inputs: Inputs) -> list[np.ndarray]:
    """A batch of image inputs -> (3, H, W) float32 arrays in [0, 1]."""
    if inputs.kind == "array":
        data = np.asarray(inputs.data, dtype=np.float32)
        if data.ndim == 3:  # (n, H, W) grayscale
            data = np.repeat(data[:, None], 3, axis=1)
        return list(data)
    from PIL import Image

    out = []
    for f in inputs.data:
        with Image.open(str(f)) as image:
            rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0  # (H, W, 3)
        out.append(np.ascontiguousarray(rgb.transpose(2, 0, 1)))
    return out


def as_detector(model: Model, task: str) -> Detector:
    """``model`` as a :class:`Detector`: a model that declares ``detect``, or a PyTorch module
    (held to the contract in the module docstring when it runs).

    Raises:
        TaskError: any other model, naming what to use instead.
    """
    if "detect" in model.capabilities:
        return cast(Detector, model)
    from whichmodel.sources.torch import TorchModel

    if isinstance(model, TorchModel):
        return _TorchDetector(model)
    raise TaskError(
        f"The '{task}' task needs a model that can detect objects; {model.name} "
        f"({model.info.architecture}) cannot: use a PyTorch detector module (torch:...) or a "
        "Hugging Face folder of a *ForObjectDetection architecture (e.g. DETR)."
    )


class _TorchDetector:
    """A ``torch:`` model held to the torchvision-style detection contract."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        import torch

        tensors = [torch.from_numpy(np.ascontiguousarray(im, dtype=np.float32)) for im in images]
        with torch.inference_mode():
            out = self.model.module(tensors)
        name = self.model.name
        if not isinstance(out, list | tuple) or len(out) != len(images):
            raise TaskError(
                f"{name} returned {type(out).__name__}; a detector must return a list with one "
                "dict of 'boxes', 'scores' and 'labels' per image."
            )
        return [self._one(o, name) for o in out]

    def _one(self, out: Any, name: str) -> Detections:
        if not isinstance(out, dict) or not {"boxes", "scores", "labels"} <= set(out):
            raise TaskError(
                f"{name} returned an item without 'boxes', 'scores' and 'labels'; a detector "
                "returns one such dict per image."
            )
        boxes = out["boxes"].detach().double().numpy().reshape(-1, 4)
        scores = out["scores"].detach().double().numpy().reshape(-1)
        ids = out["labels"].detach().numpy().reshape(-1).astype(np.int64)
        if not len(boxes) == len(scores) == len(ids):
            raise TaskError(
                f"{name} returned {len(boxes)} boxes, {len(scores)} scores and {len(ids)} labels "
                "for one image; they must match."
            )
        return Detections(boxes, scores, _label_names(ids, self.model.classes, name))


def _label_names(ids: np.ndarray, classes: tuple[str, ...] | None, name: str) -> np.ndarray:
    """Class ids -> labels: ``classes[id]`` when the model names its classes, else the id."""
    if classes is None:
        return np.asarray([str(i) for i in ids.tolist()], dtype=object)
    bad = ids[(ids < 0) | (ids >= len(classes))]
    if len(bad):
        raise TaskError(
            f"{name} predicted class id {int(bad[0])}, but names only {len(classes)} classes."
        )
    return np.asarray([classes[i] for i in ids.tolist()], dtype=object)


class HFDetector(Model):
    """A transformers ``*ForObjectDetection`` model with its image processor."""

    capabilities = frozenset({"detect"})

    def __init__(self, ref: ModelRef, model: Any, files: tuple[str, ...]) -> None:
        from transformers import AutoImageProcessor

        from whichmodel.sources.torch import count_parameters

        self.ref, self.model = ref, model
        folder = Path(ref.target)
        if not (folder / "preprocessor_config.json").is_file():
            raise ModelLoadError(
                f"{folder} has no image processor (preprocessor_config.json); save it beside "
                "the model with processor.save_pretrained()."
            )
        # Typed only from transformers 5.25 on; Any keeps mypy quiet on every allowed version.
        processor_class: Any = AutoImageProcessor
        self.processor = processor_class.from_pretrained(folder, local_files_only=True)
        config = model.config
        self.classes = tuple(str(config.id2label[i]) for i in sorted(config.id2label))
        arch = (config.architectures or [type(model).__name__])[0]
        self.info = ModelInfo("transformers", arch, count_parameters(model), files)

    def predict(self, inputs: Inputs) -> RawOutput:
        raise TaskError(f"{self.name} is an object detector; compare it with --task detection.")

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        import torch

        hwc = [np.ascontiguousarray(np.moveaxis(im, 0, -1)) for im in images]  # (H, W, 3)
        batch = self.processor(images=hwc, return_tensors="pt", do_rescale=False)
        with torch.inference_mode():
            out = self.model(**batch)
        sizes = [tuple(im.shape[-2:]) for im in images]  # (H, W) to scale boxes back to
        results = self.processor.post_process_object_detection(
            out, threshold=0.0, target_sizes=sizes
        )
        return [
            Detections(
                r["boxes"].double().numpy().reshape(-1, 4),
                r["scores"].double().numpy(),
                _label_names(r["labels"].numpy().astype(np.int64), self.classes, self.name),
            )
            for r in results
        ]


def detection_model_class(class_name: str) -> type[HFDetector] | None:
    """The whichmodel class for a transformers model class, when it is a detector."""
    return HFDetector if class_name.endswith("ForObjectDetection") else None
