"""The design of a GGUF model, read from its metadata (``{arch}.block_count``,
``{arch}.attention.head_count_kv``, ``{arch}.rope.freq_base`` ...) and its tensor names, in the
terms of the Hugging Face sheet (:class:`~whichmodel.spec.base.Design`), so that a diff lines the
two up field by field.

Metadata is the file's config (source ``config``); what the tensor table shows (gated FFN, norm
placement, tied output) is source ``weights``. A key the file does not carry makes its fact
unknown with the key named; a per-layer array (OpenELM's head counts, a hybrid's K/V heads with 0
for its recurrent layers) is read layer by layer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from whichmodel.spec.base import Design, Fact, unknown
from whichmodel.spec.gguf_file import Tensor

T = TypeVar("T")

# The activation llama.cpp's graph of each architecture uses (llama-model.cpp, build_ffn); the
# file itself does not name it. Names as the Hugging Face sheet gives them (spec/llm.py).
_SILU = {"llama", "llama4", "mistral3", "qwen", "qwen2", "qwen2moe", "qwen3", "qwen3moe",
         "deepseek", "deepseek2", "granite", "granitemoe", "olmo", "olmo2", "olmoe", "phi3",
         "phimoe", "internlm2", "minicpm", "minicpm3", "stablelm", "command-r", "cohere2",
         "exaone", "glm4", "chatglm", "smollm3", "baichuan", "nomic-bert"}
_GELU_TANH = {"gemma", "gemma2", "gemma3", "gpt2", "phi2", "starcoder2"}
_GELU = {"falcon", "gptneox", "bert", "starcoder", "bloom", "mpt", "jina-bert-v2"}
_GATED = {"SiLU": "SwiGLU", "GELU": "GeGLU", "GELU (tanh)": "GeGLU", "ReLU": "ReGLU"}
# llama.cpp's sliding-window pattern per architecture when the file sets none (set_swa_pattern:
# layer i slides when i % n < n - 1).
_SWA_PATTERN = {"gemma2": 2, "gemma3": 6, "cohere2": 4}
_ENCODERS = {"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "neo-bert", "modern-bert",
             "t5encoder"}
_ALIBI = {"bloom", "mpt"}


@dataclass(frozen=True)
class Meta:
    """The metadata of one file, with the architecture's keys (``{arch}.name``) at hand."""

    values: Mapping[str, Any]
    tensors: tuple[Tensor, ...]

    @property
    def arch(self) -> str:
        return str(self.values.get("general.architecture") or "")

    def key(self, name: str) -> str:
        return f"{self.arch}.{name}"

    def get(self, name: str) -> Any:
        """The value of ``{arch}.name``, or None."""
        return self.values.get(self.key(name))

    def block_tensors(self) -> set[str]:
        """The tensor names of the first block, ``blk.0.`` dropped (``attn_q.weight``)."""
        return {t.name[6:] for t in self.tensors if t.name.startswith("blk.0.")}

    def has(self, name: str) -> bool:
        return any(t.name == name for t in self.tensors)


def per_layer(meta: Meta, name: str) -> list[int] | None:
    """``{arch}.name`` for each of the file's layers (a scalar repeated, or its array), or None
    when the key is absent.

    Raises:
        ValueError: the array has another length than ``block_count``.
    """
    value, layers = meta.get(name), meta.get("block_count")
    if value is None:
        return None
    if isinstance(value, int | float):
        return [int(value)] * int(layers or 1)
    values = [int(v) for v in value]
    if layers is not None and len(values) != int(layers):
        raise ValueError(f"{meta.key(name)} has {len(values)} values for {layers} layers")
    return values


def _one(meta: Meta, name: str, values: list[int] | None) -> Fact[int]:
    """One number for a per-layer key: the same in every layer, or the one value of the layers
    that have it (0 elsewhere: a hybrid's recurrent layers), else unknown with the values."""
    if values is None:
        return unknown(f"{meta.key(name)} not in the file")
    counts = Counter(v for v in values if v)
    if len(counts) == 1:
        value, n = next(iter(counts.items()))
        note = "" if n == len(values) else f"{n} of {len(values)} layers"
        return Fact(value, "config", note)
    if not counts:
        return unknown(f"{meta.key(name)} is 0 in every layer")
    return unknown(f"{meta.key(name)} differs across layers: "
                   + ", ".join(f"{v} in {n}" for v, n in counts.most_common()))


def guarded(compute: Callable[[], Fact[T]]) -> Fact[T]:
    """``compute()``, or the fact unknown with the reason: one field (a key of the wrong type,
    an array of the wrong length) never takes the rest of the sheet down with it."""
    try:
        return compute()
    except Exception as exc:
        return unknown(why(exc))


def why(exc: Exception) -> str:
    """An exception as the one-line note of an unknown fact."""
    return " ".join(f"not read from the file: {type(exc).__name__}: {exc}".split())[:300]


def design(meta: Meta) -> Design:
    """The design fields of the file's model."""
    layers: Fact[int] = guarded(lambda: _int(meta, "block_count"))
    heads = guarded(lambda: _one(meta, "attention.head_count",
                                  per_layer(meta, "attention.head_count")))
    kv_heads = guarded(lambda: _kv_heads(meta, heads))
    hidden: Fact[int] = guarded(lambda: _int(meta, "embedding_length"))
    head_dim = guarded(lambda: _head_dim(meta, hidden.value, heads.value))
    activation = guarded(lambda: _activation(meta))
    window, sliding = _sliding(meta)
    return Design(
        layers=layers,
        hidden_size=hidden,
        intermediate_size=guarded(lambda: _one(meta, "feed_forward_length",
                                                per_layer(meta, "feed_forward_length"))),
        norm=guarded(lambda: _norm(meta)),
        norm_placement=guarded(lambda: _placement(meta)),
        position=guarded(lambda: _position(meta)),
        rope_theta=guarded(lambda: _float(meta, "rope.freq_base")),
        rope_scaling=guarded(lambda: _rope_scaling(meta)),
        rotary_fraction=guarded(lambda: _rotary_fraction(meta, head_dim.value)),
        activation=activation,
        gating=guarded(lambda: _gating(meta, activation.value)),
        attention=guarded(lambda: _attention(meta, heads.value, kv_heads.value)),
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        sliding_window=window,
        sliding_layers=sliding,
        context_length=guarded(lambda: _int(meta, "context_length")),
        vocab_size=guarded(lambda: vocab_size(meta)),
        tied_embeddings=guarded(lambda: _tied(meta)),
        kv_lora_rank=guarded(lambda: Fact(int(meta.get("attention.kv_lora_rank") or 0),
                                           "config")),
    )


def _int(meta: Meta, name: str) -> Fact[int]:
    value = meta.get(name)
    return Fact(int(value), "config") if value is not None else unknown(
        f"{meta.key(name)} not in the file")


def _float(meta: Meta, name: str) -> Fact[float]:
    value = meta.get(name)
    return Fact(float(value), "config") if value is not None else Fact(None, "config")


def _kv_heads(meta: Meta, heads: Fact[int]) -> Fact[int]:
    values = per_layer(meta, "attention.head_count_kv")
    if values is None:
        if heads.value is None:
            return unknown(heads.note)
        return Fact(heads.value, "config", "no K/V head count: one per query head")
    return _one(meta, "attention.head_count_kv", values)


def _head_dim(meta: Meta, hidden: int | None, heads: int | None) -> Fact[int]:
    for name in ("attention.key_length_mla", "attention.key_length"):
        if meta.get(name):
            dim = int(meta.get(name))
            rope = meta.get("rope.dimension_count")
            if meta.get("attention.kv_lora_rank") and rope:  # read by compute.kv_cache's rule
                return Fact(dim, "config", f"MLA: {dim - int(rope)} + {int(rope)} rotary")
            return Fact(dim, "config")
    if hidden and heads:
        return Fact(hidden // heads, "formula", "hidden size / heads")
    return unknown(f"{meta.key('attention.key_length')} not in the file")


def _activation(meta: Meta) -> Fact[str]:
    arch = meta.arch
    for names, value in ((_SILU, "SiLU"), (_GELU_TANH, "GELU (tanh)"), (_GELU, "GELU")):
        if arch in names:
            return Fact(value, "config", f"llama.cpp's {arch} graph (the file does not name it)")
    return unknown(f"the file does not name the activation, and llama.cpp's {arch!r} graph is "
                   "not classified here")


def _gating(meta: Meta, activation: str | None) -> Fact[str]:
    block = meta.block_tensors()
    if any(n.startswith(("ffn_gate.", "ffn_gate_exps.", "ffn_gate_up")) for n in block):
        return Fact(_GATED.get(activation or "", "gated"), "weights", "ffn_gate tensors")
    if any(n.startswith(("ffn_up.", "ffn_up_exps.")) for n in block):
        return Fact("none", "weights", "ffn_up without ffn_gate")
    return unknown("no feed-forward tensors in the first block")


def _norm(meta: Meta) -> Fact[str]:
    if meta.get("attention.layer_norm_rms_epsilon") is not None:
        return Fact("RMSNorm", "config", "attention.layer_norm_rms_epsilon")
    if meta.get("attention.layer_norm_epsilon") is not None:
        return Fact("LayerNorm", "config", "attention.layer_norm_epsilon")
    return unknown("no layer_norm_rms_epsilon or layer_norm_epsilon in the file")


def _placement(meta: Meta) -> Fact[str]:
    """From the first block's norm tensors: post-attention and post-FFN norms (Gemma 2's
    sandwich, OLMo-2's post-only), BERT's post-LN, one norm before a parallel block."""
    names = {n.rsplit(".", 1)[0] for n in meta.block_tensors()}
    post = bool(names & {"attn_post_norm", "post_attention_norm", "ffn_post_norm",
                         "post_ffw_norm"})
    ffn = any(n.startswith("ffn_") for n in names)
    if "attn_output_norm" in names or "layer_output_norm" in names:
        return Fact("post", "weights", "attn_output_norm / layer_output_norm")
    if post:
        return Fact("pre+post" if "attn_norm" in names else "post", "weights",
                    "post-attention and post-FFN norm tensors")
    if meta.get("use_parallel_residual") or "attn_norm_2" in names or (
        "attn_norm" in names and ffn and "ffn_norm" not in names
    ):
        return Fact("parallel", "weights", "one norm before attention and FFN side by side")
    if "attn_norm" in names:
        return Fact("pre", "weights", "attn_norm / ffn_norm before each sublayer")
    return unknown("no norm tensors in the first block")


def _position(meta: Meta) -> Fact[str]:
    if meta.has("position_embd.weight"):
        return Fact("learned absolute", "weights", "position_embd tensor")
    if meta.get("rope.dimension_count") is not None or meta.get("rope.freq_base") is not None:
        return Fact("RoPE", "config", "rope.* keys")
    if meta.arch in _ALIBI or meta.get("attention.max_alibi_bias") is not None:
        return Fact("ALiBi", "config")
    if meta.get("attention.relative_buckets_count") is not None:
        return Fact("relative bias", "config")
    return unknown("no rope.* keys, ALiBi bias or position table in the file")


def _rope_scaling(meta: Meta) -> Fact[str]:
    kind = meta.get("rope.scaling.type")
    if not kind or kind == "none":
        return Fact("none", "config")
    factor = meta.get("rope.scaling.factor")
    return Fact(f"{kind} ×{factor:g}" if factor else str(kind), "config")


def _rotary_fraction(meta: Meta, head_dim: int | None) -> Fact[float]:
    rope = meta.get("rope.dimension_count")
    if rope is None or not head_dim or int(rope) == head_dim or meta.get(
            "attention.kv_lora_rank"):
        return Fact(None, "config")
    return Fact(int(rope) / head_dim, "formula", "rope.dimension_count / head size")


def _attention(meta: Meta, heads: int | None, kv: int | None) -> Fact[str]:
    rank = meta.get("attention.kv_lora_rank")
    if rank:
        return Fact("MLA", "config", f"multi-head latent attention, rank {rank}")
    if not heads or not kv:
        return unknown("head counts not in the file")
    if kv == heads:
        return Fact("MHA", "formula")
    if kv == 1:
        return Fact("MQA", "formula", "one K/V head shared by all query heads")
    return Fact("GQA", "formula", f"{heads // kv} query heads per K/V head")


def sliding_layers(meta: Meta) -> tuple[int | None, list[bool]]:
    """The sliding window (None: full attention) and, per layer, whether it slides: from
    ``attention.sliding_window_pattern`` (one flag per layer, or llama.cpp's period n), else
    llama.cpp's pattern for the architecture, else every layer."""
    window, layers = meta.get("attention.sliding_window"), int(meta.get("block_count") or 0)
    if not window:
        return None, [False] * layers
    pattern: Any = meta.get("attention.sliding_window_pattern") or _SWA_PATTERN.get(meta.arch)
    if pattern is None:
        return int(window), [True] * layers
    if isinstance(pattern, int | float):
        n = int(pattern)
        return int(window), [i % n < n - 1 for i in range(layers)]
    return int(window), [bool(v) for v in pattern]


def _sliding(meta: Meta) -> tuple[Fact[int], Fact[int]]:
    try:
        window, flags = sliding_layers(meta)
    except Exception as exc:  # as guarded, for the pair
        failed: Fact[int] = unknown(why(exc))
        return failed, failed
    if window is None:
        return Fact(None, "config", "full attention in every layer"), Fact(0, "config")
    how = ("attention.sliding_window_pattern" if meta.get("attention.sliding_window_pattern")
           else f"llama.cpp's {meta.arch} pattern" if meta.arch in _SWA_PATTERN
           else "every layer")
    return Fact(window, "config"), Fact(sum(flags), "config", how)


def vocab_size(meta: Meta) -> Fact[int]:
    """``{arch}.vocab_size``, else the token list's length, else the embedding's rows."""
    if meta.get("vocab_size") is not None:
        return Fact(int(meta.get("vocab_size")), "config")
    tokens = meta.values.get("tokenizer.ggml.tokens")
    if tokens is not None:
        return Fact(len(tokens), "config", "tokenizer.ggml.tokens")
    embd = next((t for t in meta.tensors if t.name == "token_embd.weight"), None)
    if embd is not None and len(embd.shape) == 2:
        return Fact(embd.shape[1], "weights", "token_embd rows")
    return unknown("no vocab_size, token list or token_embd tensor in the file")


def _tied(meta: Meta) -> Fact[bool]:
    if not meta.has("token_embd.weight"):
        return unknown("no token_embd tensor")
    if meta.has("output.weight"):
        return Fact(False, "weights", "output.weight stored")
    return Fact(True, "weights", "no output.weight: llama.cpp multiplies by token_embd")


def family(meta: Meta, kv_per_layer: Sequence[int] | None) -> Fact[str]:
    """The family in the Hugging Face sheet's words, from the keys the file carries."""
    arch = meta.arch
    if not arch:
        return unknown("general.architecture not in the file")
    recurrent = meta.get("ssm.state_size") is not None or meta.get("wkv.head_size") is not None
    attends = bool(kv_per_layer and any(kv_per_layer))
    why = f"llama.cpp architecture {arch!r}"
    if recurrent and attends:
        return Fact("hybrid (attention + state-space)", "config", why)
    if recurrent:
        kind = "RWKV" if meta.get("wkv.head_size") is not None else "Mamba"
        return Fact(f"state-space ({kind})", "config", why)
    if arch == "t5":
        return Fact("encoder-decoder transformer", "config", why)
    if arch in _ENCODERS or meta.get("attention.causal") is False:
        return Fact("encoder-only transformer", "config", why)
    if meta.get("attention.head_count") is not None:
        return Fact("decoder-only transformer", "config", why)
    return Fact("transformer", "config", f"{why}: family not classified")
