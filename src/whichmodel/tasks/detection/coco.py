"""COCO box mAP: the point value from torchmetrics, bootstrap replicates from pycocotools' matches.

mAP is not a mean of per-image terms: precision at each recall level pools every image's
detections of a class, sorted by score. But the *matching* of detections to ground truth is per
image. So the image-level bootstrap keeps pycocotools' per-image matches (``COCOeval.evaluate``:
IoU thresholds .50:.05:.95, area "all", at most 100 detections per image and class) and redoes
only the accumulation (``COCOeval.accumulate``) with each image's detections and ground-truth
objects counted as often as the resample draws the image: one weighted cumulative sum per class
instead of a full evaluation per replicate.

That accumulation follows pycocotools' ``accumulate`` step for step (the weighted counts are the
integer counts it sees on the resampled set), and tests check that with all weights 1 it equals
torchmetrics' ``MeanAveragePrecision`` and with integer weights torchmetrics on the explicitly
resampled images. One caveat, stated in the results' docs: when one image has several detections
of one class with exactly the same score, a duplicated image's copies interleave differently
among those ties than pycocotools would order them; with continuous scores this never happens.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from whichmodel.errors import MissingExtraError

MAX_DETS = 100  # COCO's maxDets for mAP and mAR@100
# pycocotools' thresholds: IoU .50:.05:.95 (T = 10), recall 0:.01:1 (R = 101)
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
METRIC_NAMES = ("map", "map_50", "map_75", "mar_100")
_CELLS_PER_STEP = 1 << 21  # (b, T, D) float64 cells held at once while accumulating


@dataclass(frozen=True)
class ImageBoxes:
    """The boxes of one image: ground truth (``scores`` None) or detections.

    Args:
        boxes: (m, 4) float64 xyxy in pixels.
        labels: (m,) int64 class codes (indices into the task's classes).
        scores: (m,) float64 detection confidences, None for ground truth.
        crowd: (m,) bool COCO ``iscrowd`` flags of ground truth (crowd regions can be matched by
            several detections and never count as missed), None for detections.
    """

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray | None = None
    crowd: np.ndarray | None = None


def coco_map(
    truth: Sequence[ImageBoxes], detections: Sequence[ImageBoxes], n_classes: int
) -> dict[str, float]:
    """map, map_50, map_75 and mar_100 from pycocotools' ``COCOeval`` (evaluate, accumulate,
    summarize with its default parameters): -1 when no class has a ground-truth object."""
    evaluator = _evaluator(truth, detections, n_classes)
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = evaluator.stats  # [AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl]
    return {name: float(stats[i]) for name, i in zip(METRIC_NAMES, (0, 1, 2, 8), strict=True)}


def _evaluator(
    truth: Sequence[ImageBoxes], detections: Sequence[ImageBoxes], n_classes: int
) -> Any:
    """pycocotools' COCOeval (bbox) over these images; every class code is a category."""
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError as exc:
        raise MissingExtraError("pycocotools", "tasks") from exc
    images = [{"id": i + 1} for i in range(len(truth))]
    categories = [{"id": k + 1} for k in range(n_classes)]
    gt, dt = COCO(), COCO()
    gt.dataset = {"images": images, "categories": categories, "annotations": _anns(truth)}
    dt.dataset = {"images": images, "categories": categories, "annotations": _anns(detections)}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt.createIndex()
        return COCOeval(gt, dt, iouType="bbox")


@dataclass(frozen=True)
class ClassMatches:
    """One class's detections over all images, in pycocotools' accumulation order.

    Args:
        image: (D,) int64 position of each detection's image.
        score: (D,) float64 confidences, non-increasing.
        tp / fp: (T, D) bool: matched to a ground-truth object (not ignored) / unmatched and
            not ignored, at each IoU threshold.
        n_truth: (I,) float64 non-ignored ground-truth objects of the class per image.
    """

    image: np.ndarray
    score: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    n_truth: np.ndarray


def coco_matches(
    truth: Sequence[ImageBoxes], detections: Sequence[ImageBoxes], n_classes: int
) -> list[ClassMatches]:
    """Per-class matched detections from pycocotools' ``COCOeval.evaluate`` (bbox, area all,
    100 detections per image and class), one entry per class code."""
    evaluator = _evaluator(truth, detections, n_classes)
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator.params.areaRng, evaluator.params.areaRngLbl = [[0, 1e10]], ["all"]
        evaluator.params.maxDets = [MAX_DETS]
        evaluator.evaluate()
    n_images = len(truth)
    out = []
    for k in range(n_classes):
        out.append(_class_matches(evaluator.evalImgs[k * n_images : (k + 1) * n_images]))
    return out


def _class_matches(records: list[dict[str, Any] | None]) -> ClassMatches:
    """Concatenate the images' records and sort by score, as ``COCOeval.accumulate`` does."""
    t = len(IOU_THRESHOLDS)
    image, score, matched, ignored = [], [], [], []
    n_truth = np.zeros(len(records))
    for i, e in enumerate(records):
        if e is None:
            continue
        scores = np.asarray(e["dtScores"][:MAX_DETS], dtype=np.float64)
        image.append(np.full(len(scores), i, dtype=np.int64))
        score.append(scores)
        matched.append(np.asarray(e["dtMatches"][:, :MAX_DETS]).reshape(t, -1) > 0)
        ignored.append(np.asarray(e["dtIgnore"][:, :MAX_DETS]).reshape(t, -1).astype(bool))
        n_truth[i] = np.count_nonzero(np.asarray(e["gtIgnore"]) == 0)
    if not score:
        empty = np.zeros((t, 0), dtype=bool)
        return ClassMatches(np.zeros(0, np.int64), np.zeros(0), empty, empty, n_truth)
    all_scores = np.concatenate(score)
    order = np.argsort(-all_scores, kind="mergesort")  # pycocotools' order, ties by image
    dtm, dtig = np.hstack(matched)[:, order], np.hstack(ignored)[:, order]
    return ClassMatches(
        np.concatenate(image)[order], all_scores[order], dtm & ~dtig, ~dtm & ~dtig, n_truth
    )


def weighted_map(matches: Sequence[ClassMatches], weights: np.ndarray) -> dict[str, np.ndarray]:
    """map, map_50, map_75, mar_100 under each row of image weights (b, I) -> (b,) each.

    Row b counts each image as often as a bootstrap resample draws it; with all weights 1 this
    is pycocotools' ``accumulate`` + ``summarize`` on the images as they are.
    """
    b = len(weights)
    t, r = len(IOU_THRESHOLDS), len(RECALL_THRESHOLDS)
    ap_sum = np.zeros((b, t))  # sum over valid classes of the mean precision over recall
    rec_sum = np.zeros((b, t))
    n_valid = np.zeros(b)
    for m in matches:
        if not m.n_truth.any():  # no ground truth in any resample: COCO leaves the class out
            continue
        n_truth = weights @ m.n_truth  # (b,) ground-truth objects in each resample
        valid = n_truth > 0
        precision, recall = np.zeros((b, t, r)), np.zeros((b, t))
        d = len(m.image)
        step = max(1, _CELLS_PER_STEP // max(t * d, 1))
        for lo in range(0, b if d else 0, step):
            rows = slice(lo, lo + step)
            precision[rows], recall[rows] = _accumulate(m, weights[rows], n_truth[rows])
        ap_sum += np.where(valid[:, None], precision.mean(axis=2), 0.0)
        rec_sum += np.where(valid[:, None], recall, 0.0)
        n_valid += valid
    with np.errstate(invalid="ignore", divide="ignore"):
        ap, rec = ap_sum / n_valid[:, None], rec_sum / n_valid[:, None]  # (b, T)
    none = n_valid == 0  # no class with ground truth: COCO reports -1
    half, three_quarters = _threshold_index(0.5), _threshold_index(0.75)
    return {
        "map": np.where(none, -1.0, ap.mean(axis=1)),
        "map_50": np.where(none, -1.0, ap[:, half]),
        "map_75": np.where(none, -1.0, ap[:, three_quarters]),
        "mar_100": np.where(none, -1.0, rec.mean(axis=1)),
    }


def _accumulate(
    m: ClassMatches, weights: np.ndarray, n_truth: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(precision (b, T, R), recall (b, T)) of one class under weights (b, I), as
    ``COCOeval.accumulate`` computes them from cumulative true and false positive counts."""
    w = weights[:, m.image][:, None, :]  # (b, 1, D) each detection counts as its image does
    tp = np.cumsum(w * m.tp[None], axis=2)  # (b, T, D)
    fp = np.cumsum(w * m.fp[None], axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        rc = tp / n_truth[:, None, None]
    pr = tp / (fp + tp + np.spacing(1))
    pr = np.maximum.accumulate(pr[..., ::-1], axis=2)[..., ::-1]  # interpolated precision
    # pycocotools: q[r] = pr[searchsorted(rc, recThrs[r], "left")], 0 past the last detection.
    # Exactly: below[d] = #thresholds <= rc[d] (non-decreasing in d), so the first d with
    # rc[d] >= recThrs[r] comes after the #{d : below[d] <= r} detections before it.
    below = np.searchsorted(RECALL_THRESHOLDS, np.nan_to_num(rc, nan=-1.0), side="right")
    n_rows, d = below.shape[0] * below.shape[1], below.shape[2]
    r = len(RECALL_THRESHOLDS)
    flat = below.reshape(n_rows, d) + (np.arange(n_rows) * (r + 1))[:, None]
    counts = np.bincount(flat.ravel(), minlength=n_rows * (r + 1)).reshape(n_rows, r + 1)
    first = np.cumsum(counts, axis=1)[:, :r].reshape(*below.shape[:2], r)  # (b, T, R)
    q = np.take_along_axis(pr, np.minimum(first, d - 1), axis=2)
    return np.where(first < d, q, 0.0), rc[..., -1]


def _threshold_index(iou: float) -> int:
    return int(np.argmin(np.abs(IOU_THRESHOLDS - iou)))


def _crowd(t: ImageBoxes) -> np.ndarray:
    return np.zeros(len(t.labels), dtype=bool) if t.crowd is None else np.asarray(t.crowd, bool)


def _anns(images: Sequence[ImageBoxes]) -> list[dict[str, Any]]:
    """COCO annotations (bbox xywh) of every image; ids start at 1 (0 means unmatched)."""
    anns: list[dict[str, Any]] = []
    for i, image in enumerate(images):
        boxes = np.asarray(image.boxes, dtype=np.float64).reshape(-1, 4)
        crowd = _crowd(image)
        for j, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
            w, h = x2 - x1, y2 - y1
            ann: dict[str, Any] = {
                "id": len(anns) + 1,
                "image_id": i + 1,
                "category_id": int(image.labels[j]) + 1,
                "bbox": [x1, y1, w, h],
                "area": w * h,
                "iscrowd": int(crowd[j]),
            }
            if image.scores is not None:
                ann["score"] = float(image.scores[j])
            anns.append(ann)
    return anns
