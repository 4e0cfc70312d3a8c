"""Two columns of one name are refused, read whole or streamed: read by name, one would be
renamed or dropped and its values taken for the other's."""

from __future__ import annotations

import pandas as pd
import pytest

from whichmodel.data import streaming
from whichmodel.data.dataset import read_dataset
from whichmodel.data.tables import read_table
from whichmodel.errors import DataError


def _write(path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


@pytest.fixture(params=[False, True], ids=["whole", "streamed"])
def streamed(request, monkeypatch) -> bool:
    if request.param:
        monkeypatch.setattr(streaming, "STREAM_BYTES", 0)
    return bool(request.param)


def test_a_csv_header_with_a_name_twice_is_refused(tmp_path, streamed) -> None:
    path = tmp_path / "d.csv"
    _write(path, "p,q,p,label\n1,2,3,0\n4,5,6,1\n")
    with pytest.raises(DataError, match=r"d\.csv has two columns named 'p'"):
        read_dataset(path)


def test_a_parquet_file_with_a_name_twice_is_refused(tmp_path, streamed) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    columns = [pa.array([1.0, 2.0]), pa.array([3.0, 4.0]), pa.array([0, 1])]
    pq.write_table(pa.Table.from_arrays(columns, names=["x", "label", "x"]), path)
    with pytest.raises(DataError, match=r"d\.parquet has two columns named 'x'"):
        read_dataset(path)


def test_a_jsonl_object_with_a_key_twice_is_refused(tmp_path, streamed) -> None:
    path = tmp_path / "d.jsonl"
    _write(path, '{"a": 1, "label": 0}\n{"a": 2, "b": {"c": 1}, "a": 3, "label": 1}\n')
    with pytest.raises(DataError, match=r"d\.jsonl has the key 'a' twice in one object \(line 2\)"):
        read_dataset(path)


def test_names_pandas_would_make_unique_are_kept_when_the_file_has_them(tmp_path) -> None:
    path = tmp_path / "d.csv"
    _write(path, "p,p.1,,label,\n1,2,3,0,\n4,5,6,1,\n")  # 'p.1' as written; two unnamed columns
    frame = read_table(path)
    assert list(frame.columns)[:2] == ["p", "p.1"]
    pd.testing.assert_series_equal(frame["p.1"], pd.Series([2, 5], name="p.1"))
