"""What changed in one tensor: the measures of a weight delta ΔW = W_B − W_A.

Elementwise measures come from one pass over both tensors in chunks of :data:`CHUNK` values, in
float64 (bf16/fp16 inputs are upcast per chunk), so no float64 copy of a whole tensor is made.
The spectral measures of a 2-D delta come from its singular values σ_1 ≥ σ_2 ≥ …:

- stable rank ‖ΔW‖_F² / σ_1² (Rudelson & Vershynin; ‖ΔW‖_F² is exact even when only the
  leading σ are computed);
- 90%-energy rank: the fewest σ whose squares hold 90% of ‖ΔW‖_F²;
- effective rank exp(H(p)), p_i = σ_i / Σσ_j (Roy & Vetterli, "The effective rank", 2007);
- low rank r (:data:`LOW_RANK_TOL`): r = #{i : σ_i > 10⁻³·σ_1} when r ≤ min(m, n)/4, i.e.
  after r values the spectrum drops by at least 1000× and stays there for most of its length;
  else none. A merged LoRA of rank r in float32 gives exactly r; a full fine-tune gives none.

Singular values come from ``torch.linalg.svdvals`` (float64 up to :data:`FLOAT64_MAX` values,
float32 up to :data:`FULL_SVD_MAX`); above that from ``torch.svd_lowrank`` (the leading
:data:`LOWRANK_Q` values, 4 power iterations, seeded), and the measures that need the whole
spectrum say so: the 90%-energy rank is None when the leading values hold less than 90%, the
effective rank is that of the leading values, and a rank above :data:`LOWRANK_Q` is not low.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

#: Values per chunk of the elementwise pass (its float64 temporaries are 2 MiB each).
CHUNK = 1 << 18
#: Deltas up to this many values get every singular value (svdvals); larger ones the leading.
FULL_SVD_MAX = 1 << 22  # 4 Mi values, e.g. 2048 × 2048
#: Deltas up to this many values are decomposed in float64, larger ones in float32.
FLOAT64_MAX = 1 << 20
#: Singular values ``svd_lowrank`` computes for deltas over :data:`FULL_SVD_MAX` values.
LOWRANK_Q = 128
#: σ_i counts towards the low rank when above this fraction of σ_1.
LOW_RANK_TOL = 1e-3
#: Share of ‖ΔW‖_F² the energy rank must hold.
ENERGY = 0.9
#: Leading singular values a result keeps, for the report.
TOP = 8


@dataclass(frozen=True)
class Spectrum:
    """The singular values of a 2-D delta, summarized (see the module docstring).

    Args:
        stable_rank: ‖ΔW‖_F² / σ_1².
        energy_rank: the fewest σ holding :data:`ENERGY` of ‖ΔW‖_F²; None when the computed
            (leading) values hold less.
        effective_rank: exp of the entropy of σ / Σσ (over the computed values).
        low_rank: r by the rule of the module docstring, or None when the delta is not low-rank.
        top: the leading singular values (at most :data:`TOP`).
        computed: how many singular values were computed.
        method: ``svdvals`` (every value) or ``svd_lowrank`` (the leading ``computed``).
    """

    stable_rank: float
    energy_rank: int | None
    effective_rank: float
    low_rank: int | None
    top: tuple[float, ...]
    computed: int
    method: str


@dataclass(frozen=True)
class TensorDiff:
    """One tensor matched by name and shape in both checkpoints, and what changed in it.

    Args:
        name: the tensor's name; shape: its shape; dtype_a / dtype_b: as stored.
        norm_a / norm_b / norm_delta: Frobenius norms of W_A, W_B and ΔW = W_B − W_A.
        n_identical: values that are bit-identical (equal, when the dtypes differ).
        max_abs_delta: max |ΔW|.
        rounding_only: every value moved by at most the machine epsilon of the coarser dtype,
            relative to its value in A: what a cast or a different summation order leaves.
        spectrum: for a changed 2-D tensor, its singular values summarized; else None.
    """

    name: str
    shape: tuple[int, ...]
    dtype_a: str
    dtype_b: str
    norm_a: float
    norm_b: float
    norm_delta: float
    n_identical: int
    max_abs_delta: float
    rounding_only: bool
    spectrum: Spectrum | None = None

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def changed(self) -> bool:
        """Whether any value differs."""
        return self.n_identical < self.numel

    @property
    def identical_share(self) -> float:
        """Share of bit-identical values (1.0 for an empty tensor)."""
        return self.n_identical / self.numel if self.numel else 1.0

    @property
    def rel_change(self) -> float | None:
        """‖ΔW‖/‖W_A‖; 0 when nothing changed, None when W_A is zero and ΔW is not."""
        if self.norm_delta == 0:
            return 0.0
        return self.norm_delta / self.norm_a if self.norm_a > 0 else None

    @property
    def cosine(self) -> float | None:
        """cos(W_A, W_B), from the norms: (‖A‖² + ‖B‖² − ‖ΔW‖²) / (2‖A‖‖B‖); None for a zero
        tensor."""
        if self.norm_a == 0 or self.norm_b == 0:
            return None
        dot = (self.norm_a**2 + self.norm_b**2 - self.norm_delta**2) / 2
        return max(-1.0, min(1.0, dot / (self.norm_a * self.norm_b)))


def measure(name: str, pair: list[torch.Tensor], *, in_place: bool) -> TensorDiff:
    """Measure ΔW = W_B − W_A for ``pair`` = [W_A, W_B] (same shape). The list is emptied, so
    that W_A is freed before the singular values are computed (the caller's references would
    keep it alive otherwise). ``in_place``: W_B is this call's own copy (a fresh memory map), so
    a float32 W_B may become ΔW, sparing a third tensor in memory."""
    a, b = pair
    pair.clear()
    sums = _elementwise(a, b)
    norm_delta = math.sqrt(sums[2])
    diff = TensorDiff(
        name=name, shape=tuple(a.shape), dtype_a=_dtype(a), dtype_b=_dtype(b),
        norm_a=math.sqrt(sums[0]), norm_b=math.sqrt(sums[1]), norm_delta=norm_delta,
        n_identical=int(sums[3]), max_abs_delta=sums[4], rounding_only=bool(sums[5]),
    )
    if a.ndim != 2 or not diff.changed or not math.isfinite(norm_delta) or norm_delta == 0:
        return diff
    delta = _delta(a, b, in_place=in_place)
    del a, b  # only ΔW is left for the decomposition
    from dataclasses import replace

    return replace(diff, spectrum=spectrum(delta, norm_delta=norm_delta))


def _elementwise(a: torch.Tensor, b: torch.Tensor) -> tuple[float, ...]:
    """(‖A‖², ‖B‖², ‖ΔW‖², identical values, max |ΔW|, rounding only), chunk by chunk."""
    import torch

    fa, fb = a.reshape(-1), b.reshape(-1)
    bits = _bits_dtype(a) if a.dtype == b.dtype else None
    eps = max(_eps(a.dtype), _eps(b.dtype))
    saa = sbb = sdd = biggest = 0.0
    same, rounding = 0, True
    for i in range(0, fa.numel(), CHUNK):
        ca, cb = fa[i : i + CHUNK], fb[i : i + CHUNK]
        if bits is not None:
            same += int((ca.view(bits) == cb.view(bits)).sum())
        da, db = ca.to(torch.float64), cb.to(torch.float64)
        if bits is None:
            same += int((da == db).sum())
        d = db - da
        saa += float(da.dot(da))
        sbb += float(db.dot(db))
        sdd += float(d.dot(d))
        ad = d.abs_()
        biggest = max(biggest, float(ad.max()))
        rounding = rounding and bool((ad <= eps * da.abs()).all())
    return saa, sbb, sdd, same, biggest, rounding


def _delta(a: torch.Tensor, b: torch.Tensor, *, in_place: bool) -> torch.Tensor:
    """ΔW in float32 (float64 when either input is), reusing ``b``'s memory where allowed."""
    import torch

    wide = torch.float64 if torch.float64 in (a.dtype, b.dtype) else torch.float32
    d = b if in_place and b.dtype == wide else b.to(wide, copy=True)
    return d.sub_(a)


def spectrum(delta: torch.Tensor, *, norm_delta: float) -> Spectrum:
    """The spectral measures of a 2-D ``delta`` (m, n) whose Frobenius norm is ``norm_delta``
    (computed exactly beforehand, in float64)."""
    import torch

    m, n = delta.shape
    if delta.numel() <= FULL_SVD_MAX:
        work = delta.to(torch.float64) if delta.numel() <= FLOAT64_MAX else delta.float()
        s, method = torch.linalg.svdvals(work).to(torch.float64), "svdvals"
        total = float((s * s).sum())
    else:
        with torch.random.fork_rng(devices=[]):  # svd_lowrank draws its random projection
            torch.manual_seed(0)
            _, s, _ = torch.svd_lowrank(delta.float(), q=min(LOWRANK_Q, m, n), niter=4)
        s, method = s.to(torch.float64), "svd_lowrank"
        total = norm_delta**2
    s1 = float(s[0])
    energy = torch.cumsum(s * s, 0)
    reached = torch.nonzero(energy >= ENERGY * total)
    p = s[s > 0] / s.sum()
    r = int((s > LOW_RANK_TOL * s1).sum())
    low = r if r < s.numel() and r <= min(m, n) / 4 else None
    return Spectrum(
        stable_rank=norm_delta**2 / s1**2,
        energy_rank=int(reached[0]) + 1 if reached.numel() else None,
        effective_rank=math.exp(float(-(p * p.log()).sum())),
        low_rank=low,
        top=tuple(float(v) for v in s[:TOP]),
        computed=int(s.numel()),
        method=method,
    )


def _bits_dtype(t: torch.Tensor) -> torch.dtype:
    """The integer dtype of ``t``'s element size, to compare values bit for bit."""
    import torch

    return {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()]


def _eps(dtype: torch.dtype) -> float:
    import torch

    return float(torch.finfo(dtype).eps) if dtype.is_floating_point else 0.0


def _dtype(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")
