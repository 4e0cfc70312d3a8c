"""Forward FLOPs, KV cache and inference memory.

FLOPs are counted with :class:`torch.utils.flop_counter.FlopCounterMode` on a forward pass of the
``meta``-built model (shapes only, no arithmetic), with eager attention so that its two matmuls
are seen (the SDPA kernel counts 0 on CPU). When that forward cannot run on ``meta``, the sheet
falls back to the formula of PaLM (Chowdhery et al. 2022, Appendix B) and says so.
"""

from __future__ import annotations

from typing import Any

from whichmodel.spec import layers as per_layer
from whichmodel.spec.base import DTYPE_BYTES, Compute, Design, Fact, Memory, Size, unknown

#: The counting conventions of an LLM's per-token FLOPs, stated in every such sheet.
COUNTING = ("per token at the context T: each token attends to all T keys (the cost of decoding "
            "at position T; causal attention is not halved), a sliding-window layer to "
            "min(T, window); the LM head's matmul counted once, tied or not; a multiply-add is 2 "
            "FLOPs")


def kv_cache_bytes(
    *,
    layers: int,
    kv_heads: int,
    head_dim: int,
    tokens: int,
    dtype_bytes: float = 2,
    batch: int = 1,
    sliding_window: int | None = None,
    sliding_layers: int = 0,
    latent_dim: int | None = None,
) -> int:
    """Bytes of the K and V cache after ``tokens`` tokens of context.

    Per layer and token a layer stores K and V: ``2 · kv_heads · head_dim`` values
    (GQA/MQA shrink ``kv_heads``). ``sliding_layers`` of the ``layers`` keep at most
    ``sliding_window`` tokens. With multi-head latent attention (DeepSeek-V2 §2.1.2) a layer
    stores one latent of ``latent_dim`` values (``kv_lora_rank + qk_rope_head_dim``) instead.

    >>> kv_cache_bytes(layers=32, kv_heads=8, head_dim=128, tokens=1)  # Llama-3-8B, bf16
    131072
    """
    per_layer_token = latent_dim if latent_dim else 2 * kv_heads * head_dim
    full = layers - sliding_layers
    window = min(tokens, sliding_window) if sliding_window else tokens
    values = per_layer_token * (full * tokens + sliding_layers * window) * batch
    return int(values * dtype_bytes)


def kv_cache(design: Design, family: str, *, tokens: int, dtype: str, batch: int) -> Fact[int]:
    """The KV cache of a decoder at ``tokens`` tokens, summed over the layers that hold one (a
    hybrid's attention layers), or why there is none."""
    d = design
    hybrid = family.startswith("hybrid")
    if not hybrid and "decoder" not in family:
        return Fact(0, "formula", f"{family}: no KV cache")
    layers, kv, dim = per_layer.attention_layers(d), d.kv_heads.value, d.head_dim.value
    if hybrid and d.layer_pattern.value is None:
        # Only its attention layers cache K/V; counting every layer would overstate it.
        return unknown(f"{family}: its attention layers are not listed in the config "
                       "(layer_types)")
    if "encoder-decoder" in family and " decoder" in d.layers.note:  # "6 encoder + 6 decoder"
        layers = int(d.layers.note.split("+")[1].split()[0])  # decoder self-attention only
    if not (layers and kv and dim):
        why = next((f.note for f in (d.layers, d.kv_heads, d.head_dim)
                    if f.source == "unknown" and f.note), "")
        return unknown("layers, K/V heads or head size unknown" + (f" ({why})" if why else ""))
    latent = None
    note = ""
    if d.layer_pattern.value is not None and layers != d.layers.value:
        note = f"attention layers only ({d.layer_pattern.value})"
    if d.kv_lora_rank.value:
        latent = int(d.kv_lora_rank.value) + _rope_dim(d)
        # modeling_deepseek_v3 caches kv_nope and k_rot before expanding them (transformers 5).
        note = ("MLA: per layer the compressed latent (kv_lora_rank) and the shared rotary key, "
                "as transformers caches them (DeepSeek-V2 §2.1.2)")
    if "encoder-decoder" in family:
        note = "decoder self-attention only (cross-attention K/V scale with the input length)"
    size = kv_cache_bytes(
        layers=int(layers), kv_heads=int(kv), head_dim=int(dim), tokens=tokens,
        dtype_bytes=DTYPE_BYTES[dtype], batch=batch,
        sliding_window=d.sliding_window.value, sliding_layers=int(d.sliding_layers.value or 0),
        latent_dim=latent,
    )
    return Fact(size, "formula", note or d.kv_heads.note)


def _rope_dim(d: Design) -> int:
    note = d.head_dim.note  # "MLA: 128 + 64 rotary"
    return int(note.split("+")[1].split()[0]) if note.startswith("MLA:") else 0


def memory(size: Size, design: Design | None, family: str, *, context: int | None, dtype: str,
           batch: int, state: Fact[int] | None = None) -> Memory:
    """Weights at ``dtype`` plus the KV cache of ``batch`` sequences of ``context`` tokens, plus
    ``state``: the recurrent state of those sequences (see :func:`layers.recurrent_state`)."""
    total = size.total.value
    weights: Fact[int] = (
        Fact(int(total * DTYPE_BYTES[dtype]), "formula") if total else unknown("parameters unknown")
    )
    if design is None or context is None:
        per_token: Fact[int] = Fact(0, "formula", "no KV cache")
        at_context: Fact[int] = per_token
    else:
        per_token = kv_cache(design, family, tokens=1, dtype=dtype, batch=1)
        at_context = kv_cache(design, family, tokens=context, dtype=dtype, batch=batch)
    if weights.value is not None and at_context.value is not None:
        total_bytes: Fact[int] = Fact(weights.value + at_context.value, "formula")
        if state is not None and state.value is not None:
            total_bytes = Fact(total_bytes.value + state.value, "formula",  # type: ignore[operator]
                               "weights + KV cache + recurrent state")
        elif state is not None:
            total_bytes = Fact(total_bytes.value, "formula", "recurrent state not included")
    else:
        total_bytes = unknown("weights or KV cache unknown")
    return Memory(dtype, batch, context, weights, per_token, at_context, total_bytes,
                  state if state is not None else Fact(None, "unknown"))


def count_flops(model: Any, inputs: dict[str, Any]) -> int:
    """FLOPs of one forward pass of ``model`` on ``inputs`` (meta or real tensors)."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    # nn.TransformerEncoderLayer's inference fast path is one fused op FlopCounterMode does not
    # know (it would count 0 for the attention and MLP): switch it off while counting.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    # A parameter passed as a call argument (transformers' hub-kernel layers take conv weights
    # and biases, e.g. Mamba's causal_conv1d) trips FlopCounterMode's module tracker under
    # no_grad ("Expected gradient function to be set"): count with gradients off, then restore.
    params = model.parameters() if isinstance(model, torch.nn.Module) else ()
    wants_grad = [p for p in params if p.requires_grad]
    for p in wants_grad:
        p.requires_grad_(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
            model(**inputs)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        for p in wants_grad:
            p.requires_grad_(True)
    return int(counter.get_total_flops())


def count_flops_by_depth(model: Any, inputs: dict[str, Any]) -> tuple[int, str]:
    """FLOPs of one forward, counting a stack of L identical blocks from forwards through its
    first k+1 and k+2 blocks: F(L) = F(k+1) + (L - k - 1)·(F(k+2) - F(k+1)), k = 0, or 1 when
    only the first block differs (RWKV's carries the embedding norm). Exact when the blocks from
    k on have the same parameter shapes (FLOPs add up per block, and each block sees the same
    shapes); a 70B model's 80 blocks then cost two short forwards instead of one long one. Any
    other model is counted whole. Returns (FLOPs, a note saying which was done)."""
    found = _identical_blocks(model)
    if found is None:
        return count_flops(model, inputs), ""
    parent, attr, blocks, k = found
    from torch import nn

    counts = []
    try:
        for depth in (k + 1, k + 2):
            setattr(parent, attr, nn.ModuleList(list(blocks)[:depth]))
            counts.append(count_flops(model, inputs))
    finally:
        setattr(parent, attr, blocks)
    total = counts[0] + (len(blocks) - k - 1) * (counts[1] - counts[0])
    if k == 0:
        return total, f"; 1- and 2-block forwards extrapolated to {len(blocks)} identical blocks"
    return total, (f"; 2- and 3-block forwards extrapolated to {len(blocks)} blocks "
                   "(identical after the first)")


def _identical_blocks(model: Any) -> tuple[Any, str, Any, int] | None:
    """The model's longest ModuleList (> 3 entries) if all its blocks, or all but the first,
    have the same class and parameter shapes, as (parent module, attribute name, list, index of
    the first of the identical blocks); else None."""
    from torch import nn

    best: tuple[str, Any] | None = None
    for name, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) > 2 and (
            best is None or len(module) > len(best[1])
        ):
            best = (name, module)
    if best is None:
        return None
    name, blocks = best

    def signature(block: Any) -> tuple[Any, ...]:
        shapes = tuple((n, tuple(p.shape)) for n, p in block.named_parameters())
        return (type(block), shapes)

    rest = signature(blocks[1])
    if any(signature(b) != rest for b in list(blocks)[2:]):
        return None
    k = 0 if signature(blocks[0]) == rest else 1
    if k == 1 and len(blocks) < 4:
        return None
    parent_name, _, attr = name.rpartition(".")
    return model.get_submodule(parent_name) if parent_name else model, attr, blocks, k


def analytic_flops_per_token(matmul_params: int, design: Design, *, context: int) -> int:
    """2·N + 4·L·T·d_attn per token: N the parameters in matmuls (everything but embedding
    lookups, plus the output projection), T the context, d_attn = heads · head size, summed
    over the attention layers (a sliding layer's T capped at its window, a hybrid's recurrent
    layers left out). PaLM (Chowdhery et al. 2022), Appendix B; training is 3× this."""
    attends = per_layer.attention_layers(design)
    return 2 * matmul_params + per_layer.attention_flops_per_token(
        design, context=context, layers=int(attends or 0))


def llm_compute(model: Any, size: Size, design: Design, *, context: int, matmul_params: int,
                training_tokens: int | None, count_tokens: int | None = None) -> Compute:
    """Per-token forward FLOPs at ``context`` (conventions: :data:`COUNTING`): counted on meta
    when the forward runs there, on ``count_tokens`` tokens when given (a hybrid: its recurrent
    layers' per-token cost does not grow with the context, and its attention layers are moved
    to ``context`` by formula)."""
    import torch

    formula = "2·N + 4·L·T·d_attn (PaLM App. B), N the active matmul parameters"
    if size.experts.value:
        # Experts run as torch._grouped_mm, which FlopCounterMode (torch 2.13) does not count.
        flops: Fact[int] = Fact(analytic_flops_per_token(matmul_params, design, context=context),
                                "formula", formula + "; FlopCounterMode misses grouped experts")
        return _llm(flops, context, size, training_tokens)
    n = count_tokens or context
    ids = torch.zeros((1, n), dtype=torch.long, device="meta")
    # An explicit all-ones mask keeps transformers from inspecting position ids with .item(),
    # which a meta tensor cannot answer.
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "use_cache": False}
    try:
        total, how = count_flops_by_depth(model, inputs)
        flops = Fact(total // n, "graph", f"FlopCounterMode on meta, forward of {n} tokens / {n}"
                     + how + _attention_moved(design, counted=n, context=context))
        flops = Fact(int(flops.value or 0) + _attention_shift(design, counted=n, context=context),
                     "graph", flops.note)
    except Exception as exc:  # a sheet never dies whole: the fact says why it is unknown
        flops = Fact(analytic_flops_per_token(matmul_params, design, context=context), "formula",
                     f"{formula}; FlopCounterMode failed on meta: {exc}"[:300])
    return _llm(flops, context, size, training_tokens)


def _llm(flops: Fact[int], context: int, size: Size, training_tokens: int | None) -> Compute:
    return Compute(flops, "token", context, None, training_flops(size, training_tokens),
                   training_tokens, Fact(COUNTING, "formula"))


def _moves(design: Design) -> bool:
    """Whether the attention layers are known (a hybrid's from layer_types) and sized."""
    return per_layer.attention_layers(design) is not None and bool(
        design.heads.value and design.head_dim.value)


def _attention_shift(design: Design, *, counted: int, context: int) -> int:
    """Per-token FLOPs to add to a meta count on ``counted`` tokens, which computes every
    attention layer's full ``counted`` × ``counted`` scores (a window is only a mask there),
    to get the cost at ``context`` with windows honoured."""
    if not _moves(design):
        return 0
    attends = int(per_layer.attention_layers(design) or 0)
    at_count = 4 * attends * counted * int(design.heads.value or 0) * int(
        design.head_dim.value or 0)
    return per_layer.attention_flops_per_token(design, context=context, layers=attends) - at_count


def _attention_moved(design: Design, *, counted: int, context: int) -> str:
    shift = _attention_shift(design, counted=counted, context=context)
    if not shift:
        return ""
    window = design.sliding_window.value
    parts = []
    if counted != context:
        parts.append(f"attention layers moved to {context:,} tokens by 4·T·d_attn")
    if window and int(design.sliding_layers.value or 0) and int(window) < context:
        parts.append(f"{design.sliding_layers.value} sliding layers attend to {window:,} keys, "
                     f"not {context:,}")
    return "; " + ", ".join(parts) if parts else ""


def training_flops(size: Size, tokens: int | None) -> Fact[int]:
    """6·N·D for ``tokens`` training tokens, N the active parameters."""
    if tokens is None:
        return Fact(None, "formula", "pass training tokens to get 6·N·D")
    n = size.active.value or size.total.value or 0
    return Fact(6 * int(n) * tokens, "formula", "6·N·D (Kaplan et al. 2020, §2.1), N active")


def example_compute(model: Any, inputs: dict[str, Any], shape: tuple[int, ...], size: Size,
                    *, training_tokens: int | None = None) -> Compute:
    """Per-example forward FLOPs of a non-LLM on ``inputs`` (batch of one)."""
    flops: Fact[int] = unknown("FlopCounterMode could not run the forward")
    for attempt in (inputs, {k: v for k, v in inputs.items() if k != "attention_mask"}):
        try:
            flops = Fact(count_flops(model, attempt), "graph",
                         f"FlopCounterMode, one example of shape {shape}")
            break
        except Exception as exc:  # a sheet never dies whole: the fact says why it is unknown
            flops = unknown(f"FlopCounterMode could not run the forward: {exc}"[:300])
    return Compute(flops, "example", None, shape, training_flops(size, training_tokens),
                   training_tokens)
