"""compare() end to end on data and models the project has never seen, checked against sklearn."""

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.metrics import accuracy_score, f1_score, log_loss

import whichmodel

HELPERS = __import__("pathlib").Path(__file__).parents[1] / "helpers"


@pytest.fixture(scope="module")
def cancer_models(breast_cancer_csv, tmp_path_factory):
    """Three estimators trained here on half the data; one has no predict_proba."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    folder = tmp_path_factory.mktemp("models")
    x, y = breast_cancer_csv.features, breast_cancer_csv.labels
    train = np.arange(len(y)) % 2 == 0
    estimators = {
        "forest": RandomForestClassifier(n_estimators=20, random_state=0),
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "svm": make_pipeline(StandardScaler(), LinearSVC(random_state=0)),
    }
    paths = {}
    for name, est in estimators.items():
        est.fit(x[train], y[train])
        paths[name] = folder / f"{name}.skops"
        sio.dump(est, paths[name])
    return estimators, paths


def test_metrics_equal_sklearn_on_an_unseen_csv(breast_cancer_csv, cancer_models, tmp_path):
    estimators, paths = cancer_models
    refs = [f"sklearn:{p}" for p in paths.values()]
    result = whichmodel.compare(
        refs,
        breast_cancer_csv.path,
        label_col="diagnosis",
        store=str(tmp_path / "store.db"),
        measure_cost=False,
        n_resamples=200,
    )
    x, y = breast_cancer_csv.features, breast_cancer_csv.labels
    for name, est in estimators.items():
        pred = est.predict(x)
        assert result.metric(name, "accuracy") == accuracy_score(y, pred)
        assert result.metric(name, "macro_f1") == f1_score(y, pred, average="macro")
    assert result.metric("forest", "log_loss") == pytest.approx(
        log_loss(y, estimators["forest"].predict_proba(x)), rel=1e-12
    )
    names = {m.name for m in result.statistics.metrics if m.model == "svm"}
    assert names == {"accuracy", "macro_f1"}  # no probabilities, so no log loss
    assert result.n_examples == len(y) == result.statistics.n_examples
    assert len(result.statistics.tests) == 3  # every pair


def test_rerun_reuses_stored_predictions_and_gives_the_same_numbers(
    breast_cancer_csv, cancer_models, tmp_path
):
    _, paths = cancer_models
    refs = [f"sklearn:{paths['forest']}", f"sklearn:{paths['svm']}"]
    kwargs = dict(
        label_col="diagnosis",
        store=str(tmp_path / "s.db"),
        measure_cost=False,
        batch_size=100,
        n_resamples=100,
    )
    first = whichmodel.compare(refs, breast_cancer_csv.path, **kwargs)
    second = whichmodel.compare(refs, breast_cancer_csv.path, **kwargs)
    assert [m.computed_batches for m in first.models] == [6, 6]
    assert [(m.reused_batches, m.computed_batches) for m in second.models] == [(6, 0), (6, 0)]
    assert first.statistics == second.statistics
    assert first.run_id != second.run_id
    other_seed = whichmodel.compare(refs, breast_cancer_csv.path, **{**kwargs, "seed": 1})
    assert other_seed.statistics.metrics != first.statistics.metrics


def test_a_changed_model_file_is_not_served_from_the_store(
    breast_cancer_csv, cancer_models, tmp_path
):
    from sklearn.dummy import DummyClassifier

    _, paths = cancer_models
    path = tmp_path / "m.skops"
    sio.dump(sio.load(paths["forest"], trusted=sio.get_untrusted_types(file=paths["forest"])), path)
    kwargs = dict(
        label_col="diagnosis", store=str(tmp_path / "s.db"), measure_cost=False, n_resamples=50
    )
    before = whichmodel.compare([f"sklearn:{path}"], breast_cancer_csv.path, **kwargs)
    x, y = breast_cancer_csv.features, breast_cancer_csv.labels
    sio.dump(DummyClassifier(strategy="most_frequent").fit(x, y), path)
    after = whichmodel.compare([f"sklearn:{path}"], breast_cancer_csv.path, **kwargs)
    assert after.models[0].computed_batches > 0
    assert after.metric("m", "accuracy") == pytest.approx(np.mean(y == pd.Series(y).mode()[0]))
    assert after.metric("m", "accuracy") != before.metric("m", "accuracy")


def test_regression_end_to_end(tmp_path):
    from sklearn.datasets import load_diabetes
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    frame = load_diabetes(as_frame=True).frame
    data = tmp_path / "diabetes.parquet"
    frame.to_parquet(data)
    x, y = frame.drop(columns="target"), frame["target"].to_numpy()
    refs, fitted = [], {}
    for name, est in {"ridge": Ridge(), "gbr": GradientBoostingRegressor(n_estimators=30)}.items():
        fitted[name] = est.fit(x[::2], y[::2])
        sio.dump(est, tmp_path / f"{name}.skops")
        refs.append(f"sklearn:{tmp_path / name}.skops")
    result = whichmodel.compare(
        refs,
        data,
        task="regression",
        label_col="target",
        store=str(tmp_path / "s.db"),
        measure_cost=False,
        n_resamples=100,
    )
    for name, est in fitted.items():
        pred = est.predict(x)  # one call; whichmodel predicts in batches, so allow float rounding
        assert result.metric(name, "mae") == pytest.approx(mean_absolute_error(y, pred), rel=1e-12)
        assert result.metric(name, "rmse") == pytest.approx(
            root_mean_squared_error(y, pred), rel=1e-12
        )
        assert result.metric(name, "r2") == pytest.approx(r2_score(y, pred), rel=1e-12)
    (test,) = result.statistics.tests
    assert test.test == "wilcoxon" and 0 <= test.p_value <= 1


def _tabular_torch_data(tmp_path, n=60):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=list("abcd"))
    frame["label"] = rng.choice(["x", "y", "z"], size=n)
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_failing_examples_are_recorded_and_the_run_goes_on(tmp_path):
    path, frame = _tabular_torch_data(tmp_path)
    flaky = f"torch:{HELPERS / 'slow_torch.py'}:flaky?classes=x,y,z&name=flaky"
    steady = f"torch:{HELPERS / 'slow_torch.py'}:slow?delay_s=0&classes=x,y,z&name=steady"
    result = whichmodel.compare(
        [flaky, steady],
        path,
        store=str(tmp_path / "s.db"),
        measure_cost=False,
        batch_size=8,
        n_resamples=50,
    )
    failed = {row for row, _ in result.model("flaky").predictions.failed_rows}
    assert failed == set(np.flatnonzero(frame["a"] < 0).tolist())
    assert all(
        "negative first feature" in e for _, e in result.model("flaky").predictions.failed_rows
    )
    assert result.statistics.n_examples == len(frame) - len(failed)
    assert len(result.model("steady").predictions.rows) == len(frame)
