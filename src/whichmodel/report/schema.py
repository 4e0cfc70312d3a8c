"""Checking a ``results.json`` against the schema whichmodel ships (``results.schema.json``),
and its findings sections against their types, before anything reads it: a hand-edited or
foreign file is one clear error naming the key that is wrong, never a KeyError deep in the
decision code.

The checker covers the JSON Schema keywords that schema uses (type, const, enum, required,
properties, additionalProperties, items, minimum/maximum and their exclusive forms, $ref to
``#/$defs``, oneOf); the tests hold it equal to the ``jsonschema`` package on valid and broken
results. It is here, not a dependency, because ``jsonschema`` is only a test requirement.
"""

from __future__ import annotations

import functools
import json
import math
import operator
from collections.abc import Callable
from importlib import resources
from typing import Any

from whichmodel.errors import ConfigError, brief

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    # JSON Schema counts 3.0 as an integer, as jsonschema does
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and math.isfinite(v) and v.is_integer()),
}

_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "text",
    "boolean": "true or false",
    "null": "null",
    "number": "a number",
    "integer": "an integer",
}


@functools.cache
def results_schema() -> dict[str, Any]:
    """The shipped JSON Schema of results.json."""
    text = resources.files("whichmodel.report").joinpath("results.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_error(value: Any) -> str | None:
    """Where and how ``value`` breaks the results schema (``models[0].name must be a string;
    got 5``), or None when it follows it."""
    return _error(value, results_schema(), "results")


def results_error(value: Any) -> str | None:
    """:func:`schema_error`, then the findings sections the schema leaves open (their types
    are those of :class:`whichmodel.analysis.findings.Findings`)."""
    from whichmodel.analysis.findings import findings_error

    return schema_error(value) or findings_error(value)


def check_results(value: Any, where: str) -> None:
    """Raise ConfigError when ``value``, read from ``where``, is not a results.json of the
    shipped schema; the message names the first key that is wrong."""
    error = results_error(value)
    if error is not None:
        raise ConfigError(
            f"{where} is not a valid whichmodel results.json: {error}. Write it again with "
            "compare --out DIR."
        )


def _error(value: Any, schema: dict[str, Any], path: str) -> str | None:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return _error(value, results_schema()["$defs"][name], path)
    if "oneOf" in schema:
        errors = [_error(value, s, path) for s in schema["oneOf"]]
        if sum(e is None for e in errors) == 1:
            return None
        return next((e for e in errors if e is not None), f"{path} matches more than one form")
    kinds = schema.get("type")
    if kinds is not None:
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_TYPES[k](value) for k in names):
            kinds_text = " or ".join(_NAMES[k] for k in names)
            return f"{path} must be {kinds_text}; got {brief(value, 40)}"
    if "const" in schema and not _same(value, schema["const"]):
        return f"{path} must be {brief(schema['const'])}; got {brief(value, 40)}"
    if "enum" in schema and not any(_same(value, e) for e in schema["enum"]):
        choices = ", ".join(brief(e) for e in schema["enum"])
        return f"{path} must be one of {choices}; got {brief(value, 40)}"
    if _TYPES["number"](value):
        bounds = _bounds_error(value, schema, path)
        if bounds is not None:
            return bounds
    if isinstance(value, dict):
        return _object_error(value, schema, path)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            error = _error(item, schema["items"], f"{path}[{i}]")
            if error is not None:
                return error
    return None


def _object_error(value: dict[str, Any], schema: dict[str, Any], path: str) -> str | None:
    missing = [k for k in schema.get("required", ()) if k not in value]
    if missing:
        return f"{path} has no {brief(missing[0])}"
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        sub = properties.get(key, extra)
        if sub is False:
            return f"{path} has a key {brief(key)} it may not have"
        if isinstance(sub, dict):
            error = _error(item, sub, f"{path}.{key}")
            if error is not None:
                return error
    return None


def _bounds_error(value: float, schema: dict[str, Any], path: str) -> str | None:
    checks: tuple[tuple[str, Callable[[float, float], bool], str], ...] = (
        ("minimum", operator.ge, ">="),
        ("maximum", operator.le, "<="),
        ("exclusiveMinimum", operator.gt, ">"),
        ("exclusiveMaximum", operator.lt, "<"),
    )
    for key, holds, sign in checks:
        if key in schema and not holds(value, schema[key]):
            return f"{path} must be {sign} {schema[key]}; got {brief(value)}"
    return None


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    return bool(a == b and isinstance(a, bool) == isinstance(b, bool))
