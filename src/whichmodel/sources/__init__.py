"""Model sources: one module per kind of reference, each with ``load(ref, options) -> Model``."""

from __future__ import annotations

import importlib
import importlib.util
import os
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
    """The files a reference reads (weights, config, the factory's module), without loading.

    Raises:
        ModelReferenceError: a file the reference names does not exist, or its factory module
            cannot be found.
    """
    if ref.kind == "hf":
        folder = Path(ref.target)
        if not folder.is_dir():
            raise ModelReferenceError(f"{folder} is not a folder (from {ref}).")
        return tuple(str(p) for p in sorted(folder.rglob("*")) if p.is_file())
    if ref.kind == "torch" and _is_factory(ref):
        module_name = ref.target.rpartition(":")[0]
        files = [w for w in [ref.param("weights"), _module_file(module_name, ref)] if w]
    else:
        files = [ref.target]
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise ModelReferenceError(f"No such file: {missing[0]} (from {ref}).")
    return tuple(files)


def code_files(ref: ModelRef, limit: int = 1000) -> tuple[str, ...]:
    """The Python files a factory reference's model may be built from: every ``.py`` of the
    factory's package (or folder, for ``file.py:factory``), unless it is an installed library.

    Part of the model's fingerprint, so editing a module the factory imports is noticed.
    """
    if ref.kind != "torch" or not _is_factory(ref):
        return ()
    module_name = ref.target.rpartition(":")[0]
    if module_name.endswith(".py"):
        return tuple(str(p) for p in sorted(Path(module_name).parent.glob("*.py"))[:limit])
    spec = importlib.util.find_spec(module_name.split(".")[0])
    if spec is None or not spec.origin or "-packages" in spec.origin:
        return ()  # an installed library: its version is in the fingerprint instead
    if spec.submodule_search_locations:
        return _python_files(next(iter(spec.submodule_search_locations)))[:limit]
    return (spec.origin,)


def _python_files(root: str) -> tuple[str, ...]:
    """Every ``.py`` file under ``root``, in ``sorted(Path(root).rglob("*.py"))`` order (by path
    parts), through ``os.walk``: 4x faster than pathlib's rglob, paid once per model per run."""
    found = [
        os.path.join(folder, name)
        for folder, _, names in os.walk(root)
        for name in names
        if name.endswith(".py")
    ]
    return tuple(sorted(found, key=lambda f: f.split(os.sep)))


def _is_factory(ref: ModelRef) -> bool:
    return ":" in ref.target and not ref.target.endswith((".pt", ".pth", ".pt2"))


def _module_file(module_name: str, ref: ModelRef) -> str:
    if module_name.endswith(".py"):
        return module_name
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin or spec.origin == "built-in":
        raise ModelReferenceError(
            f"Cannot find module '{module_name}' (from {ref}); is it on PYTHONPATH, or give a "
            "path to a .py file ('torch:path/to/models.py:factory')?"
        )
    return spec.origin


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
    "code_files",
    "load",
    "load_timed",
    "reference_files",
]
