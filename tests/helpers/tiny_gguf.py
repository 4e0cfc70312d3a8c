"""GGUF files of a tiny Hugging Face Llama, written with the ``gguf`` package's own writer under
llama.cpp's tensor names and metadata keys (what ``convert_hf_to_gguf.py`` writes for Llama).

The weights are the model's own, quantized with ``gguf.quants.quantize``; 1-D tensors (the norms)
stay F32, as llama.cpp's converter keeps them. llama.cpp's converter also permutes the rows of
``attn_q``/``attn_k`` for its RoPE layout; sizes do not depend on it, so this writer does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Hugging Face Llama parameter name (``model.layers.N.`` dropped) -> llama.cpp tensor name.
_BLOCK = {
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
}
_GLOBAL = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight":
           "output_norm.weight", "lm_head.weight": "output.weight"}
# llama.cpp's general.file_type for the matrices' type (gguf.LlamaFileType).
_FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7}


@dataclass(frozen=True)
class Written:
    """A GGUF file and, per tensor written, (ggml type, elements, bytes of its data)."""

    path: Path
    tensors: dict[str, tuple[str, int, int]]


def llama_tensor_name(hf_name: str) -> str:
    """llama.cpp's name of a Hugging Face Llama parameter (``blk.0.attn_q.weight``)."""
    if hf_name in _GLOBAL:
        return _GLOBAL[hf_name]
    _, _, layer, rest = hf_name.split(".", 3)  # model.layers.N.<rest>
    return f"blk.{layer}.{_BLOCK[rest]}"


def write_llama_gguf(model: Any, tokenizer: Any, path: Path, *, matrices: str = "F16") -> Written:
    """Write ``model`` (a ``LlamaForCausalLM``) and its vocabulary as GGUF, its matrices in
    ggml type ``matrices`` (``F16``, ``Q8_0``, ``Q4_0``: rows must be multiples of 32 for the
    block types), its 1-D tensors in F32."""
    import gguf

    cfg = model.config
    writer = gguf.GGUFWriter(str(path), "llama")
    _write_metadata(writer, cfg, tokenizer, file_type=_FILE_TYPE[matrices])
    written: dict[str, tuple[str, int, int]] = {}
    for hf_name, param in model.state_dict().items():
        data = param.detach().float().numpy()
        kind = gguf.GGMLQuantizationType[matrices if data.ndim > 1 else "F32"]
        stored = gguf.quants.quantize(data, kind)
        name = llama_tensor_name(hf_name)
        writer.add_tensor(name, stored, raw_dtype=kind)
        written[name] = (kind.name, int(data.size), int(stored.nbytes))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return Written(path, written)


def _write_metadata(writer: Any, cfg: Any, tokenizer: Any, *, file_type: int) -> None:
    import gguf

    writer.add_name("tiny llama")
    writer.add_file_type(file_type)
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_head_count(cfg.num_attention_heads)
    writer.add_head_count_kv(cfg.num_key_value_heads)
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    writer.add_rope_freq_base(float(cfg.rope_parameters["rope_theta"]))
    writer.add_vocab_size(cfg.vocab_size)
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    special = set(tokenizer.all_special_tokens)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list([token for token, _ in vocab])
    writer.add_token_types([
        gguf.TokenType.UNKNOWN if token == tokenizer.unk_token else
        gguf.TokenType.CONTROL if token in special else gguf.TokenType.NORMAL
        for token, _ in vocab
    ])
    writer.add_bos_token_id(tokenizer.bos_token_id)
    writer.add_eos_token_id(tokenizer.eos_token_id)


@dataclass(frozen=True)
class LlamaFiles:
    """A tiny Llama saved as a Hugging Face folder and as GGUF files, one per matrix type."""

    folder: Path
    model: Any
    ggufs: dict[str, Written]


#: The tiny Llama's shape: rows of 64 and 128 values, whole blocks of 32 for Q8_0 and Q4_0; 4
#: query heads share 2 K/V heads of 16 values.
LLAMA_SHAPE = {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
               "num_key_value_heads": 2, "num_hidden_layers": 2, "max_position_embeddings": 64}


def save_llama_and_ggufs(root: Path, types: tuple[str, ...] = ("F16", "Q8_0", "Q4_0")
                         ) -> LlamaFiles:
    """Save :data:`LLAMA_SHAPE` as ``root/hf`` and as ``root/llama-<type>.gguf`` per type."""
    from helpers.tiny_hf import build_tiny_llama
    from helpers.tiny_lm import WORDS

    model, tokenizer = build_tiny_llama(root / "hf", WORDS, seed=0, **LLAMA_SHAPE)
    ggufs = {t: write_llama_gguf(model, tokenizer, root / f"llama-{t}.gguf", matrices=t)
             for t in types}
    return LlamaFiles(root / "hf", model, ggufs)


def write_gguf(path: Path, arch: str, metadata: dict[str, Any],
               tensors: dict[str, tuple[int, ...]]) -> Path:
    """A GGUF file of ``arch`` with ``metadata`` (key -> int, float, bool, str or list; ints
    as uint32) and zero F32 ``tensors`` (name -> numpy shape)."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), arch)
    for key, value in metadata.items():
        if isinstance(value, bool):
            writer.add_bool(key, value)
        elif isinstance(value, int):
            writer.add_uint32(key, value)
        elif isinstance(value, float):
            writer.add_float32(key, value)
        elif isinstance(value, str):
            writer.add_string(key, value)
        else:
            writer.add_array(key, value)
    for name, shape in tensors.items():
        writer.add_tensor(name, np.zeros(shape, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
