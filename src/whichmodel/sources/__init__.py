"""Model sources: one module per kind of reference, each with ``load(ref, options) -> Model``."""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from whichmodel.errors import ModelReferenceError
from whichmodel.refs import ModelRef, parse_ref
from whichmodel.sources.base import Inputs, LoadOptions, Model, ModelInfo, RawOutput

# kind -> "module:function", imported only when a reference of that kind is loaded, so that
# `whichmodel --help` never imports torch.
_LOADERS: dict[str, str] = {
    "sklearn": "whichmodel.sources.sklearn:load",
    "torch": "whichmodel.sources.torch:load",
    "hf": "whichmodel.sources.hf:load",
}


@dataclass(frozen=True)
class Loaded:
    """A model together with how long it took to load (seconds, wall clock)."""

    model: Model
    load_time_s: float


def load(ref: ModelRef | str, options: LoadOptions | None = None) -> Model:
    """Load the model a reference names.

    >>> load("nonsense:thing")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ModelReferenceError: Unknown model kind 'nonsense:' in 'nonsense:thing'. ...
    """
    return load_timed(ref, options).model


def load_timed(ref: ModelRef | str, options: LoadOptions | None = None) -> Loaded:
    """Like :func:`load`, also returning the load time."""
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    loader = _loader(parsed.kind)
    start = time.perf_counter()
    model = loader(parsed, options or LoadOptions())
    return Loaded(model, time.perf_counter() - start)


def reference_files(ref: ModelRef) -> tuple[str, ...]:
    """The files a reference reads (weights, config, factory code), without loading the model.

    Their digests make the model's fingerprint, so a stored result is reused only while every
    one of these files is unchanged.

    Raises:
        ModelReferenceError: a file the reference names does not exist.
    """
    if ref.kind == "hf":
        folder = Path(ref.target)
        files = (
            [str(p) for p in sorted(folder.rglob("*")) if p.is_file()] if folder.is_dir() else []
        )
    elif ref.kind == "torch" and ":" in ref.target and not ref.target.endswith((".pt", ".pt2")):
        module_name = ref.target.rpartition(":")[0]
        files = [w for w in [ref.param("weights"), _module_file(module_name)] if w]
    else:
        files = [ref.target]
    missing = [f for f in files if not Path(f).is_file()]
    if missing or not files:
        raise ModelReferenceError(
            f"No such file: {missing[0] if missing else ref.target} (from {ref})."
        )
    return tuple(files)


def _module_file(module_name: str) -> str | None:
    if module_name.endswith(".py"):
        return module_name
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec and spec.origin and spec.origin != "built-in" else None


def _loader(kind: str) -> Callable[[ModelRef, LoadOptions], Model]:
    target = _LOADERS.get(kind)
    if target is None:
        raise ModelReferenceError(
            f"Model references of kind '{kind}:' are not supported yet; "
            f"supported: {', '.join(sorted(_LOADERS))}."
        )
    module_name, func = target.split(":")
    loader: Callable[[ModelRef, LoadOptions], Model] = getattr(
        importlib.import_module(module_name), func
    )
    return loader


__all__ = [
    "Inputs",
    "LoadOptions",
    "Loaded",
    "Model",
    "ModelInfo",
    "RawOutput",
    "load",
    "load_timed",
    "reference_files",
]
