"""The paired analysis end to end: a small CNN and a logistic regression on digits with a group
column the models never see, through the CLI and the API, checked against the reference
libraries on the models' own outputs."""

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

import whichmodel


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """Test split as parquet (image, label, scanner, ink); a CNN (safetensors) and a logistic
    regression (skops) trained on the train split; and their outputs computed directly."""
    import torch
    from safetensors.torch import save_file

    from whichmodel.demo.train import load_digits_split, train_sklearn, train_torch

    folder = tmp_path_factory.mktemp("digits")
    x_train, x_test, y_train, y_test = load_digits_split(seed=0)
    cnn = train_torch("cnn", x_train, y_train, seed=0, epochs=2, channels=8)
    save_file(
        {k: v.contiguous() for k, v in cnn.state_dict().items()}, str(folder / "cnn.safetensors")
    )
    lr = train_sklearn("logreg", x_train, y_train, seed=0)
    sio.dump(lr, folder / "lr.skops")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "image": [img.tolist() for img in x_test],
            "label": y_test,
            "scanner": rng.choice(["north", "south", "<b>east</b>"], len(y_test)),
            "ink": x_test.mean(axis=(1, 2)),  # numeric: binned into quantiles
        }
    )
    frame.to_parquet(folder / "test.parquet")
    with torch.inference_mode():
        cnn_proba = torch.softmax(cnn(torch.from_numpy(x_test)), dim=1).double().numpy()
    outputs = {"cnn": cnn_proba, "lr": lr.predict_proba(x_test.reshape(len(x_test), -1))}
    refs = [
        f"torch:whichmodel.demo.zoo:cnn?channels=8&weights={folder / 'cnn.safetensors'}",
        f"sklearn:{folder / 'lr.skops'}",
    ]
    return folder, frame, refs, outputs


def _args(folder, refs, *extra):
    return (
        "compare",
        *refs,
        "--data",
        str(folder / "test.parquet"),
        "--input-cols",
        "image",
        "--store",
        str(folder / "store.db"),
        "--no-cost",
        "--bootstrap",
        "200",
        *extra,
    )


@pytest.mark.slow
def test_cli_slices_calibration_and_disagreements_match_the_references(cli, digits, tmp_path):
    from fairlearn.metrics import demographic_parity_difference
    from sklearn.metrics import accuracy_score
    from torchmetrics.functional.classification import multiclass_calibration_error

    folder, frame, refs, outputs = digits
    out = tmp_path / "out"
    proc = cli(
        *_args(folder, refs, "--slice-by", "scanner", "--slice-by", "ink", "--out", str(out))
    )
    assert proc.returncode == 0, proc.stderr
    assert "Slices by scanner (by value, 3 slices): worst" in proc.stdout
    assert "Slices by ink (5 quantile bins, 5 slices): worst" in proc.stdout
    assert "Expected calibration error (top label, 15 equal bins): cnn" in proc.stdout
    assert "Disagreements cnn vs lr:" in proc.stdout
    results = json.loads((out / "results.json").read_text())
    y = frame["label"].to_numpy()
    pred = {name: p.argmax(axis=1) for name, p in outputs.items()}

    scanner = next(r for r in results["slices"] if r["column"] == "scanner")
    for s in scanner["slices"]:
        mask = frame["scanner"].to_numpy() == s["value"]
        for m in s["metrics"]:
            if m["metric"] == "accuracy":
                assert m["value"] == pytest.approx(accuracy_score(y[mask], pred[m["model"]][mask]))
    for gap in scanner["fairness"]:
        expected = max(
            demographic_parity_difference(
                y == c, pred[gap["model"]] == c, sensitive_features=frame["scanner"]
            )
            for c in range(10)
        )
        assert gap["demographic_parity_difference"] == pytest.approx(expected)

    for cal in results["calibration"]:
        proba = outputs[cal["model"]]
        expected = multiclass_calibration_error(
            __import__("torch").from_numpy(proba),
            __import__("torch").from_numpy(y),
            num_classes=10,
            n_bins=15,
        )
        assert cal["ece"] == pytest.approx(float(expected), abs=1e-6)

    (d,) = results["disagreements"]
    right_cnn, right_lr = pred["cnn"] == y, pred["lr"] == y
    assert d["a_only"] == int(np.sum(right_cnn & ~right_lr))
    assert d["b_only"] == int(np.sum(~right_cnn & right_lr))
    shown = d["a_wins"][0]
    assert pred["cnn"][shown["row"]] == y[shown["row"]] != pred["lr"][shown["row"]]
    assert shown["input"]["kind"] == "image" and len(shown["input"]["pixels"]) == 8
    assert {t["method"] for t in results["paired_tests"]} == {"mcnemar_exact", "permutation"}
    assert results["error_clusters"][0]["method"].startswith("KMeans")

    html = (out / "report.html").read_text()
    for section in ("paired-tests", "disagreements", "slices", "calibration", "error-clusters"):
        assert f'<section id="{section}">' in html
    assert 'class="thumb"' in html and "reliability diagram of cnn" in html
    assert "&lt;b&gt;east&lt;/b&gt;" in html and "<b>east</b>" not in html


def test_slice_by_a_missing_column_is_one_line_and_exit_2(cli, digits, tmp_path):
    folder, _, refs, _ = digits
    out = tmp_path / "never"
    proc = cli(*_args(folder, refs, "--slice-by", "hospital", "--out", str(out)))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: Cannot slice by 'hospital': test.parquet has no such column (its columns are "
        "'image', 'label', 'scanner', 'ink'). Check --slice-by."
    ]
    assert not out.exists()


def test_api_findings_are_cached_by_everything_they_depend_on(digits, tmp_path):
    from whichmodel.analysis.findings import _plain, findings_to_dict

    folder, _, refs, _ = digits
    store = tmp_path / "store.db"
    options = {
        "input_cols": ["image"],
        "store": str(store),
        "measure_cost": False,
        "n_resamples": 100,
    }
    first = whichmodel.compare(refs, folder / "test.parquet", slice_by=["scanner"], **options)
    again = whichmodel.compare(refs, folder / "test.parquet", slice_by=["scanner"], **options)
    assert first.findings is not None and again.findings == first.findings
    # The cached findings give back their stored data; it equals a fresh conversion.
    assert findings_to_dict(again.findings) == _plain(first.findings)
    assert [s.column for s in first.findings.slices] == ["scanner"]
    other = whichmodel.compare(refs, folder / "test.parquet", **options)
    assert other.findings is not None and other.findings.slices == ()
    with sqlite3.connect(store) as db:
        (count,) = db.execute("SELECT count(*) FROM cache WHERE kind='findings'").fetchone()
    assert count == 2  # one per slice_by; the rerun read the first from the cache


@pytest.mark.slow
def test_slice_by_in_whichmodel_yaml(cli, digits, tmp_path):
    folder, _, refs, _ = digits
    config = tmp_path / "whichmodel.yaml"
    config.write_text(
        "models:\n"
        + "".join(f"  - '{r}'\n" for r in refs)
        + f"data: {folder / 'test.parquet'}\ninput_cols: [image]\nslice_by: [scanner]\n"
        f"measure_cost: false\nbootstrap: 100\nstore: {folder / 'store.db'}\n"
    )
    proc = cli("compare", str(config), "--json")
    assert proc.returncode == 0, proc.stderr
    assert [r["column"] for r in json.loads(proc.stdout)["slices"]] == ["scanner"]
