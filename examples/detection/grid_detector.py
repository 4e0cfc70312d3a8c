"""A tiny object detector built in code, and synthetic labelled images it can find objects in.

Run ``python examples/detection/grid_detector.py OUT`` to write 24 images, ``OUT/objects.jsonl``
(one row per image: its path and objects, xyxy boxes) and ``OUT/images/instances.json`` (the
same as COCO annotations).

The images are dark (noise below 0.04) with bright red or green squares on an 8-pixel grid. The
detector scores each 8x8 cell by its mean colour (a fixed 1x1 convolution picks red and green),
keeps cells brighter than 0.1 and predicts the cell's box shrunk by ``shrink`` pixels per side,
labelled by the brighter colour: with ``shrink=0`` it finds 8x8 squares exactly, with
``shrink=1`` its boxes overlap them by IoU 36/64 = 0.56, so its mAP@[.5:.95] is lower.
16x16 squares (four cells) are found as four small boxes: misses for both detectors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

CELL = 8
CLASSES = ("red", "green")


class GridDetector(nn.Module):
    """Follows the detection contract: list of (3, H, W) images -> list of boxes/scores/labels."""

    def __init__(self, shrink: float = 0.0, max_width: int = 0) -> None:
        super().__init__()
        self.shrink = float(shrink)
        self.max_width = int(max_width)  # > 0: raise on wider images (a model that fails)
        self.colour = nn.Conv2d(3, 2, kernel_size=1, bias=False)
        with torch.no_grad():
            self.colour.weight.copy_(torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).view(2, 3, 1, 1))

    def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        out = []
        for image in images:
            if 0 < self.max_width < image.shape[-1]:
                raise ValueError(f"image wider than {self.max_width} pixels")
            logits = self.colour(nn.functional.avg_pool2d(image[None], CELL))[0]  # (2, h, w)
            score, label = logits.max(dim=0)
            ys, xs = torch.nonzero(score > 0.1, as_tuple=True)
            s = self.shrink
            boxes = torch.stack(
                [xs * CELL + s, ys * CELL + s, (xs + 1) * CELL - s, (ys + 1) * CELL - s], dim=1
            ).float()
            out.append({"boxes": boxes, "scores": score[ys, xs], "labels": label[ys, xs]})
        return out


def build(shrink: float = 0.0, max_width: int = 0) -> GridDetector:
    return GridDetector(shrink, max_width).eval()


def synthetic_images(n: int, seed: int = 0, height: int = 32, width: int = 48):
    """n (H, W, 3) uint8 images and their objects ([x, y, w, h] boxes, class names)."""
    rng = np.random.default_rng(seed)
    images, objects = [], []
    cells = [(r, c) for r in range(height // CELL) for c in range(width // CELL)]
    for _ in range(n):
        image = rng.uniform(0, 0.04, size=(height, width, 3))
        taken = rng.choice(len(cells), size=rng.integers(1, 4), replace=False)
        boxes, labels = [], []
        for k in taken:
            r, c = cells[k]
            size = CELL * (
                2 if rng.random() < 0.2 and r + 1 < height // CELL and c + 1 < width // CELL else 1
            )
            colour = int(rng.integers(0, 2))
            image[r * CELL : r * CELL + size, c * CELL : c * CELL + size, colour] = rng.uniform(
                0.3, 1
            )
            boxes.append([c * CELL, r * CELL, size, size])
            labels.append(CLASSES[colour])
        images.append((image * 255).round().astype(np.uint8))
        objects.append((boxes, labels))
    return images, objects


def write_dataset(folder: Path, n: int = 24, seed: int = 0) -> tuple[Path, Path]:
    """PNG files, a JSONL table (xyxy boxes, one row per image) and COCO instances.json of the
    same images. Returns (table path, COCO json path)."""
    from PIL import Image

    images, objects = synthetic_images(n, seed)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows, coco_images, annotations = [], [], []
    for i, (image, (boxes, labels)) in enumerate(zip(images, objects, strict=True)):
        name = f"img{i:03d}.png"
        Image.fromarray(image).save(folder / "images" / name)
        xyxy = [[x, y, x + w, y + h] for x, y, w, h in boxes]
        rows.append({"image": f"images/{name}", "objects": {"bbox": xyxy, "category": labels}})
        coco_images.append({"id": 100 + i, "file_name": name, "height": 32, "width": 48})
        for box, label in zip(boxes, labels, strict=True):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": 100 + i,
                    "bbox": box,
                    "category_id": CLASSES.index(label) + 1,
                    "iscrowd": 0,
                    "area": box[2] * box[3],
                }
            )
    table = folder / "objects.jsonl"
    table.write_text("".join(json.dumps(r) + "\n" for r in rows))
    categories = [{"id": k + 1, "name": c} for k, c in enumerate(CLASSES)]
    coco = folder / "images" / "instances.json"
    coco.write_text(
        json.dumps({"images": coco_images, "annotations": annotations, "categories": categories})
    )
    return table, coco


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "detection-data")
    table, coco = write_dataset(out)
    print(f"wrote {table} and {coco}")
