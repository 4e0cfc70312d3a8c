"""Cost of the image-level bootstrap of COCO mAP: re-accumulating pycocotools' per-image matches
under each resample's image counts (what whichmodel does) vs running pycocotools' COCOeval on
each resampled image set (timed on a few replicates, then scaled to all of them).

Synthetic ground truth (0-4 objects per image, 3 classes) and noisy detections (up to 20 per
image, continuous scores). The replicates are checked equal on the timed resamples. Figures, not
pass/fail; CPU seconds of the process (wall time on a shared machine mostly measures the others).
Run: .venv/bin/python benchmarks/detection_bootstrap.py [n_images] [n_resamples]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from whichmodel.analysis.stats import bootstrap_weights
from whichmodel.tasks.detection.coco import ImageBoxes, coco_map, coco_matches, weighted_map

N_CLASSES = 3


def synthetic(n_images: int, seed: int = 0) -> tuple[list[ImageBoxes], list[ImageBoxes]]:
    rng = np.random.default_rng(seed)
    truth, found = [], []
    for _ in range(n_images):
        g = int(rng.integers(0, 5))
        xy, wh = rng.uniform(0, 400, (g, 2)), rng.uniform(10, 120, (g, 2))
        boxes, labels = np.hstack([xy, xy + wh]), rng.integers(0, N_CLASSES, g)
        truth.append(ImageBoxes(boxes, labels))
        m = int(rng.integers(0, 21))
        source = rng.integers(0, max(g, 1), m)
        guess = (boxes[source] if g else np.full((m, 4), 50.0)) + rng.normal(0, 8, (m, 4))
        guess[:, 2:] = np.maximum(guess[:, 2:], guess[:, :2] + 1)
        right = labels[source] if g else np.zeros(m, np.int64)
        guessed = np.where(rng.random(m) < 0.8, right, rng.integers(0, N_CLASSES, m))
        found.append(ImageBoxes(guess, guessed, scores=rng.random(m)))
    return truth, found


def main(n_images: int, n_resamples: int, timed: int = 5) -> None:
    truth, found = synthetic(n_images)
    weights = bootstrap_weights(n_images, n_resamples, seed=0)  # (B, n) draw counts
    # CPU seconds of this process: on a shared machine, wall time mostly measures the others.
    start = time.process_time()
    matches = coco_matches(truth, found, N_CLASSES)
    match_s = time.process_time() - start
    start = time.process_time()
    replicates = weighted_map(matches, weights)
    ours_s = time.process_time() - start
    start = time.process_time()
    for b in range(timed):
        drawn = np.repeat(np.arange(n_images), weights[b].astype(np.int64))
        expected = coco_map([truth[i] for i in drawn], [found[i] for i in drawn], N_CLASSES)
        assert abs(expected["map"] - replicates["map"][b]) < 1e-12, b
    per_replicate_s = (time.process_time() - start) / timed
    n_dets = sum(len(f.labels) for f in found)
    print(f"{n_images} images, {n_dets} detections, {n_resamples} resamples")
    print(f"  pycocotools matching once:         {match_s:7.2f} CPU s")
    print(f"  weighted re-accumulation, all:     {ours_s:7.2f} CPU s")
    print(
        f"  COCOeval per replicate:            {per_replicate_s:7.2f} CPU s each, "
        f"~{per_replicate_s * n_resamples:.0f} s for all {n_resamples} (from {timed} timed)"
    )
    print(
        f"  map: {coco_map(truth, found, N_CLASSES)['map']:.4f}, "
        f"95% CI [{np.quantile(replicates['map'], 0.025):.4f}, "
        f"{np.quantile(replicates['map'], 0.975):.4f}]"
    )


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 500,
        int(sys.argv[2]) if len(sys.argv) > 2 else 1000,
    )
