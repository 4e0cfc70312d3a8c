"""The fake source (``fake:``), the fake task and the fake variant: the package's own test
doubles, used here end to end through compare and bench."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import whichmodel
from whichmodel.bench.variants.fake import NOTE
from whichmodel.errors import ModelReferenceError
from whichmodel.refs import parse_ref
from whichmodel.sources import fingerprint_files, load
from whichmodel.sources.base import Inputs

ROWS = np.arange(60, dtype=np.float64).reshape(20, 3)  # (n, d)


def test_outputs_are_a_function_of_the_seed_and_each_example_alone():
    model = load("fake:classifier?classes=3&seed=0")
    proba = model.predict(Inputs("tabular", ROWS)).array
    assert proba.shape == (20, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.classes == ("0", "1", "2") and model.info.files == ()
    order = np.random.default_rng(0).permutation(20)
    assert np.array_equal(model.predict(Inputs("tabular", ROWS[order])).array, proba[order])
    assert np.array_equal(load("fake:classifier?classes=3&seed=0").predict(
        Inputs("tabular", ROWS[:5])).array, proba[:5])
    other_seed = load("fake:classifier?classes=3&seed=1").predict(Inputs("tabular", ROWS)).array
    assert not np.allclose(other_seed, proba)
    texts = Inputs("text", np.array(["a", "b", "a"], dtype=object))
    values = load("fake:regressor").predict(texts)
    assert values.kind == "values" and values.array.shape == (3,)
    assert values.array[0] == values.array[2] != values.array[1]


@pytest.mark.parametrize(
    ("ref", "match"),
    [
        ("fake:oracle", "one of classifier, regressor. Got 'oracle'"),
        ("fake:classifier?classes=1", "a count of at least 2"),
        ("fake:classifier?classes=a,a", "distinct comma-separated labels"),
        ("fake:regressor?seed=x", "'seed' parameter of fake:regressor\\?seed=x must be an integer"),
    ],
)
def test_a_bad_fake_reference_is_one_reference_error(ref, match):
    with pytest.raises(ModelReferenceError, match=match):
        load(ref)


def test_the_fake_kind_works_everywhere_but_is_never_offered():
    assert fingerprint_files(parse_ref("fake:classifier")) == ()
    with pytest.raises(ModelReferenceError) as info:
        parse_ref("fak:classifier")
    assert "fake" not in str(info.value)
    sheet = whichmodel.inspect("fake:classifier?classes=cat,dog&name=pets")
    assert sheet.identity.name == "pets" and sheet.size.total.value == 0


def _data(tmp_path) -> tuple[str, pd.DataFrame]:
    frame = pd.DataFrame(ROWS, columns=["x1", "x2", "x3"])
    frame["label"] = np.arange(20) % 3
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return str(path), frame


def test_compare_through_the_fake_source_and_the_fake_task(tmp_path):
    data, frame = _data(tmp_path)
    refs = ["fake:classifier?classes=3&seed=0&name=a", "fake:classifier?classes=3&seed=1&name=b"]
    options = dict(task="fake", n_resamples=50, measure_cost=False, store=str(tmp_path / "s.db"))
    result = whichmodel.compare(refs, data, **options)
    x = frame[["x1", "x2", "x3"]].to_numpy(np.float64)
    for ref, model in zip(refs, result.models, strict=True):
        expected = load(ref).predict(Inputs("tabular", x)).array.argmax(axis=1).astype(str)
        assert np.array_equal(model.predictions.pred, expected)
        [metric] = [m for m in result.statistics.metrics if m.model == model.name]
        assert metric.name == "agreement" and metric.higher_is_better
        assert metric.value == pytest.approx(np.mean(expected == frame["label"].astype(str)))
        assert model.spec is not None and model.spec_error is None  # the fake source's sheet
    again = whichmodel.compare(refs, data, **options)  # no files: the reference is the key
    assert [m.computed_batches for m in again.models] == [0, 0]
    assert [m.fingerprint for m in again.models] == [m.fingerprint for m in result.models]
    assert again.models[0].fingerprint != again.models[1].fingerprint  # seed is a parameter


@pytest.mark.slow
def test_bench_runs_the_fake_variant_on_the_fake_source(tmp_path):
    profile = whichmodel.bench(
        "fake:classifier?classes=3", input_shape=(3,), variants=["original", "fake"],
        batch_sizes=[1, 4], threads=1, budget_s=0.05, store=str(tmp_path / "s.db"),
    )
    assert profile.framework == "fake" and profile.size_on_disk_bytes == 0
    fake = profile.variant_named("fake")
    assert NOTE in fake.notes and set(fake.latency) == {1, 4}
