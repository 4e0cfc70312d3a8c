"""The Source contract: how one kind of model reference is read (DESIGN.md, "Contracts").

A source gives the files a reference covers, the model it loads and its spec sheet. It makes the
sheet with :mod:`whichmodel.spec`, so the contract (and every source) sits right of spec, while
the values it passes (:mod:`whichmodel.sources.base`) sit left of data and spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from whichmodel.refs import ModelRef
from whichmodel.sources.base import LoadOptions, Model

if TYPE_CHECKING:  # spec is imported when a sheet is made, not when a source is
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet


class Source(Protocol):
    """How one kind of model reference is read. Stateless: one shared instance per kind,
    registered in :data:`whichmodel.refs.SOURCES` as ``"pkg.module:SOURCE"`` and looked up with
    :func:`whichmodel.sources.source`. Each module annotates its ``SOURCE: Source``, so mypy
    holds every source to this contract.

    ``whichmodel.sources.fake`` is the smallest implementation.
    """

    def options(self, ref: ModelRef) -> Mapping[str, str] | None:
        """The ``?key=value`` options a reference like ``ref`` reads, each with what it does
        (``name``, which every kind reads, aside), so that any other is refused before a model
        runs (:func:`whichmodel.sources.check_options`); None when ``ref`` hands its other
        options to code of the user's (a torch factory's keyword arguments), which judges them.
        """
        ...

    def files(self, ref: ModelRef, *, code: bool = True) -> tuple[str, ...]:
        """The files the model is read from (weights, config, a factory's module), then, with
        ``code``, the Python files it may be built from (a factory's package): what the
        model's fingerprint covers. Reads no file; a model with no files gives ``()``.

        Raises:
            ModelReferenceError: a file the reference names does not exist.
        """
        ...

    def load(self, ref: ModelRef, options: LoadOptions) -> Model:
        """The model, loaded as far as ``options`` allow.

        Raises:
            WhichModelError: the files are missing, unsafe to load without permission
                (UnsafeModelError), or unreadable (ModelLoadError).
        """
        ...

    def inspect(self, ref: ModelRef, options: InspectOptions) -> SpecSheet:
        """The model's spec sheet (see :mod:`whichmodel.spec`); a fact that cannot be read is
        ``unknown`` with its reason, never a failure of the whole sheet.

        Raises:
            WhichModelError: the reference itself cannot be read.
        """
        ...
