"""One registry pattern for every plugin point: model sources, tasks, bench variants.

An entry is a name and a lazy ``"pkg.module:obj"`` target, imported the first time the name is
looked up, so that listing names (``--help``, error messages) never imports torch. Registering a
name twice is a bug and raises ``ValueError``; looking up an unknown name is the user's error and
raises the registry's :class:`~whichmodel.errors.WhichModelError` subclass (so each registry keeps
its exit code), with the close matches and the full list:

>>> from whichmodel.errors import ConfigError
>>> ops = Registry("op", error=ConfigError)  # a Registry[Callable[[float], float]]
>>> ops.register("sqrt", "math:sqrt")
>>> ops.register("floor", "math:floor")
>>> ops.get("sqrt")(9.0)
3.0
>>> ops.names()
('sqrt', 'floor')
>>> ops.get("sqr")
Traceback (most recent call last):
whichmodel.errors.ConfigError: Unknown op 'sqr'. Did you mean 'sqrt'? Known ops: sqrt, floor.

Hidden entries (the fakes the tests use) are found by :meth:`Registry.get` but never listed or
suggested: they are not for users.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Generic, TypeVar

from whichmodel.errors import WhichModelError, brief

T = TypeVar("T")

__all__ = ["Registry"]


@dataclass(frozen=True)
class _Entry:
    target: str
    summary: str
    hidden: bool


class Registry(Generic[T]):
    """Names -> lazily imported objects of type ``T`` (a class, an instance, a function).

    Args:
        what: what one entry is, for messages: ``"task"`` gives "Unknown task ... Known tasks: ...".
        error: the exception raised for an unknown name.
    """

    def __init__(self, what: str, *, error: type[WhichModelError]) -> None:
        self.what = what
        self.error = error
        self._entries: dict[str, _Entry] = {}
        self._loaded: dict[str, T] = {}

    def register(self, name: str, target: str, *, summary: str = "", hidden: bool = False) -> None:
        """Add ``name``, to be imported from ``target`` (``"pkg.module:attribute"``) when first
        looked up.

        Args:
            summary: one line for help texts (e.g. a source's ``"hf:DIR"``), read without
                importing the target.
            hidden: found by :meth:`get` but left out of :meth:`names` and of error messages.

        Raises:
            ValueError: ``name`` is registered already, or ``target`` is not ``module:attribute``.
        """
        if name in self._entries:
            raise ValueError(
                f"The {self.what} {name!r} is registered twice "
                f"({self._entries[name].target} and {target})."
            )
        module, sep, attribute = target.partition(":")
        if not (module and sep and attribute):
            raise ValueError(
                f"A {self.what} target must be 'pkg.module:attribute'. Got {target!r} instead."
            )
        self._entries[name] = _Entry(target, summary, hidden)

    def get(self, name: str) -> T:
        """The object registered as ``name``, imported on first use.

        Raises:
            WhichModelError: (the registry's ``error`` class) ``name`` is not registered.
        """
        if name in self._loaded:
            return self._loaded[name]
        entry = self._entries.get(name)
        if entry is None:
            raise self.unknown(name)
        module, _, attribute = entry.target.partition(":")
        found: T = getattr(importlib.import_module(module), attribute)
        self._loaded[name] = found
        return found

    def names(self) -> tuple[str, ...]:
        """The listed names, in the order they were registered (hidden ones left out)."""
        return tuple(n for n, e in self._entries.items() if not e.hidden)

    def summary(self, name: str) -> str:
        """The one-line summary ``name`` was registered with (``""`` when none)."""
        entry = self._entries.get(name)
        if entry is None:
            raise self.unknown(name)
        return entry.summary

    def close_matches(self, name: str, n: int = 2) -> list[str]:
        """Up to ``n`` listed names that look like ``name`` (a typo's likely meaning)."""
        return difflib.get_close_matches(name, self.names(), n=n)

    def unknown(self, name: str) -> WhichModelError:
        """The error for an unknown ``name``: the close matches, then every listed name."""
        close = self.close_matches(name)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        known = ", ".join(self.names())
        return self.error(f"Unknown {self.what} {brief(name)}.{hint} Known {self.what}s: {known}.")

    def __contains__(self, name: object) -> bool:
        return name in self._entries
