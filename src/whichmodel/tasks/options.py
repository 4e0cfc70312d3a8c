"""Task options, given after the task name like a query string:
``language-modeling?rolling=sliding&window=512&stride=256``,
``generation?max_new_tokens=64&stop=\\n``.

The canonical spelling (the given options, sorted) is the task's name, so it is recorded with the
results and is part of the prediction cache key: other options, other predictions.
"""

from __future__ import annotations

import difflib
from urllib.parse import parse_qsl, quote

from whichmodel.errors import TaskError


def split_spec(spec: str) -> tuple[str, dict[str, str]]:
    """``"name?a=1&b=2"`` -> ``("name", {"a": "1", "b": "2"})``.

    >>> split_spec("retrieval?k=10&corpus=docs.jsonl")
    ('retrieval', {'k': '10', 'corpus': 'docs.jsonl'})
    """
    name, _, query = spec.partition("?")
    return name, dict(parse_qsl(query, keep_blank_values=True))


class TaskOptions:
    """Typed reads of a task's options; :meth:`finish` rejects any option no read asked for."""

    def __init__(self, task: str, options: dict[str, str]) -> None:
        self.task = task
        self._given = dict(options)
        self._used: dict[str, str] = {}

    def _raw(self, key: str, default: object) -> str | None:
        value = self._given.get(key)
        self._used[key] = value if value is not None else str(default)
        return value

    def integer(self, key: str, default: int | None, *, minimum: int = 1) -> int | None:
        raw = self._raw(key, default)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise TaskError(
                f"The '{key}' option of the '{self.task}' task must be an integer >= {minimum}. "
                f"Got {raw!r} instead."
            )
        return value

    def number(self, key: str, default: float) -> float:
        raw = self._raw(key, default)
        try:
            return default if raw is None else float(raw)
        except ValueError:
            raise TaskError(
                f"The '{key}' option of the '{self.task}' task must be a number. Got {raw!r}."
            ) from None

    def flag(self, key: str, default: bool) -> bool:
        raw = self._raw(key, default)
        if raw is None:
            return default
        if raw.lower() not in ("true", "false", "1", "0"):
            raise TaskError(
                f"The '{key}' option of the '{self.task}' task must be true or false. Got {raw!r}."
            )
        return raw.lower() in ("true", "1")

    def text(self, key: str, default: str) -> str:
        raw = self._raw(key, default)
        return default if raw is None else raw

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        """One of ``allowed``; the first when not given."""
        raw = self._raw(key, allowed[0])
        if raw is not None and raw not in allowed:
            raise TaskError(
                f"The '{key}' option of the '{self.task}' task must be one of "
                f"{', '.join(allowed)}. Got {raw!r} instead."
            )
        return allowed[0] if raw is None else raw

    def integers(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        raw = self._raw(key, ",".join(map(str, default)))
        if raw is None:
            return default
        try:
            values = tuple(sorted({int(v) for v in raw.split(",") if v.strip()}))
        except ValueError:
            values = ()
        if not values or min(values) < 1:
            raise TaskError(
                f"The '{key}' option of the '{self.task}' task must be positive integers "
                f"separated by commas (e.g. 1,5,10). Got {raw!r}."
            )
        return values

    def finish(self) -> str:
        """The canonical name, ``task?key=value&...`` over every option read; raises TaskError
        for options the task does not have."""
        unknown = sorted(set(self._given) - set(self._used))
        if unknown:
            close = difflib.get_close_matches(unknown[0], self._used, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            known = ", ".join(sorted(self._used)) or "none"
            raise TaskError(
                f"The '{self.task}' task has no option '{unknown[0]}'.{hint} Its options: {known}."
            )
        if not self._given:
            return self.task
        query = "&".join(f"{k}={quote(v, safe=',./')}" for k, v in sorted(self._given.items()))
        return f"{self.task}?{query}"
