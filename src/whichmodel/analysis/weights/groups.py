"""Tensors grouped by layer (block index) × module, each group with a verdict.

A tensor's name is split at its first all-digit part, the block index:
``model.layers.3.self_attn.q_proj.weight`` is block 3, module ``self_attn.q_proj`` (its last
part, ``weight``, is the parameter). A name without a digit part has no block; its module is the
name without its parameter (``model.embed_tokens``, ``lm_head``).

The verdict of a group, the first that holds:

1. ``unchanged``: every value of every tensor is bit-identical.
2. ``small noise``: every changed tensor moved only at rounding level (each value by at most the
   machine epsilon of the coarser dtype, relative to itself): a cast or a re-save, not training.
3. ``merged LoRA``: every changed tensor is a matrix (no bias or norm changed) whose delta is
   low-rank (:data:`whichmodel.analysis.weights.measures.LOW_RANK_TOL`: after r singular values
   the spectrum drops below 10⁻³·σ_1 and stays there for at least 3/4 of its length); the
   group's rank is the largest r: "looks like a merged LoRA of rank ≤ r".
4. ``full fine-tune``: anything else that changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whichmodel.analysis.weights.measures import TensorDiff

UNCHANGED, NOISE, LORA, FULL = "unchanged", "small noise", "merged LoRA", "full fine-tune"
VERDICTS = (UNCHANGED, NOISE, LORA, FULL)


@dataclass(frozen=True)
class GroupDiff:
    """One module of one block (``block`` None: outside the blocks) and what changed in it.

    Args:
        tensors: the names of its tensors.
        rel_change: ‖ΔW‖/‖W_A‖ over all its tensors together; None when W_A is zero and ΔW
            is not.
        n_changed: how many of its tensors changed.
        verdict: one of :data:`VERDICTS` (see the module docstring).
        rank: for ``merged LoRA``, the largest low rank of its changed matrices; else None.
    """

    block: int | None
    module: str
    tensors: tuple[str, ...]
    rel_change: float | None
    n_changed: int
    verdict: str
    rank: int | None = None

    @property
    def label(self) -> str:
        """``3 self_attn.q_proj`` or ``lm_head``."""
        return self.module if self.block is None else f"{self.block} {self.module}"

    @property
    def text(self) -> str:
        """The verdict in words."""
        if self.verdict == LORA:
            return f"looks like a merged LoRA of rank ≤ {self.rank}"
        return self.verdict


def split_name(name: str) -> tuple[int | None, str]:
    """(block, module) of a tensor name (see the module docstring).

    >>> split_name("model.layers.3.self_attn.q_proj.weight")
    (3, 'self_attn.q_proj')
    >>> split_name("lm_head.weight")
    (None, 'lm_head')
    """
    parts = name.split(".")
    stem = parts[:-1] if len(parts) > 1 else parts
    for i, part in enumerate(stem):
        if part.isdigit():
            return int(part), ".".join(stem[i + 1 :]) or ".".join(stem[:i])
    return None, ".".join(stem)


def group(diffs: tuple[TensorDiff, ...]) -> tuple[GroupDiff, ...]:
    """The groups of ``diffs``, in the order their first tensor comes."""
    members: dict[tuple[int | None, str], list[TensorDiff]] = {}
    for d in diffs:
        members.setdefault(split_name(d.name), []).append(d)
    return tuple(_group(block, module, ds) for (block, module), ds in members.items())


def _group(block: int | None, module: str, diffs: list[TensorDiff]) -> GroupDiff:
    changed = [d for d in diffs if d.changed]
    norm_a = math.sqrt(sum(d.norm_a**2 for d in diffs))
    norm_delta = math.sqrt(sum(d.norm_delta**2 for d in diffs))
    rel = 0.0 if norm_delta == 0 else (norm_delta / norm_a if norm_a > 0 else None)
    names = tuple(d.name for d in diffs)
    if not changed:
        return GroupDiff(block, module, names, rel, 0, UNCHANGED)
    if all(d.rounding_only for d in changed):
        return GroupDiff(block, module, names, rel, len(changed), NOISE)
    ranks = [d.spectrum.low_rank if d.spectrum is not None else None for d in changed]
    if all(r is not None for r in ranks):
        return GroupDiff(block, module, names, rel, len(changed), LORA,
                         max(r for r in ranks if r is not None))
    return GroupDiff(block, module, names, rel, len(changed), FULL)
