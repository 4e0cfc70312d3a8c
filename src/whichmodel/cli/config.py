"""Where each setting of a command comes from: the command line, whichmodel.yaml, the defaults.

Precedence, highest first:

1. a flag given on the command line;
2. the value in whichmodel.yaml (``compare whichmodel.yaml``), its ``choose:`` block included;
3. the default of :class:`~whichmodel.comparison.CompareConfig`,
   :class:`~whichmodel.choose.Constraints` and :class:`~whichmodel.choose.Objective`.

A flag that is not given is ``None`` (a switch such as ``--no-cost``: off) and never undoes a
file's value. ``--min`` and ``--max`` replace the file's whole ``min:`` / ``max:`` mapping; they
are not merged metric by metric. Without a file, ``--data`` is required, except with an
lm-eval task YAML (``--task lm-eval:TASK.yaml``), whose data files are the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from whichmodel.cli.options import NO_CHOICE, ChoiceFlags
from whichmodel.errors import ConfigError

if TYPE_CHECKING:
    from whichmodel.choose.constraints import Constraints, Objective
    from whichmodel.comparison import CompareConfig


@dataclass(frozen=True)
class FileConfig:
    """A whichmodel.yaml as read: its comparison, its ``out`` and raw ``choose`` block (checked
    by :func:`resolve`), and its path, which errors name."""

    compare: CompareConfig
    out: str | None = None
    choose: Any = None
    path: str = "whichmodel.yaml"


@dataclass(frozen=True)
class Overrides:
    """What the command line said.

    Args:
        refs: the model references (ignored when a file gives them).
        compare: the CompareConfig fields given as flags, and only those.
        out: ``--out``, or None.
        choice: the constraint and objective flags.
        metric: ``--metric`` of choose, or None.
    """

    refs: tuple[str, ...] = ()
    compare: Mapping[str, Any] = field(default_factory=dict)
    out: str | None = None
    choice: ChoiceFlags = NO_CHOICE
    metric: str | None = None


@dataclass(frozen=True)
class ResolvedConfig:
    """A comparison to run, where to write its report, and how to decide between its models."""

    compare: CompareConfig
    out: str | None
    constraints: Constraints
    objective: Objective


def read_file(refs: Sequence[str]) -> FileConfig | None:
    """The whichmodel.yaml when ``refs`` is one ``.yaml``/``.yml`` path, else None.
    Raises ConfigError for a file that is missing or not a whichmodel.yaml."""
    if len(refs) != 1 or not refs[0].endswith((".yaml", ".yml")):
        return None
    from whichmodel.config import load_config

    config, extras = load_config(refs[0])
    return FileConfig(config, out=extras.get("out"), choose=extras.get("choose"), path=refs[0])


def resolve(file: FileConfig | None, overrides: Overrides) -> ResolvedConfig:
    """Merge a whichmodel.yaml (or none) with the command line (see the module for the order).

    Raises:
        ConfigError: no file and no ``--data``; a bad limit, objective or ``choose:`` block.
    """
    given = dict(overrides.compare)
    if file is not None:
        compare = replace(file.compare, **given)
        out = overrides.out or file.out
    else:
        from whichmodel.comparison import CompareConfig
        from whichmodel.tasks.lm_eval_yaml import default_data

        given["data"] = default_data(given.get("task"), given.get("data"))  # lm-eval: its YAML
        if given["data"] is None:
            raise ConfigError("Missing --data: the file to evaluate the models on.")
        compare, out = CompareConfig(refs=overrides.refs, **given), overrides.out
    constraints, objective = resolve_choice(
        overrides.choice,
        block=file.choose if file else None,
        where=file.path if file else None,
        metric=overrides.metric,
    )
    return ResolvedConfig(compare, out, constraints, objective)


def resolve_choice(
    flags: ChoiceFlags = NO_CHOICE,
    *,
    block: Any = None,
    where: str | None = None,
    metric: str | None = None,
) -> tuple[Constraints, Objective]:
    """(Constraints, Objective) from a whichmodel.yaml's ``choose:`` block (read from ``where``)
    and the flags; a flag given replaces the block's value. Both are validated.

    Raises:
        ConfigError: a bad block, ``--min``/``--max`` not NAME=NUMBER, a limit that is not a
            positive number, an unknown ``--prefer`` or a bad ``--weights``.
    """
    from whichmodel.choose.constraints import (
        Constraints,
        Objective,
        from_mapping,
        parse_pairs,
        preferred,
        weights_from,
    )

    constraints, objective = Constraints(), Objective()
    if where is not None:
        constraints, objective = from_mapping(block, where=where)
    limits: dict[str, Any] = {
        "max_latency_ms": flags.max_latency_ms,
        "max_memory_mb": flags.max_memory_mb,
        "min_metrics": parse_pairs(flags.min_metric, option="--min")
        if flags.min_metric is not None else None,
        "max_metrics": parse_pairs(flags.max_metric, option="--max")
        if flags.max_metric is not None else None,
        "max_cost_per_1k": flags.max_cost_per_1k,
        "price_per_hour": flags.price_per_hour,
        "latency_batch_size": flags.latency_batch,
    }
    constraints = replace(
        constraints, **{k: v for k, v in limits.items() if v is not None}
    ).validate()
    if flags.prefer is not None:
        objective = replace(objective, prefer=preferred(flags.prefer))
    if flags.weights is not None:
        objective = replace(objective, weights=weights_from([flags.weights]))
    if metric is not None:
        objective = replace(objective, metric=metric)
    return constraints, objective.validate()
