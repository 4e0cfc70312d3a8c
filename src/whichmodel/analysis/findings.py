"""Findings: the paired analysis of several models on one dataset, in one typed value.

``compute_findings`` runs each analysis on the examples every model predicted:
per-metric paired tests with Holm (paired.py), disagreements (disagreements.py), slices and
fairness gaps (slices.py), calibration (calibration.py) and error clusters (clusters.py).
``findings_to_dict`` / ``findings_from_dict`` round-trip it through JSON (the store's cache and
``results.json``).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from whichmodel.analysis.calibration import Calibration, calibrate
from whichmodel.analysis.clusters import ModelErrorClusters, error_clusters
from whichmodel.analysis.disagreements import PairDisagreements, find_disagreements
from whichmodel.analysis.paired import MetricTest, paired_metric_tests
from whichmodel.analysis.slices import SliceReport, analyze_slices
from whichmodel.analysis.stats import align, common_rows
from whichmodel.sources.base import Inputs
from whichmodel.tasks.base import Predictions, Task


@dataclass(frozen=True)
class Findings:
    """Why the models differ. Each part is empty when it does not apply (e.g. calibration without
    probabilities, pairs with one model, slices without ``slice_by``)."""

    paired_tests: tuple[MetricTest, ...]
    disagreements: tuple[PairDisagreements, ...]
    slices: tuple[SliceReport, ...]
    calibration: tuple[Calibration, ...]
    error_clusters: tuple[ModelErrorClusters, ...]


def compute_findings(
    task: Task,
    y_true: np.ndarray,
    preds: Mapping[str, Predictions],
    inputs: Inputs,
    slice_columns: pd.DataFrame,
    *,
    units: np.ndarray | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    scores: Mapping[tuple[str, str], float] | None = None,
) -> Findings:
    """Every analysis over the examples every model predicted.

    Args:
        task: the task of the comparison.
        y_true: (N,) labels of the whole dataset, indexed by example id.
        preds: model name -> predictions (each over the examples it succeeded on).
        inputs: the whole dataset's inputs.
        slice_columns: (N, k) the columns to slice by (k may be 0).
        units: (N,) resampling unit of every example (``Dataset.units``), or None.
        n_resamples / confidence / seed: permutations and resamples, coverage, and the seed.
        scores: (model, metric) -> value on the common examples, if already computed.
    """
    rows = common_rows(preds)
    aligned, y = align(preds, rows, units), y_true[rows]
    units = None if units is None else units[rows]
    return Findings(
        paired_metric_tests(
            task, y, aligned, units=units, n_resamples=n_resamples, seed=seed, scores=scores
        ),
        find_disagreements(task, y, aligned, inputs, units=units),
        analyze_slices(
            task,
            y,
            aligned,
            slice_columns,
            units=units,
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
        ),
        calibrate(task, y, aligned),
        # Not for image files (nothing to cluster on) nor for outcomes per unit: a ranking
        # query's nDCG would be split over its items' features.
        ()
        if task.input_files or task.outcome_per_unit
        else error_clusters(task, y, aligned, inputs, seed=seed),
    )


def findings_to_dict(findings: Findings) -> dict[str, Any]:
    """Plain JSON-ready data; the keys are the fields of :class:`Findings`. The same as
    ``dataclasses.asdict`` without its deep copy of every leaf (5-10x faster on a findings tree
    of ~20k values, which an unchanged rerun converts once). Findings rebuilt by
    :func:`findings_from_dict` give back the data they were built from, unconverted."""
    source = getattr(findings, _SOURCE, None)
    if source is not None:
        return dict(source)
    plain = _plain(findings)
    assert isinstance(plain, dict)
    return plain


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        if all(type(v) in (float, int, str, bool) for v in value):  # leaves: a C-speed copy
            return list(value)
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# The attribute under which rebuilt findings keep the data they came from (not a field: it is
# not part of equality or the repr). An unchanged rerun reads findings from the store and writes
# them into results.json again; converting ~20k values back would cost more than the whole rest
# of the rerun's analysis step.
_SOURCE = "_source_dict"


def findings_from_dict(data: Mapping[str, Any]) -> Findings:
    """The inverse of :func:`findings_to_dict` (``data`` is kept, and must not be changed)."""
    value = _builder(Findings)(data)
    assert isinstance(value, Findings)
    object.__setattr__(value, _SOURCE, data)  # frozen: set around the dataclass's guard
    return value


def findings_error(data: Mapping[str, Any], where: str = "results") -> str | None:
    """Where and how the findings sections of ``data`` (a results.json: all of them, or none
    in results written before findings were kept) break the types of :class:`Findings`, e.g.
    ``results.calibration[0].ece must be a number; got 'x'``; None when they follow them."""
    names = [f.name for f in dataclasses.fields(Findings)]
    if not any(name in data for name in names):
        return None
    hints = typing.get_type_hints(Findings)
    for name in names:
        if name not in data:
            return f"{where} has some findings sections but no '{name}'"
        error = _type_error(data[name], hints[name], f"{where}.{name}")
        if error is not None:
            return error
    return None


def _type_error(value: Any, kind: Any, path: str) -> str | None:
    """The first place ``value``, read from JSON, is not of type ``kind``, or None."""
    from whichmodel.errors import brief

    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        if not isinstance(value, dict):
            return f"{path} must be an object; got {brief(value, 40)}"
        hints = typing.get_type_hints(kind)
        for f in dataclasses.fields(kind):
            if f.name not in value:
                return f"{path} has no '{f.name}'"
            error = _type_error(value[f.name], hints[f.name], f"{path}.{f.name}")
            if error is not None:
                return error
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            return f"{path} must be a list; got {brief(value, 40)}"
        for i, item in enumerate(value):
            error = _type_error(item, args[0], f"{path}[{i}]")
            if error is not None:
                return error
        return None
    if origin in (typing.Union, types.UnionType):
        inner = next(a for a in args if a is not type(None))
        return None if value is None else _type_error(value, inner, path)
    ok = {
        float: isinstance(value, int | float) and not isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        str: isinstance(value, str),
        bool: isinstance(value, bool),
    }.get(kind, True)
    names = {float: "a number", int: "an integer", str: "text", bool: "true or false"}
    return None if ok else f"{path} must be {names[kind]}; got {brief(value, 40)}"


Builder = Callable[[Any], Any]


@functools.cache
def _builder(kind: Any) -> Builder:
    """A function rebuilding a value of type ``kind`` (dataclasses, tuples, optionals, scalars)
    from JSON. Made once per type, so rebuilding ~30k values does no type introspection (an
    unchanged rerun rebuilds its cached findings: 3x faster than inspecting every value)."""
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)  # resolving string annotations is the slow part
        fields = [(f.name, _builder(hints[f.name])) for f in dataclasses.fields(kind)]
        cls = kind
        return lambda value: cls(**{name: build(value[name]) for name, build in fields})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple:
        if args[0] in (float, int, str, bool):  # e.g. a thumbnail's pixels: nothing to rebuild
            return tuple
        item = _builder(args[0])
        return lambda value: tuple(map(item, value))
    if origin in (typing.Union, types.UnionType):
        inner = _builder(next(a for a in args if a is not type(None)))
        return lambda value: None if value is None else inner(value)
    return _identity


def _identity(value: Any) -> Any:
    return value
