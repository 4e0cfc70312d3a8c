"""The Python API on models and data as a user has them: estimator, torch and transformers
objects, DataFrames, (X, y) and datasets.Dataset give what their files give, with caching; errors
name Python arguments; results print short and render as well-formed, escaped HTML."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

import whichmodel
from whichmodel.errors import ConfigError, UnsafeModelError
from whichmodel.sources.objects import IN_PROCESS_NOTE

FAST = {"no_cost": True, "bootstrap": 100}


@pytest.fixture(scope="module")
def cancer(breast_cancer_csv, tmp_path_factory):
    """A pipeline and a tree fitted on half the breast cancer data (DataFrames, so they know
    their column names), and the same estimators saved as skops files."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    x, y = breast_cancer_csv.features, breast_cancer_csv.labels
    train = np.arange(len(y)) % 2 == 0
    models = {
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "tree": DecisionTreeClassifier(max_depth=3, random_state=0),
    }
    folder = tmp_path_factory.mktemp("cancer-models")
    paths = {}
    for name, est in models.items():
        est.fit(x[train], y[train])
        paths[name] = folder / f"{name}.skops"
        sio.dump(est, paths[name])
    return models, paths


def _metrics(c: whichmodel.Comparison) -> dict[tuple[str, str], float]:
    return {(m.model, m.name): m.value for m in c.statistics.metrics}


def test_objects_and_a_dataframe_equal_files_and_a_second_call_reuses_the_store(
    breast_cancer_csv, cancer, tmp_path
):
    models, paths = cancer
    store = str(tmp_path / "store.db")
    from_files = whichmodel.compare(
        [f"sklearn:{p}" for p in paths.values()], breast_cancer_csv.path,
        label_col="diagnosis", store=store, **FAST,
    )
    from_objects = whichmodel.compare(
        models, breast_cancer_csv.frame, label_col="diagnosis", store=store, **FAST
    )
    assert _metrics(from_objects) == _metrics(from_files)
    assert [m.computed_batches for m in from_objects.models] == [9, 9]
    again = whichmodel.compare(
        models, breast_cancer_csv.frame.copy(), label_col="diagnosis", store=store, **FAST
    )
    assert [(m.reused_batches, m.computed_batches) for m in again.models] == [(9, 0), (9, 0)]
    assert again.statistics == from_objects.statistics
    assert [m.fingerprint for m in again.models] == [m.fingerprint for m in from_objects.models]
    # the objects live next to the store: one skops file per estimator, one Parquet file
    written = sorted(p.suffix for p in (tmp_path / "objects").iterdir())
    assert written == [".parquet", ".skops", ".skops"]


def test_a_list_of_objects_is_named_by_class_and_made_unique(breast_cancer_csv, cancer, tmp_path):
    models, _ = cancer
    c = whichmodel.compare(
        [models["tree"], models["logreg"], models["tree"]], breast_cancer_csv.frame,
        label_col="diagnosis", store=str(tmp_path / "s.db"), **FAST,
    )
    names = [m.name for m in c.models]
    assert names == ["DecisionTreeClassifier", "LogisticRegression", "DecisionTreeClassifier-2"]
    assert c.metric("DecisionTreeClassifier", "accuracy") == c.metric(
        "DecisionTreeClassifier-2", "accuracy"
    )


def test_numpy_xy_and_a_datasets_dataset_equal_the_dataframe(tmp_path):
    import datasets
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    lr = LogisticRegression(max_iter=500).fit(x, y)
    store = str(tmp_path / "s.db")
    from_xy = whichmodel.compare({"lr": lr}, (x, y), store=store, **FAST)
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(label=y)
    from_frame = whichmodel.compare({"lr": lr}, frame, store=store, **FAST)
    dataset = datasets.Dataset.from_pandas(frame)
    from_dataset = whichmodel.compare({"lr": lr}, dataset, store=store, **FAST)
    assert from_xy.metric("lr", "accuracy") == lr.score(x, y)
    assert _metrics(from_xy) == _metrics(from_frame) == _metrics(from_dataset)
    again = whichmodel.compare({"lr": lr}, datasets.Dataset.from_pandas(frame), store=store, **FAST)
    assert again.models[0].computed_batches == 0  # the same rows: the same data fingerprint


def test_a_torch_module_is_fingerprinted_by_its_weights_and_measured_in_process(tmp_path):
    import torch
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    net.train()  # compare evaluates it in eval mode, and gives it back as it was
    store = str(tmp_path / "s.db")
    with torch.no_grad():
        expected = float((net.eval()(torch.tensor(x, dtype=torch.float32)).argmax(1).numpy()
                          == y).mean())
    net.train()
    first = whichmodel.evaluate(net, (x, y), store=store, bootstrap=100, batch_size=50)
    assert first.metric("accuracy") == pytest.approx(expected)
    assert net.training
    assert first.model.cost is not None and IN_PROCESS_NOTE in first.model.cost.notes
    assert first.model.ref.startswith("object:")
    again = whichmodel.evaluate(net, (x, y), store=store, batch_size=50, **FAST)
    assert (again.model.reused_batches, again.model.computed_batches) == (3, 0)
    with torch.no_grad():
        net[0].weight[0, 0] += 1.0  # other weights: another model
    changed = whichmodel.evaluate(net, (x, y), store=store, batch_size=50, **FAST)
    assert changed.model.computed_batches == 3
    assert changed.model.fingerprint != first.model.fingerprint


def test_a_transformers_model_and_tokenizer_equal_their_folder(tiny_bert, text_inputs, tmp_path):
    model, tokenizer = tiny_bert.model
    texts = list(text_inputs.data)
    frame = pd.DataFrame({"text": texts, "label": ["neg", "pos"] * (len(texts) // 2) + ["neu"]})
    store = str(tmp_path / "s.db")
    from_folder = whichmodel.compare([f"hf:{tiny_bert.path}?name=bert"], frame, store=store, **FAST)
    from_object = whichmodel.compare({"bert": (model, tokenizer)}, frame, store=store, **FAST)
    assert _metrics(from_object) == _metrics(from_folder)
    assert from_object.models[0].ref.startswith("hf:")


def test_errors_name_python_arguments(breast_cancer_csv, cancer, tmp_path):
    import pickle

    models, _ = cancer
    path = tmp_path / "tree.pkl"
    path.write_bytes(pickle.dumps(models["tree"]))
    with pytest.raises(UnsafeModelError) as caught:
        whichmodel.compare([str(path)], breast_cancer_csv.frame, label_col="diagnosis",
                           store=str(tmp_path / "s.db"), **FAST)
    assert "allow_pickle=True" in str(caught.value) and "--allow-pickle" not in str(caught.value)
    c = whichmodel.compare([str(path)], breast_cancer_csv.frame, label_col="diagnosis",
                           store=str(tmp_path / "s.db"), allow_pickle=True, **FAST)
    assert c.metric("tree", "accuracy") > 0.9
    with pytest.raises(ConfigError, match="bootstrap or n_resamples"):
        whichmodel.compare([str(path)], breast_cancer_csv.frame, bootstrap=100, n_resamples=100)
    with pytest.raises(ConfigError, match="Cannot compare a dict"):
        whichmodel.compare([{}], breast_cancer_csv.frame)


class _Checked(HTMLParser):
    """Fails on a closing tag that closes nothing open; records script tags and text."""

    VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _check_html(html: str) -> str:
    parser = _Checked()
    parser.feed(html)
    parser.close()
    assert not parser.open, f"unclosed: {parser.open}"
    assert "script" not in parser.tags
    return "".join(parser.text)


def test_notebook_reprs_are_short_and_their_html_well_formed_and_escaped(
    breast_cancer_csv, cancer, tmp_path
):
    """What a notebook shows for every result of a comparison: the HTML of each is parsed, the
    hostile model name appears as text, never as a tag; each repr is one short line."""
    models, _ = cancer
    hostile = "<script>alert(1)</script>"
    c = whichmodel.compare(
        {hostile: models["tree"], "logreg": models["logreg"]}, breast_cancer_csv.frame,
        label_col="diagnosis", store=str(tmp_path / "s.db"), bootstrap=100, batch_size=100,
    )
    cost = c.model("logreg").cost
    assert cost is not None and sum(len(v.samples_s) for v in cost.latency.values()) > 20
    shown = [c, c.results(), c.decision, cost, c.model(hostile)]
    for obj in shown:
        text = repr(obj)
        assert len(text) < 400 and "\n" not in text, text
    assert repr(cost.latency[1]).startswith("Latency(p50=")
    for obj in (c, c.results(), c.decision, cost):
        html = obj._repr_html_()
        assert hostile not in html
        text = _check_html(html)
        if obj is not cost:
            assert hostile in text  # shown, as text


def test_to_pandas_and_save(breast_cancer_csv, cancer, tmp_path):
    models, _ = cancer
    c = whichmodel.compare(models, breast_cancer_csv.frame, label_col="diagnosis",
                           store=str(tmp_path / "s.db"), out=str(tmp_path / "out"), **FAST)
    metrics = c.to_pandas()
    assert set(metrics["model"]) == {"logreg", "tree"}
    assert metrics.set_index(["model", "name"]).loc[("tree", "accuracy"), "value"] == c.metric(
        "tree", "accuracy")
    assert list(c.to_pandas("differences")["name"].unique()) == [
        m for m in c.results().metric_names()
        if any(d.name == m for d in c.statistics.differences)
    ]
    assert len(c.to_pandas("tests")) == 1
    rows = c.to_pandas("predictions")
    assert list(rows.columns) == ["diagnosis", "logreg", "tree"]
    assert (rows["diagnosis"].to_numpy() == breast_cancer_csv.labels).all()
    assert (rows["tree"].to_numpy() == models["tree"].predict(breast_cancer_csv.features)).all()
    with pytest.raises(ValueError, match="metrics, differences, tests, predictions"):
        c.to_pandas("everything")
    # out= is compare --out: results.json and report.html, readable by choose
    saved = {p.name for p in (tmp_path / "out").iterdir()}
    assert saved == {"results.json", "report.html"}
    assert whichmodel.choose(tmp_path / "out" / "results.json").pick == c.decision.pick
    again = c.save(tmp_path / "again")
    assert [p.name for p in again] == ["results.json", "report.html"]


def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's "From Python" example, run as written in a fresh folder."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### From Python: objects and DataFrames", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)  # the README's own example
    comparison = scope["result"]
    assert isinstance(comparison, whichmodel.Comparison)
    assert comparison.decision is not None and comparison.decision.pick in scope["models"]
