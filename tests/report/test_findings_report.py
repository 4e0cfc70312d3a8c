"""The paired-analysis blocks of report.html and the terminal lines, from a results dictionary:
every string from data or models escaped, images as inline SVG, the reliability diagram drawn."""

import copy

import pytest

from helpers.results import outcome
from whichmodel.report.findings import finding_lines
from whichmodel.report.html import render_html

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """A real comparison's results (two sklearn models on breast cancer with a slice column whose
    values are HTML), with an image example and evil text spliced into the findings."""
    import numpy as np
    import skops.io as sio
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    import whichmodel

    tmp_path = tmp_path_factory.mktemp("findings_report")
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns={"target": "label"})
    x = frame.drop(columns="label")
    frame["site"] = np.where(np.arange(len(frame)) % 3 == 0, EVIL, "plain")
    frame.to_csv(tmp_path / "d.csv", index=False)
    refs = []
    for name, est in {
        "lr": LogisticRegression(max_iter=5000),
        "tree": DecisionTreeClassifier(max_depth=2),
    }.items():
        sio.dump(est.fit(x[::2], frame["label"][::2]), tmp_path / f"{name}.skops")
        refs.append(f"sklearn:{tmp_path / name}.skops")
    c = whichmodel.compare(
        refs,
        tmp_path / "d.csv",
        input_cols=list(x.columns),
        slice_by=["site"],
        store=str(tmp_path / "s.db"),
        measure_cost=False,
        n_resamples=100,
    )
    out = c.results().to_dict()
    example = out["disagreements"][0]["a_wins"][0]
    example["input"] = {"kind": "image", "text": EVIL, "pixels": [[0, 255], [128, 64]]}
    out["disagreements"][0]["b_wins"][0]["input"] = {"kind": "text", "text": EVIL, "pixels": []}
    return out


@pytest.fixture
def results(computed):
    return copy.deepcopy(computed)


def test_blocks_render_escaped_with_svg(results):
    html = render_html(outcome(results))
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # slice value, text input, image title
    for section in ("paired-tests", "disagreements", "slices", "calibration", "error-clusters"):
        assert f'<section id="{section}">' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="thumb" width="8" height="8"' in html
    assert 'fill="rgb(255,255,255)"' in html and 'fill="rgb(128,128,128)"' in html
    assert html.count("reliability diagram of ") == 2
    assert "demographic parity difference" in html


def test_terminal_lines_name_counts_worst_slice_and_ece(results):
    lines = finding_lines(outcome(results).results)
    text = "\n".join(lines)
    d = results["disagreements"][0]
    assert (
        f"Disagreements lr vs tree: lr right, the other wrong on {d['a_only']}, "
        f"tree on {d['b_only']}" in text
    )
    assert "Slices by site (by value, 2 slices): worst lr" in text
    assert "fairness gaps across site (fairlearn): lr DP" in text
    ece = {c["model"]: c["ece"] for c in results["calibration"]}
    assert f"Expected calibration error (top label, 15 equal bins): lr {ece['lr']:.4f}" in text
    assert len(lines) <= 8  # a few lines, not a dump


def test_results_without_findings_render_as_before(results):
    for key in ("paired_tests", "disagreements", "slices", "calibration", "error_clusters"):
        results.pop(key)
    html = render_html(outcome(results))
    assert '<section id="paired-tests">' not in html and '<section id="results">' in html
    assert finding_lines(outcome(results).results) == []
