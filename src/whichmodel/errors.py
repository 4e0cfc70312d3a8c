"""Every failure a user can cause, as one exception family.

The CLI turns any :class:`WhichModelError` into one line on stderr and exit code 2; anything else
is a bug in whichmodel and keeps its traceback. Messages say what was wrong and what to do.
"""

from __future__ import annotations

import reprlib


class WhichModelError(Exception):
    """Base class of user-facing errors: one clear line, exit code 2."""

    exit_code = 2


class ModelReferenceError(WhichModelError):
    """A model reference could not be parsed or points at nothing."""


class UnsafeModelError(WhichModelError):
    """Loading the model would run code from the file (pickle, remote code) without permission."""


class ModelLoadError(WhichModelError):
    """The reference is well formed but the model could not be loaded."""


class PredictionError(WhichModelError):
    """A model fails on the data (on every example tried), so there is nothing to compare."""


class DataError(WhichModelError):
    """The data file is missing, unreadable, or does not fit the task."""


class TaskError(WhichModelError):
    """The task, its options or the models' outputs do not fit together."""


class ConfigError(WhichModelError):
    """A whichmodel.yaml file or a command-line option is invalid."""


class StoreError(WhichModelError):
    """The run store cannot be opened or written."""


class MissingExtraError(WhichModelError):
    """An optional dependency is not installed; the message names the install command."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package} is not installed; install it with: pip install 'whichmodel[{extra}]'"
        )


def brief(value: object, limit: int = 80) -> str:
    """``repr(value)`` in at most ``limit`` characters, for error messages: a value read from a
    user's file may be huge (a YAML alias bomb expands to 10^9 strings), nested without end, or
    contain itself; only the first items of the first levels are ever looked at.

    >>> brief(["lol"] * 10**6)
    "['lol', 'lol', 'lol', 'lol', ...]"
    """
    short = reprlib.Repr()  # Repr's keyword arguments are Python 3.12+
    short.maxlevel, short.maxstring, short.maxother, short.maxlong = 3, limit, limit, limit
    short.maxlist = short.maxtuple = short.maxdict = short.maxset = short.maxfrozenset = 4
    text = short.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = [
    "ConfigError",
    "DataError",
    "MissingExtraError",
    "ModelLoadError",
    "ModelReferenceError",
    "PredictionError",
    "StoreError",
    "TaskError",
    "UnsafeModelError",
    "WhichModelError",
    "brief",
]
