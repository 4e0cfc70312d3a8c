"""Per-layer truth: which layers cache K/V, which hold a recurrent state, and what attention
costs per token when layers differ (sliding vs global, attention vs linear attention or SSM).

Layer kinds are read as transformers' own cache reads them
(``cache_utils.get_layer_types_and_kwargs``: ``config.layer_types``, KV-sharing layers as
``dummy``); a recurrent layer's state is read from the module that holds it on the meta-built
model, sized as transformers' ``LinearAttentionLayer`` stores it (checked against a real cache
in ``tests/spec/test_per_layer.py``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from whichmodel.spec.base import DTYPE_BYTES, Design, Fact, unknown

#: Layer kinds (transformers' names) whose K and V grow with the context.
FULL = ("full_attention", "attention", "hybrid")
#: ... and those that keep at most a window of it.
WINDOWED = ("sliding_attention", "chunked_attention", "hybrid_sliding")
#: Layer kinds that hold a conv and/or recurrent state instead (or besides: the hybrids).
STATEFUL = ("linear_attention", "conv", "mamba", "hybrid", "hybrid_sliding")
#: Layers that cache nothing (KV shared with an earlier layer; an MLP- or MoE-only block).
EMPTY = ("dummy", "moe", "mlp")


def layer_kinds(cfg: Any) -> list[str] | None:
    """Each layer's kind, as transformers' cache builds it, when the config lists them
    (``layer_types``); None when it does not (every layer is then alike)."""
    if not getattr(cfg, "layer_types", None):
        return None
    try:
        from transformers.cache_utils import get_layer_types_and_kwargs

        kinds, _ = get_layer_types_and_kwargs(cfg)
    except Exception:  # an older transformers, or a config the helper cannot read
        kinds = list(cfg.layer_types)
    return [str(k) for k in kinds]


def pattern(kinds: list[str] | None) -> tuple[Fact[str], Fact[int]]:
    """(the layer pattern as counts per kind, the number of layers whose K/V grow with the
    context or a window); both absent (value None, no note) when every layer is alike."""
    if not kinds or (len(set(kinds)) == 1 and kinds[0] in FULL):
        return Fact(None, "unknown"), Fact(None, "unknown")
    counts = Counter(kinds)
    text = " + ".join(f"{n} {k}" for k, n in counts.most_common())
    attends = sum(n for k, n in counts.items() if k in FULL or k in WINDOWED)
    odd = sorted(k for k in counts if k not in FULL + WINDOWED + STATEFUL + EMPTY)
    if odd:
        return Fact(text, "config", "layer_types"), unknown(
            f"layer kinds {', '.join(odd)} not classified")
    return Fact(text, "config", "layer_types"), Fact(attends, "config", "layer_types")


def attention_flops_per_token(design: Design, *, context: int, layers: int | None = None) -> int:
    """4 · keys · heads · head_dim summed over the attention layers (QKᵀ and AV, a multiply-add
    2 FLOPs): each token attends to ``context`` keys, a sliding layer to ``min(context,
    window)``. Causal attention is not halved: this is the cost of decoding at position
    ``context``. ``layers`` overrides the number of attention layers (a hybrid's)."""
    n = layers if layers is not None else int(design.layers.value or 0)
    sliding = min(int(design.sliding_layers.value or 0), n)
    window = design.sliding_window.value
    keys_sliding = min(context, int(window)) if window else context
    width = int(design.heads.value or 0) * int(design.head_dim.value or 0)
    return 4 * width * ((n - sliding) * context + sliding * keys_sliding)


def attention_layers(design: Design) -> int | None:
    """The layers that attend: a hybrid's attention layers, else every layer."""
    if design.layer_pattern.value is not None:
        return design.attention_layers.value
    return design.layers.value


def recurrent_state(model: Any, *, dtype: str, batch: int) -> Fact[int]:
    """Bytes of the conv and recurrent states of ``batch`` sequences: per layer that holds a
    recurrence (a module owning ``A_log``), the conv state (channels × kernel) plus the
    recurrent state (Mamba: inner × state; Mamba-2: heads × head size × state; gated DeltaNet:
    value heads × key size × value size). Constant in the context length."""
    per_sequence = 0
    mixers = [m for m in model.modules() if hasattr(m, "A_log")]
    if not mixers:
        return unknown("no recurrent layer (A_log) found in the module tree")
    for mixer in mixers:
        size = _state_values(mixer)
        if size is None:
            return unknown(f"the state of {type(mixer).__name__} is not sized here")
        per_sequence += size
    note = f"{len(mixers)} recurrent layers: conv + recurrent state, constant in the context"
    return Fact(int(per_sequence * DTYPE_BYTES[dtype] * batch), "graph", note)


def _state_values(mixer: Any) -> int | None:
    conv = getattr(mixer, "conv1d", None)
    if conv is None:
        return None
    values = int(conv.in_channels) * int(conv.kernel_size[0])
    a_log = mixer.A_log
    if a_log.dim() == 2:  # Mamba: A is (inner, state), the state's shape
        return values + int(a_log.numel())
    if all(hasattr(mixer, k) for k in ("num_v_heads", "head_k_dim", "head_v_dim")):
        return values + int(mixer.num_v_heads * mixer.head_k_dim * mixer.head_v_dim)
    if all(hasattr(mixer, k) for k in ("num_heads", "head_dim", "ssm_state_size")):
        return values + int(mixer.num_heads * mixer.head_dim * mixer.ssm_state_size)
    return None
