"""COCO box mAP: pycocotools as whichmodel calls it equals faster-coco-eval (an independent
implementation) and pycocotools' own file-based path; the image-level bootstrap's replicates equal
pycocotools' mAP of the resampled images."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from whichmodel.tasks.detection.coco import (
    METRIC_NAMES,
    ImageBoxes,
    coco_map,
    coco_matches,
    weighted_map,
)

N_CLASSES = 3


def random_boxes(n_images: int, seed: int) -> tuple[list[ImageBoxes], list[ImageBoxes]]:
    """Ground truth (with some crowd regions) and noisy detections of it, continuous scores."""
    rng = np.random.default_rng(seed)
    truth, found = [], []
    for _ in range(n_images):
        g = int(rng.integers(0, 5))
        xy, wh = rng.uniform(0, 80, (g, 2)), rng.uniform(5, 40, (g, 2))
        boxes, labels = np.hstack([xy, xy + wh]), rng.integers(0, N_CLASSES, g)
        truth.append(ImageBoxes(boxes, labels, crowd=rng.random(g) < 0.1))
        m = int(rng.integers(0, 8))
        source = rng.integers(0, max(g, 1), m)
        guess = (boxes[source] if g else np.full((m, 4), 10.0)) + rng.normal(0, 4, (m, 4))
        guess[:, 2:] = np.maximum(guess[:, 2:], guess[:, :2] + 1)
        right = labels[source] if g else np.zeros(m, np.int64)
        guessed = np.where(rng.random(m) < 0.8, right, rng.integers(0, N_CLASSES, m))
        found.append(ImageBoxes(guess, guessed, scores=rng.random(m)))
    return truth, found


@pytest.fixture(scope="module")
def shared():
    return random_boxes(60, seed=1)


def coco_files(tmp_path, truth, found):
    """The fixture as COCO files: instances.json and a results list (xywh boxes)."""
    gt = {
        "images": [{"id": i + 1, "width": 200, "height": 200} for i in range(len(truth))],
        "categories": [{"id": k + 1, "name": f"c{k}"} for k in range(N_CLASSES)],
        "annotations": [],
    }
    results = []
    for i, (t, d) in enumerate(zip(truth, found, strict=True)):
        for (x1, y1, x2, y2), label, crowd in zip(t.boxes, t.labels, t.crowd, strict=True):
            w, h = x2 - x1, y2 - y1
            gt["annotations"].append(
                {
                    "id": len(gt["annotations"]) + 1,
                    "image_id": i + 1,
                    "category_id": int(label) + 1,
                    "bbox": [x1, y1, w, h],
                    "area": w * h,
                    "iscrowd": int(crowd),
                }
            )
        for (x1, y1, x2, y2), label, score in zip(d.boxes, d.labels, d.scores, strict=True):
            results.append(
                {
                    "image_id": i + 1,
                    "category_id": int(label) + 1,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                }
            )
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "dt.json").write_text(json.dumps(results))
    return tmp_path / "gt.json", tmp_path / "dt.json"


def test_map_equals_pycocotools_files_and_faster_coco_eval(shared, tmp_path):
    from faster_coco_eval import COCO as FastCOCO
    from faster_coco_eval import COCOeval_faster
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    truth, found = shared
    ours = coco_map(truth, found, N_CLASSES)
    gt_path, dt_path = coco_files(tmp_path, truth, found)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        reference = COCOeval(gt, gt.loadRes(str(dt_path)), iouType="bbox")
        reference.evaluate(), reference.accumulate(), reference.summarize()
        fast_gt = FastCOCO(str(gt_path))
        fast = COCOeval_faster(fast_gt, fast_gt.loadRes(str(dt_path)), iouType="bbox")
        fast.evaluate(), fast.accumulate(), fast.summarize()
    for name, i in zip(METRIC_NAMES, (0, 1, 2, 8), strict=True):
        assert ours[name] == pytest.approx(reference.stats[i], abs=1e-12), name
        assert ours[name] == pytest.approx(fast.stats[i], abs=1e-6), name
    assert 0.02 < ours["map"] < ours["map_50"] < 0.5  # a real, imperfect detector


def test_replicates_equal_pycocotools_on_the_resampled_images(shared):
    truth, found = shared
    matches = coco_matches(truth, found, N_CLASSES)
    rng = np.random.default_rng(7)
    weights = np.vstack([np.ones(60), rng.multinomial(60, np.full(60, 1 / 60), size=4)])
    replicates = weighted_map(matches, weights.astype(np.float64))
    for b, counts in enumerate(weights.astype(np.int64)):
        drawn = np.repeat(np.arange(60), counts)
        expected = coco_map([truth[i] for i in drawn], [found[i] for i in drawn], N_CLASSES)
        for name in METRIC_NAMES:
            assert replicates[name][b] == pytest.approx(expected[name], abs=1e-12), (b, name)
    assert len(set(np.round(replicates["map"], 10))) == 5  # the resamples do differ


def test_no_ground_truth_is_minus_one_like_coco():
    truth = [ImageBoxes(np.zeros((0, 4)), np.zeros(0, np.int64))]
    found = [ImageBoxes(np.array([[0, 0, 5, 5.0]]), np.array([1]), scores=np.array([0.9]))]
    assert coco_map(truth, found, 2)["map"] == -1
    assert weighted_map(coco_matches(truth, found, 2), np.ones((2, 1)))["map"].tolist() == [-1, -1]


def test_a_class_without_detections_scores_zero():
    truth = [ImageBoxes(np.array([[0, 0, 10, 10.0], [20, 20, 30, 30]]), np.array([0, 1]))]
    found = [ImageBoxes(np.array([[0, 0, 10, 10.0]]), np.array([0]), scores=np.array([0.8]))]
    assert coco_map(truth, found, 2)["map"] == pytest.approx(0.5)  # class 0 perfect, class 1 0
    assert weighted_map(coco_matches(truth, found, 2), np.ones((1, 1)))["map"][0] == pytest.approx(
        0.5
    )
