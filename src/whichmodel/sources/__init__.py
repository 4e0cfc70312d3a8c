"""Model sources: one module (or package) per kind of reference, each a
:class:`~whichmodel.sources.base.Source` registered in :data:`whichmodel.refs.SOURCES`.

The functions here look the source up by the reference's kind and call it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from whichmodel.refs import SOURCES, ModelRef, parse_ref
from whichmodel.sources.base import Inputs, LoadOptions, Model, ModelInfo, RawOutput, Source


@dataclass(frozen=True)
class Loaded:
    """A model together with how long it took to load (seconds, wall clock)."""

    model: Model
    load_time_s: float


def source(kind: str) -> Source:
    """The source that reads references of ``kind`` (imported on first use).

    Raises:
        ModelReferenceError: no source reads ``kind``.
    """
    return SOURCES.get(kind)


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
    reader = source(parsed.kind)
    start = time.perf_counter()
    model = reader.load(parsed, options or LoadOptions())
    return Loaded(model, time.perf_counter() - start)


def fingerprint_files(ref: ModelRef) -> tuple[str, ...]:
    """Every file the model's fingerprint covers: :func:`reference_files`, then
    :func:`code_files` (see :meth:`Source.files`).

    Raises:
        ModelReferenceError: a file the reference names does not exist.
    """
    return source(ref.kind).files(ref)


def reference_files(ref: ModelRef) -> tuple[str, ...]:
    """The files a reference reads (weights, config, the factory's module), without loading.

    Raises:
        ModelReferenceError: a file the reference names does not exist, or its factory module
            cannot be found.
    """
    return source(ref.kind).files(ref, code=False)


def code_files(ref: ModelRef) -> tuple[str, ...]:
    """The Python files a factory reference's model may be built from (every ``.py`` of the
    factory's package, unless it is an installed library); ``()`` for other references.

    Part of the model's fingerprint, so editing a module the factory imports is noticed.
    """
    return fingerprint_files(ref)[len(reference_files(ref)) :]


__all__ = [
    "Inputs",
    "LoadOptions",
    "Loaded",
    "Model",
    "ModelInfo",
    "RawOutput",
    "Source",
    "code_files",
    "fingerprint_files",
    "load",
    "load_timed",
    "reference_files",
    "source",
]
