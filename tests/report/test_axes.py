"""Ticks and label placement for the report's SVG plots (report/axes.py)."""

from __future__ import annotations

import itertools
import math

import pytest

from whichmodel.report.axes import (
    enclosing_ticks,
    linear_ticks,
    log_ticks,
    overlap,
    place_labels,
    text_box,
    tick_texts,
)

# Ranges a plot meets: narrow and wide, tiny and huge, around zero, on a decade.
RANGES = [
    (25.0, 96.0), (40.0, 47.0), (0.0301 / 1.6, 19.7 * 1.6), (0.965, 1.002), (1e-4, 3e-4),
    (1.0, 1.0001), (-0.03, 0.05), (12_000.0, 98_000.0), (0.9, 1.1), (3.0, 3e6), (99.0, 101.0),
]  # fmt: skip


@pytest.mark.parametrize(("lo", "hi"), RANGES)
def test_every_axis_gets_at_least_two_nice_ticks_inside_its_range(lo, hi):
    for ticks in (linear_ticks(lo, hi), *([log_ticks(lo, hi)] if lo > 0 else [])):
        assert len(ticks) >= 2, ticks
        assert all(lo * (1 - 1e-9) - 1e-12 <= t <= hi * (1 + 1e-9) + 1e-12 for t in ticks), ticks
        assert ticks == sorted(set(ticks))
        texts = tick_texts(ticks)
        assert len(set(texts)) == len(texts), texts  # every tick reads differently
        assert not any("e+" in t for t in texts), texts
    step = linear_ticks(lo, hi)[1] - linear_ticks(lo, hi)[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, f) for f in (1, 2, 2.5, 5)), step


def test_the_lone_50_tick_of_a_narrow_log_axis_is_gone():
    # The Pareto plot: latencies of 40-60 ms on a log axis showed only "50".
    ticks = log_ticks(40 / 1.6, 60 * 1.6)
    assert len(ticks) >= 3 and 50.0 in ticks
    assert tick_texts(log_ticks(0.02, 5.0)) == ["0.02", "0.05", "0.1", "0.2", "0.5", "1", "2", "5"]


def test_enclosing_ticks_start_and_end_beyond_the_values():
    ticks = enclosing_ticks([0.9556, 0.9981, 0.97])
    assert ticks[0] < 0.9556 and ticks[-1] > 0.9981 and len(ticks) >= 3
    assert tick_texts(ticks) == [f"{t:.2f}" for t in ticks]


def test_labels_of_crowded_points_do_not_overlap_each_other_or_the_points():
    # Eight models within a few pixels of each other, as a Pareto plot of near-equal models.
    frame = (70.0, 16.0, 570.0, 332.0)
    points = [(300 + 3 * i, 170 + 2 * (i % 3), 4 + 2 * i, f"model-{i}") for i in range(8)]
    spots = place_labels(points, frame=frame)
    boxes = [text_box(s.x, s.y, p[3], anchor=s.anchor) for s, p in zip(spots, points, strict=True)]
    for a, b in itertools.combinations(boxes, 2):
        assert overlap(a, b) == 0, (a, b)
    circles = [(x - r, y - r, x + r, y + r) for x, y, r, _ in points]
    assert all(overlap(b, c) == 0 for b in boxes for c in circles)
    assert all(overlap(b, frame) == pytest.approx((b[2] - b[0]) * (b[3] - b[1])) for b in boxes)
    assert any(s.leader is not None for s in spots)  # the far ones point back to their bubble


def test_a_lone_point_is_labelled_right_of_it_and_near_the_edge_it_turns_left():
    (spot,) = place_labels([(100.0, 100.0, 5.0, "cnn")], frame=(0, 0, 600, 300))
    assert (spot.anchor, spot.x, spot.leader) == ("start", 109.0, None)
    (edge,) = place_labels([(595.0, 100.0, 5.0, "cnn")], frame=(0, 0, 600, 300))
    assert edge.anchor == "end" and edge.x < 595
