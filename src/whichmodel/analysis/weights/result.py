""":class:`WeightDiff`: what :func:`whichmodel.weight_diff` finds, as a typed value."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from whichmodel.analysis.weights import measures
from whichmodel.analysis.weights.groups import FULL, LORA, NOISE, UNCHANGED, GroupDiff
from whichmodel.analysis.weights.measures import TensorDiff

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class AdapterUse:
    """A LoRA adapter merged into its base for the diff: on ``side`` ``a`` or ``b``."""

    side: str
    folder: str
    base: str
    rank: int
    alpha: float
    scale: float
    use_rslora: bool
    target_modules: tuple[str, ...]
    n_adapted: int  # base tensors it changes


@dataclass(frozen=True)
class WeightDiff:
    """The weight diff of two checkpoints: one :class:`TensorDiff` per tensor matched by name
    and shape, in A's order; their groups (block × module) with verdicts; the tensors that do
    not match (``only_a``, ``only_b``, ``shape_mismatch``: (name, shape in A, shape in B));
    and the adapters merged to build either side."""

    a: str
    b: str
    tensors: tuple[TensorDiff, ...]
    groups: tuple[GroupDiff, ...]
    only_a: tuple[str, ...] = ()
    only_b: tuple[str, ...] = ()
    shape_mismatch: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = ()
    adapters: tuple[AdapterUse, ...] = ()

    @property
    def changed(self) -> tuple[GroupDiff, ...]:
        """The groups that changed, the largest relative change first."""
        moved = [g for g in self.groups if g.verdict != UNCHANGED]
        return tuple(sorted(moved, key=lambda g: -_order(g.rel_change)))

    @property
    def frozen(self) -> tuple[str, ...]:
        """Modules unchanged in every block, when something else changed; else empty."""
        if not self.changed:
            return ()
        modules: dict[str, bool] = {}
        for g in self.groups:
            modules[g.module] = modules.get(g.module, True) and g.verdict == UNCHANGED
        return tuple(m for m, still in modules.items() if still)

    @property
    def verdict(self) -> str:
        """The whole diff in one sentence."""
        if not self.tensors:
            return "no tensor matches by name and shape: nothing to compare"
        changed = self.changed
        kinds = {g.verdict for g in changed}
        if not changed:
            return f"unchanged: all {len(self.tensors)} matched tensors are bit-identical"
        n = f"{len(changed)} of {len(self.groups)} groups"
        if kinds == {NOISE}:
            return (f"small noise only: {n} differ at rounding level (a cast or a re-save); "
                    "the rest is bit-identical")
        if kinds <= {LORA, NOISE}:
            rank = max(g.rank or 0 for g in changed)
            modules = sorted({g.module for g in changed if g.verdict == LORA})
            return (f"looks like a merged LoRA of rank ≤ {rank} on {', '.join(modules)} ({n}); "
                    "everything else unchanged")
        frozen = self.frozen
        rest = f"; frozen: {', '.join(frozen)}" if frozen else ""
        return f"{FULL}: {n} changed{rest}"

    @property
    def notes(self) -> tuple[str, ...]:
        """What the reader must know besides the numbers: unmatched tensors, adapters."""
        out = []
        if self.only_a or self.only_b or self.shape_mismatch:
            out.append(
                f"The architectures differ: {len(self.tensors)} tensors match by name and shape "
                f"and are compared; {len(self.shape_mismatch)} differ in shape, "
                f"{len(self.only_a)} are only in A, {len(self.only_b)} only in B."
            )
        for ad in self.adapters:
            root = "√r" if ad.use_rslora else "r"
            out.append(
                f"{ad.side.upper()} is the LoRA adapter {ad.folder} (r={ad.rank}, "
                f"alpha={ad.alpha:g}, scale alpha/{root}={ad.scale:g}) merged into {ad.base}: "
                f"{ad.n_adapted} tensors changed by it."
            )
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values; non-finite numbers (from NaN or inf weights) as None."""
        out: dict[str, Any] = _finite({
            "a": self.a, "b": self.b, "verdict": self.verdict, "frozen": list(self.frozen),
            "notes": list(self.notes),
            "settings": {"full_svd_max_values": measures.FULL_SVD_MAX,
                         "lowrank_q": measures.LOWRANK_Q, "low_rank_tol": measures.LOW_RANK_TOL,
                         "energy": measures.ENERGY},
            "groups": [_group_dict(g) for g in self.groups],
            "tensors": [_tensor_dict(t) for t in self.tensors],
            "only_a": list(self.only_a), "only_b": list(self.only_b),
            "shape_mismatch": [{"name": n, "shape_a": list(sa), "shape_b": list(sb)}
                               for n, sa, sb in self.shape_mismatch],
            "adapters": [asdict(ad) for ad in self.adapters],
        })
        return out

    def to_pandas(self, what: str = "groups") -> pd.DataFrame:
        """``groups`` (one row per block × module) or ``tensors`` (one row per tensor, the
        spectral measures as columns), as a DataFrame.

        Raises:
            ValueError: ``what`` is neither.
        """
        import pandas as pd

        if what == "groups":
            return pd.DataFrame([_group_dict(g) for g in self.groups])
        if what == "tensors":
            rows = []
            for t in self.tensors:
                row = _tensor_dict(t)
                row.update({f"spectrum.{k}": v for k, v in (row.pop("spectrum") or {}).items()})
                rows.append(row)
            return pd.DataFrame(rows)
        raise ValueError(
            f"The 'what' parameter of to_pandas must be one of groups, tensors. Got {what!r} "
            "instead."
        )

    def __repr__(self) -> str:
        return f"WeightDiff({self.a!r} vs {self.b!r}: {self.verdict})"

    def _repr_html_(self) -> str:
        from whichmodel.display import card, number

        rows = [(g.label, g.text, number(g.rel_change, 3), str(g.rank or ""))
                for g in self.changed]
        return card(f"Weight diff: {self.a} vs {self.b}", [("verdict", self.verdict)],
                    header=("group", "verdict", "‖ΔW‖/‖W‖", "rank"), rows=rows,
                    lines=self.notes)


def _order(value: float | None) -> float:
    return math.inf if value is None else value


def _group_dict(g: GroupDiff) -> dict[str, Any]:
    return {"block": g.block, "module": g.module, "verdict": g.verdict, "text": g.text,
            "rank": g.rank, "rel_change": g.rel_change, "n_changed": g.n_changed,
            "tensors": list(g.tensors)}


def _tensor_dict(t: TensorDiff) -> dict[str, Any]:
    return {
        "name": t.name, "shape": list(t.shape), "dtype_a": t.dtype_a, "dtype_b": t.dtype_b,
        "rel_change": t.rel_change, "cosine": t.cosine, "identical_share": t.identical_share,
        "max_abs_delta": t.max_abs_delta, "norm_a": t.norm_a, "norm_b": t.norm_b,
        "norm_delta": t.norm_delta, "rounding_only": t.rounding_only,
        "spectrum": None if t.spectrum is None else {**asdict(t.spectrum),
                                                     "top": list(t.spectrum.top)},
    }


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
