"""Model sources: one module (or package) per kind of reference, each a
:class:`~whichmodel.sources.contract.Source` registered in :data:`whichmodel.refs.SOURCES`.

The functions here look the source up by the reference's kind and call it: :func:`load` (the
public ``whichmodel.load``), :func:`inspect` (``whichmodel.inspect``), the files a fingerprint
covers. This package, its sources and the Source contract sit right of spec, whose sheets they
make; the values every stage shares (:mod:`.base`, :mod:`.capabilities`, :mod:`.audio`) and the
model files read without a model library (:mod:`.weights`, :mod:`.hf.config`) sit left of data
and spec (``tests/test_architecture.py``), so nothing here is imported at module level that
imports spec.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from whichmodel.errors import ModelReferenceError
from whichmodel.refs import SOURCES, ModelRef, parse_ref
from whichmodel.sources.base import Inputs, LoadOptions, Model, ModelInfo, RawOutput
from whichmodel.sources.contract import Source

if TYPE_CHECKING:
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet


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
    # The registry lives in refs (parsing a reference imports no source) and is typed here:
    # every registered module annotates its ``SOURCE: Source``.
    return cast("Source", SOURCES.get(kind))


#: The option every kind reads (``ModelRef.name``), on top of those its source declares.
COMMON_OPTIONS = {"name": "the name shown in tables"}


def checked_source(ref: ModelRef) -> Source:
    """The source of ``ref``, once every ``?key=`` option of ``ref`` is one it reads
    (:meth:`Source.options`): an option no source reads would otherwise be ignored silently.

    Raises:
        ModelReferenceError: ``The option 'foo' of sklearn:m.skops is not one whichmodel knows
            for sklearn models. Did you mean ...? Options: name.``
    """
    reader = source(ref.kind)
    declared = reader.options(ref)
    if declared is None:  # the rest goes to the user's code, which judges it
        return reader
    known = sorted({*COMMON_OPTIONS, *declared})
    for key, _ in ref.params:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ModelReferenceError(
                f"The option '{key}' of {ref.kind}:{ref.target} is not one whichmodel knows "
                f"for {ref.kind} models.{hint} Options: {', '.join(known)}."
            )
    return reader


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
    reader = checked_source(parsed)
    start = time.perf_counter()
    model = reader.load(parsed, options or LoadOptions())
    return Loaded(model, time.perf_counter() - start)


def inspect(ref: ModelRef | str | Any, options: InspectOptions | None = None, **kwargs: Any
            ) -> SpecSheet:
    """The spec sheet of a model reference (``hf:``, ``torch:``, ``onnx:``, ``gguf:``,
    ``sklearn:``), or of a live ``torch.nn.Module`` / scikit-learn estimator.

    Keyword arguments are :class:`~whichmodel.spec.InspectOptions` fields
    (``context=4096, dtype="bf16"``).

    Raises:
        WhichModelError: the reference is malformed, its files unreadable, or its config unknown.
    """
    from whichmodel.spec import InspectOptions, inspect_object

    opts = (options or InspectOptions(**kwargs)).check()
    if not isinstance(ref, ModelRef | str):
        return inspect_object(ref, opts)
    parsed = parse_ref(ref) if isinstance(ref, str) else ref
    return checked_source(parsed).inspect(parsed, opts)


def inspect_model(ref: ModelRef, loaded: Callable[[], Model], options: InspectOptions
                  ) -> SpecSheet:
    """The spec sheet of a model a caller may have loaded already (a comparison has).

    Hugging Face folders, ONNX and GGUF files are read from their config / graph / header (no
    weights in memory); PyTorch modules and estimators are read from the loaded model
    (``loaded`` returns it, loading it only if it is not loaded yet), and so is an endpoint's
    (its ``spec_sheet()``: what the server said when it was probed); a model holding neither
    (the fake source's) gets the sheet its source reads from ``ref``.

    Raises:
        WhichModelError: the sheet cannot be made (unreadable config, unsupported kind).
    """
    from whichmodel.spec import inspect_object

    if ref.kind not in ("hf", "onnx", "gguf"):
        model = loaded()
        # An empty nn.Sequential is falsy: test for None, not truth.
        inner = getattr(model, "module", None)
        if inner is None:
            inner = getattr(model, "estimator", None)
        if inner is not None:
            return inspect_object(inner, options, ref=ref)
        own = getattr(model, "spec_sheet", None)  # a served model: what its server said at load
        if callable(own):
            return cast("SpecSheet", own())
    return inspect(ref, options)


def check_inputs(ref: ModelRef, inputs: Inputs, options: LoadOptions) -> None:
    """Raise before any model runs when ``inputs`` (a sample of the data's rows) cannot reach
    the model ``ref`` names as it expects them: a source that can tell from the model's own
    record (an estimator's columns and dtypes) defines ``check_inputs(ref, options, inputs)``;
    for the others the first batch tells.

    Raises:
        WhichModelError: e.g. DataError naming the column that does not fit.
    """
    from whichmodel.sources import shapes

    shape = shapes.ref_shape(ref) if reads_arrays(ref) else None
    if shape is not None:
        shapes.check_size(inputs, shape, f"the input shape {shape} of {ref.name}")
    check = getattr(checked_source(ref), "check_inputs", None)
    if check is not None:
        check(ref, options, inputs)


def fingerprint_files(ref: ModelRef) -> tuple[str, ...]:
    """Every file the model's fingerprint covers: :func:`reference_files`, then
    :func:`code_files` (see :meth:`Source.files`).

    Raises:
        ModelReferenceError: a file the reference names does not exist, or the reference has
            an option its kind does not read.
    """
    return checked_source(ref).files(ref)


def reference_files(ref: ModelRef) -> tuple[str, ...]:
    """The files a reference reads (weights, config, the factory's module), without loading.

    Raises:
        ModelReferenceError: a file the reference names does not exist, its factory module
            cannot be found, or the reference has an option its kind does not read.
    """
    return checked_source(ref).files(ref, code=False)


def code_files(ref: ModelRef) -> tuple[str, ...]:
    """The Python files a factory reference's model may be built from (every ``.py`` of the
    factory's package, unless it is an installed library); ``()`` for other references.

    Part of the model's fingerprint, so editing a module the factory imports is noticed.
    """
    return fingerprint_files(ref)[len(reference_files(ref)) :]


def shaped_refs(
    refs: list[ModelRef], shape: tuple[int, ...] | None, inputs: Inputs
) -> list[ModelRef]:
    """``refs`` with compare's ``--input-shape`` ``shape`` given to each that reads arrays
    (``sources.shapes.with_shape``), checked against a sample of the data's ``inputs`` first.

    Raises:
        ConfigError: the examples hold another number of values, or no model reads arrays.
    """
    from whichmodel.errors import ConfigError
    from whichmodel.sources import shapes

    if shape is None:
        return refs
    shapes.check_size(inputs, shape, "--input-shape " + shapes.reshape_text(shape))
    if not any(reads_arrays(r) for r in refs):
        raise ConfigError(
            "--input-shape reshapes the inputs of torch: and onnx: models, and none of the models "
            "is one; leave it out."
        )
    return [shapes.with_shape(r, shape) if reads_arrays(r) else r for r in refs]


def reads_arrays(ref: ModelRef) -> bool:
    """Whether ``ref``'s model reads arrays (and so takes ``?input_shape=``)."""
    if ref.kind == "object":
        from whichmodel.sources.objects import is_module

        return is_module(ref)
    from whichmodel.sources.shapes import ARRAY_KINDS

    return ref.kind in ARRAY_KINDS


__all__ = [
    "COMMON_OPTIONS",
    "Inputs",
    "LoadOptions",
    "Loaded",
    "Model",
    "ModelInfo",
    "RawOutput",
    "Source",
    "check_inputs",
    "checked_source",
    "code_files",
    "fingerprint_files",
    "inspect",
    "inspect_model",
    "load",
    "load_timed",
    "reads_arrays",
    "reference_files",
    "shaped_refs",
    "source",
]

