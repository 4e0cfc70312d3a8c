"""Data that comes as a folder: a ``datasets`` folder (``save_to_disk``) or an image folder.

- ``datasets`` folder: what ``Dataset.save_to_disk(path)`` writes (``dataset_info.json``,
  ``state.json``, Arrow files). A ``DatasetDict`` folder holds one subfolder per split: name the
  split's folder (``data/test``).
- image folder: one subfolder per class, named by the class, holding images Pillow reads
  (``.png``, ``.jpg``, ``.jpeg``, ``.bmp``, ``.gif``, ``.webp``). Every image must have one size
  and mode; grayscale images become (H, W) arrays, colour ones (3, H, W), in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from whichmodel.errors import DataError, MissingExtraError
from whichmodel.sources.base import Inputs

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def is_saved_dataset(folder: Path) -> bool:
    return (folder / "state.json").is_file() or (folder / "dataset_dict.json").is_file()


def read_saved_dataset(folder: Path) -> pd.DataFrame:
    """The rows of a ``save_to_disk`` folder as a DataFrame.

    Raises:
        DataError: a DatasetDict folder (name a split), or a folder ``datasets`` cannot read.
    """
    if (folder / "dataset_dict.json").is_file():
        splits = sorted(p.name for p in folder.iterdir() if (p / "state.json").is_file())
        raise DataError(
            f"{folder} holds several splits ({', '.join(splits)}); name one, e.g. "
            f"{folder / (splits[0] if splits else 'test')}."
        )
    try:
        import datasets
    except ImportError as exc:
        raise MissingExtraError("datasets", "tasks") from exc
    try:
        loaded = datasets.load_from_disk(str(folder))
    except (OSError, ValueError, FileNotFoundError) as exc:
        raise DataError(f"Cannot read {folder} as a saved dataset: {exc}") from exc
    frame = loaded.to_pandas()
    assert isinstance(frame, pd.DataFrame)  # not an iterator: no batch_size given
    if frame.empty:
        raise DataError(f"{folder} has no rows.")
    return frame


def image_classes(folder: Path) -> list[Path]:
    """The class subfolders of an image folder (those holding at least one image)."""
    return sorted(
        d
        for d in folder.iterdir()
        if d.is_dir() and any(f.suffix.lower() in IMAGE_SUFFIXES for f in d.iterdir())
    )


def read_image_folder(folder: Path) -> tuple[Inputs, np.ndarray]:
    """(inputs of kind ``array``, (n,) str labels) from an image folder.

    Raises:
        DataError: no class subfolders, an unreadable image, or images of different sizes.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as exc:
        raise MissingExtraError("pillow", "tasks") from exc
    classes = image_classes(folder)
    if not classes:
        raise DataError(
            f"{folder} has no class subfolders with images; put each class's images in a "
            "subfolder named by the class."
        )
    arrays: list[np.ndarray] = []
    labels: list[str] = []
    for class_dir in classes:
        for file in sorted(f for f in class_dir.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES):
            try:
                with Image.open(file) as image:
                    array = np.asarray(image.convert("L" if image.mode in "1LP" else "RGB"))
            except (UnidentifiedImageError, OSError) as exc:
                raise DataError(f"Cannot read the image {file}: {exc}") from exc
            if arrays and array.shape != arrays[0].shape:
                raise DataError(
                    f"{file} is {array.shape}, but {folder}'s first image is {arrays[0].shape}; "
                    "resize the images to one size."
                )
            arrays.append(array)
            labels.append(class_dir.name)
    data = np.stack(arrays).astype(np.float32) / 255.0  # (n, H, W) or (n, H, W, 3)
    if data.ndim == 4:
        data = np.ascontiguousarray(data.transpose(0, 3, 1, 2))  # channels first: (n, 3, H, W)
    return Inputs("array", data, ("image",)), np.asarray(labels, dtype=str)
