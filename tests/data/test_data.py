import numpy as np
import pandas as pd
import pytest

from whichmodel.data.dataset import read_dataset
from whichmodel.errors import DataError


def test_csv_numeric_columns_are_tabular(tmp_path):
    path = tmp_path / "d.csv"
    pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5], "label": ["x", "y"]}).to_csv(path, index=False)
    ds = read_dataset(path)
    assert ds.inputs.kind == "tabular" and ds.inputs.columns == ("a", "b")
    np.testing.assert_array_equal(ds.inputs.data, [[1, 0.5], [2, 1.5]])
    assert ds.labels.tolist() == ["x", "y"]


def test_parquet_nested_lists_are_arrays(tmp_path):
    path = tmp_path / "d.parquet"
    images = [np.arange(6).reshape(2, 3).tolist(), np.ones((2, 3)).tolist()]
    pd.DataFrame({"image": images, "label": [0, 1]}).to_parquet(path)
    ds = read_dataset(path)
    assert ds.inputs.kind == "array" and ds.inputs.data.shape == (2, 2, 3)
    assert ds.inputs.data.dtype == np.float32


def test_jsonl_text_column_and_explicit_columns(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"text": "good", "lang": "en", "y": 1}\n{"text": "bad", "lang": "en", "y": 0}\n'
    )
    ds = read_dataset(path, input_cols=["text"], label_col="y")
    assert ds.inputs.kind == "text" and ds.inputs.data.tolist() == ["good", "bad"]


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        (None, {}, "No data file"),
        (b"", {}, "is empty"),
        (b"a,b\n1,2\n", {}, "no label column 'label'"),
        (b"a,label\n1,2\n", {"input_cols": ["zz"]}, "no column 'zz'"),
        (b"a,label\n\xff\xfe,1\n", {}, "not UTF-8"),
        (b"label\n1\n", {}, "no input columns"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path, content, kwargs, message):
    path = tmp_path / "d.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_dataset(path, **kwargs)


def test_unknown_format_and_ragged_arrays(tmp_path):
    (tmp_path / "d.xlsx").write_bytes(b"x")
    with pytest.raises(DataError, match=r"expected a \.csv"):
        read_dataset(tmp_path / "d.xlsx")
    path = tmp_path / "r.jsonl"
    path.write_text('{"x": [1, 2], "label": 0}\n{"x": [1, 2, 3], "label": 1}\n')
    with pytest.raises(DataError, match="different shapes"):
        read_dataset(path)


def test_array_columns_with_gaps_or_text_are_refused(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text('{"x": [1, 2], "label": 0}\n{"x": null, "label": 1}\n')
    with pytest.raises(DataError, match="missing values"):
        read_dataset(path)
    path.write_text('{"x": ["a", "b"], "label": 0}\n{"x": ["c", "d"], "label": 1}\n')
    with pytest.raises(DataError, match="not numbers"):
        read_dataset(path)
