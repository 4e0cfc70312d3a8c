"""Large Parquet files are read batch by batch: the same results as reading them whole."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

import whichmodel
from whichmodel.data import streaming
from whichmodel.data.dataset import read_dataset
from whichmodel.data.streaming import StreamedInputs


@pytest.fixture
def digits_parquet(tmp_path):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    frame = load_digits(as_frame=True).frame.rename(columns={"target": "label"})
    path = tmp_path / "digits.parquet"
    frame.to_parquet(path, row_group_size=300)  # several row groups and record batches
    model = LogisticRegression(max_iter=300).fit(
        frame.drop(columns="label")[:500], frame.label[:500]
    )
    sio.dump(model, tmp_path / "lr.skops")
    return path, frame


def test_streamed_rows_equal_the_whole_file(digits_parquet, monkeypatch):
    path, frame = digits_parquet
    monkeypatch.setattr(streaming, "STREAM_BYTES", 0)
    monkeypatch.setattr(streaming, "_JUMP_ROWS", 100)  # 64 -> 1000 skips to row group 3
    data = read_dataset(path)
    assert isinstance(data.inputs, StreamedInputs) and len(data) == len(frame)
    whole = frame.drop(columns="label").to_numpy(dtype=np.float64)
    for rows in (np.arange(0, 64), np.arange(1000, 1797), np.arange(10, 20)):  # forward, back
        np.testing.assert_array_equal(data.inputs.take(rows).data, whole[rows])
    np.testing.assert_array_equal(data.inputs.data, whole)
    assert data.labels.tolist() == frame.label.tolist()


def test_compare_on_a_streamed_file_equals_reading_it_whole(digits_parquet, tmp_path, monkeypatch):
    path, _ = digits_parquet
    options = {"measure_cost": False, "n_resamples": 100, "batch_size": 128}
    whole = whichmodel.compare(
        [f"sklearn:{tmp_path / 'lr.skops'}"], path, store=str(tmp_path / "a.db"), **options
    )
    monkeypatch.setattr(streaming, "STREAM_BYTES", 0)
    streamed = whichmodel.compare(
        [f"sklearn:{tmp_path / 'lr.skops'}"], path, store=str(tmp_path / "b.db"), **options
    )
    assert streamed.statistics.metrics == whole.statistics.metrics
    assert 0.8 < streamed.metric("lr", "accuracy") < 1


def test_streamed_file_missing_label_column(digits_parquet, monkeypatch):
    from whichmodel.errors import DataError

    path, _ = digits_parquet
    monkeypatch.setattr(streaming, "STREAM_BYTES", 0)
    with pytest.raises(DataError, match="has no label column 'y'"):
        read_dataset(path, label_col="y")
    pd.DataFrame({"a": pd.Series([], dtype=float), "label": pd.Series([], dtype=int)}).to_parquet(
        path
    )
    with pytest.raises(DataError, match="has no rows"):
        read_dataset(path)


@pytest.fixture
def digits_text_files(digits_parquet, tmp_path):
    """The digits as CSV and JSONL files (several CSV blocks and JSONL chunks each)."""
    _, frame = digits_parquet
    frame = frame.astype({"label": int})
    frame.to_csv(tmp_path / "digits.csv", index=False)
    lines = frame.to_json(orient="records", lines=True).splitlines()
    lines.insert(700, "")  # a blank line is not a row (pandas skips it), streamed or whole
    (tmp_path / "digits.jsonl").write_text("\n".join(lines) + "\n")
    return [tmp_path / "digits.csv", tmp_path / "digits.jsonl"], frame


def test_streamed_csv_and_jsonl_rows_equal_the_whole_file(digits_text_files, monkeypatch):
    paths, frame = digits_text_files
    whole = frame.drop(columns="label").to_numpy(dtype=np.float64)
    monkeypatch.setattr(streaming, "_CSV_BLOCK_BYTES", 1 << 14)  # ~40 blocks of 16 KiB
    monkeypatch.setattr(streaming, "_JUMP_ROWS", 100)  # 64 -> 1000 reopens JSONL at row 1000
    for path in paths:
        read_whole = read_dataset(path)
        monkeypatch.setattr(streaming, "STREAM_BYTES", 0)
        data = read_dataset(path)
        monkeypatch.setattr(streaming, "STREAM_BYTES", 2**62)
        assert isinstance(data.inputs, StreamedInputs) and len(data) == len(frame), path
        for rows in (np.arange(0, 64), np.arange(1000, 1797), np.arange(10, 20)):
            np.testing.assert_array_equal(data.inputs.take(rows).data, whole[rows])
        np.testing.assert_array_equal(data.inputs.data, read_whole.inputs.data)
        assert data.labels.tolist() == read_whole.labels.tolist() == frame.label.tolist()
        assert data.labels.dtype == read_whole.labels.dtype


def test_compare_on_streamed_csv_and_jsonl_equals_reading_them_whole(
    digits_text_files, tmp_path, monkeypatch
):
    paths, _ = digits_text_files
    options = {"measure_cost": False, "n_resamples": 100, "batch_size": 128}
    ref = [f"sklearn:{tmp_path / 'lr.skops'}"]
    monkeypatch.setattr(streaming, "_CSV_BLOCK_BYTES", 1 << 14)
    for path in paths:
        whole = whichmodel.compare(ref, path, store=str(tmp_path / f"{path.suffix}a.db"), **options)
        monkeypatch.setattr(streaming, "STREAM_BYTES", 0)
        streamed = whichmodel.compare(
            ref, path, store=str(tmp_path / f"{path.suffix}b.db"), **options
        )
        monkeypatch.setattr(streaming, "STREAM_BYTES", 2**62)
        assert streamed.statistics.metrics == whole.statistics.metrics, path
        assert 0.8 < streamed.metric("lr", "accuracy") < 1


def test_streamed_text_files_bad_data(digits_text_files, tmp_path, monkeypatch):
    from whichmodel.errors import DataError

    paths, _ = digits_text_files
    monkeypatch.setattr(streaming, "STREAM_BYTES", 0)
    for path in paths:
        with pytest.raises(DataError, match="has no label column 'y'"):
            read_dataset(path, label_col="y")
        with pytest.raises(DataError, match="has no column 'nope'"):
            read_dataset(path, input_cols=["nope"])
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("a,label\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.csv is not UTF-8 text"):
        read_dataset(bad)


def test_compare_on_a_streamed_file_never_decodes_every_row_at_once(
    digits_text_files, tmp_path, monkeypatch
):
    # The paired analysis reads inputs too (error clusters fit on a sample, then applied in
    # chunks; disagreements render single rows): nothing may call .data on streamed inputs.
    from whichmodel.analysis import clusters

    paths, _ = digits_text_files
    monkeypatch.setattr(streaming, "STREAM_BYTES", 0)
    monkeypatch.setattr(clusters, "_FIT_ROWS", 500)  # 1797 rows: the sampled path
    decoded = []
    monkeypatch.setattr(StreamedInputs, "data", property(lambda self: decoded.append(1)))
    result = whichmodel.compare(
        [f"sklearn:{tmp_path / 'lr.skops'}"],
        paths[0],
        store=str(tmp_path / "s.db"),
        measure_cost=False,
        n_resamples=50,
    )
    assert decoded == []
    found = result.findings.error_clusters[0]
    assert found.clusters and sum(c.n for c in found.clusters) <= 1797
    shown = found.clusters[0].examples[0]  # rendered from one streamed row
    assert shown.kind == "tabular" and shown.text.startswith("pixel_0_0=")
