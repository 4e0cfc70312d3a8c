"""Detection data: images and their labelled boxes, from a table or COCO annotations.

Two layouts are read:

- **a table** (CSV, JSONL, Parquet, a ``datasets`` folder) with one row per image: an image column
  (``image`` by default, or the one ``--input-cols`` names) holding a file path (relative to the
  table's folder) or the image itself as an array ((3, H, W) or (H, W), values in [0, 1]), and
  a label column (``--label-col``) holding the image's objects, either as a dict of lists,
  ``{"bbox": [[...], ...], "category": [...]}`` (Hugging Face datasets' ``objects`` layout;
  ``boxes``/``labels`` also work, ``iscrowd`` is optional), or as a list of objects,
  ``[{"bbox": [...], "category": "cat"}, ...]``. In a CSV cell, as JSON text. Boxes are
  ``xyxy`` pixels by default, COCO's ``xywh`` with ``--task "detection?box_format=xywh"``.
- **COCO annotations**: an ``instances.json`` with ``images`` (``id``, ``file_name``, ``width``,
  ``height``), ``annotations`` (``image_id``, ``bbox`` xywh, ``category_id``, ``iscrowd``) and
  ``categories`` (``id``, ``name``); the image files are in the JSON's folder or the folder
  given with ``--task "detection?images=DIR"``.

Each image's objects become one canonical JSON text (xyxy boxes, label names, crowd flags): the
label column whichmodel stores and scores. Bad data is one clear error: a box outside its image
(by more than a pixel), a negative width or height, a missing image file, a label outside the
declared classes (COCO ``categories`` or ``detection?classes=a,b``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from whichmodel.data.dataset import Dataset
from whichmodel.errors import DataError, MissingExtraError
from whichmodel.sources.base import Inputs

BOX_KEYS = ("bbox", "boxes", "box")
LABEL_KEYS = ("category", "categories", "labels", "label", "category_id")
CROWD_KEYS = ("iscrowd", "crowd")
_TOLERANCE_PX = 1.0  # annotation tools round; a box may pass the edge by this much


@dataclass(frozen=True)
class Objects:
    """One image's ground truth: (m, 4) float64 xyxy boxes, (m,) str labels, (m,) bool crowd."""

    boxes: np.ndarray
    labels: tuple[str, ...]
    crowd: np.ndarray

    @staticmethod
    def from_json(text: str) -> Objects:
        """The inverse of :meth:`to_json`."""
        value = json.loads(text)
        return Objects(
            np.asarray(value["xyxy"], dtype=np.float64).reshape(-1, 4),
            tuple(value["labels"]),
            np.asarray(value["crowd"], dtype=bool),
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "xyxy": self.boxes.tolist(),
                "labels": list(self.labels),
                "crowd": self.crowd.tolist(),
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class DetectionData:
    """A detection dataset: the rows, the declared classes (None: those the labels use), the
    COCO category ids by their text (so a detector that outputs ids matches names), and the
    image files (part of the prediction cache key)."""

    dataset: Dataset
    classes: tuple[str, ...] | None
    category_ids: dict[str, str]
    image_files: tuple[str, ...]


def parse_objects(value: object, box_format: str, where: str) -> Objects:
    """One label cell (see the module docstring) -> :class:`Objects`.

    Raises:
        DataError: not one of the layouts, boxes not 4 numbers, a negative width or height, or
            a different number of boxes and labels.
    """
    if isinstance(value, str):
        text = value
        try:
            value = cast(Any, json.loads(text))
        except json.JSONDecodeError:
            raise DataError(f"{where}: the objects are not valid JSON: {text[:60]!r}") from None
    if isinstance(value, dict) and "xyxy" in value:  # canonical: already xyxy
        boxes, labels, crowd, box_format = value["xyxy"], value["labels"], value["crowd"], "xyxy"
    elif isinstance(value, dict):
        boxes, labels = _field(value, BOX_KEYS, where), _field(value, LABEL_KEYS, where)
        crowd = _field(value, CROWD_KEYS, where, required=False)
    elif isinstance(value, list | tuple | np.ndarray):
        items = [v for v in value if isinstance(v, dict)]
        if len(items) != len(value):
            raise DataError(f"{where}: each object must be a dict with 'bbox' and 'category'.")
        boxes = [_field(v, BOX_KEYS, where) for v in items]
        labels = [_field(v, LABEL_KEYS, where) for v in items]
        crowd = [_field(v, CROWD_KEYS, where, required=False) or 0 for v in items]
    else:
        raise DataError(
            f"{where}: expected the image's objects as {{'bbox': [...], 'category': [...]}} or a "
            f"list of {{'bbox', 'category'}} dicts. Got {type(value).__name__}."
        )
    return _objects(boxes, labels, crowd, box_format, where)


def _field(item: dict[str, Any], keys: Sequence[str], where: str, required: bool = True) -> Any:
    for key in keys:
        if key in item:
            return item[key]
    if required:
        raise DataError(f"{where}: an object has no {keys[0]!r} (or {', '.join(keys[1:])}).")
    return None


def _objects(boxes: Any, labels: Any, crowd: Any, box_format: str, where: str) -> Objects:
    raw = [list(np.asarray(b, dtype=object).reshape(-1)) for b in boxes]
    if any(len(b) != 4 for b in raw):
        raise DataError(f"{where}: every box needs 4 numbers ({box_format}).")
    try:
        array = np.asarray(raw, dtype=np.float64).reshape(-1, 4)
    except (TypeError, ValueError):
        raise DataError(f"{where}: a box holds something other than numbers.") from None
    if not np.isfinite(array).all():
        raise DataError(f"{where}: a box holds a missing or infinite number.")
    names = tuple(_label_text(v) for v in np.asarray(labels, dtype=object).reshape(-1))
    if len(names) != len(array):
        raise DataError(f"{where}: {len(array)} boxes but {len(names)} labels.")
    if box_format == "xywh":
        array = np.hstack([array[:, :2], array[:, :2] + array[:, 2:]])
    size = array[:, 2:] - array[:, :2]
    if (size < 0).any():
        j = int(np.flatnonzero((size < 0).any(axis=1))[0])
        raise DataError(
            f"{where}: box {j} has a negative width or height ({box_format} "
            f"{raw[j]}); boxes are {box_format} (set detection?box_format= if they are not)."
        )
    flags = np.zeros(len(array), bool) if crowd is None else np.asarray(crowd).astype(bool)
    return Objects(array, names, flags.reshape(-1))


def _label_text(value: object) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_inside(objects: Objects, height: int, width: int, where: str) -> None:
    """Raise DataError when a box leaves its (height, width) image by more than a pixel."""
    b = objects.boxes
    outside = (b[:, :2] < -_TOLERANCE_PX).any(axis=1) | (b[:, 2] > width + _TOLERANCE_PX)
    outside |= b[:, 3] > height + _TOLERANCE_PX
    if outside.any():
        j = int(np.flatnonzero(outside)[0])
        raise DataError(
            f"{where}: box {j} (xyxy {[round(v, 2) for v in b[j].tolist()]}) lies outside the "
            f"{width}x{height} image."
        )


def check_labels(objects: Objects, classes: tuple[str, ...] | None, where: str) -> None:
    if classes is None:
        return
    unknown = [label for label in objects.labels if label not in classes]
    if unknown:
        shown = ", ".join(classes[:10]) + (", ..." if len(classes) > 10 else "")
        raise DataError(f"{where}: unknown label {unknown[0]!r}; the classes are {shown}.")


def read_table_data(
    path: str,
    *,
    input_cols: tuple[str, ...] | None,
    label_col: str | None,
    box_format: str,
    classes: tuple[str, ...] | None,
) -> DetectionData:
    """A table with an image column and an objects column (see the module docstring)."""
    from whichmodel.data.dataset import read_dataset

    image_cols = tuple(input_cols or ("image",))
    if len(image_cols) != 1:
        raise DataError("Detection reads one image column; name it with --input-cols.")
    data = read_dataset(path, input_cols=image_cols, label_col=label_col or "label")
    inputs, files = _image_inputs(data.inputs, Path(path).parent, image_cols[0])
    sizes = (
        [image_size(Path(f)) for f in files]
        if files
        else [tuple(inputs.take(slice(0, 1)).data.shape[-2:])] * len(inputs)
    )
    labels = []
    for i, value in enumerate(data.labels):
        where = f"{Path(path).name} row {i}"
        objects = parse_objects(value, box_format, where)
        check_labels(objects, classes, where)
        check_inside(objects, int(sizes[i][0]), int(sizes[i][1]), where)
        labels.append(objects.to_json())
    dataset = Dataset(path, inputs, np.asarray(labels, dtype=object), image_cols, data.label_col)
    return DetectionData(dataset, classes, {}, tuple(files))


def _image_inputs(inputs: Inputs, folder: Path, column: str) -> tuple[Inputs, list[str]]:
    """Path inputs resolved against the table's folder (every file must exist), or arrays."""
    if inputs.kind == "array":
        shape = inputs.take(slice(0, 1)).data.shape
        if len(shape) not in (3, 4) or (len(shape) == 4 and shape[1] != 3):
            raise DataError(
                f"Column '{column}' holds arrays of shape {shape[1:]}; an image is (3, H, W) "
                "or (H, W)."
            )
        return inputs, []
    if inputs.kind != "text":
        raise DataError(f"Column '{column}' must hold image file paths or image arrays.")
    files = [str((folder / str(p)).resolve()) for p in inputs.data]
    for i, f in enumerate(files):
        if not Path(f).is_file():
            raise DataError(f"Row {i}: no image file at {f}.")
    return Inputs("text", np.asarray(files, dtype=object), inputs.columns), files


def image_size(path: Path) -> tuple[int, int]:
    """(height, width) of an image file, from its header."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as exc:
        raise MissingExtraError("pillow", "tasks") from exc
    try:
        with Image.open(path) as image:
            return image.height, image.width
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"Cannot read the image {path}: {exc}") from exc
