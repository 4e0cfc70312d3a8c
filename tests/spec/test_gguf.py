"""GGUF spec sheets: a tiny Llama saved as a Hugging Face folder and written as GGUF by the
``gguf`` package (F16, Q8_0 and Q4_0 matrices, F32 norms), read back and lined up with the
Hugging Face sheet; files written with per-layer and sliding-window metadata; broken files.

Every expected figure is computed here from the model's own tensors (shapes, and the ggml block
sizes: Q8_0 keeps 32 weights in 34 bytes, Q4_0 in 18), never from the code under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import whichmodel
from helpers.tiny_gguf import LlamaFiles, save_llama_and_ggufs, write_gguf
from whichmodel.errors import ConfigError, ModelLoadError, ModelReferenceError
from whichmodel.refs import parse_ref
from whichmodel.spec.diff import diff
from whichmodel.spec.gguf_file import Strings, read_gguf

TYPES = ("F16", "Q8_0", "Q4_0")
BLOCKS = {"F16": (1, 2), "Q8_0": (32, 34), "Q4_0": (32, 18)}  # (weights, bytes) per block
NOMINAL_BITS = {"F16": 16.0, "Q8_0": 8.5, "Q4_0": 4.5}


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> LlamaFiles:
    return save_llama_and_ggufs(tmp_path_factory.mktemp("gguf"), TYPES)


@pytest.fixture(scope="module")
def hf_sheets(llama: LlamaFiles) -> dict[str, Any]:
    """The Hugging Face folder's sheet at its stored dtype (fp32) and at fp16."""
    ref = f"hf:{llama.folder}"
    return {"stored": whichmodel.inspect(ref), "fp16": whichmodel.inspect(ref, dtype="fp16")}


def _split(model: Any) -> tuple[int, int]:
    """(parameters in matrices, parameters in 1-D tensors) of the torch model."""
    params = list(model.state_dict().values())
    return (sum(p.numel() for p in params if p.ndim > 1),
            sum(p.numel() for p in params if p.ndim == 1))


def _expected_bits(model: Any, matrices: str) -> float:
    weights, size = BLOCKS[matrices]
    in_matrices, in_vectors = _split(model)
    stored_bits = in_matrices // weights * size * 8 + in_vectors * 32  # 1-D tensors stay F32
    return stored_bits / (in_matrices + in_vectors)


@pytest.mark.parametrize("matrices", TYPES)
def test_parameters_bytes_and_bits_per_weight(
    llama: LlamaFiles, hf_sheets: dict[str, Any], matrices: str
) -> None:
    written = llama.ggufs[matrices]
    sheet = whichmodel.inspect(f"gguf:{written.path}")
    in_matrices, in_vectors = _split(llama.model)
    total = sum(p.numel() for p in llama.model.parameters())
    assert sheet.size.total.value == hf_sheets["stored"].size.total.value == total
    data_bytes = sum(nbytes for _, _, nbytes in written.tensors.values())
    assert sheet.memory.weights_bytes.value == data_bytes
    assert sheet.size.bytes_at.value["stored"] == data_bytes
    assert sheet.storage.file_bytes.value == written.path.stat().st_size > data_bytes
    bits = sheet.storage.bits_per_weight.value
    assert bits == pytest.approx(_expected_bits(llama.model, matrices), rel=1e-12)
    # the F32 norms (320 of 76,992 parameters) add a little to the nominal figure
    assert NOMINAL_BITS[matrices] < bits < NOMINAL_BITS[matrices] + 0.15
    assert sheet.storage.dtypes.value == {matrices: in_matrices, "F32": in_vectors}
    assert sheet.storage.quantization.value == ("none" if matrices == "F16" else matrices)
    assert sheet.size.stored_dtype.value == ("fp16" if matrices == "F16" else matrices)
    assert sheet.identity.layers.value[f"attn_q.weight {matrices}"] == 2


def test_kv_cache_is_the_hf_sheets_at_the_same_dtype(
    llama: LlamaFiles, hf_sheets: dict[str, Any]
) -> None:
    path = llama.ggufs["Q8_0"].path
    sheet = whichmodel.inspect(f"gguf:{path}")  # llama.cpp's default cache type: f16
    hf = hf_sheets["fp16"]
    assert sheet.memory.dtype == hf.memory.dtype == "fp16"
    per_token = 2 * 2 * 2 * 16 * 2  # K and V, 2 layers, 2 K/V heads of 16 values, 2 bytes
    assert sheet.memory.kv_cache_bytes_per_token.value == per_token
    assert hf.memory.kv_cache_bytes_per_token.value == per_token
    assert sheet.memory.kv_cache_bytes_at_context.value == per_token * 64
    assert hf.memory.kv_cache_bytes_at_context.value == per_token * 64
    q8 = whichmodel.inspect(f"gguf:{path}", dtype="int8", context=10, batch=3)
    assert q8.memory.dtype == "q8_0"  # llama.cpp's 8-bit cache: 34 bytes per 32 values
    assert q8.memory.kv_cache_bytes_per_token.value == 2 * 2 * 2 * 16 * 34 // 32
    assert q8.memory.kv_cache_bytes_at_context.value == 2 * 2 * 2 * 16 * 34 // 32 * 10 * 3
    with pytest.raises(ConfigError, match=r"llama\.cpp's cache types"):
        whichmodel.inspect(f"gguf:{path}", dtype="float64")


def test_design_and_counts_line_up_with_the_hf_sheet(
    llama: LlamaFiles, hf_sheets: dict[str, Any]
) -> None:
    gguf = whichmodel.inspect(f"gguf:{llama.ggufs['F16'].path}")
    result = diff(gguf, hf_sheets["stored"])
    differing = {d.key for d in result.differences}
    assert not {k for k in differing if k.startswith("design.")}, result.differences
    for key in ("identity.family", "size.total", "size.embedding", "size.active",
                "design.attention", "design.kv_heads", "design.gating", "design.rope_theta",
                "design.vocab_size", "tokenizer.special_tokens"):
        assert key in result.same, key
    # FLOPs: the formula over the file's matrices equals FlopCounterMode on the HF model (to
    # the FLOP with transformers 5.25; under 5.18 FlopCounterMode counts 16 more per token here)
    hf_flops = hf_sheets["stored"].compute.forward_flops.value
    assert gguf.compute.forward_flops.value == pytest.approx(hf_flops, rel=1e-3)


def test_the_diff_says_what_the_quantization_saved(
    llama: LlamaFiles, hf_sheets: dict[str, Any]
) -> None:
    q4 = whichmodel.inspect(f"gguf:{llama.ggufs['Q4_0'].path}", dtype="fp16")
    result = diff(q4, hf_sheets["fp16"])
    (line,) = [d.consequence for d in result.differences if d.key == "memory.weights_bytes"]
    total = sum(p.numel() for p in llama.model.parameters())
    smaller = total * 2 / sum(b for _, _, b in llama.ggufs["Q4_0"].tensors.values())
    bits = _expected_bits(llama.model, "Q4_0")
    assert f"{bits:.1f}, {smaller:.1f}" == "4.6, 3.5"
    assert line == ("llama-Q4_0: 4.6 bits per weight, weight memory 3.5× smaller than hf "
                    "(16.0 bits per weight)")
    assert "size.total" in result.same and "memory.kv_cache_bytes_per_token" in result.same


def test_the_fast_reader_reads_what_the_gguf_reader_reads(tmp_path: Path) -> None:
    from gguf import GGUFReader

    rng = np.random.default_rng(0)
    tokens = [f"tok{i}" for i in range(3000)] + ["ümlaut", "", "日本"]
    path = write_gguf(tmp_path / "m.gguf", "llama", {
        "llama.block_count": 3, "llama.rope.freq_base": 500000.0, "general.name": "n",
        "llama.attention.head_count_kv": [0, 2, 4], "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.scores": [float(x) for x in rng.normal(size=len(tokens))],
        "tokenizer.ggml.merges": ["a b", "c d"], "general.tags": [],
    }, {"token_embd.weight": (len(tokens), 8), "output_norm.weight": (8,)})
    mine, stock = read_gguf(path), GGUFReader(path)
    for name, field in stock.fields.items():
        if name.startswith("GGUF."):
            continue
        value = mine.metadata[name]
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, Strings):
            value = list(value)
        assert value == field.contents(), name
    assert [(t.name, t.ggml_type, t.elements, t.bytes) for t in mine.tensors] == [
        (t.name, t.tensor_type.name, int(t.n_elements), int(t.n_bytes)) for t in stock.tensors]
    assert mine.metadata["tokenizer.ggml.tokens"][-3:] == ["ümlaut", "", "日本"]


BLOCK = {"blk.0.attn_norm.weight": (64,), "blk.0.ffn_norm.weight": (64,),
         "blk.0.attn_q.weight": (64, 64), "blk.0.ffn_up.weight": (128, 64)}


def test_sliding_layers_hold_their_window(tmp_path: Path) -> None:
    """Gemma 2 slides in every other layer (llama.cpp's pattern): layers 0 and 2 keep 16
    tokens, layers 1 and 3 all 64."""
    path = write_gguf(tmp_path / "g.gguf", "gemma2", {
        "gemma2.block_count": 4, "gemma2.context_length": 64, "gemma2.embedding_length": 64,
        "gemma2.attention.head_count": 4, "gemma2.attention.head_count_kv": 2,
        "gemma2.attention.key_length": 16, "gemma2.attention.value_length": 16,
        "gemma2.attention.sliding_window": 16,
    }, BLOCK)
    sheet = whichmodel.inspect(f"gguf:{path}")
    assert (sheet.design.sliding_window.value, sheet.design.sliding_layers.value) == (16, 2)
    per_layer_token = 2 * 2 * 16 * 2  # K and V, 2 heads of 16, fp16
    assert sheet.memory.kv_cache_bytes_per_token.value == 4 * per_layer_token
    assert sheet.memory.kv_cache_bytes_at_context.value == per_layer_token * (16 + 64) * 2
    assert sheet.design.activation.value == "GELU (tanh)"


def test_a_hybrid_caches_only_in_its_attention_layers(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "j.gguf", "jamba", {
        "jamba.block_count": 4, "jamba.context_length": 32, "jamba.embedding_length": 64,
        "jamba.attention.head_count": 4, "jamba.attention.head_count_kv": [0, 2, 0, 2],
        "jamba.ssm.state_size": 16,
    }, BLOCK)
    sheet = whichmodel.inspect(f"gguf:{path}")
    assert sheet.identity.family.value == "hybrid (attention + state-space)"
    assert (sheet.design.kv_heads.value, sheet.design.kv_heads.note) == (2, "2 of 4 layers")
    assert sheet.design.head_dim.value == 16  # 64 / 4
    assert sheet.memory.kv_cache_bytes_per_token.value == 2 * (2 * 2 * 16 * 2)
    assert sheet.design.attention.value == "GQA"


def test_facts_the_file_does_not_carry_are_unknown(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "bare.gguf", "llama", {}, {"token_embd.weight": (10, 64)})
    sheet = whichmodel.inspect(f"gguf:{path}")
    assert sheet.size.total.value == 640
    assert sheet.design.layers.source == "unknown"
    assert sheet.design.layers.note == "llama.block_count not in the file"
    assert sheet.design.heads.note == "llama.attention.head_count not in the file"
    assert sheet.memory.kv_cache_bytes_per_token.source == "unknown"
    assert sheet.compute.forward_flops.source == "unknown"
    assert sheet.design.vocab_size.value == 10  # the embedding's rows
    assert sheet.tokenizer is None


def test_keys_of_the_wrong_type_cost_their_facts_only(tmp_path: Path) -> None:
    """Every key a sheet reads, holding a string where a number belongs (or the reverse): each
    fact is unknown with the reason, and the sheet still comes out."""
    wrong = {f"llama.{k}": "x" for k in (
        "block_count", "context_length", "embedding_length", "feed_forward_length",
        "attention.head_count", "attention.head_count_kv", "attention.key_length",
        "attention.sliding_window", "attention.kv_lora_rank", "rope.dimension_count",
        "rope.freq_base", "rope.scaling.factor", "expert_count", "expert_used_count")}
    path = write_gguf(tmp_path / "w.gguf", "llama", {
        **wrong, "llama.rope.scaling.type": "yarn", "general.file_type": "q4",
        "tokenizer.ggml.tokens": ["a", "b"], "tokenizer.ggml.bos_token_id": "b",
        "tokenizer.ggml.model": 7,
    }, BLOCK)
    sheet = whichmodel.inspect(f"gguf:{path}", context=16)
    assert sheet.size.total.value == 64 + 64 + 64 * 64 + 128 * 64
    for key in ("design.layers", "design.heads", "design.kv_heads", "design.context_length",
                "design.rope_theta", "design.rope_scaling", "size.experts", "size.active",
                "memory.kv_cache_bytes_per_token", "compute.forward_flops",
                "tokenizer.special_tokens"):
        fact = sheet.facts()[key]
        assert fact.source == "unknown" and "not read from the file" in fact.note, key
    assert sheet.storage.quantization.value == "file type q4"
    assert sheet.tokenizer.vocab_size.value == 2


def _cuts(path: Path) -> list[int]:
    """Lengths to cut the file to: through the header, the metadata, the tensor table and the
    tensor data (up to the end of the last tensor: what follows is padding)."""
    from gguf import GGUFReader

    last = max(GGUFReader(path).tensors, key=lambda t: t.data_offset)
    end = last.data_offset + int(last.n_bytes)
    return sorted({0, 3, *np.linspace(4, end - 1, 60).astype(int).tolist()})


def test_a_truncated_or_foreign_file_is_one_line(llama: LlamaFiles, tmp_path: Path) -> None:
    whole = llama.ggufs["Q8_0"].path.read_bytes()
    cut = tmp_path / "cut.gguf"
    for n in _cuts(llama.ggufs["Q8_0"].path):
        cut.write_bytes(whole[:n])
        with pytest.raises(ModelLoadError) as refused:
            whichmodel.inspect(f"gguf:{cut}")
        message = str(refused.value)
        assert "\n" not in message and str(cut) in message, (n, message)
        assert ("is not a readable GGUF file (truncated or corrupt?)" in message if n >= 4
                else "is not a GGUF file" in message), (n, message)
    text = tmp_path / "x.gguf"
    text.write_text("hello, I am text\n")
    with pytest.raises(ModelLoadError, match=r"x.gguf is not a GGUF file: it starts with b'hell'"):
        whichmodel.inspect(str(text))  # a bare .gguf path is a gguf: reference
    with pytest.raises(ModelReferenceError, match="No GGUF file at"):
        whichmodel.inspect(f"gguf:{tmp_path / 'missing.gguf'}")


def test_a_bare_gguf_path_is_a_gguf_reference() -> None:
    assert parse_ref("models/llama-q4.gguf").kind == "gguf"
    assert parse_ref("models/llama-q4.gguf").name == "llama-q4"
