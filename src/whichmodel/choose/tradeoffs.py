"""The trade-offs matrix: models × dimensions, each cell measured, read, computed or unknown.

Nothing is invented: a cell whose fact is missing says "unknown" and why; a computed cell
(cost per 1,000 predictions) names what it was computed from. The cost column is one for every
model (:func:`whichmodel.choose.checks.model_cost`): a served model's tokens at their price, a
local model's time at ``--price-per-hour``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from whichmodel.choose.checks import model_cost
from whichmodel.choose.constraints import Constraints
from whichmodel.choose.facts import MIB, ModelFacts


@dataclass(frozen=True)
class Cell:
    """``source``: "measured", "read" (from the model's files), "computed" or "unknown"."""

    value: float | str | None
    text: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class Column:
    """``better``: "higher", "lower" or "" (not ranked)."""

    key: str
    label: str
    better: str


@dataclass(frozen=True)
class Tradeoffs:
    columns: tuple[Column, ...]
    rows: dict[str, dict[str, Cell]]  # model -> column key -> cell
    best: dict[str, tuple[str, ...]]  # column key -> best model(s), ties kept

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [vars(c) for c in self.columns],
            "rows": {
                m: {k: vars(cell) for k, cell in cells.items()} for m, cells in self.rows.items()
            },
            "best": {k: list(v) for k, v in self.best.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tradeoffs:
        """The inverse of :meth:`to_dict`."""
        return cls(
            tuple(Column(**c) for c in data["columns"]),
            {m: {k: Cell(**c) for k, c in cells.items()} for m, cells in data["rows"].items()},
            {k: tuple(v) for k, v in data["best"].items()},
        )


def sig(x: float, digits: int = 3) -> str:
    """``digits`` significant digits, never in exponent notation (0.000123, 1230)."""
    import numpy as np

    if x == 0:
        return "0"
    if abs(x) >= 10 ** (digits - 1):
        return f"{x:.0f}"
    return np.format_float_positional(x, precision=digits, unique=False, fractional=False, trim="k")


def tradeoffs(
    facts: list[ModelFacts], *, metric: str, higher_is_better: bool, constraints: Constraints
) -> Tradeoffs:
    """Build the matrix for ``facts`` with ``metric`` as the quality column."""
    b = constraints.latency_batch_size
    pct = constraints.latency_percentile
    columns = [
        Column("quality", metric, "higher" if higher_is_better else "lower"),
        Column("latency", f"latency {pct}, batch {b}", "lower"),
        Column("throughput", "throughput", "higher"),
        Column("memory", "memory", "lower"),
    ]
    costed = constraints.price_per_hour is not None or any(f.tokens is not None for f in facts)
    if costed:
        columns.append(Column("cost", "cost per 1k predictions", "lower"))
    columns += [
        Column("size", "size on disk", "lower"),
        Column("parameters", "parameters", ""),
        Column("interpretability", "interpretable", ""),
    ]
    rows = {f.name: _row(f, metric, constraints, costed=costed) for f in facts}
    best: dict[str, tuple[str, ...]] = {}
    for col in columns:
        known = {
            m: c.value
            for m, c in ((m, r[col.key]) for m, r in rows.items())
            if isinstance(c.value, int | float)
        }
        if col.better and len(known) > 1:
            target = (max if col.better == "higher" else min)(known.values())
            best[col.key] = tuple(m for m, v in known.items() if v == target)
    return Tradeoffs(tuple(columns), rows, best)


def _row(f: ModelFacts, metric: str, c: Constraints, *, costed: bool) -> dict[str, Cell]:
    row = _measured(f, metric)
    if costed:
        cost, how = model_cost(f, c.price_per_hour)
        row["cost"] = Cell(cost, sig(cost), "computed", how) if cost is not None else _unknown(how)
    return {**row, **_read(f)}


def _measured(f: ModelFacts, metric: str) -> dict[str, Cell]:
    """The measured cells: quality, latency, throughput, memory."""
    row: dict[str, Cell] = {}
    if metric in f.metrics:
        v, lo, hi = f.metrics[metric]
        row["quality"] = Cell(v, f"{v:.4f} [{lo:.4f}, {hi:.4f}]", "measured")
    else:
        row["quality"] = _unknown(f"{metric} was not computed for this model")
    row["latency"] = (
        Cell(f.latency_ms, f"{sig(f.latency_ms)} ms", "measured")
        if f.latency_ms is not None
        else _unknown(f.unknown.get("latency", "not measured"))
    )
    row["throughput"] = (
        Cell(
            f.throughput_per_s,
            f"{f.throughput_per_s:,.0f}/s at batch {f.throughput_batch_size}",
            "measured",
        )
        if f.throughput_per_s is not None
        else _unknown(f.unknown.get("throughput", "not measured"))
    )
    row["memory"] = (
        Cell(f.memory_mb, f"{f.memory_mb:.1f} MB", "measured")
        if f.memory_mb is not None
        else _unknown(f.unknown.get("memory", "not measured"))
    )
    return row


def _read(f: ModelFacts) -> dict[str, Cell]:
    """The cells read from the model's files: size, parameters, interpretability."""
    interp = f.interpretability
    return {
        "size": (
            Cell(f.size_bytes / MIB, _size_text(f.size_bytes), "read")
            if f.size_bytes is not None
            else _unknown(f.unknown.get("size", "not read"))
        ),
        "parameters": (
            Cell(f.parameters, f"{f.parameters:,}", "read")
            if f.parameters is not None
            else _unknown(f.unknown.get("parameters", "not counted"))
        ),
        "interpretability": Cell(
            interp.level,
            interp.level,
            "unknown" if interp.level == "unknown" else "read",
            interp.source,
        ),
    }


def _size_text(n: float) -> str:
    """Bytes in KB / MB / GB of 2^10, 2^20, 2^30 bytes, one decimal."""
    for unit, size in (("GB", 2**30), ("MB", MIB), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _unknown(why: str) -> Cell:
    return Cell(None, "unknown", "unknown", why)
