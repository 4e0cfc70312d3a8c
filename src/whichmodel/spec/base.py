"""The spec sheet: what a model *is*, each fact tagged with where it was read from.

A :class:`SpecSheet` is a typed value: sections of :class:`Fact` fields. Sections that do not apply
to a model (LLM design for a random forest, a tokenizer for a CNN) are ``None``. Rendering lives in
:mod:`whichmodel.report.spec`, except the notebook display, which IPython asks of the sheet itself:
:meth:`SpecSheet._repr_html_` delegates to :mod:`whichmodel.spec.display`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")

#: Where a fact came from: the config file, the weight files (headers or tensors), the model's
#: graph or module tree (ONNX graph, PyTorch modules built on ``meta``), a formula over other
#: facts, or nowhere (``unknown``: the value is None and ``note`` says why).
Source = Literal["config", "weights", "graph", "formula", "unknown"]

#: Bytes per parameter of the dtypes the sheet quotes memory at.
DTYPE_BYTES: dict[str, float] = {
    "float64": 8,
    "fp64": 8,
    "float32": 4,
    "fp32": 4,
    "float16": 2,
    "fp16": 2,
    "bfloat16": 2,
    "bf16": 2,
    "float8": 1,
    "int8": 1,
    "uint8": 1,
    "int4": 0.5,
    "bool": 1,
    "int64": 8,
    "int32": 4,
    "int16": 2,
}


@dataclass(frozen=True)
class Fact(Generic[T]):
    """One value and its provenance.

    Args:
        value: the value, or None when unknown.
        source: where it came from (:data:`Source`).
        note: why it is what it is, when that is not obvious (e.g. which config key overrode
            another, or why the value is unknown).
    """

    value: T | None
    source: Source
    note: str = ""


def unknown(note: str) -> Fact[Any]:
    """A fact that could not be read; ``note`` says why."""
    return Fact(None, "unknown", note)


@dataclass(frozen=True)
class Identity:
    """What the model is, in a few words."""

    name: str
    ref: str
    framework: Fact[str]
    architecture: Fact[str]
    family: Fact[str]
    layers: Fact[dict[str, int]]  # layer inventory: module/op type -> count


@dataclass(frozen=True)
class Size:
    """Parameter counts (tied weights once) and bytes at several dtypes.

    ``embedding`` is token + learned position embeddings plus an untied output projection (the
    parameters that scale with the vocabulary or the context, as in Kaplan et al. 2020, §2.1);
    ``active`` is the parameters one token passes through (MoE: ``experts_per_token`` of
    ``experts``).
    """

    total: Fact[int]
    trainable: Fact[int]
    embedding: Fact[int]
    non_embedding: Fact[int]
    experts: Fact[int]
    experts_per_token: Fact[int]
    active: Fact[int]
    stored_dtype: Fact[str]
    bytes_at: Fact[dict[str, int]]  # "stored", "fp32", "bf16", "int8", "int4" -> bytes


@dataclass(frozen=True)
class Compute:
    """Forward FLOPs (a multiply-add is 2 FLOPs).

    For an LLM, per token at ``context`` tokens of context (each token attends to ``context``
    keys: the cost of decoding at that position, and the mean over a non-causal forward).
    For other models, per example at ``input_shape``.
    """

    forward_flops: Fact[int]
    unit: Literal["token", "example"]
    context: int | None
    input_shape: tuple[int, ...] | None
    training_flops: Fact[int]  # 6·N·D for ``training_tokens`` tokens (Kaplan et al. 2020, §2.1)
    training_tokens: int | None
    # How forward_flops counts (an LLM's: attention halved for causality or not, windows, the
    # LM head); absent where FlopCounterMode counts one example as it runs.
    counting: Fact[str] = Fact(None, "unknown")


@dataclass(frozen=True)
class Memory:
    """Inference memory at ``dtype`` and ``batch``: weights + KV cache (+ recurrent state)."""

    dtype: str
    batch: int
    context: int | None
    weights_bytes: Fact[int]
    kv_cache_bytes_per_token: Fact[int]
    kv_cache_bytes_at_context: Fact[int]
    total_bytes: Fact[int]
    # Conv and recurrent states of the layers that hold one (state-space, linear attention),
    # for ``batch`` sequences; constant in the context. Absent for attention-only models.
    recurrent_state_bytes: Fact[int] = Fact(None, "unknown")


@dataclass(frozen=True)
class Design:
    """The design choices that distinguish transformer LMs (and encoders), read the way the
    model's own code reads its config."""

    layers: Fact[int]
    hidden_size: Fact[int]
    intermediate_size: Fact[int]
    norm: Fact[str]  # LayerNorm / RMSNorm
    norm_placement: Fact[str]  # pre / post / parallel
    position: Fact[str]  # learned absolute / sinusoidal / RoPE / ALiBi / relative bias / none
    rope_theta: Fact[float]
    rope_scaling: Fact[str]
    rotary_fraction: Fact[float]
    activation: Fact[str]  # ReLU / GELU / GELU (tanh) / SiLU ...
    gating: Fact[str]  # none / SwiGLU / GeGLU ...
    attention: Fact[str]  # MHA / MQA / GQA / MLA
    heads: Fact[int]
    kv_heads: Fact[int]
    head_dim: Fact[int]
    sliding_window: Fact[int]
    sliding_layers: Fact[int]  # layers that use the sliding window (the rest attend to all)
    context_length: Fact[int]
    vocab_size: Fact[int]
    tied_embeddings: Fact[bool]
    kv_lora_rank: Fact[int]  # MLA latent width (0 when not MLA)
    # Layers of more than one kind (config.layer_types): counts per kind, e.g. "28
    # linear_attention + 4 full_attention", and how many of them attend (cache K/V). Absent
    # (None, no note) when every layer is alike.
    layer_pattern: Fact[str] = Fact(None, "unknown")
    attention_layers: Fact[int] = Fact(None, "unknown")


@dataclass(frozen=True)
class Tokenizer:
    algorithm: Fact[str]  # BPE / byte-level BPE / Unigram / WordPiece / WordLevel
    vocab_size: Fact[int]
    special_tokens: Fact[list[str]]
    chars_per_token: Fact[float]  # on the user's --text file
    words_per_token: Fact[float]


@dataclass(frozen=True)
class Storage:
    """Weights as stored."""

    files: Fact[list[str]]
    file_bytes: Fact[int]
    dtypes: Fact[dict[str, int]]  # dtype -> parameters stored in it
    quantization: Fact[str]
    sparsity: Fact[float]  # fraction of exactly-zero weights
    # Bytes of the stored tensors × 8 / parameters; read where the storage mixes types by
    # design (GGUF: 8.5 for Q8_0, 32 weights in 34 bytes), unknown and not shown elsewhere.
    bits_per_weight: Fact[float] = Fact(None, "unknown")


@dataclass(frozen=True)
class Adapter:
    kind: Fact[str]
    rank: Fact[int]
    alpha: Fact[float]
    target_modules: Fact[list[str]]
    base_model: Fact[str]
    parameters: Fact[int]
    trainable_fraction: Fact[float]


@dataclass(frozen=True)
class Recipe:
    """What the folder says about training: trainer state, arguments, model card."""

    facts: dict[str, Fact[Any]]


@dataclass(frozen=True)
class Estimator:
    """Tree ensembles and linear models."""

    kind: Fact[str]
    n_features: Fact[int]
    n_outputs: Fact[int]
    trees: Fact[int]
    max_depth: Fact[int]
    nodes: Fact[int]
    leaves: Fact[int]


@dataclass(frozen=True)
class SpecSheet:
    """A model's spec sheet. Every section is optional except identity and size."""

    identity: Identity
    size: Size
    compute: Compute | None = None
    memory: Memory | None = None
    design: Design | None = None
    tokenizer: Tokenizer | None = None
    storage: Storage | None = None
    adapter: Adapter | None = None
    recipe: Recipe | None = None
    generation: dict[str, Fact[Any]] | None = None
    estimator: Estimator | None = None
    notes: tuple[str, ...] = field(default=())

    def facts(self) -> dict[str, Fact[Any]]:
        """Every fact, keyed ``section.field`` (``recipe.<key>``, ``generation.<key>``)."""
        out: dict[str, Fact[Any]] = {}
        for f in fields(self):
            section = getattr(self, f.name)
            if isinstance(section, dict):
                out.update({f"{f.name}.{k}": v for k, v in section.items()})
            elif isinstance(section, Recipe):
                out.update({f"recipe.{k}": v for k, v in section.facts.items()})
            elif is_dataclass(section):
                for g in fields(section):
                    value = getattr(section, g.name)
                    if isinstance(value, Fact):
                        out[f"{f.name}.{g.name}"] = value
        return out

    def value(self, key: str) -> Any:
        """The value of fact ``section.field``, or None if absent or unknown."""
        fact = self.facts().get(key)
        return None if fact is None else fact.value

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: each fact as ``{"value", "source", "note"}``."""
        return _plain(self)  # type: ignore[no-any-return]

    def _repr_html_(self) -> str:
        from whichmodel.spec.display import render_sheet_html

        return render_sheet_html(self)


def _plain(obj: Any) -> Any:
    if isinstance(obj, Fact):
        out = {"value": _plain(obj.value), "source": obj.source}
        return {**out, "note": obj.note} if obj.note else out
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj
