"""COCO annotations (``instances.json`` + an image folder) as a detection dataset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.data.dataset import Dataset
from whichmodel.data.detection import (
    DetectionData,
    Objects,
    check_inside,
    image_size,
    parse_objects,
)
from whichmodel.errors import DataError
from whichmodel.sources.base import Inputs


def read_coco_json(path: Path) -> dict[str, Any] | None:
    """The parsed file when it is COCO annotations (a dict with ``images``, ``annotations`` and
    ``categories``), else None (e.g. a JSONL table)."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        with path.open(encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if isinstance(data, dict) and {"images", "annotations", "categories"} <= set(data):
        return data
    return None


def coco_dataset(path: Path, data: dict[str, Any], images_dir: str) -> DetectionData:
    """One row per entry of ``images``, in file order; its objects from ``annotations``.

    Raises:
        DataError: an annotation of an unknown image or category, a bad box, a missing image.
    """
    folder = Path(images_dir) if images_dir else path.parent
    categories = {str(c["id"]): str(c.get("name", c["id"])) for c in data["categories"]}
    names = tuple(categories.values())
    if len(set(names)) != len(names):
        raise DataError(f"{path.name}: two categories share a name; names must be unique.")
    images = data["images"]
    if not images:
        raise DataError(f"{path.name} lists no images.")
    per_image = _per_image(path, images, data["annotations"], categories)
    files, labels = [], []
    for i, img in enumerate(images):
        file = folder / str(img.get("file_name", ""))
        if not file.is_file():
            raise DataError(
                f"{path.name}: no image file at {file}; put the images there or name their "
                "folder with --task 'detection?images=DIR'."
            )
        where = f"{path.name} image {img['id']} ({file.name})"
        objects = _objects(per_image[i], where)
        height, width = (
            (int(img["height"]), int(img["width"]))
            if "height" in img and "width" in img
            else image_size(file)
        )
        check_inside(objects, height, width, where)
        files.append(str(file.resolve()))
        labels.append(objects.to_json())
    inputs = Inputs("text", np.asarray(files, dtype=object), ("file_name",))
    dataset = Dataset(
        str(path), inputs, np.asarray(labels, dtype=object), ("file_name",), "annotations"
    )
    return DetectionData(dataset, names, categories, tuple(files))


def _per_image(
    path: Path,
    images: list[dict[str, Any]],
    annotations: list[dict[str, Any]],
    categories: dict[str, str],
) -> list[list[dict[str, Any]]]:
    """Each image's annotations, with the category's name under ``category``."""
    position = {img["id"]: i for i, img in enumerate(images)}
    per_image: list[list[dict[str, Any]]] = [[] for _ in images]
    for j, ann in enumerate(annotations):
        if ann.get("image_id") not in position:
            raise DataError(
                f"{path.name}: annotation {j} refers to image id {ann.get('image_id')!r}, "
                "which 'images' does not list."
            )
        category = str(ann.get("category_id"))
        if category not in categories:
            raise DataError(
                f"{path.name}: annotation {j} has unknown label (category_id {category}); "
                f"'categories' lists ids {', '.join(list(categories)[:10])}."
            )
        per_image[position[ann["image_id"]]].append({**ann, "category": categories[category]})
    return per_image


def _objects(anns: list[dict[str, Any]], where: str) -> Objects:
    value = {
        "bbox": [a.get("bbox") for a in anns],
        "category": [a["category"] for a in anns],
        "iscrowd": [int(a.get("iscrowd", 0)) for a in anns],
    }
    if any(b is None for b in value["bbox"]):
        raise DataError(f"{where}: an annotation has no 'bbox'.")
    return parse_objects(value, "xywh", where)
