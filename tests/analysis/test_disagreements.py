"""Disagreements: counts, ranking by confidence (or error difference), readable inputs."""

import numpy as np
import pytest

from whichmodel.analysis.disagreements import find_disagreements, render_input
from whichmodel.sources.base import Inputs
from whichmodel.tasks import Predictions, get_task


def _proba(pred, classes, confidence):
    proba = np.full((len(pred), len(classes)), 0.0)
    proba[np.arange(len(pred)), [classes.index(p) for p in pred]] = confidence
    other = (1 - confidence) / (len(classes) - 1)
    proba[proba == 0] = np.repeat(other, len(classes) - 1)
    return proba


def test_counts_and_ranking_by_the_wrong_models_confidence():
    classes = ("a", "b")
    y = np.array(["a", "a", "b", "b", "a", "b"])
    pa = np.array(["a", "a", "b", "a", "b", "b"])  # right on 0, 1, 2, 5
    pb = np.array(["b", "b", "b", "b", "a", "a"])  # right on 2, 3, 4
    conf_b = np.array([0.6, 0.9, 0.7, 0.8, 0.55, 0.95])
    a = Predictions(np.arange(6), pa, _proba(pa, classes, np.full(6, 0.7)), classes)
    b = Predictions(np.arange(6), pb, _proba(pb, classes, conf_b), classes)
    inputs = Inputs("text", np.array([f"text {i}" for i in range(6)], dtype=object), ("t",))
    (d,) = find_disagreements(get_task("classification"), y, {"A": a, "B": b}, inputs)
    assert (d.a_only, d.b_only, d.both_right, d.both_wrong) == (3, 2, 1, 0)
    # A right, B wrong on rows 0, 1, 5: B's confidence 0.6, 0.9, 0.95 -> 5, 1, 0.
    assert [e.row for e in d.a_wins] == [5, 1, 0]
    assert d.a_wins[0].confidence_b == pytest.approx(0.95) and d.a_wins[0].input.text == "text 5"
    assert [e.row for e in d.b_wins] == [3, 4]  # ranked by A's confidence: all 0.7, row order


def test_a_classifier_is_ranked_by_its_confidence_in_the_label_it_gave():
    """A model whose own predict chose "b" while giving "a" 0.8 was 0.2 sure of its answer,
    not 0.8: the disagreement it lost most confidently is the other one."""
    classes = ("a", "b")
    y = np.array(["a", "a"])
    a = Predictions(np.arange(2), np.array(["a", "a"]), np.full((2, 2), 0.5), classes)
    b_proba = np.array([[0.8, 0.2], [0.4, 0.6]])
    b = Predictions(np.arange(2), np.array(["b", "b"]), b_proba, classes)
    inputs = Inputs("text", np.array(["x", "y"], dtype=object), ("t",))
    (d,) = find_disagreements(get_task("classification"), y, {"A": a, "B": b}, inputs)
    assert [e.row for e in d.a_wins] == [1, 0]
    assert [e.confidence_b for e in d.a_wins] == pytest.approx([0.6, 0.2])


def test_regression_ranks_by_the_error_difference():
    y = np.zeros(5)
    a = Predictions(np.arange(5), np.array([0.1, 2.0, 0.0, 0.5, 3.0]))
    b = Predictions(np.arange(5), np.array([1.0, 0.0, 0.0, 4.5, 2.0]))
    inputs = Inputs("tabular", np.arange(10, dtype=float).reshape(5, 2), ("x", "z"))
    (d,) = find_disagreements(get_task("regression"), y, {"A": a, "B": b}, inputs)
    assert (d.a_only, d.b_only, d.both_right) == (2, 2, 1)
    assert [e.row for e in d.a_wins] == [3, 0]  # |4.5| - |0.5| = 4 before 0.9
    assert [e.score for e in d.b_wins] == pytest.approx([2.0, 1.0])
    assert d.a_wins[0].input.text == "x=6, z=7"


def test_inputs_render_as_text_table_rows_and_thumbnails():
    long = Inputs("text", np.array(["<b>" + "x" * 500], dtype=object), ("t",))
    text = render_input(long, 0)
    assert text.kind == "text" and len(text.text) == 241 and text.text.startswith("<b>")
    wide = Inputs("tabular", np.ones((1, 20)), tuple(f"c{i}" for i in range(20)))
    assert render_input(wide, 0).text.endswith("… (8 more)")
    image = np.arange(64 * 48, dtype=np.float32).reshape(1, 64, 48)
    thumb = render_input(Inputs("array", image), 0)
    assert thumb.kind == "image" and len(thumb.pixels) == 32 and len(thumb.pixels[0]) == 24
    assert thumb.pixels[0][0] == 0 and thumb.pixels[-1][-1] == 255
    rgb = render_input(Inputs("array", np.zeros((1, 3, 8, 8))), 0)  # channels first
    assert rgb.kind == "image" and len(rgb.pixels) == 8
    vector = render_input(Inputs("array", np.arange(20.0)[None]), 0)
    assert vector.kind == "array" and vector.text.startswith("shape (20,): [0, 1,")
