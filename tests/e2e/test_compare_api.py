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


def test_a_last_batch_that_fails_whole_keeps_the_class_names(tmp_path):
    # A batch whose every example fails names no classes; the model's names from the batches
    # before must stand, so log loss is scored on the first run as on a rerun.
    path, frame = _tabular_torch_data(tmp_path)
    frame["a"] = np.where(np.arange(len(frame)) >= 56, -1.0, frame["a"].abs())
    frame.to_csv(path, index=False)
    flaky = f"torch:{HELPERS / 'slow_torch.py'}:flaky?classes=x,y,z&name=flaky"
    options = {"store": str(tmp_path / "s.db"), "measure_cost": False, "batch_size": 8}
    first, rerun = (whichmodel.compare([flaky], path, n_resamples=50, **options) for _ in "12")
    assert rerun.model("flaky").computed_batches == 0
    for result in (first, rerun):
        assert result.model("flaky").predictions.classes == ("x", "y", "z")
        assert len(result.model("flaky").predictions.failed_rows) == 4
    assert first.metric("flaky", "log_loss") == rerun.metric("flaky", "log_loss")


def test_one_bad_example_with_batch_size_one_does_not_stop_the_run(tmp_path):
    path, frame = _tabular_torch_data(tmp_path)
    flaky = f"torch:{HELPERS / 'slow_torch.py'}:flaky?classes=x,y,z&name=flaky"
    result = whichmodel.compare(
        [flaky],
        path,
        store=str(tmp_path / "s.db"),
        measure_cost=False,
        batch_size=1,
        n_resamples=50,
    )
    assert len(result.model("flaky").predictions.failed_rows) == int((frame["a"] < 0).sum())


def test_a_model_that_fails_everywhere_is_one_clear_error(tmp_path):
    from whichmodel.errors import PredictionError

    path, frame = _tabular_torch_data(tmp_path)
    frame["a"] = -1.0  # the flaky model raises on every row
    frame.to_csv(path, index=False)
    flaky = f"torch:{HELPERS / 'slow_torch.py'}:flaky?classes=x,y,z"
    with pytest.raises(PredictionError, match="failed on each of its first 32 examples"):
        whichmodel.compare(
            [flaky], path, store=str(tmp_path / "s.db"), measure_cost=False, batch_size=8
        )


def test_non_finite_regression_outputs_are_recorded_as_failures(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "label": rng.normal(size=40)})
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    (tmp_path / "logs.py").write_text(
        "import torch\n"
        "class Log(torch.nn.Module):\n"
        "    def forward(self, x):\n"
        "        return torch.log(x[:, 0])  # NaN for negative inputs\n"
        "def build():\n"
        "    return Log()\n"
    )
    result = whichmodel.compare(
        [f"torch:{tmp_path / 'logs.py'}:build?name=logs"],
        path,
        task="regression",
        store=str(tmp_path / "s.db"),
        measure_cost=False,
        n_resamples=50,
    )
    failed = {r for r, _ in result.models[0].predictions.failed_rows}
    assert failed == set(np.flatnonzero(frame["a"] <= 0).tolist())
    assert np.isfinite(result.metric("logs", "mae"))


def test_models_failing_on_disjoint_examples_leave_nothing_to_compare(tmp_path):
    from whichmodel.errors import TaskError

    path, frame = _tabular_torch_data(tmp_path, n=40)
    frame["a"] = np.where(np.arange(40) % 2 == 0, 1.0, -1.0)
    frame["b"] = -frame["a"]
    frame.to_csv(path, index=False)
    on_a = f"torch:{HELPERS / 'slow_torch.py'}:flaky?classes=x,y,z&name=on_a"
    (tmp_path / "swap.py").write_text(
        f"import sys; sys.path.insert(0, {str(HELPERS)!r})\n"
        "import torch, slow_torch\n"
        "class Swap(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__(); self.inner = slow_torch.flaky()\n"
        "    def forward(self, x):\n"
        "        return self.inner(x[:, [1, 0, 2, 3]])\n"
        "def build():\n"
        "    return Swap()\n"
    )
    on_b = f"torch:{tmp_path / 'swap.py'}:build?classes=x,y,z&name=on_b"
    with pytest.raises(TaskError, match="No example was predicted by every model"):
        whichmodel.compare(
            [on_a, on_b], path, store=str(tmp_path / "s.db"), measure_cost=False, batch_size=4
        )


def test_editing_a_module_the_factory_imports_invalidates_stored_predictions(tmp_path, monkeypatch):
    path, _ = _tabular_torch_data(tmp_path)
    package = tmp_path / "code" / "mynets"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from .net import build\n")
    net = package / "net.py"
    net.write_text(
        "import torch\ndef build():\n    torch.manual_seed(0)\n    return torch.nn.Linear(4, 3)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "code"))
    kwargs = dict(store=str(tmp_path / "s.db"), measure_cost=False, n_resamples=50)
    ref = "torch:mynets:build?classes=x,y,z"
    assert whichmodel.compare([ref], path, **kwargs).models[0].computed_batches > 0
    assert whichmodel.compare([ref], path, **kwargs).models[0].computed_batches == 0
    net.write_text(net.read_text().replace("manual_seed(0)", "manual_seed(1)"))
    assert whichmodel.compare([ref], path, **kwargs).models[0].computed_batches > 0


def test_a_deleted_predictions_file_is_computed_again(breast_cancer_csv, cancer_models, tmp_path):
    import shutil

    _, paths = cancer_models
    kwargs = dict(
        label_col="diagnosis", store=str(tmp_path / "s.db"), measure_cost=False, n_resamples=50
    )
    first = whichmodel.compare([f"sklearn:{paths['forest']}"], breast_cancer_csv.path, **kwargs)
    shutil.rmtree(tmp_path / "predictions")
    again = whichmodel.compare([f"sklearn:{paths['forest']}"], breast_cancer_csv.path, **kwargs)
    assert again.models[0].computed_batches == first.models[0].computed_batches
    assert again.statistics == first.statistics


def test_cost_is_measured_for_a_pipeline_over_mixed_text_and_numbers(tmp_path):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"color": rng.choice(["red", "blue"], 80), "size": rng.normal(size=80)})
    frame["label"] = np.where(frame["color"] == "red", "hot", "cold")
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["color"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(frame[["color", "size"]], frame["label"])
    sio.dump(model, tmp_path / "mixed.skops")
    result = whichmodel.compare(
        [f"sklearn:{tmp_path / 'mixed.skops'}"], path, store=str(tmp_path / "s.db"), n_resamples=50
    )
    assert result.models[0].cost_error is None, result.models[0].cost_error
    assert result.models[0].cost.latency[1].p50_s > 0
    assert result.metric("mixed", "accuracy") == 1.0
