"""The Pareto front: the models no other model beats on every dimension at once.

A model dominates another when it is at least as good on every dimension and strictly better on
one. Models with identical values on every dimension do not dominate each other, so a tie keeps
both on the front. A missing measurement is not a zero, and guessing it either way would move
models on or off the front: a dimension nobody has is left out (``dropped``), and a model that
lacks a dimension others have is not placed (``unplaced``) rather than placed by a guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Front:
    """``members`` in input order; ``dimensions`` compared; ``dropped``: dimensions no model has;
    ``unplaced``: model -> the compared dimensions it lacks; ``ties``: groups of front members
    equal on every compared dimension; ``dominated_by``: model -> the models that dominate it."""

    members: tuple[str, ...]
    dimensions: tuple[str, ...]
    dropped: tuple[str, ...]
    unplaced: dict[str, tuple[str, ...]]
    ties: tuple[tuple[str, ...], ...]
    dominated_by: dict[str, tuple[str, ...]]


def pareto_front(
    points: Mapping[str, Mapping[str, float | None]], *, higher_is_better: Mapping[str, bool]
) -> Front:
    """The Pareto front of ``points`` (model -> dimension -> value, ``None`` when unknown).

    Args:
        points: one entry per model; every model lists the same dimensions.
        higher_is_better: dimension -> its direction.

    >>> f = pareto_front({"a": {"q": 0.9, "lat": 2.0}, "b": {"q": 0.8, "lat": 1.0},
    ...                   "c": {"q": 0.8, "lat": 3.0}}, higher_is_better={"q": True, "lat": False})
    >>> f.members, f.dominated_by["c"]
    (('a', 'b'), ('a', 'b'))
    """
    dims = list(higher_is_better)
    dropped = tuple(d for d in dims if all(p.get(d) is None for p in points.values()))
    used = [d for d in dims if d not in dropped]
    unplaced = {
        n: missing
        for n, p in points.items()
        if (missing := tuple(d for d in used if p.get(d) is None))
    }
    names = [n for n in points if n not in unplaced]
    # Oriented so that larger is better on every dimension.
    vec = {n: [_oriented(points[n][d], higher_is_better[d]) for d in used] for n in names}
    dominated_by = {
        n: tuple(o for o in names if o != n and _dominates(vec[o], vec[n])) for n in names
    }
    members = tuple(n for n in names if not dominated_by[n])
    return Front(members, tuple(used), dropped, unplaced, _ties(members, vec), dominated_by)


def _oriented(value: float | None, higher: bool) -> float:
    assert value is not None  # dimensions with a None are dropped before this
    return value if higher else -value


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(
        x > y for x, y in zip(a, b, strict=True)
    )


def _ties(
    members: Sequence[str], vec: Mapping[str, Sequence[float]]
) -> tuple[tuple[str, ...], ...]:
    groups: dict[tuple[float, ...], list[str]] = {}
    for n in members:
        groups.setdefault(tuple(vec[n]), []).append(n)
    return tuple(tuple(g) for g in groups.values() if len(g) > 1)
