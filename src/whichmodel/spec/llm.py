"""LLM design fields, read the way each model's own transformers code reads its config.

Key names lie: Falcon's ``num_kv_heads`` is ignored unless ``new_decoder_architecture`` or not
``multi_query``; Qwen2's ``sliding_window`` is dropped unless ``use_sliding_window``; GPT-NeoX's
``rotary_pct`` and Phi's ``partial_rotary_factor`` end up in ``rope_parameters`` (transformers 5);
Gemma's ``hidden_activation`` overrides ``hidden_act``; OPT's ``do_layer_norm_before`` switches the
block to post-LN. Where the module tree answers (norm class, gated MLP, learned position tables,
tied output), it is read from the meta-built model instead (source ``graph``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from whichmodel.spec import layers as per_layer
from whichmodel.spec.base import Design, Fact, unknown

T = TypeVar("T")

# Norm placement per model_type, from each model's modeling code in transformers 5.
_POST_LN = {"bert", "roberta", "xlm-roberta", "electra", "albert", "distilbert", "bart",
            "marian", "camembert", "deberta", "deberta-v2", "mpnet", "ernie"}
_PARALLEL = {"phi", "gptj", "cohere", "cohere2", "gpt_neox_japanese"}
_SANDWICH = {"gemma2", "gemma3", "gemma3_text", "gemma4", "gemma4_text", "glm4"}
# modeling_olmo2.Olmo2DecoderLayer: x + norm(attn(x)), then h + norm(mlp(h)); no input norm.
_POST_BRANCH = {"olmo2", "olmo3"}
_PRE_LN = {"gpt2", "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe",
           "gemma", "t5", "mt5", "umt5", "whisper", "vit", "clip", "clip_text_model",
           "clip_vision_model", "bloom", "mpt", "starcoder2", "gpt_bigcode", "phi3", "olmo",
           "stablelm", "deepseek_v2", "deepseek_v3", "mbart", "granite", "gpt_neo", "opt",
           "gpt_neox", "falcon", "pegasus", "siglip", "mamba", "mamba2", "persimmon", "ministral"}
_ALIBI = {"bloom", "mpt"}
_RELATIVE = {"t5", "mt5", "umt5", "longt5", "deberta", "deberta-v2", "switch_transformers"}
_ACTIVATIONS = {
    "gelu": "GELU", "gelu_new": "GELU (tanh)", "gelu_pytorch_tanh": "GELU (tanh)",
    "gelu_fast": "GELU (tanh)", "gelu_python": "GELU", "quick_gelu": "GELU (sigmoid)",
    "relu": "ReLU", "silu": "SiLU", "swish": "SiLU", "relu2": "ReLU²", "tanh": "tanh",
}
_GATED = {"SiLU": "SwiGLU", "GELU": "GeGLU", "GELU (tanh)": "GeGLU", "ReLU": "ReGLU"}


def text_config(config: Any) -> Any:
    """The language part of a multimodal config (CLIP: the text tower), else the config."""
    get = getattr(config, "get_text_config", None)
    return get() if callable(get) else config


_NO_HEADS, _NO_HIDDEN = "no attention heads in config", "no hidden size in config"


class _Unreadable(Exception):
    """A config value the design cannot use as one number; the message says why."""


def _first(config: Any, *keys: str) -> Any:
    """The first of ``keys`` the config sets. A per-layer attribute (Gemma 4's ``head_dim``)
    counts when every layer agrees, and raises :class:`_Unreadable` when they differ."""
    for key in keys:
        try:
            value = getattr(config, key, None)
        except RuntimeError as exc:  # transformers' AmbiguousGlobalPerLayerAttributeError
            value = _same_in_every_layer(config, key, exc)
        if value is not None:
            return value
    return None


def _same_in_every_layer(config: Any, key: str, exc: RuntimeError) -> Any:
    if type(exc).__name__ != "AmbiguousGlobalPerLayerAttributeError":
        raise exc
    counts = Counter(repr(getattr(layer, key, None)) for layer in config.per_layer_config)
    if len(counts) == 1:
        return getattr(config.per_layer_config[0], key, None)
    raise _Unreadable(f"{key} differs across layers: "
                      + ", ".join(f"{v} in {n}" for v, n in counts.most_common()))


def _first_int(config: Any, *keys: str) -> int | None:
    """:func:`_first` as one integer; a list (Swin's per-stage ``num_heads``) is not one."""
    value = _first(config, *keys)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, list | tuple):
        name = next(k for k in keys if _first(config, k) is not None)
        raise _Unreadable(f"{name} is one value per stage: {list(value)}")
    return int(value)


def _guarded(compute: Callable[[], Fact[T]]) -> Fact[T]:
    """``compute()``, or the fact unknown with the reason the config could not answer it: one
    field that fails never takes the rest of the design (or of the sheet) down with it."""
    try:
        return compute()
    except Exception as exc:
        return unknown(_why(exc))


def _why(exc: Exception) -> str:
    if isinstance(exc, _Unreadable):
        return str(exc)
    message = " ".join(str(exc).split())
    return f"not read from the config: {type(exc).__name__}: {message}"[:300]


def design(config: Any, model: Any) -> Design:
    """The design fields of a transformer built from ``config`` (``model`` is on meta). A field
    the config cannot answer (a per-layer or per-stage value, a key that raises) is unknown with
    the reason; the others still come out."""
    cfg = text_config(config)
    mtype = str(getattr(config, "model_type", ""))
    heads: Fact[int] = _guarded(lambda: _given(
        _first_int(cfg, "num_attention_heads", "n_head", "encoder_attention_heads"),
        _NO_HEADS))
    hidden: Fact[int] = _guarded(lambda: _given(_first_int(cfg, "hidden_size", "d_model", "n_embd"),
                                                _NO_HIDDEN))
    kv_heads = _from(_guarded(lambda: _kv_heads(cfg, mtype, heads.value)), heads)
    head_dim = _from(_guarded(lambda: _head_dim(cfg, hidden.value, heads.value)), heads, hidden)
    activation = _guarded(lambda: _activation(cfg, mtype))
    try:
        window, sliding_layers = _sliding(cfg)
    except Exception as exc:  # as _guarded, for the pair
        window = sliding_layers = unknown(_why(exc))
    try:
        layer_pattern, attention_layers = per_layer.pattern(per_layer.layer_kinds(cfg))
    except Exception as exc:
        layer_pattern = attention_layers = unknown(_why(exc))
    return Design(
        layers=_guarded(lambda: _layers(config, cfg, model)),
        hidden_size=hidden,
        intermediate_size=_guarded(lambda: _intermediate(cfg, hidden.value)),
        norm=_guarded(lambda: _norm(model)),
        norm_placement=_guarded(lambda: _placement(cfg, mtype)),
        position=_guarded(lambda: _position(cfg, mtype, model)),
        rope_theta=_guarded(lambda: _rope(cfg, "rope_theta")),
        rope_scaling=_guarded(lambda: _rope_scaling(cfg)),
        rotary_fraction=_guarded(lambda: _rotary_fraction(cfg, mtype, head_dim.value)),
        activation=activation,
        gating=_guarded(lambda: _gating(model, cfg, mtype, activation.value)),
        attention=_from(_guarded(lambda: _attention(cfg, heads.value, kv_heads.value)),
                        heads, kv_heads),
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        sliding_window=window,
        sliding_layers=sliding_layers,
        context_length=_guarded(lambda: _context(cfg, model)),
        vocab_size=_guarded(lambda: Fact(_first_int(cfg, "vocab_size"), "config")),
        tied_embeddings=_guarded(lambda: _tied(model, config)),
        kv_lora_rank=_guarded(lambda: Fact(int(_first(cfg, "kv_lora_rank") or 0), "config")),
        layer_pattern=layer_pattern,
        attention_layers=attention_layers,
    )


def _from(fact: Fact[T], *inputs: Fact[Any]) -> Fact[T]:
    """``fact``; when it is unknown because an input it is computed from could not be read (not
    merely absent), that input's reason: Swin's heads per stage, not "head counts not in config"."""
    if fact.value is None:
        for given in inputs:
            if given.source == "unknown" and given.note not in (_NO_HEADS, _NO_HIDDEN):
                return unknown(given.note)
    return fact


def _given(value: int | None, missing: str) -> Fact[int]:
    return Fact(value, "config") if value else unknown(missing)


def _gating(model: Any, cfg: Any, mtype: str, activation: str | None) -> Fact[str]:
    if mtype in ("t5", "mt5", "umt5") and str(getattr(cfg, "feed_forward_proj", "")).startswith(
        "gated-"
    ):
        return Fact(_GATED.get(activation or "", "gated"), "config", "feed_forward_proj")
    gated = _is_gated(model, cfg)
    return Fact(_GATED.get(activation or "", "gated") if gated else "none", "graph")


def _layers(config: Any, cfg: Any, model: Any) -> Fact[int]:
    towers = _towers(config, model)
    if towers:
        return Fact(sum(towers.values()), "config",
                    " + ".join(f"{n} {name}" for name, n in towers.items())
                    + "; the other design fields are the text tower's")
    if getattr(config, "is_encoder_decoder", False):
        enc = _first_int(config, "encoder_layers", "num_layers")
        dec = _first_int(config, "decoder_layers", "num_decoder_layers", "num_layers")
        if enc and dec:
            return Fact(int(enc) + int(dec), "config", f"{enc} encoder + {dec} decoder")
    n = _first_int(cfg, "num_hidden_layers", "n_layer", "num_layers")
    return Fact(n, "config") if n else unknown("no layer count in config")


def _towers(config: Any, model: Any) -> dict[str, int]:
    """Layers per tower of a dual encoder (towers scored against each other through a
    ``logit_scale``: CLIP, SigLIP), else empty."""
    subs = {name: getattr(config, f"{name}_config", None) for name in ("text", "vision", "audio")}
    subs = {name: sub for name, sub in subs.items() if sub is not None}
    if len(subs) < 2 or not any(n.rsplit(".", 1)[-1] == "logit_scale"
                                for n, _ in model.named_parameters()):
        return {}
    counts = {name: _first_int(sub, "num_hidden_layers", "num_layers")
              for name, sub in subs.items()}
    return {name: int(n) for name, n in counts.items() if n}


def _kv_heads(cfg: Any, mtype: str, heads: int | None) -> Fact[int]:
    if mtype == "falcon":
        # modeling_falcon.FalconAttention: num_kv_heads only counts with the new architecture or
        # without multi_query; multi_query alone means one K/V head.
        if cfg.new_decoder_architecture:
            return Fact(cfg.num_kv_heads, "config",
                        "transformers' Falcon code caches K/V broadcast to all heads")
        if cfg.multi_query:
            return Fact(1, "config", "multi_query=True overrides num_kv_heads")
        return Fact(heads, "config", "multi_query=False: one K/V head per query head")
    if mtype == "gpt_bigcode":
        return Fact(1 if cfg.multi_query else heads, "config", "multi_query")
    n = _first_int(cfg, "num_key_value_heads", "num_kv_heads", "n_head_kv")
    if n is not None:
        return Fact(n, "config")
    return Fact(heads, "config", "no K/V head count: one per query head") if heads else unknown(
        "no attention heads in config"
    )


def _head_dim(cfg: Any, hidden: int | None, heads: int | None) -> Fact[int]:
    if getattr(cfg, "qk_nope_head_dim", None) is not None:  # MLA (DeepSeek-V2/V3)
        dim = int(cfg.qk_nope_head_dim) + int(cfg.qk_rope_head_dim)
        return Fact(dim, "config", f"MLA: {cfg.qk_nope_head_dim} + {cfg.qk_rope_head_dim} rotary")
    explicit = _first_int(cfg, "head_dim", "d_kv")
    if explicit:
        return Fact(explicit, "config")
    if hidden and heads:
        return Fact(int(hidden) // int(heads), "formula", "hidden size / heads")
    return unknown("no head size in config")


def _intermediate(cfg: Any, hidden: int | None) -> Fact[int]:
    n = _first_int(cfg, "intermediate_size", "ffn_dim", "d_ff", "encoder_ffn_dim", "n_inner",
                   "ffn_hidden_size")
    if n:
        return Fact(n, "config")
    if hidden and getattr(cfg, "model_type", "") in ("gpt2", "falcon", "bloom", "gpt_bigcode"):
        return Fact(4 * int(hidden), "formula", "4 × hidden (the model's default)")
    return unknown("no FFN width in config")


def _activation(cfg: Any, mtype: str) -> Fact[str]:
    if mtype.startswith("gemma") and getattr(cfg, "hidden_activation", None):
        name = cfg.hidden_activation  # Gemma's MLP reads hidden_activation, not hidden_act
    elif mtype in ("t5", "mt5", "umt5"):
        name = getattr(cfg, "dense_act_fn", None) or str(cfg.feed_forward_proj).split("-")[-1]
    elif mtype in ("falcon", "bloom"):
        name = getattr(cfg, "activation", None) or "gelu"
    else:
        name = _first(cfg, "hidden_act", "activation_function", "hidden_activation")
    if name is None:
        return unknown("no activation in config")
    return Fact(_ACTIVATIONS.get(str(name), str(name)), "config", f"{name}")


def _is_gated(model: Any, cfg: Any) -> bool:
    for name, _ in model.named_parameters():
        if name.endswith(("gate_proj.weight", "wi_0.weight", ".w3.weight", "gate_up_proj",
                          "gate_up_proj.weight", "w2_gate.weight")):
            return True
    return False


def _norm(model: Any) -> Fact[str]:
    from torch import nn

    names = {type(m).__name__ for m in model.modules()}
    # T5LayerNorm only scales (no mean subtraction, no bias): RMSNorm (Zhang & Sennrich 2019).
    if any(n.endswith("RMSNorm") or n == "T5LayerNorm" for n in names):
        return Fact("RMSNorm", "graph")
    if any(isinstance(m, nn.LayerNorm) for m in model.modules()):
        return Fact("LayerNorm", "graph")
    return unknown("no normalization layer found")


def _placement(cfg: Any, mtype: str) -> Fact[str]:
    if mtype == "opt":
        pre = bool(cfg.do_layer_norm_before)
        return Fact("pre" if pre else "post", "config", "do_layer_norm_before")
    if mtype == "gpt_neox":
        par = bool(cfg.use_parallel_residual)
        return Fact("parallel" if par else "pre", "config", "use_parallel_residual")
    if mtype == "falcon":
        par = bool(cfg.parallel_attn or cfg.new_decoder_architecture)
        why = "parallel_attn/new_decoder_architecture"
        return Fact("parallel" if par else "pre", "config", why)
    for table, value in ((_POST_LN, "post"), (_PARALLEL, "parallel"), (_SANDWICH, "pre+post"),
                         (_PRE_LN, "pre"), (_POST_BRANCH, "post (residual branch)")):
        if mtype in table:
            return Fact(value, "config", f"{mtype} blocks")
    return unknown(f"norm placement of {mtype!r} blocks not classified")


def _rope_params(cfg: Any) -> dict[str, Any]:
    params = getattr(cfg, "rope_parameters", None)  # transformers 5
    if isinstance(params, dict) and "full_attention" in params:  # per-layer-type RoPE (Gemma 3)
        params = params["full_attention"]
    return params if isinstance(params, dict) else {}


def _rope(cfg: Any, key: str) -> Fact[float]:
    value = _rope_params(cfg).get(key, getattr(cfg, key, None))
    return Fact(float(value), "config") if value is not None else Fact(None, "config")


def _rope_scaling(cfg: Any) -> Fact[str]:
    params = _rope_params(cfg) or (getattr(cfg, "rope_scaling", None) or {})
    kind = params.get("rope_type") or params.get("type")
    if not kind or kind == "default":
        return Fact("none", "config")
    factor = params.get("factor")
    original = params.get("original_max_position_embeddings")
    if factor is None and kind == "longrope" and original:
        # modeling_rope_utils._compute_longrope_parameters (Phi-3): the factor is the context
        # over the pretraining context when the config names none.
        factor = int(_first_int(cfg, "max_position_embeddings") or 0) / int(original)
        return Fact(f"{kind} ×{factor:g}", "formula",
                    f"max_position_embeddings / original_max_position_embeddings ({original})")
    return Fact(f"{kind} ×{factor:g}" if factor else str(kind), "config")


def _rotary_fraction(cfg: Any, mtype: str, head_dim: int | None) -> Fact[float]:
    value = _rope_params(cfg).get("partial_rotary_factor")
    value = value if value is not None else _first(cfg, "partial_rotary_factor", "rotary_pct")
    if value is None and getattr(cfg, "rotary_dim", None) and head_dim:
        value = cfg.rotary_dim / head_dim  # GPT-J
    return Fact(float(value), "config") if value is not None else Fact(None, "config")


def _position(cfg: Any, mtype: str, model: Any) -> Fact[str]:
    from torch import nn

    if mtype in _ALIBI or (mtype == "falcon" and cfg.alibi):
        return Fact("ALiBi", "config")
    if mtype in _RELATIVE:
        return Fact("relative bias", "config")
    if mtype.startswith("mamba"):
        return Fact("none (recurrent state)", "config")
    kinds: list[str] = []
    for name, module in model.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        if "rotary" in type(module).__name__.lower() and "RoPE" not in kinds:
            kinds.append("RoPE")
        elif isinstance(module, nn.Embedding) and leaf in (
            "wpe", "position_embeddings", "embed_positions", "position_embedding"):
            # Whisper's encoder table is sinusoidal and frozen; trained tables are learned.
            kind = "learned absolute" if module.weight.requires_grad else "sinusoidal"
            if kind not in kinds:
                kinds.append(kind)
    if not kinds and any(n.rsplit(".", 1)[-1] == "position_embeddings"
                         for n, _ in model.named_parameters()):
        kinds.append("learned absolute")  # ViT: a Parameter added to the patch embeddings
    if kinds:
        return Fact(" + ".join(kinds), "graph")
    return unknown("no position encoding found in the module tree")


def _attention(cfg: Any, heads: int | None, kv: int | None) -> Fact[str]:
    if getattr(cfg, "kv_lora_rank", None):
        return Fact("MLA", "config", f"multi-head latent attention, rank {cfg.kv_lora_rank}")
    if not heads or not kv:
        return unknown("head counts not in config")
    if kv == heads:
        return Fact("MHA", "formula")
    if kv == 1:
        return Fact("MQA", "formula", "one K/V head shared by all query heads")
    return Fact("GQA", "formula", f"{heads // kv} query heads per K/V head")


def _sliding(cfg: Any) -> tuple[Fact[int], Fact[int]]:
    window = _first_int(cfg, "sliding_window")  # Qwen2's config drops it without use_*
    layer_types = _first(cfg, "layer_types")
    n_layers = _first_int(cfg, "num_hidden_layers", "n_layer", "num_layers")
    if not window:
        return Fact(None, "config", "full attention in every layer"), Fact(0, "config")
    if layer_types:
        sliding = sum(1 for t in layer_types if t == "sliding_attention")
        return Fact(int(window), "config"), Fact(sliding, "config", "layer_types")
    return Fact(int(window), "config"), Fact(int(n_layers or 0), "config", "every layer")


def _context(cfg: Any, model: Any) -> Fact[int]:
    n = _first_int(cfg, "max_position_embeddings", "n_positions", "max_target_positions",
                   "max_seq_len")
    if not n:
        return unknown("no context length in config")
    offset = _position_offset(model)
    if offset:
        return Fact(n - offset, "config", f"max_position_embeddings {n} less the padding_idx + 1 "
                    f"= {offset} positions the model never uses")
    return Fact(n, "config")


def _position_offset(model: Any) -> int:
    """RoBERTa-style embeddings start position ids after the padding index
    (``create_position_ids_from_input_ids``): the first ``padding_idx + 1`` rows of the table
    are never a real position. 0 for every other model."""
    from torch import nn

    for module in model.modules():
        table = getattr(module, "position_embeddings", None)
        ids_after_padding = hasattr(module, "create_position_ids_from_input_ids")
        if isinstance(table, nn.Embedding) and ids_after_padding:
            return int(table.padding_idx) + 1 if table.padding_idx is not None else 0
    return 0


def _tied(model: Any, config: Any) -> Fact[bool]:
    get_in = getattr(model, "get_input_embeddings", None)
    get_out = getattr(model, "get_output_embeddings", None)
    out = get_out() if callable(get_out) else None
    if out is None or not callable(get_in):
        return Fact(False, "graph", "no output projection")
    tied = out.weight is get_in().weight
    if tied and getattr(config, "scale_decoder_outputs", True) is False:  # T5 v1.1, see hf.py
        return Fact(False, "config", "tie_word_embeddings=false (transformers 5 ties it anyway)")
    return Fact(tied, "graph")
