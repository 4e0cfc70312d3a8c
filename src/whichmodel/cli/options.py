"""Options shared by several commands, option groups, and the parsers of option values.

An option group is a frozen dataclass whose fields are typer options. A command names the group
once as a parameter (``choice: ChoiceFlags = NO_CHOICE``) and :func:`with_groups` spreads its
fields into the command's signature at that place, so ``--help`` lists them in that order and
the command receives one ``ChoiceFlags``. The nine constraint and objective flags of compare,
choose and gate are written here, once.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import typing
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, TypeVar

import typer

from whichmodel.errors import ConfigError
from whichmodel.refs import kinds_help

R = TypeVar("R")

RefsArg = Annotated[
    list[str],
    typer.Argument(
        metavar="REF",
        help=f"Model references ({kinds_help()}), or one whichmodel.yaml.",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format", metavar="FORMAT", help="text, markdown (for pull requests) or json."
    ),
]
OutDirOpt = Annotated[
    str | None,
    typer.Option("--out", metavar="DIR", help="Write results.json and report.html here."),
]
StoreOpt = Annotated[str, typer.Option(metavar="FILE", help="Run store (an SQLite file).")]
AllowPickleOpt = Annotated[
    bool, typer.Option(help="Allow pickle/joblib files (they can run code).")
]
TrustRemoteCodeOpt = Annotated[
    bool, typer.Option(help="Allow code shipped in Hugging Face folders.")
]
NoCostOpt = Annotated[
    bool, typer.Option("--no-cost", help="Skip latency and memory measurement.")
]


def tasks_help(before: str, after: str) -> str:
    """An option's help naming every registered task: ``before``, the names, ``after``. Wrapped
    here, never inside a name: click would break ``token-classification`` at its hyphen."""
    import textwrap

    from whichmodel.tasks import TASKS

    *others, last = TASKS.names()
    words = f"{before} {', '.join(others)} or {last}{after}"
    # 44: the width click leaves an option's help in 80 columns; "\b" keeps these lines as they are
    return "\b\n" + "\n".join(textwrap.wrap(words, 44, break_on_hyphens=False))


class OptionGroup:
    """Base of option groups: frozen dataclasses of typer options (see :func:`with_groups`).
    ``omitted`` names fields a subclass leaves off the command line (they keep their default)."""

    omitted: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def parameters(cls) -> list[inspect.Parameter]:
        """The group's fields as keyword parameters, annotations resolved (typer reads them)."""
        hints = typing.get_type_hints(cls, include_extras=True)
        return [
            inspect.Parameter(
                f.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default,
                annotation=hints[f.name],
            )
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if f.name not in cls.omitted
        ]


def with_groups(command: Callable[..., R]) -> Callable[..., R]:
    """Spread each :class:`OptionGroup` parameter of ``command`` into that group's options, in
    place, for typer; the command is called with one group object per group parameter.

    Example::

        @with_groups
        def choose(source: str, choice: ChoiceFlags = NO_CHOICE) -> None: ...
        # `choose SOURCE --max-latency-ms 5` calls choose(source=..., choice=ChoiceFlags(5.0))
    """
    hints = typing.get_type_hints(command, include_extras=True)
    groups: dict[str, type[OptionGroup]] = {}
    params: list[inspect.Parameter] = []
    for param in inspect.signature(command).parameters.values():
        hint = hints.get(param.name, param.annotation)
        if isinstance(hint, type) and issubclass(hint, OptionGroup):
            groups[param.name] = hint
            params.extend(hint.parameters())
        else:  # keyword-only, so a required option may follow a group's optional ones
            params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hint))

    @functools.wraps(command)
    def call(**kwargs: Any) -> R:
        for name, group in groups.items():
            if name not in kwargs:
                fields = [p.name for p in group.parameters()]
                kwargs[name] = group(**{f: kwargs.pop(f) for f in fields})
        return command(**kwargs)

    call.__signature__ = inspect.Signature(params, return_annotation=hints.get("return"))  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in params}
    return call


@dataclasses.dataclass(frozen=True)
class ChoiceFlags(OptionGroup):
    """Constraint and objective flags of compare, choose and gate (see whichmodel.choose).
    ``None`` is a flag not given: a value from whichmodel.yaml or the default stands."""

    max_latency_ms: Annotated[
        float | None,
        typer.Option(
            "--max-latency-ms",
            metavar="MS",
            help="Latency limit: one call at --latency-batch examples (ms).",
        ),
    ] = None
    max_memory_mb: Annotated[
        float | None,
        typer.Option(
            "--max-memory-mb", metavar="MB", help="Model memory limit (MB of 2^20 bytes)."
        ),
    ] = None
    min_metric: Annotated[
        list[str] | None,
        typer.Option(
            "--min",
            metavar="METRIC=VALUE",
            help="Lowest allowed value of a metric (repeatable).",
        ),
    ] = None
    max_metric: Annotated[
        list[str] | None,
        typer.Option(
            "--max",
            metavar="METRIC=VALUE",
            help="Highest allowed value of a lower-is-better metric (repeatable).",
        ),
    ] = None
    max_cost_per_1k: Annotated[
        float | None,
        typer.Option(
            "--max-cost-per-1k",
            metavar="AMOUNT",
            help="Cost limit per 1,000 predictions (needs a price).",
        ),
    ] = None
    price_per_hour: Annotated[
        float | None,
        typer.Option(
            "--price-per-hour", metavar="AMOUNT", help="What an hour of this machine costs."
        ),
    ] = None
    prefer: Annotated[
        str | None,
        typer.Option(
            "--prefer", metavar="GOAL", help="Rank by accuracy (quality), latency or memory."
        ),
    ] = None
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights", metavar="NAME=W,...", help="Rank by weights, e.g. accuracy=2,latency=1."
        ),
    ] = None
    latency_batch: Annotated[
        int | None,
        typer.Option("--latency-batch", metavar="N", help="Batch size of the latency limit (1)."),
    ] = None


class LimitFlags(ChoiceFlags):
    """The constraint flags alone: the gate checks limits and ranks nothing."""

    omitted = ("prefer", "weights")


NO_CHOICE = ChoiceFlags()
NO_LIMITS = LimitFlags()


def parse_format(name: str | None, choices: tuple[str, ...] = ("text", "markdown", "json")) -> str:
    """``--format``: text (the default) or another of ``choices``, in any case."""
    fmt = (name or "text").lower()
    if fmt not in choices:
        listed = f"{', '.join(choices[:-1])} or {choices[-1]}"
        raise ConfigError(f"--format must be {listed}. Got {name!r}.")
    return fmt


def parse_ints(text: str | None, option: str) -> tuple[int, ...] | None:
    """``"1,8,32"`` -> ``(1, 8, 32)``; None stays None; ConfigError naming ``option`` else."""
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise ConfigError(
            f"The '{option}' option must be comma-separated integers, e.g. 1,8,32. Got {text!r}."
        ) from exc


def parse_shape(text: str | None) -> tuple[int, ...] | None:
    """inspect's ``--input-shape``: ``"1,8,8"`` -> ``(1, 8, 8)``; empty or None -> None."""
    if not text:
        return None
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(
            f"--input-shape must be integers separated by commas. Got {text!r}."
        ) from None


def parse_min_delta(items: list[str]) -> dict[str, float] | float:
    """The gate's ``--min-delta``: one number for every metric, or METRIC=NUMBER items. Fails
    closed: a value that is not a finite number >= 0 raises ConfigError, never passes."""
    from whichmodel.choose.constraints import parse_pairs

    if len(items) == 1 and "=" not in items[0]:
        try:
            tolerance: dict[str, float] | float = float(items[0])
        except ValueError:
            tolerance = math.nan
    else:
        tolerance = dict(parse_pairs(items, option="--min-delta"))
    values = tolerance.values() if isinstance(tolerance, dict) else [tolerance]
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise ConfigError(
            "--min-delta takes a number >= 0 (the tolerated loss) or METRIC=NUMBER. "
            f"Got {' '.join(items)!r}."
        )
    return tolerance
