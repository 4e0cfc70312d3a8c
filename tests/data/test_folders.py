"""Data folders: a `datasets` save_to_disk folder and an image folder (one subfolder per class)
read into the same inputs as the files they replace, and fail in one clear line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import whichmodel
from whichmodel.data.dataset import read_dataset
from whichmodel.errors import DataError, TaskError


def test_saved_dataset_reads_like_the_same_jsonl(tmp_path):
    import datasets

    rows = {"text": ["a b", "c d e", "f"], "label": [0, 1, 0]}
    datasets.Dataset.from_dict(rows).save_to_disk(str(tmp_path / "ds"))
    (tmp_path / "d.jsonl").write_text(
        "\n".join(json.dumps({"text": t, "label": y}) for t, y in zip(*rows.values(), strict=True))
    )
    folder, file = read_dataset(tmp_path / "ds"), read_dataset(tmp_path / "d.jsonl")
    assert folder.inputs.kind == file.inputs.kind == "text"
    assert folder.inputs.data.tolist() == file.inputs.data.tolist()
    assert folder.labels.tolist() == file.labels.tolist() == [0, 1, 0]


def test_dataset_dict_folder_asks_for_a_split(tmp_path):
    import datasets

    split = datasets.Dataset.from_dict({"text": ["a"], "label": [0]})
    datasets.DatasetDict({"train": split, "test": split}).save_to_disk(str(tmp_path / "dd"))
    with pytest.raises(DataError, match=r"holds several splits \(test, train\); name one"):
        read_dataset(tmp_path / "dd")
    assert read_dataset(tmp_path / "dd" / "test").labels.tolist() == [0]


def _digits_folder(root, n=60):
    from PIL import Image
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    for i in range(n):
        folder = root / f"digit{y[i]}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = (x[i].reshape(8, 8) * 255 / 16).round().astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(folder / f"{i:03d}.png")
    return x[:n], y[:n]


def test_image_folder_gives_arrays_and_class_labels(tmp_path):
    x, y = _digits_folder(tmp_path / "imgs")
    data = read_dataset(tmp_path / "imgs")
    assert data.inputs.kind == "array" and data.inputs.data.shape == (60, 8, 8)
    order = np.argsort([f"digit{d}" for d in y], kind="stable")  # files sorted by class folder
    assert sorted(data.labels.tolist()) == sorted(f"digit{d}" for d in y)
    expected = (x[order].reshape(-1, 8, 8) * 255 / 16).round() / 255
    np.testing.assert_allclose(data.inputs.data, expected, atol=1e-6)


def test_image_folder_end_to_end_with_a_classifier(tmp_path):
    """A scikit-learn pipeline trained on the same pixels scores the folder as it scores them."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    _digits_folder(tmp_path / "imgs")
    data = read_dataset(tmp_path / "imgs")
    flat = data.inputs.data.reshape(len(data), -1).astype(np.float64)
    model = LogisticRegression(max_iter=2000).fit(flat[::2], data.labels[::2])
    sio.dump(model, tmp_path / "lr.skops")
    result = whichmodel.compare(
        [f"sklearn:{tmp_path / 'lr.skops'}"],
        tmp_path / "imgs",
        measure_cost=False,
        n_resamples=50,
        store=str(tmp_path / "s.db"),
    )
    assert result.metric("lr", "accuracy") == pytest.approx(model.score(flat, data.labels))


def test_bad_image_folders(tmp_path):
    from PIL import Image

    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match="no class subfolders with images"):
        read_dataset(tmp_path / "empty")
    for name, size in (("a", (8, 8)), ("b", (9, 8))):
        (tmp_path / "mixed" / name).mkdir(parents=True)
        Image.new("L", size).save(tmp_path / "mixed" / name / "x.png")
    with pytest.raises(DataError, match="resize the images to one size"):
        read_dataset(tmp_path / "mixed")
    (tmp_path / "broken" / "a").mkdir(parents=True)
    (tmp_path / "broken" / "a" / "x.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="Cannot read the image"):
        read_dataset(tmp_path / "broken")


@pytest.mark.parametrize(
    ("content", "task", "message"),
    [
        (b"", "language-modeling", "is empty"),
        ("text\ncaf\xe9\n".encode("latin-1"), "language-modeling", "is not UTF-8"),
        (
            b"prompt,label\nhi,there\n",
            "generation?max_new_tokns=3",
            "Did you mean 'max_new_tokens'",
        ),
        (b"query,relevant\nhi,x\n", "retrieval", "needs a corpus"),
        (b'context,choices,label\nhi,"[""a"",""b""]",x\n', "multiple-choice", "0-based index"),
    ],
)
def test_bad_data_for_new_tasks_is_one_clear_line(tmp_path, content, task, message):
    import re

    from whichmodel.errors import WhichModelError

    path = tmp_path / "d.csv"
    path.write_bytes(content)
    (tmp_path / "m.skops").touch()  # never loaded: the data fails first
    with pytest.raises(WhichModelError, match=re.escape(message)) as caught:
        whichmodel.compare(
            [f"sklearn:{tmp_path / 'm.skops'}"],
            path,
            task=task,
            measure_cost=False,
            store=str(tmp_path / "s.db"),
        )
    assert "\n" not in str(caught.value)


def test_bad_data_exit_code_and_single_line(cli, tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"")
    (tmp_path / "m.skops").touch()
    proc = cli(
        "compare",
        f"sklearn:{tmp_path / 'm.skops'}",
        "--data",
        str(path),
        "--task",
        "language-modeling",
        "--no-cost",
        "--store",
        str(tmp_path / "s.db"),
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {path} is empty."


def test_multilabel_csv_labels(tmp_path):
    frame = pd.DataFrame({"x": [1.0, 2.0], "labels": ["a|b", ""]})
    frame.to_csv(tmp_path / "m.csv", index=False)
    task = whichmodel.tasks.get_task("multilabel")
    data = read_dataset(tmp_path / "m.csv", label_col="labels")
    assert task.read_labels(data.labels).tolist() == ["a|b", ""]
    with pytest.raises(TaskError, match="threshold must be in"):
        whichmodel.tasks.get_task("multilabel?threshold=2")
