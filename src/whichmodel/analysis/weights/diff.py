""":func:`weight_diff`: two checkpoints, compared tensor by tensor."""

from __future__ import annotations

from collections.abc import Callable

from whichmodel.analysis.weights.checkpoint import Checkpoint, open_checkpoint
from whichmodel.analysis.weights.groups import group
from whichmodel.analysis.weights.measures import TensorDiff, measure
from whichmodel.analysis.weights.result import AdapterUse, WeightDiff

Progress = Callable[[str, int, int], None]  # (what, done, total)


def weight_diff(
    a: str,
    b: str,
    *,
    base: str | None = None,
    allow_pickle: bool = False,
    progress: Progress | None = None,
) -> WeightDiff:
    """Compare the weights of checkpoints ``a`` and ``b`` tensor by tensor.

    Tensors are matched by name and shape and read one pair at a time, so memory holds about
    two tensors (plus a float32 copy of the delta of 16-bit ones), never two models.

    Args:
        a, b: references: ``hf:DIR``, ``hf:org/name`` (cached), ``torch:FILE.safetensors``,
            ``torch:pkg.mod:factory?weights=FILE``, a bare ``FILE.safetensors``, or ``hf:DIR``
            of a PEFT LoRA adapter (merged into its base: see ``base``).
        base: the base model of an adapter given as ``a`` or ``b``; by default the base its
            config names when that is here, else the other checkpoint.
        allow_pickle: read pickled weights (``.bin``, ``.pt``), which can run code.
        progress: called with ("weights", done, total) after each tensor.

    Returns:
        The :class:`WeightDiff`: per tensor, per group (block × module) with verdicts, and the
        tensors that do not match.

    Raises:
        ModelReferenceError, UnsafeModelError, ModelLoadError: a reference names nothing
            readable, pickled weights without ``allow_pickle``, or an adapter this cannot merge.
    """
    ca = open_checkpoint(a, allow_pickle=allow_pickle, base=base, other=b)
    cb = open_checkpoint(b, allow_pickle=allow_pickle, base=base, other=a)
    names = [n for n, e in ca.entries.items() if n in cb.entries
             and e.shape == cb.entries[n].shape]
    mismatch = tuple((n, e.shape, cb.entries[n].shape) for n, e in ca.entries.items()
                     if n in cb.entries and e.shape != cb.entries[n].shape)
    tensors = _measure_all(ca, cb, names, progress)
    return WeightDiff(
        a=a, b=b, tensors=tensors, groups=group(tensors),
        only_a=tuple(n for n in ca.entries if n not in cb.entries),
        only_b=tuple(n for n in cb.entries if n not in ca.entries),
        shape_mismatch=mismatch,
        adapters=tuple(_use(side, c) for side, c in (("a", ca), ("b", cb))
                       if c.adapter is not None),
    )


def _measure_all(
    ca: Checkpoint, cb: Checkpoint, names: list[str], progress: Progress | None
) -> tuple[TensorDiff, ...]:
    diffs: list[TensorDiff] = []
    for i, name in enumerate(names):
        pair = [ca.tensor(name), cb.tensor(name)]  # emptied by measure: freed as it goes
        diffs.append(measure(name, pair, in_place=cb.fresh))
        if progress is not None:
            progress("weights", i + 1, len(names))
    return tuple(diffs)


def _use(side: str, checkpoint: Checkpoint) -> AdapterUse:
    ad = checkpoint.adapter
    assert ad is not None
    return AdapterUse(
        side=side, folder=str(ad.folder), base=str(checkpoint.base), rank=ad.rank,
        alpha=ad.alpha, scale=ad.scale, use_rslora=ad.use_rslora,
        target_modules=ad.target_modules, n_adapted=len(ad.pairs) + len(ad.replaced),
    )
