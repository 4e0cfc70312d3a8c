"""Forecasting with a Ridge regressor over lag windows and a GRU, both trained here on seasonal
series: MAE, sMAPE and MASE equal utilsforecast's on the same windows, resampling draws whole
series when asked, and bad data is one clear line."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import whichmodel
from helpers.tiny_forecast import HISTORY, HORIZON, SEASON, seasonal_series, train_gru
from whichmodel.analysis.stats import bootstrap_weights
from whichmodel.errors import DataError, TaskError
from whichmodel.tasks import get_task
from whichmodel.tasks.forecast_windows import windows
from whichmodel.tasks.forecasting import seasonal_naive_scale

USES_TORCH = True
HELPERS = Path(__file__).resolve().parents[1] / "helpers"
TASK = f"forecasting?season={SEASON}&horizon={HORIZON}"
OPTIONS = {
    "measure_cost": False,
    "n_resamples": 200,
    "input_cols": ["history"],
    "label_col": "target",
}


def _cut(series: list[np.ndarray], start: int, step: int) -> tuple[list[dict], np.ndarray]:
    rows, histories, targets = [], [], []
    for i, s in enumerate(series):
        h, t = windows(s[start:], history=HISTORY, horizon=HORIZON, step=step)
        histories.append(h)
        targets.append(t)
        rows += [
            {"series": f"s{i}", "history": a.tolist(), "target": b.tolist()}
            for a, b in zip(h, t, strict=True)
        ]
    return rows, np.concatenate(histories), np.concatenate(targets)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    import skops.io as sio
    from safetensors.torch import save_file
    from sklearn.linear_model import Ridge

    root = tmp_path_factory.mktemp("forecast")
    series = seasonal_series(8, 120, seed=0)
    _, x, y = _cut([s[:90] for s in series], 0, 3)  # train on the first 90 steps
    rows, _, _ = _cut(series, 90 - HISTORY, 3)  # test windows forecast steps 90..119
    data = root / "test.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    sio.dump(Ridge(alpha=1.0).fit(x, y), root / "ridge.skops")
    save_file(train_gru(x, y).state_dict(), str(root / "gru.safetensors"))
    gru = f"torch:{HELPERS / 'tiny_forecast.py'}:gru?weights={root / 'gru.safetensors'}"
    refs = [f"sklearn:{root / 'ridge.skops'}", gru + "&output=values"]
    return SimpleNamespace(root=root, data=data, rows=rows, refs=refs)


@pytest.fixture(scope="module")
def comparison(setup: SimpleNamespace) -> whichmodel.Comparison:
    return whichmodel.compare(setup.refs, setup.data, task=TASK, store=str(setup.root / "s.db"),
                              **OPTIONS)


def _utilsforecast(rows: list[dict], forecasts: np.ndarray) -> dict[str, float]:
    """MAE, sMAPE and MASE from utilsforecast.losses, one series per window (unique_id)."""
    from utilsforecast.losses import mae, mase, smape

    test, train = [], []
    for i, row in enumerate(rows):
        # float32, as the model saw it; float64 arithmetic, as the task computes its scale
        history = np.asarray(row["history"], dtype=np.float32).astype(np.float64)
        train += [{"unique_id": i, "ds": t, "y": v} for t, v in enumerate(history)]
        test += [
            {"unique_id": i, "ds": HISTORY + h, "y": row["target"][h], "model": forecasts[i, h]}
            for h in range(HORIZON)
        ]
    df, train_df = pd.DataFrame(test), pd.DataFrame(train)
    return {
        "mae": float(mae(df, ["model"])["model"].mean()),
        "smape": float(smape(df, ["model"])["model"].mean()),
        "mase": float(mase(df, ["model"], SEASON, train_df)["model"].mean()),
    }


def test_metrics_equal_utilsforecast_and_both_models_beat_seasonal_naive(setup, comparison):
    assert comparison.task == f"forecasting?horizon={HORIZON}&season={SEASON}"
    assert comparison.n_examples == len(setup.rows) == 72
    for model in comparison.models:
        forecasts = model.predictions.scores[:, :HORIZON]
        expected = _utilsforecast(setup.rows, forecasts)
        for name, value in expected.items():
            assert comparison.metric(model.name, name) == pytest.approx(value, rel=1e-9), name
        # Trained on trend + season, each model beats seasonal-naive on its history's scale.
        assert comparison.metric(model.name, "mase") < 1.0
        assert model.predictions.pred == pytest.approx(forecasts[:, 0])


def test_gru_forecasts_are_the_module_output(setup, comparison):
    import torch
    from safetensors.torch import load_file

    from helpers.tiny_forecast import gru

    module = gru()
    module.load_state_dict(load_file(str(setup.root / "gru.safetensors")))
    x = torch.tensor([r["history"] for r in setup.rows], dtype=torch.float32)
    with torch.inference_mode():
        direct = module.eval()(x).numpy()
    np.testing.assert_allclose(comparison.model("gru").predictions.scores[:, :HORIZON], direct,
                               rtol=1e-5)


def test_replicates_equal_weighted_scores_and_scale_is_seasonal_naive(setup, comparison):
    task = get_task(TASK)
    y = task.read_labels(np.array([r["target"] for r in setup.rows], dtype=object))
    preds = comparison.models[0].predictions
    history = np.array([r["history"] for r in setup.rows], dtype=np.float32).astype(np.float64)
    expected_scale = [np.mean(np.abs(h[SEASON:] - h[:-SEASON])) for h in history]
    np.testing.assert_allclose(preds.score("scale"), expected_scale, rtol=1e-12)
    np.testing.assert_allclose(seasonal_naive_scale(history, SEASON), expected_scale)
    weights = bootstrap_weights(len(y), 5, seed=3)
    for metric in task.metrics(y, preds):
        expected = [metric.score(y, preds, w) for w in weights]
        np.testing.assert_allclose(metric.replicate(y, preds, weights), expected, rtol=1e-9)


def test_series_option_resamples_whole_series(setup, comparison):
    by_series = whichmodel.compare(
        setup.refs, setup.data, task=TASK + "&series=series", store=str(setup.root / "s.db"),
        **OPTIONS,
    )
    windows_only = {(m.model, m.name): m for m in comparison.statistics.metrics}
    # The same point values; other intervals (8 series drawn, not 72 windows); the paired
    # Wilcoxon test pairs the 8 series' mean errors.
    for m in by_series.statistics.metrics:
        other = windows_only[(m.model, m.name)]
        assert m.value == pytest.approx(other.value)
        assert (m.ci_low, m.ci_high) != (other.ci_low, other.ci_high)
    assert by_series.statistics.tests[0].n == 8
    assert comparison.statistics.tests[0].n == 72
    assert {t.method for t in by_series.findings.paired_tests} == {"paired_bootstrap"}
    # Series only group the resampling: each window keeps its own error, so disagreements still
    # count and list windows (ranking's rows, which share their query's nDCG, count as queries).
    (series_pair,) = by_series.findings.disagreements
    (window_pair,) = comparison.findings.disagreements
    assert series_pair.n == window_pair.n == 72
    assert series_pair.a_only == window_pair.a_only


def test_failed_windows_are_recorded_and_batches_change_nothing(setup, comparison, tmp_path):
    flaky = f"torch:{HELPERS / 'tiny_forecast.py'}:sometimes_nan?above=300.0&output=values"
    result = whichmodel.compare([setup.refs[0], flaky], setup.data, task=TASK, batch_size=5,
                                store=str(tmp_path / "s.db"), **OPTIONS)
    starts = np.array([r["history"][0] for r in setup.rows], dtype=np.float32)
    failed = {row for row, _ in result.model("sometimes_nan").predictions.failed_rows}
    assert failed == set(np.flatnonzero(starts > 300).tolist()) and 0 < len(failed) < 72
    assert result.statistics.n_examples == 72 - len(failed)  # windows both models predicted
    kept = np.flatnonzero(starts <= 300)
    forecasts = result.model("sometimes_nan").predictions.scores[:, :HORIZON]
    history = np.array([setup.rows[i]["history"] for i in kept], dtype=np.float32)
    np.testing.assert_allclose(forecasts, history[:, -SEASON:][:, :HORIZON], rtol=1e-6)
    # Ridge at batch size 5 is ridge at batch size 64, on the same windows.
    rows = [setup.rows[i] for i in kept]
    expected = _utilsforecast(rows, comparison.model("ridge").predictions.scores[kept, :HORIZON])
    for name, value in expected.items():
        assert result.metric("ridge", name) == pytest.approx(value, rel=1e-9)


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "task", "message"),
    [
        (lambda r: {**r, "history": r["history"][:SEASON]}, TASK,
         r"histories have 12 values, not more than the season \(12\)"),
        (lambda r: {**r, "history": ["x"] * HISTORY}, TASK, r"holds string values, not numbers"),
        (lambda r: {**r, "target": r["target"][:4]}, TASK,
         r"target of window 0 has 4 values; the horizon option says 6"),
        (lambda r: {**r, "target": ["a"] * HORIZON}, TASK, r"not a number"),
        (lambda r: {**r, "history": [1.0, 2.0] * (HISTORY // 2)}, "forecasting?season=2",
         r"window 0 repeats itself exactly at lag 2"),
        (lambda r: {"history": r["history"]}, TASK, r"no label column 'target'"),
    ],
    ids=["short", "text-history", "horizon", "text-target", "constant", "no-target"],
)
def test_bad_data_is_one_clear_error(setup, tmp_path, edit, task, message):
    rows = [edit(r) for r in setup.rows[:4]]
    with pytest.raises(DataError, match=message):
        whichmodel.compare(setup.refs[:1], _write(tmp_path / "bad.jsonl", rows), task=task,
                           store=str(tmp_path / "s.db"), **OPTIONS)


def test_wrong_model_output_and_options(setup, tmp_path):
    with pytest.raises(TaskError, match=r"forecasts 6 steps; the horizon option says 3"):
        rows = [{**r, "target": r["target"][:3]} for r in setup.rows[:4]]
        whichmodel.compare(setup.refs[:1], _write(tmp_path / "h3.jsonl", rows),
                           task="forecasting?horizon=3", store=str(tmp_path / "s.db"), **OPTIONS)
    with pytest.raises(TaskError, match=r"forecasts 6 steps but the targets have 3"):
        whichmodel.compare(setup.refs[:1], tmp_path / "h3.jsonl", task="forecasting",
                           store=str(tmp_path / "s.db"), **OPTIONS)
    with pytest.raises(TaskError, match=r"no option 'seasn'\. Did you mean 'season'\?"):
        get_task("forecasting?seasn=12")


@pytest.mark.slow
def test_cli_forecasting_and_a_short_series_exit_2(setup, tmp_path, cli):
    out = cli("compare", *setup.refs, "--data", str(setup.data), "--task", TASK,
              "--input-cols", "history", "--label-col", "target", "--no-cost",
              "--store", str(tmp_path / "s.db"), "--bootstrap", "50")
    assert out.returncode == 0, out.stderr
    assert "mase" in out.stdout and "smape" in out.stdout
    rows = [{**r, "history": r["history"][:10]} for r in setup.rows[:3]]
    bad = cli("compare", setup.refs[0], "--data", str(_write(tmp_path / "b.jsonl", rows)),
              "--task", TASK, "--input-cols", "history", "--label-col", "target", "--no-cost",
              "--store", str(tmp_path / "s.db"))
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
    assert "not more than the season (12)" in bad.stderr
