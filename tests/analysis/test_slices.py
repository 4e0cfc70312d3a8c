"""Slices and fairness gaps against scikit-learn and fairlearn on shared fixtures."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.metrics import accuracy_score, mean_absolute_error

from whichmodel.analysis.slices import analyze_slices, read_slice_columns, slice_labels
from whichmodel.errors import DataError
from whichmodel.tasks import Predictions, get_task


@pytest.fixture(scope="module")
def grouped():
    """Binary labels, a group column where model 'weak' is much worse on group 'b'."""
    rng = np.random.default_rng(0)
    n = 600
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    y = rng.choice(["no", "yes"], n)
    flip = np.where(group == "b", 0.4, 0.05)
    weak = np.where(rng.random(n) < flip, np.where(y == "yes", "no", "yes"), y)
    good = np.where(rng.random(n) < 0.05, np.where(y == "yes", "no", "yes"), y)
    preds = {"good": Predictions(np.arange(n), good), "weak": Predictions(np.arange(n), weak)}
    return y, preds, pd.DataFrame({"group": group, "age": rng.uniform(18, 90, n)})


def test_slice_metrics_equal_sklearn_on_each_subset_with_intervals(grouped):
    y, preds, columns = grouped
    (report,) = analyze_slices(
        get_task("classification"), y, preds, columns[["group"]], n_resamples=200
    )
    assert report.binning == "by value"
    assert [s.value for s in report.slices] == ["a", "b", "c"]  # largest first
    group = columns["group"].to_numpy()
    for s in report.slices:
        mask = group == s.value
        assert s.n == int(mask.sum())
        m = next(m for m in s.metrics if m.model == "weak" and m.metric == "accuracy")
        assert m.value == accuracy_score(y[mask], preds["weak"].pred[mask])
        assert m.ci_low <= m.value <= m.ci_high and m.ci_low < m.ci_high
    worst = {w.model: w for w in report.worst}
    assert worst["weak"].value == "b" and worst["weak"].metric_value < worst["weak"].overall


def test_fairness_gaps_equal_fairlearn(grouped):
    y, preds, columns = grouped
    (report,) = analyze_slices(
        get_task("classification"), y, preds, columns[["group"]], n_resamples=50
    )
    for gap in report.fairness:
        yt, yp = (y == "yes").astype(int), (preds[gap.model].pred == "yes").astype(int)
        group = columns["group"]
        assert gap.demographic_parity_class == "yes"  # the second label in sorted order
        assert gap.demographic_parity_difference == pytest.approx(
            demographic_parity_difference(yt, yp, sensitive_features=group)
        )
        assert gap.equalized_odds_difference == pytest.approx(
            equalized_odds_difference(yt, yp, sensitive_features=group)
        )
    gaps = {g.model: g.equalized_odds_difference for g in report.fairness}
    assert gaps["weak"] > gaps["good"] + 0.2


def test_multiclass_fairness_is_the_largest_one_vs_rest_gap():
    rng = np.random.default_rng(1)
    y = rng.choice(["0", "1", "2"], 300)
    pred = np.where(rng.random(300) < 0.8, y, rng.choice(["0", "1", "2"], 300))
    group = rng.choice(["u", "v"], 300)
    (report,) = analyze_slices(
        get_task("classification"),
        y,
        {"m": Predictions(np.arange(300), pred)},
        pd.DataFrame({"g": group}),
        n_resamples=20,
    )
    per_class = {
        c: demographic_parity_difference(
            (y == c).astype(int), (pred == c).astype(int), sensitive_features=group
        )
        for c in ("0", "1", "2")
    }
    (gap,) = report.fairness
    best = max(per_class, key=per_class.get)
    assert (gap.demographic_parity_class, gap.demographic_parity_difference) == (
        best,
        pytest.approx(per_class[best]),
    )


def test_numeric_columns_get_quantile_bins_and_regression_slices_have_no_fairness(grouped):
    _, _, columns = grouped
    labels, binning = slice_labels(columns["age"])
    assert binning == "5 quantile bins"
    counts = pd.Series(labels).value_counts()
    assert len(counts) == 5 and counts.max() - counts.min() <= 1
    rng = np.random.default_rng(2)
    y = rng.normal(size=600)
    scale = (columns["age"].to_numpy() - 18) / 72  # errors grow with age
    pred = Predictions(np.arange(600), y + rng.normal(0, 1, 600) * scale)
    (report,) = analyze_slices(
        get_task("regression"), y, {"r": pred}, columns[["age"]], n_resamples=50
    )
    assert report.fairness == ()
    (worst,) = report.worst
    assert worst.metric == "mae" and worst.value.startswith("[75.75")  # the oldest bin errs most
    s = next(s for s in report.slices if s.value == worst.value)
    mask = labels == s.value
    mae = next(m.value for m in s.metrics if m.metric == "mae")
    assert mae == pytest.approx(mean_absolute_error(y[mask], pred.pred[mask]))


def test_many_values_pool_into_other_and_missing_values_form_their_own_slice():
    values = pd.Series([f"v{i % 30}" for i in range(300)] + [None] * 5)
    labels, binning = slice_labels(values)
    assert "(other)" in set(labels) and "(missing)" in set(labels)
    assert len(set(labels)) == 21 and "pooled" in binning


def test_slice_columns_are_read_from_the_file_even_when_not_inputs(tmp_path):
    frame = pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"], "site": ["s1", "s2"]})
    frame.to_parquet(tmp_path / "d.parquet")
    frame.to_csv(tmp_path / "d.csv", index=False)
    for name in ("d.parquet", "d.csv"):
        got = read_slice_columns(tmp_path / name, ["site"])
        assert got["site"].tolist() == ["s1", "s2"]
        with pytest.raises(DataError, match=r"Cannot slice by 'nope': .* has no such column"):
            read_slice_columns(tmp_path / name, ["nope"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fairness_equals_fairlearn_with_groups_lacking_positives_or_negatives(seed):
    # Group "p" holds only positives of class "2", group "n" none: their undefined rates are 0
    # in fairlearn (scikit-learn's normalized confusion matrix), and must be here too.
    rng = np.random.default_rng(seed)
    y = rng.choice(["0", "1", "2"], 400)
    group = rng.choice(["u", "v", "w"], 400)
    group[y == "2"] = np.where(rng.random((y == "2").sum()) < 0.5, "p", group[y == "2"])
    group[(group == "w") & (y == "2")] = "v"
    group[(group == "w")] = np.where(rng.random((group == "w").sum()) < 0.3, "n", "w")
    pred = np.where(rng.random(400) < 0.7, y, rng.choice(["0", "1", "2", "9"], 400))
    (report,) = analyze_slices(
        get_task("classification"),
        y,
        {"m": Predictions(np.arange(400), pred.astype(object))},
        pd.DataFrame({"g": group}),
        n_resamples=10,
    )
    (gap,) = report.fairness
    dp = {
        c: demographic_parity_difference(y == c, pred == c, sensitive_features=group)
        for c in ("0", "1", "2")
    }
    eo = {
        c: equalized_odds_difference(y == c, pred == c, sensitive_features=group)
        for c in ("0", "1", "2")
    }
    assert gap.demographic_parity_difference == pytest.approx(max(dp.values()))
    assert gap.demographic_parity_class == max(dp, key=dp.get)
    assert gap.equalized_odds_difference == pytest.approx(max(eo.values()))
    assert gap.equalized_odds_class == max(eo, key=eo.get)


def test_quantile_bins_of_large_values_read_as_thousands():
    values = pd.Series(np.random.default_rng(3).uniform(20_000, 120_000, 500))
    labels, _ = slice_labels(values)
    names = sorted(set(labels), key=lambda n: float(n[1:].split("k")[0]))
    assert len(names) == 5 and all("e+" not in n for n in names)
    assert all(n.startswith("[") and n.endswith("k]") for n in names), names
