"""The spec sheet of a GGUF file (``gguf:model.gguf``), in the terms of the Hugging Face sheet so
that ``whichmodel diff gguf:FILE hf:DIR`` lines the two up: parameters are the tensors' elements,
weight memory the tensors' bytes as stored (what llama.cpp loads), bits per weight their ratio,
and the KV cache is counted by the same rule as :func:`whichmodel.spec.compute.kv_cache_bytes`,
at llama.cpp's default cache type (f16) unless ``dtype`` names another.

Only the header and the tensor table are read (:mod:`.gguf_file`); a 40 GB file takes as long
as a 40 MB one.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whichmodel.errors import ConfigError
from whichmodel.refs import ModelRef
from whichmodel.spec.base import (
    DTYPE_BYTES,
    Compute,
    Design,
    Fact,
    Identity,
    Memory,
    Size,
    SpecSheet,
    Storage,
    Tokenizer,
    unknown,
)
from whichmodel.spec.compute import training_flops
from whichmodel.spec.gguf_design import (
    Meta,
    design,
    family,
    guarded,
    per_layer,
    sliding_layers,
    why,
)
from whichmodel.spec.gguf_file import GGUFFile, Tensor, read_gguf

if TYPE_CHECKING:
    from whichmodel.spec.options import InspectOptions

#: The sheet's dtype names -> llama.cpp's KV cache types (``--cache-type-k/v``); int8 and int4
#: are its block types q8_0 and q4_0 (34 and 18 bytes per 32 values).
KV_TYPES = {"fp32": "F32", "fp16": "F16", "bf16": "BF16", "int8": "Q8_0", "int4": "Q4_0"}
_FLOAT_NAMES = {"F32": "fp32", "F16": "fp16", "BF16": "bf16", "F64": "fp64"}
# Tensors that are not parameters: RoPE frequency tables (Llama 3.1, Phi-3 longrope), which a
# transformers model keeps as buffers.
_NOT_PARAMETERS = ("rope_freqs.", "rope_factors_")
_LOOKUPS = ("token_embd.weight", "position_embd.weight", "token_types.weight")


def inspect_gguf(ref: ModelRef, opts: InspectOptions) -> SpecSheet:
    """Read the file's header and tensor table; every fact it does not carry is unknown with the
    reason.

    Raises:
        ConfigError: ``dtype`` names no KV cache type of llama.cpp's.
        ModelReferenceError: no file at the reference's path.
        ModelLoadError: the file is not GGUF, or is truncated or corrupt.
    """
    from whichmodel.spec.options import canonical_dtype

    kv_dtype = canonical_dtype(opts.dtype) or "fp16"
    if kv_dtype not in KV_TYPES:
        raise ConfigError(f"--dtype {opts.dtype}: a GGUF model's KV cache is one of llama.cpp's "
                          "cache types: fp32, fp16, bf16, int8 (q8_0), int4 (q4_0).")
    gguf = read_gguf(Path(ref.target))
    meta = Meta(gguf.metadata, gguf.tensors)
    layout = design(meta)
    try:
        kv_per_layer = per_layer(meta, "attention.head_count_kv") or per_layer(
            meta, "attention.head_count")
    except ValueError:
        kv_per_layer = None  # the design's K/V heads say why
    fam = family(meta, kv_per_layer)
    size = _size(gguf, meta)
    context = opts.context or layout.context_length.value
    try:
        compute = _compute(meta, size, layout, kv_per_layer, context=context, opts=opts)
    except Exception as exc:  # a sheet never dies whole: the fact says why it is unknown
        compute = Compute(unknown(why(exc)), "token", context, None,
                          training_flops(size, opts.training_tokens), opts.training_tokens)
    return SpecSheet(
        identity=_identity(ref, gguf, meta, fam),
        size=size,
        compute=compute,
        memory=_memory(gguf, meta, layout, fam, kv_per_layer, context=context, dtype=kv_dtype,
                       batch=opts.batch),
        design=layout,
        tokenizer=_tokenizer(gguf.metadata),
        storage=_storage(gguf, size),
        notes=_notes(gguf, layout, opts),
    )


def parameters(tensors: tuple[Tensor, ...]) -> list[Tensor]:
    """The tensors that are parameters (RoPE frequency tables aside)."""
    return [t for t in tensors if not t.name.startswith(_NOT_PARAMETERS)]


def _identity(ref: ModelRef, gguf: GGUFFile, meta: Meta, fam: Fact[str]) -> Identity:
    name = gguf.metadata.get("general.name")
    inventory: Counter[str] = Counter()
    for t in gguf.tensors:  # "attn_q.weight Q4_K": tensors of that role stored in that type
        parts = t.name.split(".", 2)  # blk.N.<role>
        role = parts[2] if parts[0] == "blk" and len(parts) == 3 else t.name
        inventory[f"{role} {t.ggml_type}"] += 1
    return Identity(
        name=ref.name,
        ref=str(ref),
        framework=Fact(f"gguf (v{gguf.version})", "weights"),
        architecture=Fact(meta.arch, "config", f"general.name {name!r}" if name else "")
        if meta.arch else unknown("general.architecture not in the file"),
        family=fam,
        layers=Fact(dict(inventory.most_common()), "weights",
                    "tensors per role and ggml type"),
    )


def _size(gguf: GGUFFile, meta: Meta) -> Size:
    params = parameters(gguf.tensors)
    total = sum(t.elements for t in params)
    embedding = sum(t.elements for t in params if t.name in (*_LOOKUPS, "output.weight"))
    try:
        experts, per_token = _experts(meta)
    except Exception as exc:  # as guarded, for the pair
        experts = per_token = unknown(why(exc))
    expert_params = sum(t.elements for t in params if "_exps." in t.name)
    if experts.value and per_token.value and expert_params:
        inactive = expert_params * (experts.value - per_token.value) // experts.value
        active: Fact[int] = Fact(total - inactive, "formula",
                                 f"{per_token.value} of {experts.value} experts per token")
    elif experts.source == "unknown":
        active = unknown(experts.note)
    else:
        active = Fact(total, "formula", "dense: every parameter is used for every token")
    stored = sum(t.bytes for t in gguf.tensors)
    at = {"stored": stored, **{k: int(total * DTYPE_BYTES[k]) for k in ("fp32", "bf16", "int8",
                                                                         "int4")}}
    major = _by_elements(params)
    n: Fact[int] = Fact(total, "weights", "elements of the file's tensors")
    return Size(
        total=n,
        trainable=n,
        embedding=Fact(embedding, "weights", "token and learned position embeddings, untied "
                       "output"),
        non_embedding=Fact(total - embedding, "formula"),
        experts=experts,
        experts_per_token=per_token,
        active=active,
        stored_dtype=Fact(_FLOAT_NAMES.get(major[0], major[0]), "weights",
                          "the type most parameters are stored in") if major else unknown(
            "no tensors in the file"),
        bytes_at=Fact(at, "formula", "stored: the tensors' bytes in the file; the others: "
                      "parameters × bytes per parameter (int4: 0.5)"),
    )


def _by_elements(tensors: list[Tensor]) -> list[str]:
    """ggml types, most parameters first."""
    counts: Counter[str] = Counter()
    for t in tensors:
        counts[t.ggml_type] += t.elements
    return [k for k, _ in counts.most_common()]


def _experts(meta: Meta) -> tuple[Fact[int], Fact[int]]:
    count = meta.get("expert_count")
    if not count or int(count) <= 1:
        return Fact(0, "config", "dense: no mixture of experts"), Fact(0, "config")
    used = meta.get("expert_used_count")
    per_token: Fact[int] = Fact(int(used), "config") if used else unknown(
        f"{meta.key('expert_used_count')} not in the file")
    return Fact(int(count), "config"), per_token


def _storage(gguf: GGUFFile, size: Size) -> Storage:
    params = parameters(gguf.tensors)
    dtypes: Counter[str] = Counter()
    for t in params:
        dtypes[t.ggml_type] += t.elements
    stored = sum(t.bytes for t in gguf.tensors)
    total = size.total.value
    return Storage(
        files=Fact([gguf.path.name], "weights"),
        file_bytes=Fact(gguf.file_bytes, "weights"),
        dtypes=Fact(dict(dtypes.most_common()), "weights", "ggml type -> parameters"),
        quantization=_quantization(gguf, params),
        sparsity=unknown("not measured in GGUF files"),
        bits_per_weight=Fact(stored * 8 / total, "weights", "tensor bytes × 8 / parameters")
        if total else unknown("no parameters in the file"),
    )


def _quantization(gguf: GGUFFile, params: list[Tensor]) -> Fact[str]:
    """general.file_type (``MOSTLY_Q4_K_M`` -> ``Q4_K_M``; a float file: ``none``), else the
    type most matrices are stored in; the note counts the tensors of each type."""
    from gguf import LlamaFileType

    counts = Counter(t.ggml_type for t in params)
    note = "tensors per type: " + ", ".join(f"{k} {v}" for k, v in counts.most_common())
    code = gguf.metadata.get("general.file_type")
    if code is not None:
        try:
            name = LlamaFileType(int(code)).name.removeprefix("MOSTLY_").removeprefix("ALL_")
        except ValueError:
            return Fact(f"file type {code}", "config", note + "; a general.file_type this "
                        "gguf package does not know")
        return Fact("none" if name in _FLOAT_NAMES else name, "config",
                    f"general.file_type; {note}")
    matrices = _by_elements([t for t in params if len(t.shape) > 1])
    if not matrices:
        return unknown("no general.file_type and no matrices in the file")
    main = matrices[0]
    return Fact("none" if main in _FLOAT_NAMES else main, "weights",
                f"no general.file_type: the type most matrix parameters are in; {note}")


def _kv_bytes(meta: Meta, layout: Design, kv_per_layer: list[int] | None, *, tokens: int,
              value_bytes: float, batch: int) -> Fact[int]:
    """The K and V cache after ``tokens`` tokens, by :func:`~whichmodel.spec.compute.
    kv_cache_bytes`'s rule taken layer by layer: a layer with K/V heads stores ``K/V heads ×
    (key size + value size)`` values per token (MLA: one latent of ``kv_lora_rank`` + rotary
    size), a sliding layer at most ``sliding_window`` tokens; layers without K/V heads (a
    hybrid's recurrent ones) store none."""
    head_dim = layout.head_dim.value
    if not (kv_per_layer and head_dim):
        why = next((f.note for f in (layout.layers, layout.kv_heads, layout.head_dim)
                    if f.source == "unknown" and f.note), "")
        return unknown("layers, K/V heads or head size unknown" + (f" ({why})" if why else ""))
    key = int(meta.get("attention.key_length") or head_dim)
    value = int(meta.get("attention.value_length") or key)
    window, sliding = sliding_layers(meta)
    rank = int(meta.get("attention.kv_lora_rank") or 0)
    latent = rank + int(meta.get("rope.dimension_count") or 0) if rank else 0
    values = 0
    for i, kv in enumerate(kv_per_layer):
        if kv:
            held = min(tokens, window) if window and i < len(sliding) and sliding[i] else tokens
            values += (latent or kv * (key + value)) * held
    note = "MLA latent per layer" if latent else layout.kv_heads.note
    return Fact(int(values * value_bytes * batch), "formula", note)


def _memory(gguf: GGUFFile, meta: Meta, layout: Design, fam: Fact[str],
            kv_per_layer: list[int] | None, *, context: int | None, dtype: str, batch: int
            ) -> Memory:
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    weights: Fact[int] = Fact(sum(t.bytes for t in gguf.tensors), "weights",
                              "the tensors' bytes as stored (llama.cpp loads them as they are)")
    block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType[KV_TYPES[dtype]]]
    family_name = str(fam.value or "")
    if "encoder-only" in family_name or family_name.startswith("state-space"):
        none: Fact[int] = Fact(0, "formula", f"{family_name}: no KV cache")
        per_token, at_context = none, none
    elif "encoder-decoder" in family_name:
        per_token = at_context = unknown("the KV cache of an encoder-decoder GGUF is not counted")
    else:
        def kv(tokens: int, n: int) -> Fact[int]:
            return guarded(lambda: _kv_bytes(meta, layout, kv_per_layer, tokens=tokens,
                                             value_bytes=type_size / block, batch=n))

        per_token = kv(1, 1)
        at_context = kv(context, batch) if context else unknown(
            "no context length in the file; pass --context")
    total: Fact[int] = (
        Fact(int(weights.value or 0) + at_context.value, "formula")
        if at_context.value is not None else unknown("KV cache unknown"))
    name = dtype if dtype in ("fp32", "fp16", "bf16") else KV_TYPES[dtype].lower()
    return Memory(name, batch, context, weights, per_token, at_context, total)


def _head_sizes(meta: Meta, head_dim: int) -> tuple[int, int]:
    """(key, value) size per attention head for the attention FLOPs (MLA: the per-head sizes
    the ``*_mla`` keys give, not the cached latent's)."""
    key = int(meta.get("attention.key_length_mla") or meta.get("attention.key_length")
              or head_dim)
    value = int(meta.get("attention.value_length_mla") or meta.get("attention.value_length")
                or key)
    return key, value


def matmul_parameters(meta: Meta, size: Size) -> int:
    """Weights one token multiplies by: every tensor of 2+ dimensions but the embedding lookups
    (routed experts at ``experts_per_token / experts``), plus the output projection, which is
    ``token_embd`` itself when the file ties it."""
    experts, used = size.experts.value, size.experts_per_token.value
    total = 0.0
    for t in parameters(meta.tensors):
        if len(t.shape) < 2 or t.name in _LOOKUPS:
            continue
        share = used / experts if "_exps." in t.name and experts and used else 1.0
        total += t.elements * share
    if not meta.has("output.weight"):
        total += next((t.elements for t in meta.tensors if t.name == "token_embd.weight"), 0)
    return int(total)


def _compute(meta: Meta, size: Size, layout: Design, kv_per_layer: list[int] | None, *,
             context: int | None, opts: InspectOptions) -> Compute:
    """Per-token forward FLOPs at ``context``: 2·N + 2·Σ heads·(key + value size)·keys attended,
    over the layers that attend (PaLM, Chowdhery et al. 2022, App. B, with sliding layers
    attending to at most their window)."""
    tokens = opts.training_tokens
    train = training_flops(size, tokens)
    try:
        heads = per_layer(meta, "attention.head_count")
    except ValueError as exc:
        heads, missing = None, why(exc)
    else:
        missing = f"{meta.key('attention.head_count')} not in the file"
    if not context or heads is None or not layout.head_dim.value:
        note = "no context length in the file; pass --context" if not context else (
            missing if heads is None else layout.head_dim.note)
        return Compute(unknown(note), "token", context, None, train, tokens)
    key, value = _head_sizes(meta, int(layout.head_dim.value))
    window, sliding = sliding_layers(meta)
    attention = 0
    for i, h in enumerate(heads):
        if h and (kv_per_layer is None or (i < len(kv_per_layer) and kv_per_layer[i])):
            keys = min(context, window) if window and i < len(sliding) and sliding[i] else context
            attention += 2 * h * (key + value) * keys
    flops = 2 * matmul_parameters(meta, size) + attention
    note = ("2·N + 2·Σ heads·(key + value size)·keys attended (PaLM App. B), N the active "
            "weights of 2+ dimensions but embedding lookups, the output projection included")
    return Compute(Fact(flops, "formula", note), "token", context, None, train, tokens)


#: tokenizer.ggml.model -> the algorithm in the Hugging Face sheet's words.
_TOKENIZERS = {"gpt2": "byte-level BPE", "llama": "BPE (byte fallback)", "bert": "WordPiece",
               "t5": "Unigram"}
# llama.cpp's token types (gguf.TokenType) that tokenizer.json calls special: UNKNOWN, CONTROL.
_SPECIAL_TYPES = (2, 3)


def _tokenizer(metadata: Any) -> Tokenizer | None:
    """The tokenizer the file embeds (tokenizer.ggml.*), or None when it has none; a key it
    cannot read makes its fact unknown with the reason."""
    model, tokens = metadata.get("tokenizer.ggml.model"), metadata.get("tokenizer.ggml.tokens")
    if model is None and tokens is None:
        return None
    algorithm: Fact[str] = Fact(_TOKENIZERS.get(str(model), str(model)), "config",
                                f"tokenizer.ggml.model {model!r}") if model else unknown(
        "tokenizer.ggml.model not in the file")
    if tokens is None:
        missing: Fact[Any] = unknown("tokenizer.ggml.tokens not in the file")
        vocab, special = missing, missing
    else:
        vocab = guarded(lambda: Fact(len(tokens), "config", "tokenizer.ggml.tokens"))
        special = guarded(lambda: _special_tokens(metadata, tokens))
    unmeasured: Fact[float] = unknown("a GGUF file's tokenizer is not run; measure the Hugging "
                                      "Face folder with --text")
    return Tokenizer(algorithm, vocab, special, unmeasured, unmeasured)


def _special_tokens(metadata: Any, tokens: Any) -> Fact[list[str]]:
    """The unknown and control tokens by their types, else those the ``*_token_id`` keys name."""
    import numpy as np

    types = metadata.get("tokenizer.ggml.token_type")
    if types is not None and len(types) == len(tokens):
        ids = [int(i) for i in np.flatnonzero(np.isin(np.asarray(types), _SPECIAL_TYPES))]
        return Fact([tokens[i] for i in ids], "config", "unknown and control tokens")
    keys = [k for k in metadata if k.startswith("tokenizer.ggml.") and k.endswith("_token_id")]
    ids = sorted({int(metadata[k]) for k in keys if 0 <= int(metadata[k]) < len(tokens)})
    return Fact([tokens[i] for i in ids], "config", "tokenizer.ggml.*_token_id")


def _notes(gguf: GGUFFile, layout: Design, opts: InspectOptions) -> tuple[str, ...]:
    notes = []
    count = gguf.metadata.get("split.count")
    if count and int(count) > 1:
        part = int(gguf.metadata.get("split.no") or 0) + 1
        notes.append(f"this file is part {part} of {count}: parameters and bytes count its "
                     "tensors only")
    limit = layout.context_length.value
    if opts.context and limit and opts.context > limit:
        notes.append(f"--context {opts.context} is beyond the model's context length {limit}: "
                     "FLOPs and KV cache are extrapolated")
    if opts.text is not None:
        notes.append("--text was not measured: whichmodel does not run a GGUF file's tokenizer")
    return tuple(notes)
