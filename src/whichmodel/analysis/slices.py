"""Slices: every metric per value of a column the user names, the worst slice, fairness gaps.

The slice column is read from the data file alongside the inputs, so it may be a column the models
never see (e.g. ``language`` or ``site``). Values become slices as follows:

- numeric columns with more than :data:`MAX_NUMERIC_VALUES` distinct values are cut into
  :data:`N_BINS` quantile bins (``pandas.qcut``, duplicate edges merged, the lowest edge widened
  by 0.1% so the minimum falls inside), named by interval ``[low, high]``;
- other columns slice by value; beyond :data:`MAX_SLICES` values, the rarest are pooled as
  ``(other)``; missing values form ``(missing)``.

Each slice gets the task's metrics with percentile bootstrap intervals (the slice's examples
resampled, seeded). Fairness gaps (classification only) are fairlearn's (counted with NumPy and
tested equal to fairlearn), with the slice column as the sensitive feature: demographic parity
difference (the spread of the positive-prediction rate across slices) and equalized odds
difference (the larger spread of the true- and false-positive rates). Binary labels use the
second label in sorted order as the positive class; multiclass labels report the largest
one-vs-rest gap and the class it comes from.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from whichmodel.analysis.stats import iter_resample_weights, with_units
from whichmodel.errors import DataError
from whichmodel.tasks.base import Predictions, Task
from whichmodel.units import short_number

N_BINS = 5
MAX_NUMERIC_VALUES = 10
MAX_SLICES = 20
MIN_SLICE_FOR_WORST = 10  # smaller slices are reported but never named the worst


@dataclass(frozen=True)
class SliceMetric:
    """One metric of one model on one slice, with a bootstrap interval (None when undefined)."""

    model: str
    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class Slice:
    """The examples whose slice column has one value (or falls in one bin)."""

    value: str
    n: int
    metrics: tuple[SliceMetric, ...]


@dataclass(frozen=True)
class FairnessGap:
    """fairlearn's demographic parity and equalized odds differences of one model.

    Args:
        positive_class: the class treated as positive; for multiclass, the class whose
            one-vs-rest gap is largest (each gap is maximized over classes separately).
    """

    model: str
    demographic_parity_difference: float
    demographic_parity_class: str
    equalized_odds_difference: float
    equalized_odds_class: str


@dataclass(frozen=True)
class WorstSlice:
    """Each model's worst slice on the first metric, among slices of at least 10 examples."""

    model: str
    metric: str
    value: str
    metric_value: float
    overall: float
    n: int


@dataclass(frozen=True)
class SliceReport:
    """Everything about one slice column.

    Args:
        binning: how values became slices, in words (e.g. ``5 quantile bins``, ``by value``).
        fairness: one gap per model (classification only; empty otherwise).
    """

    column: str
    binning: str
    slices: tuple[Slice, ...]
    worst: tuple[WorstSlice, ...]
    fairness: tuple[FairnessGap, ...]


def read_slice_columns(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """The named columns of a data file (CSV, JSONL, Parquet), of an audio folder's metadata
    file, or of the ``images`` entries of COCO annotations (one row per image, e.g. its
    ``width`` or a field of the user's own), every row.

    Raises:
        DataError: a column is not in the file (the message lists the file's columns).
    """
    from whichmodel.data.coco import read_coco_json
    from whichmodel.data.tables import read_table

    if not columns:
        return pd.DataFrame()
    p = Path(path)
    if p.is_dir():  # an audio folder: its metadata file's columns (e.g. speaker)
        from whichmodel.data.audio import metadata_file

        p = metadata_file(p) or p
    coco = read_coco_json(p)
    if coco is not None:  # detection's COCO annotations: a row per entry of "images"
        frame = pd.DataFrame(coco["images"])
        names = [str(c) for c in frame.columns]
    elif p.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        names = list(pq.read_schema(p).names)
        frame = None  # read only the slice columns below
    else:
        frame = read_table(p)
        names = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in names]
    if missing:
        shown = ", ".join(repr(n) for n in names[:12])
        more = f" and {len(names) - 12} more" if len(names) > 12 else ""
        raise DataError(
            f"Cannot slice by {missing[0]!r}: {p.name} has no such column (its columns are "
            f"{shown}{more}). Check --slice-by."
        )
    if frame is None:
        frame = pd.read_parquet(p, columns=list(columns))
    return frame[list(columns)].reset_index(drop=True)


def slice_labels(values: pd.Series) -> tuple[np.ndarray, str]:
    """(n,) slice name of each example, and how they were formed (see the module docstring)."""
    missing = values.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_NUMERIC_VALUES:
        bins = pd.qcut(values, N_BINS, duplicates="drop")
        # Intervals as [low, high] with 4 significant digits, 56.1k for large values (qcut's own
        # text shows float noise); a name is a slice, so names that read alike get more digits.
        cats = bins.cat.categories
        names = [f"[{short_number(i.left)}, {short_number(i.right)}]" for i in cats]
        if len(set(names)) < len(names):
            names = [f"[{i.left:.8g}, {i.right:.8g}]" for i in cats]
        labels = np.array(names, dtype=object)[bins.cat.codes.to_numpy().clip(min=0)]
        binning = f"{len(names)} quantile bins"  # pandas.qcut widens the lowest edge by 0.1%
    else:
        labels = values.map(_value_text).to_numpy(dtype=object)
        binning = "by value"
    labels[missing] = "(missing)"
    counts = pd.Series(labels[~missing]).value_counts()
    if len(counts) > MAX_SLICES:
        keep = {*counts.index[: MAX_SLICES - 1], "(missing)"}
        labels = np.where(pd.Series(labels).isin(keep).to_numpy(), labels, "(other)")
        binning += f", the {len(counts) - MAX_SLICES + 1} rarest values pooled as (other)"
    return labels.astype(str), binning


def _value_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def analyze_slices(
    task: Task,
    y: np.ndarray,
    preds: Mapping[str, Predictions],
    columns: pd.DataFrame,
    *,
    units: np.ndarray | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[SliceReport, ...]:
    """One report per column of ``columns``.

    Args:
        y: (n,) labels of the examples every model predicted.
        preds: model name -> predictions aligned with ``y``; their ``rows`` index ``columns``.
        columns: the slice columns for every example of the dataset (from read_slice_columns).
        units: (n,) resampling unit of each example, aligned with ``y`` (``Dataset.units`` of
            its rows), or None when each example is its own unit.
    """
    preds = with_units(preds, units)
    reports = []
    rows = next(iter(preds.values())).rows
    for column in columns.columns:
        labels, binning = slice_labels(columns[column].iloc[rows].reset_index(drop=True))
        slices = tuple(
            _slice(task, y, preds, labels == value, value, n_resamples, confidence, seed, units)
            for value in _ordered(labels)
        )
        fairness: tuple[FairnessGap, ...] = ()
        if task.class_predictions:
            fairness = tuple(_fairness(name, y, p, labels) for name, p in preds.items())
        overall = {
            (name, m.name): m.score(y, p, None)
            for name, p in preds.items()
            for m in task.metrics(y, p)[:1]
        }
        worst = _worst(slices, task, preds, y, overall)
        reports.append(SliceReport(str(column), binning, slices, worst, fairness))
    return tuple(reports)


def _ordered(labels: np.ndarray) -> list[str]:
    """Slice names, largest slice first (ties by name); (other) and (missing) last."""
    values, counts = np.unique(labels, return_counts=True)
    order = sorted(zip(values.tolist(), counts.tolist(), strict=True), key=lambda t: (-t[1], t[0]))
    names = [v for v, _ in order]
    return [v for v in names if v not in ("(other)", "(missing)")] + [
        v for v in ("(other)", "(missing)") if v in names
    ]


def _slice(
    task: Task,
    y: np.ndarray,
    preds: Mapping[str, Predictions],
    mask: np.ndarray,
    value: str,
    n_resamples: int,
    confidence: float,
    seed: int,
    units: np.ndarray | None,
) -> Slice:
    positions = np.flatnonzero(mask)
    ys = y[positions]
    alpha = (1 - confidence) / 2
    scored = [
        (name, ps, metric)
        for name, p in preds.items()
        for ps in [p.take(positions)]
        for metric in task.metrics(ys, ps)
    ]
    reps: list[list[np.ndarray]] = [[] for _ in scored]
    units = None if units is None else units[positions]
    with warnings.catch_warnings():
        # A one-example slice has no R² (scikit-learn warns and returns nan): None.
        warnings.simplefilter("ignore")
        # Each chunk of resamples is drawn once for every model and metric (drawing dominates).
        for w in iter_resample_weights(len(ys), n_resamples, seed, units):
            for i, (_, ps, metric) in enumerate(scored):
                reps[i].append(metric.replicate(ys, ps, w))
        values = [metric.score(ys, ps, None) for _, ps, metric in scored]
    out = []
    for (name, _, metric), value_, chunks in zip(scored, values, reps, strict=True):
        r = np.concatenate(chunks)
        low, high = np.nanquantile(r, [alpha, 1 - alpha]) if np.isfinite(r).any() else (np.nan,) * 2
        out.append(SliceMetric(name, metric.name, _finite(value_), _finite(low), _finite(high)))
    return Slice(value, len(positions), tuple(out))


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _worst(
    slices: tuple[Slice, ...],
    task: Task,
    preds: Mapping[str, Predictions],
    y: np.ndarray,
    overall: dict[tuple[str, str], float],
) -> tuple[WorstSlice, ...]:
    out = []
    for name, p in preds.items():
        first = task.metrics(y, p)[0]
        scored = [
            (m.value, s)
            for s in slices
            if s.n >= MIN_SLICE_FOR_WORST
            for m in s.metrics
            if m.model == name and m.metric == first.name and m.value is not None
        ]
        if not scored:
            continue
        pick = min if first.higher_is_better else max
        value, s = pick(scored, key=lambda t: t[0])
        out.append(WorstSlice(name, first.name, s.value, value, overall[(name, first.name)], s.n))
    return tuple(out)


def _fairness(name: str, y: np.ndarray, p: Predictions, groups: np.ndarray) -> FairnessGap:
    """fairlearn's gaps, one-vs-rest per class (binary labels: the second sorted label only).

    Per class, fairlearn's ``demographic_parity_difference`` (the spread over groups of the
    positive-prediction rate) and ``equalized_odds_difference`` (the larger spread of the true-
    and false-positive rates); a group without positives (or negatives) has a rate of 0, as
    fairlearn's, through scikit-learn's normalized confusion matrix, is. Counted with NumPy in
    one pass (tests check equality with fairlearn): its ``MetricFrame`` took 3-7 s per model on
    20k examples of ten classes."""
    classes = sorted(set(y.tolist()))
    candidates = classes[1:] if len(classes) == 2 else classes
    index = {c: i for i, c in enumerate(candidates)}  # label -> column; other labels: -1
    k = len(candidates)
    y_idx = np.fromiter((index.get(v, -1) for v in y.tolist()), np.int64, len(y))
    p_idx = np.fromiter((index.get(v, -1) for v in p.pred.tolist()), np.int64, len(y))
    group = np.unique(groups, return_inverse=True)[1].reshape(-1)  # (n,) group codes
    n_groups = int(group.max()) + 1

    def count(mask: np.ndarray, column: np.ndarray) -> np.ndarray:  # -> (groups, k)
        cells = group[mask] * k + column[mask]
        return np.bincount(cells, minlength=n_groups * k).reshape(n_groups, k).astype(float)

    size = np.bincount(group, minlength=n_groups).astype(float)[:, None]  # (groups, 1)
    predicted, positives = count(p_idx >= 0, p_idx), count(y_idx >= 0, y_idx)
    true_pos = count((y_idx >= 0) & (p_idx == y_idx), y_idx)
    negatives, false_pos = size - positives, predicted - true_pos

    def rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return np.asarray(np.divide(num, den, out=np.zeros_like(num), where=den > 0))

    def spread(r: np.ndarray) -> np.ndarray:  # (groups, k) -> (k,)
        return np.asarray(r.max(axis=0) - r.min(axis=0))

    dp_gap = spread(predicted / size)
    tpr_gap, fpr_gap = spread(rate(true_pos, positives)), spread(rate(false_pos, negatives))
    dp = [(float(dp_gap[i]), c) for i, c in enumerate(candidates)]
    eo = [(max(float(tpr_gap[i]), float(fpr_gap[i])), c) for i, c in enumerate(candidates)]
    (dp_value, dp_class), (eo_value, eo_class) = _largest(dp), _largest(eo)
    return FairnessGap(name, dp_value, dp_class, eo_value, eo_class)


def _largest(gaps: list[tuple[float, str]]) -> tuple[float, str]:
    """The largest gap (NaN, from a class absent everywhere, ranks last)."""
    return max(gaps, key=lambda t: -np.inf if np.isnan(t[0]) else t[0])
