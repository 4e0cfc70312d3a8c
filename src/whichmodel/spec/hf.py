"""Hugging Face folders: read ``config.json``, build the model on PyTorch's ``meta`` device (no
weights in memory), and read sizes and the layer inventory from the module tree.

A folder with only ``config.json`` is enough. Nothing is downloaded: configs are read from disk
with ``local_files_only=True``, and a folder whose configs name code shipped in it (``auto_map``)
is refused unless ``trust_remote_code``.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whichmodel.errors import MissingExtraError, ModelLoadError, ModelReferenceError
from whichmodel.sources.hf.config import (
    config_refused,
    read_config_json,
    refuse_folder_code,
    short,
)
from whichmodel.spec import hf_family
from whichmodel.spec.base import DTYPE_BYTES, Fact, Identity, Size, Source, unknown

# Routed experts: `...mlp.experts.3.w1.weight` (one module per expert) or
# `...mlp.experts.gate_up_proj` (transformers 5: one 3-D tensor (experts, out, in) per projection).
# Shared experts (`shared_expert`, `shared_experts`) do not match: every token passes them.
_EXPERT_PARAM = re.compile(r"(^|\.)experts\.")
_EXPERT_COUNT_KEYS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
_EXPERTS_PER_TOKEN_KEYS = ("num_experts_per_tok", "num_experts_per_token", "moe_top_k", "top_k")


@dataclass(frozen=True)
class Built:
    """A config and the model built from it on ``meta``."""

    folder: Path
    raw: dict[str, Any]  # config.json as written
    config: Any  # the transformers PretrainedConfig
    model: Any  # torch.nn.Module on the meta device
    architecture: str


def read_config(folder: Path, *, trust_remote_code: bool = False) -> tuple[dict[str, Any], Any]:
    """``config.json`` as written and as transformers reads it.

    Raises:
        ModelReferenceError: no config.json in ``folder``.
        ModelLoadError: config.json is not valid JSON, holds a size no model can have (see
            :mod:`whichmodel.sources.hf.config`), names a model_type transformers does not know,
            or transformers refuses it.
    """
    path = folder / "config.json"
    if not path.is_file():
        raise ModelReferenceError(f"{folder} is not a Hugging Face model folder (no config.json).")
    raw = read_config_json(path)
    refuse_folder_code(folder, trust_remote_code=trust_remote_code)
    try:
        import transformers
    except ImportError as exc:
        raise MissingExtraError("transformers", "hf") from exc
    _check_model_type(raw, path, transformers, trust_remote_code)
    try:
        config = transformers.AutoConfig.from_pretrained(
            folder, local_files_only=True, trust_remote_code=trust_remote_code
        )
    except Exception as exc:
        refused = config_refused(exc, path)
        if refused is None:
            raise
        raise refused from exc
    return raw, config


def _check_model_type(raw: dict[str, Any], path: Path, transformers: Any, trusted: bool) -> None:
    model_type = raw.get("model_type")
    known = transformers.CONFIG_MAPPING
    if isinstance(model_type, str) and (model_type in known or (trusted and raw.get("auto_map"))):
        return
    if not isinstance(model_type, str):
        raise ModelLoadError(f"{path} has no 'model_type'; add one, e.g. \"model_type\": \"bert\".")
    close = difflib.get_close_matches(model_type, list(known.keys()), n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ModelLoadError(
        f"{path}: model_type {model_type!r} is unknown to transformers "
        f"{transformers.__version__}.{hint} Upgrade transformers or fix the config."
    )


def build(folder: Path, *, trust_remote_code: bool = False) -> Built:
    """Build the model a folder's config describes, on the ``meta`` device (shapes, no memory).

    The class is the config's first ``architectures`` entry when transformers has it (so a
    ``LlamaForCausalLM`` counts its LM head), else the base model (``AutoModel``). Attention is
    built ``eager`` so that :class:`~torch.utils.flop_counter.FlopCounterMode` sees its matmuls.
    """
    raw, config = read_config(folder, trust_remote_code=trust_remote_code)
    import torch
    import transformers

    names = getattr(config, "architectures", None) or []
    cls = getattr(transformers, names[0], None) if names else None
    try:
        with torch.device("meta"), _quiet(transformers):
            if cls is not None and hasattr(cls, "_from_config"):
                model = cls._from_config(config, attn_implementation="eager")
            else:
                model = transformers.AutoModel.from_config(  # type: ignore[no-untyped-call]
                    config, attn_implementation="eager", trust_remote_code=trust_remote_code
                )
    except (ValueError, TypeError, KeyError, AttributeError, RuntimeError, ArithmeticError,
            IndexError) as exc:
        raise ModelLoadError(
            f"Cannot build the model {folder}/config.json describes: {short(exc)}"
        ) from exc
    return Built(folder, raw, config, model.eval(), names[0] if names else type(model).__name__)


class _quiet:
    """transformers logs warnings for configs built without weights; the sheet says it all."""

    def __init__(self, transformers: Any) -> None:
        self.logging = transformers.utils.logging

    def __enter__(self) -> None:
        self.level = self.logging.get_verbosity()
        self.logging.set_verbosity_error()

    def __exit__(self, *exc: object) -> None:
        self.logging.set_verbosity(self.level)


def module_size(
    model: Any, config: Any | None, *, stored_dtype: str | None, dtype_source: Source = "config"
) -> Size:
    """Parameter counts of a module tree (shared tensors once) and its bytes at common dtypes."""
    params = dict(model.named_parameters())  # named_parameters() skips tied duplicates
    total = sum(p.numel() for p in params.values())
    trainable = sum(p.numel() for p in params.values() if p.requires_grad)
    embedding = _embedding_params(model)
    try:
        experts, per_token = _expert_counts(config)
    except Exception as exc:  # a sheet never dies whole: the counts say why they are unknown
        experts = per_token = unknown(f"expert counts not read from the config: {short(exc)}")
    expert_params = sum(p.numel() for n, p in params.items() if _EXPERT_PARAM.search(n))
    if experts.source == "unknown" and config is not None:
        active: Fact[int] = unknown(experts.note)
    elif experts.value and per_token.value and expert_params:
        inactive = expert_params * (experts.value - per_token.value) // experts.value
        active = Fact(total - inactive, "formula",
                      f"{per_token.value} of {experts.value} experts per token")
    else:
        active = Fact(total, "formula", "dense: every parameter is used for every token")
    at = {"stored": int(total * DTYPE_BYTES[stored_dtype])} if stored_dtype else {}
    at.update({k: int(total * DTYPE_BYTES[k]) for k in ("fp32", "bf16", "int8", "int4")})
    return Size(
        total=Fact(total, "graph"),
        trainable=Fact(trainable, "graph"),
        embedding=Fact(embedding, "graph", "token and learned position embeddings, untied output"),
        non_embedding=Fact(total - embedding, "formula"),
        experts=experts,
        experts_per_token=per_token,
        active=active,
        stored_dtype=Fact(stored_dtype, dtype_source) if stored_dtype else unknown(
            "no dtype stored"),
        bytes_at=Fact(at, "formula", "parameters × bytes per parameter (int4: 0.5)"),
    )


def _embedding_params(model: Any) -> int:
    """Token/position embedding tables, plus an output projection that is not tied to them."""
    from torch import nn

    seen: set[int] = set()
    count = 0
    for module in model.modules():
        if isinstance(module, nn.Embedding) and id(module.weight) not in seen:
            seen.add(id(module.weight))
            count += module.weight.numel()
    head = _output_weight(model)
    if head is not None and id(head) not in seen:
        count += head.numel()
    return count


def _output_weight(model: Any) -> Any:
    get = getattr(model, "get_output_embeddings", None)
    head = get() if callable(get) else None
    return getattr(head, "weight", None)


def matmul_params(model: Any, size: Size) -> int:
    """Active parameters that multiply activations: all but embedding lookups, with the output
    projection counted even when tied to the input embeddings (every token pays its matmul)."""
    # _embedding_params holds the lookup tables and an untied head, which ``active`` holds too:
    # taking all of it out and the head back in counts the head once, tied or not.
    lookups = _embedding_params(model)
    active = size.active.value if size.active.value is not None else size.total.value
    return int(active or 0) - lookups + _lm_head(model)


def _embeddings(model: Any) -> list[Any]:
    from torch import nn

    return [m for m in model.modules() if isinstance(m, nn.Embedding)]


def _lm_head(model: Any) -> int:
    """Parameters of the output projection (a matmul every token pays, tied or not)."""
    weight = _output_weight(model)
    return int(weight.numel()) if weight is not None else 0


def _expert_counts(config: Any) -> tuple[Fact[int], Fact[int]]:
    if config is None:
        return unknown("not a config-built model"), unknown("not a config-built model")
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    experts = next((getattr(text, k) for k in _EXPERT_COUNT_KEYS if getattr(text, k, None)), None)
    if not experts or experts <= 1:
        return Fact(0, "config", "dense: no mixture of experts"), Fact(0, "config")
    k = next((getattr(text, n) for n in _EXPERTS_PER_TOKEN_KEYS if getattr(text, n, None)), None)
    per_token: Fact[int] = (
        Fact(int(k), "config") if k else unknown("experts per token not in config")
    )
    return Fact(int(experts), "config"), per_token


def inventory(model: Any) -> dict[str, int]:
    """Counts per layer type: leaf modules plus the repeated blocks of each ModuleList."""
    from torch import nn

    counts: Counter[str] = Counter()
    for module in model.modules():
        if isinstance(module, nn.ModuleList):
            counts.update(type(m).__name__ for m in module if list(m.children()))
        elif not list(module.children()):
            counts[type(module).__name__] += 1
    return dict(counts.most_common())


def identity(built: Built, name: str, ref: str) -> Identity:
    """Framework, architecture, family and inventory of a config-built model."""
    return Identity(
        name=name,
        ref=ref,
        framework=Fact("transformers", "config"),
        architecture=Fact(built.architecture, "config"),
        family=hf_family.family(built.config, built.architecture, built.model),
        layers=Fact(inventory(built.model), "graph"),
    )


def released_head(built: Built, size: Size) -> Size:
    """Count a separate output projection when config.json unties it but the code ties anyway.

    transformers 5 always ties T5's LM head (``T5Config`` forces ``tie_word_embeddings=True``)
    even though T5 v1.1 checkpoints, whose config says ``false``, store their own ``lm_head``.
    """
    head = _output_weight(built.model)
    tied = head is not None and any(head is m.weight for m in _embeddings(built.model))
    # Only where transformers overrode config.json (the config it read says tied): a model
    # whose code shares the two by design (FSMT: fairseq's shared decoder embeddings) holds one.
    overridden = getattr(built.config, "tie_word_embeddings", None) is True
    if built.raw.get("tie_word_embeddings") is not False or not tied or not overridden:
        return size
    extra = int(head.numel())
    note = "config.json unties the LM head: counted separately (transformers 5 ties it)"

    def plus(fact: Fact[int]) -> Fact[int]:
        return Fact(int(fact.value or 0) + extra, fact.source, note)

    scale = {k: v * (1 + extra / max(1, int(size.total.value or 1)))
             for k, v in (size.bytes_at.value or {}).items()}
    return Size(plus(size.total), plus(size.trainable), plus(size.embedding),
                size.non_embedding, size.experts, size.experts_per_token, plus(size.active),
                size.stored_dtype, Fact({k: int(v) for k, v in scale.items()}, "formula"))
