"""Long series (unique_id, ds, y) -> forecast windows: the right values at the right origins,
rows in any order, and bad long data as one clear line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from whichmodel.errors import DataError
from whichmodel.tasks.forecast_windows import windows_frame


def long_frame() -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=10, freq="D")
    a = pd.DataFrame({"unique_id": "a", "ds": days, "y": np.arange(10.0)})
    b = pd.DataFrame({"unique_id": "b", "ds": days[:8], "y": 100 + np.arange(8.0)})
    return pd.concat([a, b]).sample(frac=1.0, random_state=0)  # rows in any order


def test_windows_follow_time_within_each_series():
    frame = windows_frame(long_frame(), history=4, horizon=2)  # step = horizon
    a = frame[frame["series"] == "a"]
    assert [h.tolist() for h in a["history"]] == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7]]
    assert [t.tolist() for t in a["target"]] == [[4, 5], [6, 7], [8, 9]]
    assert list(a["origin"]) == list(pd.to_datetime(["2024-01-04", "2024-01-06", "2024-01-08"]))
    b = frame[frame["series"] == "b"]
    assert [t.tolist() for t in b["target"]] == [[104, 105], [106, 107]]
    last = windows_frame(long_frame(), history=4, horizon=2, step=1, last=1)
    assert [t.tolist() for t in last["target"]] == [[8, 9], [106, 107]]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.rename(columns={"ds": "date"}), r"no column 'ds'.*--time-col"),
        (lambda f: f.assign(y=f["y"].astype(object).where(f["y"] != 3, "n/a")),
         r"value 'n/a' in 'y', not a number"),
        (lambda f: pd.concat([f, f.iloc[:1]]), r"has time .* twice"),
        (lambda f: f[(f["unique_id"] == "a") | (f["y"] < 103)], r"Series 'b' has 3 values; a "
         r"window needs history \+ horizon = 6"),
    ],
    ids=["no-time", "text-value", "repeated-time", "short-series"],
)
def test_bad_long_data_is_one_clear_error(edit, message):
    with pytest.raises(DataError, match=message):
        windows_frame(edit(long_frame()), history=4, horizon=2)


@pytest.mark.slow
def test_cli_windows_then_compare(tmp_path, cli):
    import skops.io as sio
    from sklearn.linear_model import Ridge

    t = np.arange(60)
    rows = [
        {"unique_id": f"s{i}", "ds": int(d), "y": float(10 * i + 3 * np.sin(d * np.pi / 2) + d)}
        for i in range(3)
        for d in t
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "long.csv", index=False)
    made = cli("windows", str(tmp_path / "long.csv"), "--history", "8", "--horizon", "2",
               "--step", "2", "--out", str(tmp_path / "w.jsonl"))
    assert made.returncode == 0, made.stderr
    assert "78 windows of 3 series" in made.stdout  # (60 - 10) // 2 + 1 = 26 per series
    first = json.loads((tmp_path / "w.jsonl").read_text().splitlines()[0])
    assert first["series"] == "s0" and len(first["history"]) == 8 and len(first["target"]) == 2
    windows = pd.read_json(tmp_path / "w.jsonl", lines=True)
    x, y = np.stack(windows["history"]), np.stack(windows["target"])
    sio.dump(Ridge(alpha=1e-3).fit(x, y), tmp_path / "ridge.skops")
    result = cli("compare", f"sklearn:{tmp_path / 'ridge.skops'}", "--data",
                 str(tmp_path / "w.jsonl"), "--input-cols", "history", "--label-col", "target",
                 "--task", "forecasting?season=4&horizon=2&series=series", "--no-cost",
                 "--store", str(tmp_path / "s.db"), "--json")
    assert result.returncode == 0, result.stderr
    metrics = {m["name"]: m["value"] for m in json.loads(result.stdout)["metrics"]}
    assert metrics["mase"] < 0.1  # a linear model on trend + period-4 sine: near exact
    short = cli("windows", str(tmp_path / "long.csv"), "--history", "59", "--horizon", "2",
                "--out", str(tmp_path / "w2.jsonl"))
    assert short.returncode == 2 and "Series 's0' has 60 values" in short.stderr
    assert short.stderr.strip().count("\n") == 0
