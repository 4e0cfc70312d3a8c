"""The Python API's keywords, which are the command's flags, and its errors, which name them.

``whichmodel.compare(models, data, bootstrap=200, no_cost=True)`` takes what
``whichmodel compare --bootstrap 200 --no-cost`` takes, named as the flags are with ``_`` for
``-``; the limits and objective are the keywords of ``whichmodel.choose``. The older names of
:class:`~whichmodel.results.CompareConfig` (``n_resamples``, ``measure_cost``) still work.

Messages of the pipeline are written for the command line ("pass --allow-pickle"). The Python
faces re-word them on the way out (:func:`python_errors`) so they name Python arguments
("pass allow_pickle=True"): the message is the same, only the options are spelt as the caller
spells them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from whichmodel.errors import ConfigError, WhichModelError, brief

if TYPE_CHECKING:
    from whichmodel.choose.constraints import Constraints, Objective
    from whichmodel.results import CompareConfig
    from whichmodel.tasks import Task

#: The keywords of ``whichmodel.choose`` that compare takes too (see :func:`choice`).
CHOICE_KEYWORDS = (
    "max_latency_ms", "max_memory_mb", "min_metrics", "max_metrics", "max_cost_per_1k",
    "price_per_hour", "prefer", "weights", "metric", "latency_batch_size", "latency_percentile",
)  # fmt: skip


def config_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` as :class:`CompareConfig` fields: ``bootstrap`` -> ``n_resamples``,
    ``no_cost`` -> ``measure_cost``; a column list -> a tuple.

    Raises:
        ConfigError: a flag and its older name both given, or ``no_cost`` not a bool.
    """
    out = dict(options)
    for new, old in (("bootstrap", "n_resamples"), ("no_cost", "measure_cost")):
        if new in out and old in out:
            raise ConfigError(f"Pass {new} or {old}, not both: {old} is its older name.")
    if "bootstrap" in out:
        out["n_resamples"] = out.pop("bootstrap")
    if "no_cost" in out:
        no_cost = out.pop("no_cost")
        if not isinstance(no_cost, bool):
            raise ConfigError(f"no_cost must be True or False. Got {brief(no_cost)} instead.")
        out["measure_cost"] = not no_cost
    if isinstance(out.get("input_shape"), list | int):
        shape = out["input_shape"]
        out["input_shape"] = (shape,) if isinstance(shape, int) else tuple(shape)
    for name in ("input_cols", "slice_by"):
        value = out.get(name)
        if isinstance(value, str):
            out[name] = (value,) if name == "slice_by" else tuple(value.split(","))
        elif isinstance(value, list):
            out[name] = tuple(value)
    return out


def compare_config(refs: Sequence[str], data: str, options: dict[str, Any]) -> CompareConfig:
    """The CompareConfig of a Python call's references, data path and keywords
    (:func:`config_options`).

    Raises:
        ConfigError: a keyword that is no option of compare.
    """
    from whichmodel.results import CompareConfig

    try:
        return CompareConfig(refs=tuple(refs), data=data, **config_options(options))
    except TypeError as exc:
        raise ConfigError(f"compare() got an unknown option: {exc}") from exc


def check_metrics(
    task: Task, constraints: Constraints | None, objective: Objective | None
) -> None:
    """ConfigError for a limit or objective naming a metric the task never reports: a misspelt
    ``--min acc=0.9`` costs nothing, not a whole comparison."""
    from whichmodel.tasks.base import check_metric_names

    named: list[tuple[str, str]] = []
    if constraints is not None:
        named += [("--min", m) for m, _ in constraints.min_metrics]
        named += [("--max", m) for m, _ in constraints.max_metrics]
    if objective is not None and objective.metric is not None:
        named.append(("--metric", objective.metric))
    check_metric_names(task, named)


def choice(
    options: dict[str, Any],
    constraints: Constraints | None,
    objective: Objective | None,
) -> tuple[Constraints | None, Objective | None]:
    """(constraints, objective) with the choose keywords popped from ``options`` applied on
    top (``max_latency_ms=5``, ``min_metrics={"accuracy": 0.9}``, ``prefer="latency"``)."""
    from dataclasses import replace

    from whichmodel.choose.constraints import Constraints, Objective, preferred

    given = {k: options.pop(k) for k in CHOICE_KEYWORDS if k in options}
    if not given:
        return constraints, objective
    limits = {k: v for k, v in given.items() if k in Constraints.__dataclass_fields__}
    for key in ("min_metrics", "max_metrics"):
        if isinstance(limits.get(key), dict):
            limits[key] = tuple(limits[key].items())
    ranks: dict[str, Any] = {}
    if "prefer" in given:
        ranks["prefer"] = preferred(given["prefer"])
    if "weights" in given:
        ranks["weights"] = tuple((preferred(k), v) for k, v in dict(given["weights"]).items())
    if "metric" in given:
        ranks["metric"] = given["metric"]
    return (
        replace(constraints or Constraints(), **limits).validate(),
        replace(objective or Objective(), **ranks).validate(),
    )


#: Flags that are switches: Python passes them as ``name=True``.
_SWITCHES = ("allow-pickle", "trust-remote-code", "no-cost", "refresh-cost")
#: Flags whose Python name is not the flag's (the limits are ``whichmodel.choose``'s keywords).
_RENAMED = {"min": "min_metrics", "max": "max_metrics", "latency-batch": "latency_batch_size"}
#: Every flag of ``whichmodel compare``; others in a message are left as they are.
_FLAGS = (
    "data", "task", "input-cols", "label-col", "batch-size", "seed", "bootstrap", "threads",
    "store", "out", "slice-by", "metric", "max-latency-ms", "max-memory-mb", "max-cost-per-1k",
    "price-per-hour", "prefer", "weights", "input-shape", *_SWITCHES, *_RENAMED,
)  # fmt: skip
_FLAG = re.compile(
    r"--(" + "|".join(sorted(map(re.escape, _FLAGS), key=len, reverse=True)) + r")(?![\w-])"
    r"(?: ('[^']*'|\"[^\"]*\"|[\w.,/-]*\w))?"
)
#: CompareConfig field names that messages use, as the Python keywords name them.
#: Flags a message may follow with a value (``--input-cols tokens``) ...
_VALUED = ("input-cols", "label-col", "task", "slice-by", "data", "out", "store", "input-shape")
#: ... unless the next word is prose ("check --label-col or the model's id2label").
_PROSE = frozenset(
    {"or", "and", "if", "to", "when", "for", "of", "is", "the", "a", "an", "with", "on", "in",
     "as", "at", "names", "must", "needs", "takes", "option", "flag"}
)
_FIELDS = {"'n_resamples' option": "'bootstrap' argument", "'measure_cost' option":
           "'no_cost' argument"}


def python_wording(message: str) -> str:
    """``message`` with compare's flags as Python arguments: ``--allow-pickle`` ->
    ``allow_pickle=True``, ``--input-cols a,b`` -> ``input_cols=['a', 'b']``, ``--task
    'retrieval?corpus=d.jsonl'`` -> ``task='retrieval?corpus=d.jsonl'``, ``--min`` ->
    ``min_metrics``.

    >>> python_wording("Pass --allow-pickle if you trust it; name it with --input-cols tokens.")
    "Pass allow_pickle=True if you trust it; name it with input_cols=['tokens']."
    """

    def word(match: re.Match[str]) -> str:
        flag, value = match.group(1), match.group(2)
        name = _RENAMED.get(flag, flag.replace("-", "_"))
        if value is not None and (flag not in _VALUED or value in _PROSE):
            return name + (f" {value}" if flag not in _SWITCHES else f"=True {value}")
        if flag in _SWITCHES:
            return f"{name}=True" + (f" {value}" if value else "")
        if value is None:
            return name
        if value[0] in "'\"":
            return f"{name}={value}"
        if flag == "input-shape":
            return f"{name}={tuple(int(v) for v in value.split(','))}"
        if flag in ("input-cols", "slice-by"):
            return f"{name}={[v for v in value.split(',') if v]!r}"
        return f"{name}={value!r}" if not _is_number(value) else f"{name}={value}"

    text = _FLAG.sub(word, message)
    for field, keyword in _FIELDS.items():
        text = text.replace(field, keyword)
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@contextmanager
def python_errors() -> Iterator[None]:
    """Re-word any :class:`WhichModelError` raised inside for a Python caller (its type and
    traceback stay)."""
    try:
        yield
    except WhichModelError as exc:
        if exc.args and isinstance(exc.args[0], str):
            exc.args = (python_wording(exc.args[0]), *exc.args[1:])
        raise
