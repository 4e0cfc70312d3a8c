"""Inspect every model type transformers knows, as a new user would, and count what comes out.

For each type in ``transformers.CONFIG_MAPPING``: build its default config, set
``architectures`` to its first auto class (:func:`model_class`), save it as the only file of a
folder (no weights) and build the spec sheet ``whichmodel inspect hf:DIR`` prints. Each sheet is
held against a meta-device build of the same class: a type whose meta build fails is not
whichmodel's to answer; every other type must give a sheet, name a family and count the
parameters the meta build holds.

    PYTHONPATH=src python tools/spec_sweep.py            # every type; figures + failures
    PYTHONPATH=src python tools/spec_sweep.py llama swin  # some types, with their facts

``tests/spec/test_every_type.py`` walks the same types in shards and asserts the figures.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The auto tables in the order a type's released checkpoints usually name their class:
#: generative heads first (sequence-to-sequence, image-text-to-text, multimodal, speech), then the
#: masked-LM head before the causal one (BERT's checkpoints name ``BertForMaskedLM``; its
#: ``BertLMHeadModel`` is the encoder used as a decoder), zero-shot image classification (CLIP's
#: towers together), image classification and CTC; every
#: other ``MODEL_*_MAPPING_NAMES`` table follows in transformers' own order, the bare model last.
_FIRST_TABLES = (
    "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES",
    "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES",
    "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES",
    "MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES",
    "MODEL_FOR_MASKED_LM_MAPPING_NAMES",
    "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES",
    "MODEL_FOR_ZERO_SHOT_IMAGE_CLASSIFICATION_MAPPING_NAMES",
    "MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES",
    "MODEL_FOR_CTC_MAPPING_NAMES",
)
_LAST_TABLES = ("MODEL_FOR_PRETRAINING_MAPPING_NAMES", "MODEL_MAPPING_NAMES")

#: Relative difference from the meta build's parameter count that still counts as right.
PARAM_TOLERANCE = 0.005


@dataclass(frozen=True)
class Outcome:
    """One type's walk: what the meta build counted and what the sheet said.

    ``stage`` is where it stopped: ``"config"`` (no default config), ``"class"`` (no model
    class), ``"meta"`` (the class does not build on meta: not whichmodel's), ``"sheet"``
    (whichmodel crashed: ``error``) or ``"ok"``.
    """

    model_type: str
    architecture: str | None
    stage: str
    error: str = ""
    meta_params: int | None = None
    sheet_params: int | None = None
    family: str | None = None
    family_named: bool = False
    flops_known: bool = False
    flops_note: str = ""
    seconds: float = 0.0

    @property
    def params_right(self) -> bool:
        if not self.meta_params or self.sheet_params is None:
            return self.meta_params == self.sheet_params
        return abs(self.sheet_params - self.meta_params) <= PARAM_TOLERANCE * self.meta_params


def model_types() -> list[str]:
    """Every ``model_type`` transformers has a config class for, sorted."""
    import transformers

    return sorted(transformers.CONFIG_MAPPING.keys())


def _tables() -> list[dict[str, Any]]:
    import transformers.models.auto.modeling_auto as auto

    names = [n for n in vars(auto) if n.startswith("MODEL_") and n.endswith("_MAPPING_NAMES")]
    rest = [n for n in names if n not in _FIRST_TABLES + _LAST_TABLES]
    return [getattr(auto, n) for n in (*_FIRST_TABLES, *rest, *_LAST_TABLES) if hasattr(auto, n)]


def model_class(model_type: str) -> str | None:
    """The type's first auto class (see :data:`_FIRST_TABLES`); for a type no auto table lists
    (a tower of a multi-tower model: ``clip_text_model``), the first model class its own
    modeling module declares for its config class."""
    import transformers

    for table in _tables():
        name = table.get(model_type)
        if isinstance(name, list | tuple):
            name = name[0] if name else None
        if name and hasattr(transformers, name):
            return str(name)
    config_cls = transformers.CONFIG_MAPPING[model_type]
    module_name = config_cls.__module__.replace(".configuration_", ".modeling_")
    try:
        module = __import__(module_name, fromlist=["__all__"])
    except ImportError:
        return None
    for name in getattr(module, "__all__", []):
        cls = getattr(module, name, None)
        if (getattr(cls, "config_class", None) is config_cls and hasattr(transformers, name)
                and not name.endswith("PreTrainedModel")):
            return str(name)
    return None


def meta_params(cls: Any, config: Any) -> int:
    """Parameters of ``cls`` built from ``config`` on the meta device (tied tensors once)."""
    import torch

    with torch.device("meta"):
        model = cls._from_config(config)
    return sum(p.numel() for p in model.parameters())


def walk_one(model_type: str, root: Path) -> Outcome:
    """Build the type's default config and class on meta, then its whichmodel sheet."""
    import transformers

    import whichmodel

    try:
        config = transformers.CONFIG_MAPPING[model_type]()
    except Exception as exc:
        return Outcome(model_type, None, "config", describe(exc))
    name = model_class(model_type)
    if name is None:
        return Outcome(model_type, None, "class", "no model class for this config")
    try:
        expected = meta_params(getattr(transformers, name), config)
    except Exception as exc:
        return Outcome(model_type, name, "meta", describe(exc))
    config.architectures = [name]
    folder = root / model_type
    config.save_pretrained(folder)
    start = time.perf_counter()
    try:
        sheet = whichmodel.inspect(f"hf:{folder}")
    except Exception as exc:
        return Outcome(model_type, name, "sheet", describe(exc), expected,
                       seconds=time.perf_counter() - start)
    seconds = time.perf_counter() - start
    family = sheet.identity.family
    return Outcome(
        model_type, name, "ok", meta_params=expected, sheet_params=sheet.size.total.value,
        family=family.value, family_named=family.value is not None
        and "not classified" not in family.note,
        flops_known=sheet.compute is not None and sheet.compute.forward_flops.value is not None,
        flops_note=sheet.compute.forward_flops.note if sheet.compute is not None else "",
        seconds=seconds,
    )


def describe(exc: BaseException) -> str:
    """``Type: first line of the message``, at most 200 characters."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:200]


def walk(types: Iterable[str]) -> Iterator[Outcome]:
    """:func:`walk_one` for each type, in one temporary folder, warnings silenced (default
    configs warn about themselves; the sheet is what is walked)."""
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model_type in types:
            yield walk_one(model_type, Path(tmp))


@dataclass(frozen=True)
class Figures:
    """The walk's figures over the types whose meta build works (``buildable``)."""

    types: int
    buildable: int
    sheets: int
    family_named: int
    params_right: int
    flops_known: int
    seconds: float
    slowest: tuple[tuple[str, float], ...]

    def lines(self) -> list[str]:
        def pct(n: int, of: int) -> str:
            return f"{n}/{of} ({100 * n / max(of, 1):.1f}%)"

        return [
            f"types: {self.types}, with a meta build: {self.buildable}",
            f"sheets: {pct(self.sheets, self.buildable)}, "
            f"crashes: {self.buildable - self.sheets}",
            f"family named: {pct(self.family_named, self.sheets)}",
            f"parameters within {PARAM_TOLERANCE:.1%} of meta: "
            f"{pct(self.params_right, self.sheets)}",
            f"FLOPs known: {pct(self.flops_known, self.sheets)}",
            f"sheet seconds: {self.seconds:.1f} in all; slowest: "
            + ", ".join(f"{t} {s:.1f}" for t, s in self.slowest),
        ]


def figures(outcomes: list[Outcome]) -> Figures:
    buildable = [o for o in outcomes if o.stage in ("ok", "sheet")]
    ok = [o for o in buildable if o.stage == "ok"]
    slow = sorted(buildable, key=lambda o: -o.seconds)[:5]
    return Figures(len(outcomes), len(buildable), len(ok), sum(o.family_named for o in ok),
                   sum(o.params_right for o in ok), sum(o.flops_known for o in ok),
                   sum(o.seconds for o in buildable),
                   tuple((o.model_type, o.seconds) for o in slow))


def failures(outcomes: list[Outcome]) -> list[str]:
    """Crashes grouped by cause (largest first), wrong parameters, unknown FLOPs grouped by
    reason, and unnamed families."""
    groups: dict[str, list[str]] = defaultdict(list)
    for o in outcomes:
        if o.stage == "sheet":
            groups[o.error].append(o.model_type)
    out = [f"{len(v):4d} crash {k}\n       {', '.join(v)}"
           for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))]
    for o in outcomes:
        if o.stage == "ok" and not o.params_right:
            out.append(f"     params {o.model_type}: sheet {o.sheet_params}, meta {o.meta_params}")
    why: dict[str, list[str]] = defaultdict(list)
    for o in outcomes:
        if o.stage == "ok" and not o.flops_known:
            why[re.sub(r"\d+", "N", o.flops_note)[:110]].append(o.model_type)
    out += [f"{len(v):4d} FLOPs unknown: {k}\n       {', '.join(v)}"
            for k, v in sorted(why.items(), key=lambda kv: -len(kv[1]))]
    unnamed = [o.model_type for o in outcomes if o.stage == "ok" and not o.family_named]
    if unnamed:
        out.append(f"{len(unnamed):4d} family not named: {', '.join(unnamed)}")
    return out


def main(argv: list[str]) -> int:
    import transformers

    transformers.utils.logging.set_verbosity_error()  # default configs warn about themselves
    types = argv or model_types()
    outcomes = []
    for o in walk(types):
        outcomes.append(o)
        if argv:
            print(o)
        print(f"{len(outcomes)}/{len(types)} {o.model_type} {o.stage} {o.seconds:.1f}s",
              file=sys.stderr, flush=True)
    stages = Counter(o.stage for o in outcomes)
    print("stages:", dict(stages))
    print("\n".join(figures(outcomes).lines()))
    print("\n".join(failures(outcomes)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
