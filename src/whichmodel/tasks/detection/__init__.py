"""Object detection: COCO box mAP of detectors on labelled images.

Data: see :mod:`whichmodel.data.detection` (a table of images and their objects, or COCO
``instances.json`` + images). Models: see :mod:`whichmodel.sources.detection` (a PyTorch module
returning boxes, scores and labels per image, or a Hugging Face DETR-style folder). Options:
``box_format`` (``xyxy`` or COCO's ``xywh``, for tables), ``images`` (the image folder of COCO
annotations), ``classes`` (the label set, comma-separated; default: COCO ``categories``, else the
labels the data uses), ``score_threshold`` (0.5, for the per-image error count below).

Metrics (pycocotools' ``COCOeval``, bbox, at most 100 detections per image, the highest-scoring
kept; the reference mAP of the field, cross-checked in tests against faster-coco-eval):

- ``map``: AP averaged over IoU .50:.05:.95 and the classes; ``map_50``, ``map_75``: at one IoU;
- ``mar_100``: recall with 100 detections per image, averaged over IoU .50:.95 and the classes.

Confidence intervals resample images (see :mod:`.coco`: pycocotools' per-image matches,
re-accumulated under each resample's image counts, exactly the mAP of the resampled images).
Two detectors' differences use the same resamples (paired), and their paired test is the
paired bootstrap of the mAP difference. The per-image outcome (disagreements, the Wilcoxon test
of ``tests``) is the image's error count, missed objects plus false detections with a score of
at least ``score_threshold``, averaged over the IoU thresholds .50:.05:.95.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.data.dataset import Dataset
from whichmodel.data.detection import (
    Objects,
    check_labels,
    parse_objects,
    read_table_data,
)
from whichmodel.errors import DataError, TaskError
from whichmodel.sources.base import Inputs, Model, RawOutput
from whichmodel.sources.detection import Detections, as_detector, load_images
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.detection.coco import (
    MAX_DETS,
    METRIC_NAMES,
    ClassMatches,
    ImageBoxes,
    coco_map,
    coco_matches,
    weighted_map,
)
from whichmodel.tasks.options import TaskOptions

FIELDS = ("x1", "y1", "x2", "y2", "score", "label")  # per stored detection
SCORE_NAMES = ("n_detections", *(f"{f}_{j}" for j in range(MAX_DETS) for f in FIELDS))
_CACHED = 16  # computations kept per task (each model's matches, replicates of a chunk)


class DetectionTask(Task):
    outcome_kind = "continuous"  # per-image error count: paired Wilcoxon test
    requires = "detect"
    keeps_scores = True
    takes_options = True
    input_files = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("detection", {})
        self.box_format = options.text("box_format", "xyxy")
        self.images_dir = options.text("images", "")
        classes = options.text("classes", "")
        self.score_threshold = options.number("score_threshold", 0.5)
        self.name = options.finish()
        if self.box_format not in ("xyxy", "xywh"):
            raise TaskError(
                "The 'box_format' option of the 'detection' task must be xyxy or xywh. "
                f"Got {self.box_format!r} instead."
            )
        self.declared = tuple(c.strip() for c in classes.split(",") if c.strip()) or None
        self.classes: tuple[str, ...] | None = self.declared
        self.category_ids: dict[str, str] = {}
        self.image_files: tuple[str, ...] = ()
        self._cache: OrderedDict[tuple[str, ...], Any] = OrderedDict()

    def data_files(self) -> tuple[str, ...]:
        return self.image_files  # the images are data too: other pixels, other predictions

    def read_data(
        self, path: str, *, input_cols: tuple[str, ...] | None, label_col: str | None
    ) -> Dataset:
        from whichmodel.data.coco import coco_dataset, read_coco_json

        coco = read_coco_json(Path(path))
        if coco is not None:
            data = coco_dataset(Path(path), coco, self.images_dir)
            self.classes = self.declared or data.classes
        else:
            data = read_table_data(
                path,
                input_cols=input_cols,
                label_col=label_col,
                box_format=self.box_format,
                classes=self.declared,
            )
        self.category_ids, self.image_files = data.category_ids, data.image_files
        return data.dataset

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        """(n,) canonical JSON of each image's objects (xyxy boxes, labels, crowd flags)."""
        objects = [parse_objects(v, self.box_format, f"row {i}") for i, v in enumerate(labels)]
        for i, o in enumerate(objects):
            check_labels(o, self.classes, f"row {i}")
        if self.classes is None:  # the label set is the labels the data uses
            self.classes = tuple(sorted({label for o in objects for label in o.labels}))
        return np.asarray([o.to_json() for o in objects], dtype=object)

    def run(self, model: Model, inputs: Inputs) -> RawOutput:
        detector = as_detector(model, "detection")
        if inputs.kind not in ("text", "array"):
            raise DataError("Detection reads one column of image paths or image arrays.")
        found = detector.detect(load_images(inputs))
        if len(found) != len(inputs):
            raise TaskError(f"{model.name} returned {len(found)} results for {len(inputs)} images.")
        return RawOutput("scores", np.stack([self._encode(d, model.name) for d in found]))

    def _encode(self, found: Detections, model: str) -> np.ndarray:
        """One image's detections -> (1 + 6 K,) row: count, then (x1, y1, x2, y2, score, class
        code) of the K = 100 highest-scoring, zero-padded."""
        order = np.argsort(-found.scores, kind="stable")[:MAX_DETS]
        size = found.boxes[order, 2:] - found.boxes[order, :2]
        if (size < 0).any():  # a ValueError: recorded as this image's failure, the run goes on
            raise ValueError("the detector returned a box with a negative width or height")
        index = {c: i for i, c in enumerate(self.classes or ())}
        codes = np.array([self._code(str(found.labels[j]), index, model) for j in order])
        block = np.column_stack(
            [found.boxes[order].reshape(-1, 4), found.scores[order], codes.reshape(-1)]
        )
        row = np.zeros(1 + len(FIELDS) * MAX_DETS)
        row[0] = len(order)
        row[1 : 1 + block.size] = block.ravel()
        return row

    def _code(self, label: str, index: dict[str, int], model: str) -> int:
        classes = self.classes or ()
        name = label if label in index else self.category_ids.get(label, label)
        if name not in index:
            shown = ", ".join(classes[:10]) + (", ..." if len(classes) > 10 else "")
            raise TaskError(
                f"{model} predicts label {label!r}, which is not a class of the data ({shown}). "
                "Name the model's classes with ?classes=a,b,... on its reference, or declare "
                "the data's with --task 'detection?classes=a,b,...'."
            )
        return index[name]

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        scores = np.asarray(raw.array, dtype=np.float64)
        return scores[:, 0], scores, SCORE_NAMES  # pred: the number of detections kept

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        return [self._metric(name) for name in METRIC_NAMES]

    def _metric(self, name: str) -> Metric:
        def score(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
            if w is None:
                point = self._cached(("map", _digest(y, p)), lambda: coco_map(*self.boxes(y, p)))
                return float(point[name])
            counts = np.asarray(w)
            if not np.array_equal(counts, np.round(counts)) or (counts < 0).any():
                raise TaskError("Detection metrics take whole-number image weights (counts).")
            drawn = np.repeat(np.arange(len(y)), counts.astype(np.int64))
            truth, found, n_classes = self.boxes(y, p)
            drawn_map = coco_map([truth[i] for i in drawn], [found[i] for i in drawn], n_classes)
            return drawn_map[name]

        def replicates(y: np.ndarray, p: Predictions, weights: np.ndarray) -> np.ndarray:
            key = ("replicates", _digest(y, p), _array_digest(weights))
            return np.asarray(
                self._cached(key, lambda: weighted_map(self.matches(y, p), weights))[name]
            )

        return Metric(name, True, score, replicates)

    def metric_names(self) -> tuple[str, ...]:
        return METRIC_NAMES

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        """(n,) float64 errors per image: missed objects + false detections scoring at least
        ``score_threshold``, averaged over the IoU thresholds .50:.05:.95 as mAP is (pycocotools'
        matches; crowd regions count neither way)."""
        n = len(y_true)
        errors = np.zeros(n)  # summed over the T thresholds, then divided once (exact)
        thresholds = 1
        for m in self.matches(y_true, preds):
            kept = m.score >= self.score_threshold
            thresholds = len(m.tp)
            for tp, fp in zip(m.tp, m.fp, strict=True):  # one IoU threshold each
                missed = m.n_truth - np.bincount(m.image[kept & tp], minlength=n)
                errors += missed + np.bincount(m.image[kept & fp], minlength=n)
        return errors / thresholds

    def tables(self, y_true: np.ndarray, preds: Predictions) -> dict[str, list[dict[str, object]]]:
        """Per-class AP (IoU .50:.95 and .50) and object counts, classes with objects only."""
        rows: list[dict[str, object]] = []
        for code, m in enumerate(self.matches(y_true, preds)):
            if m.n_truth.any():
                ap = weighted_map([m], np.ones((1, len(y_true))))
                rows.append(
                    {
                        "class": (self.classes or ())[code],
                        "objects": int(m.n_truth.sum()),
                        "detections": len(m.score),
                        "ap": float(ap["map"][0]),
                        "ap_50": float(ap["map_50"][0]),
                    }
                )
        return {"per_class_ap": rows}

    # -- decoding --------------------------------------------------------------------------
    def boxes(
        self, y: np.ndarray, p: Predictions
    ) -> tuple[list[ImageBoxes], list[ImageBoxes], int]:
        """(ground truth per image, detections per image, number of classes)."""
        classes = self.classes or ()
        index = {c: i for i, c in enumerate(classes)}
        truth = [_truth(Objects.from_json(v), index) for v in y]
        return truth, decode(p), len(classes)

    def matches(self, y: np.ndarray, p: Predictions) -> list[ClassMatches]:
        return list(
            self._cached(("matches", _digest(y, p)), lambda: coco_matches(*self.boxes(y, p)))
        )

    def _cached(self, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
            while len(self._cache) > _CACHED:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]


def decode(p: Predictions) -> list[ImageBoxes]:
    """Stored rows (see ``DetectionTask._encode``) -> one :class:`ImageBoxes` per image."""
    if p.scores is None:
        raise TaskError("Detection predictions carry no stored detections.")
    out = []
    for row in p.scores:
        block = row[1 : 1 + len(FIELDS) * int(row[0])].reshape(-1, len(FIELDS))
        out.append(ImageBoxes(block[:, :4], block[:, 5].astype(np.int64), scores=block[:, 4]))
    return out


def _truth(objects: Objects, index: dict[str, int]) -> ImageBoxes:
    codes = np.asarray([index[label] for label in objects.labels], dtype=np.int64)
    return ImageBoxes(objects.boxes, codes, crowd=objects.crowd)


def _digest(y: np.ndarray, p: Predictions) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update("\n".join(str(v) for v in y).encode())
    h.update(np.ascontiguousarray(p.rows).tobytes())
    h.update(np.ascontiguousarray(p.scores if p.scores is not None else p.pred).tobytes())
    return h.hexdigest()


def _array_digest(a: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(a).tobytes(), digest_size=16).hexdigest()
