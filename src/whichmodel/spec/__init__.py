"""Spec sheets: what a model is, read from the artifact (``whichmodel.inspect``), and how two
differ (:func:`whichmodel.spec.diff.diff`).

    >>> sheet = inspect("hf:path/to/folder")           # doctest: +SKIP
    >>> sheet.size.total.value, sheet.design.attention.value  # doctest: +SKIP
    (6738415616, 'MHA')
"""

from __future__ import annotations

from typing import Any

from whichmodel.errors import ModelReferenceError
from whichmodel.refs import ModelRef, parse_ref
from whichmodel.spec.base import DTYPE_BYTES, Fact, SpecSheet
from whichmodel.spec.compute import kv_cache_bytes
from whichmodel.spec.options import DTYPE_ALIASES, InspectOptions, canonical_dtype


def inspect(ref: ModelRef | str | Any, options: InspectOptions | None = None, **kwargs: Any
            ) -> SpecSheet:
    """The spec sheet of a model reference (``hf:``, ``torch:``, ``onnx:``, ``sklearn:``), or of a
    live ``torch.nn.Module`` / scikit-learn estimator.

    Keyword arguments are :class:`InspectOptions` fields (``context=4096, dtype="bf16"``).

    Raises:
        WhichModelError: the reference is malformed, its files unreadable, or its config unknown.
    """
    opts = (options or InspectOptions(**kwargs)).check()
    if not isinstance(ref, ModelRef | str):
        return _inspect_object(ref, opts)
    from whichmodel.sources import source

    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    return source(parsed.kind).inspect(parsed, opts)


def inspect_loaded(model: Any, opts: InspectOptions, *, ref: ModelRef) -> SpecSheet:
    """The sheet of a model a source already loaded (its ``module`` or ``estimator``); a model
    holding neither (a Hugging Face model, the fake source's) gets the sheet its source reads
    from ``ref``."""
    # An empty nn.Sequential is falsy: test for None, not truth.
    inner = getattr(model, "module", None)
    if inner is None:
        inner = getattr(model, "estimator", None)
    if inner is None:
        return inspect(ref, opts)
    return _inspect_object(inner, opts.check(), ref=ref)


def _inspect_object(obj: Any, opts: InspectOptions, *, ref: ModelRef | None = None) -> SpecSheet:
    name = ref.name if ref else type(obj).__name__
    raw = str(ref) if ref else f"<{type(obj).__name__} object>"
    if hasattr(obj, "named_parameters") and hasattr(obj, "modules"):
        from whichmodel.spec.torch_module import inspect_module

        return inspect_module(obj, opts, name=name, ref=raw)
    if hasattr(obj, "fit") or hasattr(obj, "get_booster"):
        from whichmodel.spec.estimators import inspect_estimator

        return inspect_estimator(obj, name=name, ref=raw)
    raise ModelReferenceError(
        f"Cannot make a spec sheet of a {type(obj).__name__}; pass a model reference "
        "(hf:DIR, torch:..., onnx:FILE, sklearn:FILE), a torch.nn.Module or an estimator."
    )


__all__ = [
    "DTYPE_ALIASES",
    "DTYPE_BYTES",
    "Fact",
    "InspectOptions",
    "SpecSheet",
    "canonical_dtype",
    "inspect",
    "inspect_loaded",
    "kv_cache_bytes",
]
