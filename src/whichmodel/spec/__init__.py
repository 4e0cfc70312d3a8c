"""Spec sheets: what a model is, read from the artifact (``whichmodel.inspect``), and how two
differ (:func:`whichmodel.spec.diff.diff`).

Spec reads model files itself (configs, safetensors headers, ONNX graphs) and never loads a model
through a source: each source makes its sheet with the builders here, and ``whichmodel.inspect``
(:func:`whichmodel.sources.inspect`) picks the source by the reference's kind.

    >>> sheet = whichmodel.inspect("hf:path/to/folder")  # doctest: +SKIP
    >>> sheet.size.total.value, sheet.design.attention.value  # doctest: +SKIP
    (6738415616, 'MHA')
"""

from __future__ import annotations

from typing import Any

from whichmodel.errors import ModelReferenceError
from whichmodel.refs import ModelRef
from whichmodel.spec.base import DTYPE_BYTES, Fact, SpecSheet
from whichmodel.spec.compute import kv_cache_bytes
from whichmodel.spec.options import DTYPE_ALIASES, InspectOptions, canonical_dtype


def inspect_object(obj: Any, options: InspectOptions, *, ref: ModelRef | None = None
                   ) -> SpecSheet:
    """The spec sheet of a live ``torch.nn.Module`` or a fitted estimator (scikit-learn, XGBoost,
    LightGBM), named after ``ref`` when a source loaded it from one.

    A model reference is inspected by its source (``whichmodel.inspect``, in
    :mod:`whichmodel.sources`, which sits right of spec and calls this).

    Raises:
        ConfigError: ``options`` hold a bad value.
        ModelReferenceError: ``obj`` is neither a module nor an estimator.
    """
    opts = options.check()
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
        "(hf:DIR, torch:..., onnx:FILE, gguf:FILE, sklearn:FILE), a torch.nn.Module or an "
        "estimator."
    )


__all__ = [
    "DTYPE_ALIASES",
    "DTYPE_BYTES",
    "Fact",
    "InspectOptions",
    "SpecSheet",
    "canonical_dtype",
    "inspect_object",
    "kv_cache_bytes",
]
