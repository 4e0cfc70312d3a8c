"""Disagreements: the examples where one model is right and the other wrong, and what they look
like.

For tasks with a right/wrong outcome (``outcome_kind == "binary"``), each pair of models gets the
counts of examples A gets right and B wrong and the reverse, and the top examples of each side
ranked by how confident the *wrong* model was in its wrong answer (its top probability, or for
a classifier the probability of the label it gave, which its own ``predict`` may have chosen over
the most probable class; models without probabilities rank by the right model's confidence, else
by row order). For continuous
outcomes (regression), "A right, B wrong" becomes "A's error is smaller", ranked by the error
difference |err_B| - |err_A|, largest first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from whichmodel.sources.base import Inputs
from whichmodel.tasks.base import Predictions, Task

TOP_EXAMPLES = 10  # examples kept per side of each pair
_TEXT_CHARS = 240  # text inputs are cut to this many characters
_TABULAR_COLUMNS = 12  # tabular rows show this many columns
_THUMB_SIDE = 32  # images are block-averaged down to at most this many pixels per side


@dataclass(frozen=True)
class ExampleInput:
    """A readable rendering of one example's input.

    Args:
        kind: ``text`` (``text`` holds it, cut to 240 characters), ``tabular`` (``text`` is
            ``col=value, ...``), ``image`` (``pixels`` is a (h, w) grid of 0-255 grey levels,
            ``text`` the original shape) or ``array`` (``text`` shows the first values).
    """

    kind: str
    text: str
    pixels: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class Disagreement:
    """One example on which two models disagree.

    Args:
        row: the example's index in the data file (0-based, header excluded).
        label: the true label or value, as text.
        pred_a / pred_b: each model's prediction, as text.
        confidence_a / confidence_b: each model's top probability (None without probabilities);
            for regression, the absolute errors.
        score: what the ranking sorted by (descending).
    """

    row: int
    label: str
    pred_a: str
    pred_b: str
    confidence_a: float | None
    confidence_b: float | None
    score: float
    input: ExampleInput


@dataclass(frozen=True)
class PairDisagreements:
    """How two models differ example by example.

    Args:
        n: the examples compared; for a task whose examples have their unit's outcome
            (``Task.outcome_per_unit``: ranking queries), the units, each listed by its first
            example.
        a_only / b_only: examples only A (only B) gets right; for regression, where A's (B's)
            error is smaller.
        both_right / both_wrong: the agreeing examples (regression: equal errors in both_right).
        ranking: what orders the examples, in words.
        a_wins / b_wins: the top examples of each side, best-ranked first.
    """

    model_a: str
    model_b: str
    n: int
    a_only: int
    b_only: int
    both_right: int
    both_wrong: int
    ranking: str
    a_wins: tuple[Disagreement, ...]
    b_wins: tuple[Disagreement, ...]


def find_disagreements(
    task: Task,
    y: np.ndarray,
    preds: Mapping[str, Predictions],
    inputs: Inputs,
    *,
    units: np.ndarray | None = None,
    top: int = TOP_EXAMPLES,
) -> tuple[PairDisagreements, ...]:
    """Disagreements of every pair of models.

    Args:
        task: decides right/wrong (or the error) per example.
        y: (n,) true labels of the examples every model predicted.
        preds: model name -> predictions aligned with ``y`` (their ``rows`` index ``inputs``).
        inputs: the whole dataset's inputs, indexed by example id.
        units: (n,) resampling unit of each example, aligned with ``y`` (``Dataset.units`` of
            its rows), or None when each example is its own unit.
        top: examples kept per side.
    """
    preds = {name: p.with_units(units) for name, p in preds.items()}
    out = []
    rendered: dict[int, ExampleInput] = {}  # a hard example is among the top of many pairs

    def render(row: int) -> ExampleInput:
        if row not in rendered:
            rendered[row] = render_input(inputs, row)
        return rendered[row]

    counted = _counted(task, units, len(y))
    for a, b in itertools.combinations(preds, 2):
        pa, pb = preds[a], preds[b]
        sides = _sides(task, y, pa, pb, counted)
        pick = (y, pa, pb, sides.conf_a, sides.conf_b, render)
        out.append(
            PairDisagreements(
                a,
                b,
                int(counted.sum()),
                int(sides.a_side.sum()),
                int(sides.b_side.sum()),
                sides.both_right,
                sides.both_wrong,
                sides.ranking,
                _top(sides.a_side, sides.score_a, top, *pick),
                _top(sides.b_side, sides.score_b, top, *pick),
            )
        )
    return tuple(out)


def _counted(task: Task, units: np.ndarray | None, n: int) -> np.ndarray:
    """(n,) bool: the examples that count. Examples whose unit's outcome is theirs (a ranking
    query's rows) count and are listed once per unit, by its first row."""
    counted = np.ones(n, dtype=bool)
    if units is not None and task.outcome_per_unit:
        counted[:] = False
        counted[np.unique(units, return_index=True)[1]] = True
    return counted


class _Sides(NamedTuple):
    """How two models' outcomes split the counted examples, and how to rank each side."""

    a_side: np.ndarray  # (n,) bool: A better
    b_side: np.ndarray  # (n,) bool: B better
    both_right: int
    both_wrong: int
    conf_a: np.ndarray | None
    conf_b: np.ndarray | None
    score_a: np.ndarray  # (n,) ranks A's side, highest first
    score_b: np.ndarray
    ranking: str  # what the scores are, in words


def _sides(
    task: Task, y: np.ndarray, pa: Predictions, pb: Predictions, counted: np.ndarray
) -> _Sides:
    oa, ob = task.outcome(y, pa), task.outcome(y, pb)
    if task.outcome_kind == "binary":
        own = task.class_predictions
        conf_a, conf_b = _confidence(pa, own_label=own), _confidence(pb, own_label=own)
        # A's wins ranked by B's confidence in its wrong answer, then A's (and vice versa).
        return _Sides(
            oa & ~ob & counted,
            ~oa & ob & counted,
            int(np.sum(oa & ob & counted)),
            int(np.sum(~oa & ~ob & counted)),
            conf_a,
            conf_b,
            _first_available(conf_b, conf_a, len(y)),
            _first_available(conf_a, conf_b, len(y)),
            "confidence of the wrong model in its wrong answer (top probability)",
        )
    # Equal up to rounding counts as equal: two orderings of one query's items can
    # give the same nDCG computed in different orders (1e-16 apart).
    tied = np.isclose(oa, ob, rtol=1e-12, atol=0.0)
    score = np.abs(ob - oa).astype(np.float64)
    return _Sides(
        (oa < ob) & ~tied & counted,
        (ob < oa) & ~tied & counted,
        int(np.sum(tied & counted)),
        0,
        oa.astype(np.float64),
        ob.astype(np.float64),
        score,
        score,
        "absolute error difference |error_B - error_A|",
    )


def _confidence(p: Predictions, *, own_label: bool) -> np.ndarray | None:
    """Each example's top probability; with ``own_label`` (one class label per prediction),
    that of the label the model gave, which its own ``predict`` may have chosen over the most
    probable class: the confidence in its answer."""
    if p.proba is None:
        return None
    top = np.asarray(p.proba.max(axis=1), dtype=np.float64)
    if not own_label or p.classes is None or not len(p.classes):
        return top
    order = np.argsort(np.asarray(p.classes, dtype=str))
    names = np.asarray(p.classes, dtype=str)[order]
    pred = p.pred.astype(str)
    at = np.searchsorted(names, pred).clip(max=len(names) - 1)
    known = names[at] == pred  # a label among the model's classes
    top[known] = p.proba[np.flatnonzero(known), order[at[known]]]
    return top


def _first_available(first: np.ndarray | None, second: np.ndarray | None, n: int) -> np.ndarray:
    if first is not None:
        return first
    return second if second is not None else np.zeros(n)


def _top(
    mask: np.ndarray,
    score: np.ndarray,
    top: int,
    y: np.ndarray,
    pa: Predictions,
    pb: Predictions,
    conf_a: np.ndarray | None,
    conf_b: np.ndarray | None,
    render: Callable[[int], ExampleInput],
) -> tuple[Disagreement, ...]:
    positions = np.flatnonzero(mask)
    # Stable sort on -score: ties keep row order, so the ranking is deterministic.
    chosen = positions[np.argsort(-score[positions], kind="stable")[:top]]
    return tuple(
        Disagreement(
            int(pa.rows[i]),
            _text(y[i]),
            _text(pa.pred[i]),
            _text(pb.pred[i]),
            None if conf_a is None else float(conf_a[i]),
            None if conf_b is None else float(conf_b[i]),
            float(score[i]),
            render(int(pa.rows[i])),
        )
        for i in chosen
    )


def _text(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":  # e.g. a forecast horizon
        shown = ", ".join(f"{v:.6g}" for v in value.ravel()[:8])
        return f"[{shown}{', …' if value.size > 8 else ''}]"
    return str(value)


def render_input(inputs: Inputs, row: int) -> ExampleInput:
    """One example's input as text, a table row, or an image thumbnail (see ExampleInput)."""
    value = inputs.take(np.array([row])).data[0]  # take: a streamed file decodes one row
    if inputs.kind == "audio":  # the clip's file (or row), duration and sampling rate
        return ExampleInput("text", str(value))
    if inputs.kind == "text":
        text = str(value)
        return ExampleInput("text", text if len(text) <= _TEXT_CHARS else text[:_TEXT_CHARS] + "…")
    if inputs.kind == "tabular":
        cells = [f"{c}={_text(v)}" for c, v in zip(inputs.columns, value, strict=False)]
        more = len(cells) - _TABULAR_COLUMNS
        return ExampleInput(
            "tabular",
            ", ".join(cells[:_TABULAR_COLUMNS]) + (f", … ({more} more)" if more > 0 else ""),
        )
    array = np.asarray(value, dtype=np.float64)
    image = _as_image(array)
    if image is None:
        flat = array.ravel()
        shown = ", ".join(f"{v:.4g}" for v in flat[:8]) + (", …" if flat.size > 8 else "")
        return ExampleInput("array", f"shape {array.shape}: [{shown}]")
    return ExampleInput("image", f"shape {array.shape}", _thumbnail(image))


def _as_image(array: np.ndarray) -> np.ndarray | None:
    """(h, w), (h, w, c≤4) or (c≤4, h, w) -> a grey (h, w) image; anything else -> None."""
    if array.ndim == 2:
        return array if min(array.shape) >= 2 else None
    if array.ndim == 3 and array.shape[-1] in (1, 3, 4):
        return np.asarray(array[..., :3].mean(axis=-1))
    if array.ndim == 3 and array.shape[0] in (1, 3, 4):
        return np.asarray(array[:3].mean(axis=0))
    return None


def _thumbnail(image: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Block-average to at most 32x32 and scale to 0-255 grey levels (min-max per image)."""
    h, w = image.shape
    sh, sw = -(-h // _THUMB_SIDE), -(-w // _THUMB_SIDE)  # block sides, ceil division
    hh, ww = h // sh * sh, w // sw * sw  # crop the remainder rows/columns
    small = image[:hh, :ww].reshape(hh // sh, sh, ww // sw, sw).mean(axis=(1, 3))
    finite = np.nan_to_num(small)
    lo, hi = float(finite.min()), float(finite.max())
    scaled = np.zeros_like(finite) if hi == lo else (finite - lo) / (hi - lo) * 255
    return tuple(tuple(int(v) for v in r) for r in np.round(scaled).astype(int))
