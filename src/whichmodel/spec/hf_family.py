"""The family of a config-built transformers model, told by its structure, not by its name.

The model's own input contract (the arguments of its ``forward``) says which modalities it reads;
its module tree says how it mixes tokens (softmax attention, causal or not; a state-space or
recurrent layer; convolutions only) and whether it routes tokens to experts; its config says
whether it is an encoder-decoder. A type transformers adds tomorrow lands in the family its
structure puts it in.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any

from whichmodel.spec.base import Fact

_TEXT = ("input_ids",)
_VISION = ("pixel_values", "pixel_values_videos", "flattened_patches")
_AUDIO = ("input_features", "input_values", "audio_values", "spectrogram")
_SERIES = ("past_values",)
#: Parameters only a recurrence holds: the state-space decay (Mamba, and gated DeltaNet, which
#: transformers parameterizes the same way), RWKV's time decay, the RG-LRU's recurrent gate.
_RECURRENT_PARAMS = ("A_log", "time_decay", "recurrent_param")
_STATE_SPACE = re.compile(r"Mamba|Mixer|SSM", re.IGNORECASE)
_LINEAR_ATTENTION = re.compile(r"Delta|LinearAttention", re.IGNORECASE)
_SHORT_CONV = re.compile(r"ShortConv", re.IGNORECASE)
_EXPERTS = re.compile(r"(^|\.)experts\.")


@dataclass(frozen=True)
class Structure:
    """What the module tree and the input contract say about a model."""

    modalities: tuple[str, ...]  # of "text", "vision", "audio", "series", in that order
    attention: bool  # softmax attention somewhere (not a recurrence named "attention")
    causal: bool | None  # an attention module declares is_causal=True; None: none declares
    mixer: str  # the token mixer besides attention: "state-space (Mamba)", "state-space",
    #             "linear attention", "recurrent", "convolution" (short convolutions) or ""
    convs: int  # convolution modules
    experts: bool  # routed experts
    towers: bool  # separate towers scored against each other (a ``logit_scale``)
    generates: bool


def structure(model: Any, config: Any) -> Structure:
    """Read :class:`Structure` from a model built on meta and its config."""
    from torch import nn

    inputs = _inputs(model, config)
    modalities = tuple(m for m, keys in (("text", _TEXT), ("vision", _VISION),
                                         ("audio", _AUDIO), ("series", _SERIES))
                       if any(k in inputs for k in keys))
    names = [n for n, _ in model.named_parameters()]
    recurrent_owners = {n.rsplit(".", 1)[0] for n in names
                        if n.rsplit(".", 1)[-1] in _RECURRENT_PARAMS}
    attention, causal, mixers = False, None, set()
    for name, module in model.named_modules():
        cls = type(module).__name__
        if name in recurrent_owners or isinstance(module, nn.RNNBase | nn.RNNCellBase) or (
                "lstm" in cls.lower()):
            mixers.add(_mixer(cls))
        elif _SHORT_CONV.search(cls):
            mixers.add("convolution")
        elif "Attention" in cls or isinstance(module, nn.MultiheadAttention):
            attention = True
            flag = getattr(module, "is_causal", None)
            if isinstance(flag, bool):
                causal = bool(causal) or flag
    mixer = next((m for m in ("state-space (Mamba)", "state-space", "linear attention",
                              "recurrent", "convolution") if m in mixers), "")
    convs = sum(1 for m in model.modules() if type(m).__name__.startswith("Conv")
                or isinstance(m, nn.modules.conv._ConvNd))
    experts = any(_EXPERTS.search(n) for n in names)
    can = getattr(model, "can_generate", None)
    generates = bool(can()) if callable(can) else False
    return Structure(modalities, attention, causal, mixer, convs, experts,
                     any(n.rsplit(".", 1)[-1] == "logit_scale" for n in names), generates)


def _inputs(model: Any, config: Any) -> set[str]:
    """The model's input names: its forward's arguments and main input, plus pixels for a vision
    tower whose forward takes patch embeddings (its config sizes images or patches)."""
    try:
        found = set(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        found = set()
    found.add(str(getattr(model, "main_input_name", "")))
    if "input_ids" not in found and "hidden_states" in found and any(
            getattr(config, k, None) for k in ("patch_size", "image_size", "spatial_merge_size")):
        found.add("pixel_values")
    return found


def _mixer(cls: str) -> str:
    """The kind of token mixer a module holding a recurrence is, from its class name."""
    if _LINEAR_ATTENTION.search(cls):
        return "linear attention"
    if "mamba" in cls.lower():
        return "state-space (Mamba)"
    return "state-space" if _STATE_SPACE.search(cls) else "recurrent"


def family(config: Any, architecture: str, model: Any) -> Fact[str]:
    """The model family, from its structure (see the module docstring). The source is
    ``config`` for the transformer families (the config decides encoder-decoder, and the input
    contract the modalities), ``graph`` for a network told by its layers alone (a CNN)."""
    s = structure(model, config)
    moe = " (MoE)" if s.experts else ""
    if getattr(config, "is_encoder_decoder", False):
        return Fact(f"encoder-decoder transformer{moe}", "config")
    if len(s.modalities) > 1 and {"text"} < set(s.modalities):
        return _multimodal(s, moe)
    if s.modalities[:1] == ("vision",) or s.modalities[:1] == ("audio",):
        return _perception(s, s.modalities[0])
    if s.mixer and (s.mixer != "convolution" or s.attention):
        return _recurrent(s, s.experts)
    if s.modalities == ("series",):
        return Fact("time-series transformer" if s.attention else "time-series network", "config")
    if s.attention:
        return _text(s, config, architecture, moe)
    if s.convs > 2:
        return Fact("CNN", "graph")
    return Fact("neural network", "graph")


def _multimodal(s: Structure, moe: str) -> Fact[str]:
    other = " + ".join(m for m in s.modalities if m != "text")
    kind = "vision-language" if "vision" in s.modalities else f"{other}-language"
    if s.generates:
        return Fact(f"{kind} (decoder-only transformer{moe})", "config")
    if s.towers:
        return Fact(f"dual encoder ({other} + text transformers)", "config")
    return Fact(f"{kind} transformer (encoder)", "config")


def _perception(s: Structure, modality: str) -> Fact[str]:
    word = "vision" if modality == "vision" else "speech"
    if s.attention:
        return Fact(f"{word} transformer (encoder-only)", "config")
    if s.convs:
        return Fact("CNN" if modality == "vision" else "audio CNN", "graph")
    return Fact(f"{modality} network", "graph")


def _recurrent(s: Structure, experts: bool) -> Fact[str]:
    moe = ", MoE" if experts else ""
    if not s.attention:
        name = s.mixer if s.mixer.startswith("state-space") else "recurrent"
        detail = f" ({s.mixer}{moe})" if s.mixer == "linear attention" else (
            f" ({moe[2:]})" if moe else "")
        return Fact(f"{name}{detail}", "config")
    mixer = s.mixer.removesuffix(" (Mamba)")
    return Fact(f"hybrid (attention + {mixer}{moe})", "config")


def _text(s: Structure, config: Any, architecture: str, moe: str) -> Fact[str]:
    causal = s.causal
    if causal is None:  # no attention module says: a causal-LM head on a non-MLM model is
        import transformers.models.auto.modeling_auto as auto

        causal = architecture.endswith(("ForCausalLM", "LMHeadModel")) and (
            getattr(config, "model_type", "") not in auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES)
    if causal:
        return Fact(f"decoder-only transformer{moe}", "config")
    return Fact(f"encoder-only transformer{moe}", "config")
