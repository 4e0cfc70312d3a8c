"""Detection end to end: two tiny detectors built in code (tests/helpers/tiny_detector.py) on
synthetic images, from a JSONL table, COCO annotations and a Parquet file of image arrays; a
DETR built offline from its config; bad data as one clear error."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch

import whichmodel
from helpers.tiny_detector import (
    CLASSES,
    EXAMPLE,
    build,
    save_tiny_detr,
    synthetic_images,
    write_dataset,
)
from whichmodel.analysis.stats import bootstrap_weights
from whichmodel.data.detection import parse_objects
from whichmodel.errors import DataError, TaskError
from whichmodel.tasks import get_task
from whichmodel.tasks.detection.coco import ImageBoxes, coco_map

USES_TORCH = True
HELPER = str(EXAMPLE)
EXACT = f"torch:{HELPER}:build?classes=red,green&name=exact"
SHRUNK = f"torch:{HELPER}:build?classes=red,green&shrink=1&name=shrunk"
OPTIONS = {"measure_cost": False, "n_resamples": 200, "batch_size": 8}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("detection"), n=24)


def reference_map(shrink: float, n: int = 24, seed: int = 0) -> dict[str, float]:
    """pycocotools' mAP of the detector's own outputs on the images, computed here directly."""
    images, objects = synthetic_images(n, seed)
    detector = build(shrink)
    truth, found = [], []
    for image, (boxes, labels) in zip(images, objects, strict=True):
        xywh = np.asarray(boxes, dtype=np.float64)
        xyxy = np.hstack([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]])
        truth.append(ImageBoxes(xyxy, np.array([CLASSES.index(c) for c in labels])))
        pixels = torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32) / 255)
        with torch.inference_mode():
            out = detector([pixels])[0]
        found.append(
            ImageBoxes(out["boxes"].double().numpy(), out["labels"].numpy(), out["scores"].numpy())
        )
    return coco_map(truth, found, len(CLASSES))


@pytest.mark.slow
def test_two_detectors_from_a_table_and_from_coco_annotations(data, tmp_path):
    table, coco = data
    result = whichmodel.compare(
        [EXACT, SHRUNK],
        table,
        task="detection",
        label_col="objects",
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    for model, shrink in (("exact", 0.0), ("shrunk", 1.0)):
        expected = reference_map(shrink)
        for name, value in expected.items():
            assert result.metric(model, name) == pytest.approx(value, abs=1e-12), (model, name)
    # Shrunk boxes overlap the objects by IoU 0.56: the same AP at IoU .5, none at .75.
    assert result.metric("exact", "map_50") == result.metric("shrunk", "map_50")
    assert result.metric("shrunk", "map_75") == 0 < result.metric("exact", "map_75")
    diff = next(d for d in result.statistics.differences if d.name == "map")
    assert diff.diff > 0 and diff.ci_low > 0  # image-level paired bootstrap
    test = next(t for t in result.findings.paired_tests if t.metric == "map")
    assert test.method == "paired_bootstrap" and test.p_value < 0.05
    assert result.statistics.tests[0].a_only > 0 == result.statistics.tests[0].b_only
    per_class = {r["class"]: r for r in result.model("exact").tables["per_class_ap"]}
    assert set(per_class) == set(CLASSES) and sum(r["objects"] for r in per_class.values()) > 24
    # The same images as COCO annotations; the detector's ids name the categories by id.
    ids = f"torch:{HELPER}:build?classes=1,2&name=exact"
    from_coco = whichmodel.compare([ids], coco, task="detection", store=str(tmp_path / "c.db"))
    for name in ("map", "map_50", "map_75", "mar_100"):
        assert from_coco.metric("exact", name) == result.metric("exact", name)


def test_batch_size_changes_nothing_and_replicates_are_scores_of_resamples(data, tmp_path):
    table, _ = data
    results = [
        whichmodel.compare(
            [SHRUNK],
            table,
            task="detection",
            label_col="objects",
            batch_size=b,
            store=str(tmp_path / "s.db"),
            measure_cost=False,
            n_resamples=50,
        )
        for b in (5, 24)
    ]
    small, whole = ({m.name: m.value for m in r.statistics.metrics} for r in results)
    assert small == whole and len(small) == 4
    task = get_task("detection")
    dataset = task.read_data(str(table), input_cols=None, label_col="objects")
    y, preds = task.read_labels(dataset.labels), results[0].models[0].predictions
    weights = bootstrap_weights(24, 4, seed=5)
    for metric in task.metrics(y, preds):
        expected = [metric.score(y, preds, w) for w in weights]  # COCOeval on resampled images
        np.testing.assert_allclose(metric.replicate(y, preds, weights), expected, atol=1e-12)
        assert metric.higher_is_better


def test_an_image_the_detector_fails_on_is_recorded_and_the_run_goes_on(data, tmp_path):
    from PIL import Image

    table, _ = data
    rows = [json.loads(line) for line in table.read_text().splitlines()][:6]
    Image.fromarray(np.zeros((32, 56, 3), np.uint8)).save(table.parent / "images" / "wide.png")
    rows[3] = {"image": "images/wide.png", "objects": {"bbox": [], "category": []}}
    path = table.parent / "with_wide.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    fails = f"torch:{HELPER}:build?classes=red,green&max_width=48&name=narrow"
    result = whichmodel.compare(
        [fails],
        path,
        task="detection",
        label_col="objects",
        store=str(tmp_path / "s.db"),
        **{**OPTIONS, "batch_size": 4},
    )
    preds = result.models[0].predictions
    assert preds.failed_rows == ((3, "ValueError: image wider than 48 pixels"),)
    assert preds.rows.tolist() == [0, 1, 2, 4, 5] and result.statistics.n_examples == 5


def test_images_as_arrays_in_parquet(tmp_path):
    images, objects = synthetic_images(8, seed=3)
    frame = pd.DataFrame(
        {
            "image": [(im.transpose(2, 0, 1) / 255).astype(np.float32).tolist() for im in images],
            "objects": [{"bbox": b, "category": c} for b, c in objects],
        }
    )
    frame.to_parquet(tmp_path / "arrays.parquet")
    result = whichmodel.compare(
        [EXACT],
        tmp_path / "arrays.parquet",
        task="detection?box_format=xywh",
        label_col="objects",
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    assert result.metric("exact", "map") == pytest.approx(reference_map(0.0, 8, 3)["map"], abs=1e-6)
    assert result.task == "detection?box_format=xywh"


def test_label_layouts_read_alike():
    xyxy = [[1, 2, 11, 22], [0, 0, 5, 5]]
    layouts = [
        {"bbox": xyxy, "category": ["cat", "dog"]},
        {"boxes": xyxy, "labels": ["cat", "dog"], "iscrowd": [0, 0]},
        [{"bbox": xyxy[0], "category": "cat"}, {"box": xyxy[1], "label": "dog"}],
        json.dumps({"bbox": xyxy, "category": ["cat", "dog"]}),
    ]
    for layout in layouts:
        objects = parse_objects(layout, "xyxy", "row 0")
        assert objects.boxes.tolist() == xyxy and objects.labels == ("cat", "dog")
    xywh = parse_objects({"bbox": [[1, 2, 10, 20]], "category": [3]}, "xywh", "row 0")
    assert xywh.boxes.tolist() == [[1, 2, 11, 22]] and xywh.labels == ("3",)
    assert parse_objects(objects.to_json(), "xywh", "row 0").boxes.tolist() == xyxy  # canonical


def test_error_count_per_image():
    task = get_task("detection")
    y = task.read_labels(
        np.array([{"bbox": [[0, 0, 10, 10], [20, 20, 30, 30]], "category": [0, 0]}])
    )
    # One exact hit, one false detection above the threshold, one below it (not counted).
    found = np.zeros((1, 1 + 6 * 100))
    found[0, :19] = [3, 0, 0, 10, 10, 0.9, 0, 50, 50, 60, 60, 0.8, 0, 40, 0, 45, 5, 0.1, 0]
    preds = whichmodel.tasks.Predictions(np.array([0]), found[:, 0], scores=found)
    assert task.outcome(y, preds).tolist() == [2.0]  # 1 missed + 1 false, at every IoU
    assert task.metrics(y, preds)[0].score(y, preds, None) == pytest.approx(0.5, abs=0.01)


def test_bad_data_is_one_clear_error(data, tmp_path):
    table, coco = data
    rows = [json.loads(line) for line in table.read_text().splitlines()]

    def write(edit, name="bad.jsonl"):
        changed = [dict(r) for r in rows]
        edit(changed)
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in changed))
        (tmp_path / "images").mkdir(exist_ok=True)
        for r in changed:
            source = table.parent / r["image"]
            if source.is_file() and not (tmp_path / r["image"]).exists():
                (tmp_path / r["image"]).write_bytes(source.read_bytes())
        return tmp_path / name

    def run(path, task="detection"):
        whichmodel.compare([EXACT], path, task=task, label_col="objects", **OPTIONS)

    cases = [
        (
            lambda r: r[0].update(objects={"bbox": [[5, 5, 2, 9]], "category": ["red"]}),
            "row 0: box 0 has a negative width or height",
        ),
        (
            lambda r: r[1].update(objects={"bbox": [[40, 0, 60, 9]], "category": ["red"]}),
            "row 1: box 0 (xyxy [40.0, 0.0, 60.0, 9.0]) lies outside the 48x32 image",
        ),
        (lambda r: r[2].update(image="images/nowhere.png"), "Row 2: no image file at"),
    ]
    for edit, message in cases:
        with pytest.raises(DataError, match=re.escape(message)):
            run(write(edit))
    with pytest.raises(DataError, match="unknown label 'red'; the classes are cat, dog"):
        run(table, "detection?classes=cat,dog")
    coco_data = json.loads(coco.read_text())
    coco_data["annotations"][0]["category_id"] = 9
    (coco.parent / "bad.json").write_text(json.dumps(coco_data))
    with pytest.raises(DataError, match=r"annotation 0 has unknown label \(category_id 9\)"):
        run(coco.parent / "bad.json")
    with pytest.raises(TaskError, match=r"'box_format' option .* must be xyxy or xywh"):
        get_task("detection?box_format=cxcywh")


def test_a_detector_whose_labels_are_not_the_data_classes_is_refused(data, tmp_path):
    table, _ = data
    unnamed = f"torch:{HELPER}:build"  # predicts ids 0 and 1; the data says red and green
    with pytest.raises(TaskError, match="predicts label '0', which is not a class of the data"):
        whichmodel.compare(
            [unnamed],
            table,
            task="detection",
            label_col="objects",
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )


def test_bad_data_through_the_cli_is_one_line_and_exit_code_2(cli, data, tmp_path):
    table, _ = data
    proc = cli(
        "compare",
        EXACT,
        "--data",
        str(table),
        "--task",
        "detection?classes=cat,dog",
        "--label-col",
        "objects",
        "--no-cost",
        "--store",
        str(tmp_path / "s.db"),
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "unknown label 'red'" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_detr_built_from_its_config(data, tmp_path):
    _, coco = data
    folder = save_tiny_detr(tmp_path / "detr")
    result = whichmodel.compare(
        [f"hf:{folder}", EXACT], coco, task="detection", store=str(tmp_path / "s.db"), **OPTIONS
    )
    detr = result.model("detr")
    assert len(detr.predictions.rows) == 24 and not detr.predictions.failed_rows
    assert (detr.predictions.pred == 10).all()  # one detection per DETR query, threshold 0
    assert 0 <= result.metric("detr", "map") < result.metric("exact", "map")


@pytest.mark.slow
def test_the_cost_of_a_detector_is_timed_on_its_images(data, tmp_path):
    # The cost probe runs what the task runs: detect() on the decoded images, not predict()
    # on the column of image paths (which a torch module cannot read).
    table, _ = data
    result = whichmodel.compare(
        [EXACT],
        table,
        task="detection",
        label_col="objects",
        store=str(tmp_path / "s.db"),
        n_resamples=50,
        batch_size=4,
    )
    model = result.model("exact")
    assert model.cost_error is None and model.cost is not None
    assert set(model.cost.latency) == {1, 4}
    assert 0 < model.cost.latency[1].p50_s < model.cost.latency[4].p90_s


def test_coco_images_are_sliced_by_their_own_fields(data, tmp_path):
    # --slice-by on COCO annotations reads the fields of each "images" entry (a row per image),
    # here one the user added; a field no image has is one clear error.
    _, coco = data
    annotations = json.loads(coco.read_text())
    for i, image in enumerate(annotations["images"]):
        image["scene"] = "indoor" if i % 3 == 0 else "outdoor"
    path = coco.parent / "with_scene.json"
    path.write_text(json.dumps(annotations))
    ids = f"torch:{HELPER}:build?classes=1,2&name=exact"
    result = whichmodel.compare(
        [ids],
        path,
        task="detection",
        slice_by=("scene",),
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    (report,) = result.findings.slices
    assert {s.value: s.n for s in report.slices} == {"indoor": 8, "outdoor": 16}
    with pytest.raises(DataError, match=r"no such column.*'file_name'"):
        whichmodel.compare(
            [ids],
            path,
            task="detection",
            slice_by=("weather",),
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )
