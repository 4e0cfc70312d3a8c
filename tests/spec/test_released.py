"""Released architectures: parameter counts within 0.5% of the published counts, design fields as
the papers describe them, FLOPs against the analytic formula and against a real forward."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.released_configs import (
    JAMBA_V01,
    LLAMA3_8B,
    MISTRAL_7B,
    OLMO2_7B,
    PHI3_MINI_128K,
    QWEN3_NEXT_80B,
    RELEASED,
    Released,
)
from whichmodel.sources import inspect
from whichmodel.spec import InspectOptions, kv_cache_bytes


@pytest.fixture(scope="module")
def sheets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("released")
    return {r.name: inspect(f"hf:{r.write(root)}", context=2048) for r in RELEASED}


def test_at_least_fifteen_architectures() -> None:
    assert len({r.config_class for r in RELEASED}) >= 15


@pytest.mark.parametrize("model", RELEASED, ids=lambda r: r.name)
def test_parameter_count_matches_release(model: Released, sheets: dict) -> None:
    total = sheets[model.name].size.total.value
    assert abs(total - model.params) / model.params < 0.005, (model.cite, total)


@pytest.mark.parametrize("model", [r for r in RELEASED if r.design], ids=lambda r: r.name)
def test_design_fields_match_paper(model: Released, sheets: dict) -> None:
    sheet = sheets[model.name]
    got = {k: sheet.value(f"design.{k}") for k in model.design}
    assert got == model.design


def test_mixtral_active_parameters(sheets: dict) -> None:
    # Mixtral of Experts (Jiang et al. 2024): 46.7B total, 12.9B active, 2 of 8 experts.
    size = sheets["mixtral-8x7b"].size
    assert (size.experts.value, size.experts_per_token.value) == (8, 2)
    assert abs(size.active.value - 12.9e9) / 12.9e9 < 0.005


def test_families(sheets: dict) -> None:
    family = {k: s.identity.family.value for k, s in sheets.items()}
    assert family["gpt2"] == family["llama-2-7b"] == "decoder-only transformer"
    assert family["bert-base-uncased"] == "encoder-only transformer"
    assert family["t5-base"] == family["whisper-tiny"] == "encoder-decoder transformer"
    assert family["mamba-130m"] == "state-space (Mamba)"
    assert family["vit-base-patch16-224"].startswith("vision transformer")


@pytest.mark.parametrize("name", ["gpt2", "opt-350m", "pythia-160m", "llama-2-7b", "llama-3-8b",
                                  "mistral-7b", "falcon-7b", "phi-2", "gemma-7b", "qwen2-7b",
                                  "mixtral-8x7b"])
def test_flops_within_ten_percent_of_palm_formula(name: str, sheets: dict) -> None:
    # PaLM (Chowdhery et al. 2022) App. B: 2·N + 4·L·T·d_attn per token; N = active parameters
    # without embedding lookups (the LM head's matmul stays in).
    sheet = sheets[name]
    d = sheet.design
    # `embedding` holds the lookup tables (and an untied head): add the head's matmul back.
    head_width = 512 if name == "opt-350m" else d.hidden_size.value  # OPT-350m projects to 512
    n = sheet.size.active.value - sheet.size.embedding.value + d.vocab_size.value * head_width
    attention = 4 * d.layers.value * 2048 * d.heads.value * d.head_dim.value
    expected = 2 * n + attention
    assert abs(sheet.compute.forward_flops.value - expected) / expected < 0.10


def test_flops_equal_a_real_forward(tmp_path: Path) -> None:
    """The sheet (FlopCounterMode on meta) equals FlopCounterMode on a real CPU forward."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=5,
                         num_attention_heads=4, num_key_value_heads=2, vocab_size=100,
                         max_position_embeddings=32, architectures=["LlamaForCausalLM"])
    config.save_pretrained(tmp_path)
    sheet = inspect(f"hf:{tmp_path}", context=32)
    torch.manual_seed(0)
    model = LlamaForCausalLM._from_config(config, attn_implementation="eager").eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(input_ids=torch.randint(0, 100, (1, 32)))
    assert sheet.compute.forward_flops.source == "graph"
    assert "extrapolated to 5 identical blocks" in sheet.compute.forward_flops.note
    assert sheet.compute.forward_flops.value * 32 == counter.get_total_flops()


def test_kv_cache_gqa_and_sliding_window(sheets: dict, tmp_path: Path) -> None:
    # Llama-3-8B: 32 layers × 8 K/V heads × 128 dims × 2 (K, V) × 2 bytes = 128 KiB per token.
    per_token = 2 * 32 * 8 * 128 * 2
    assert kv_cache_bytes(layers=32, kv_heads=8, head_dim=128, tokens=1) == per_token
    llama3 = inspect(f"hf:{_write(tmp_path, LLAMA3_8B, 'LlamaConfig')}", dtype="bf16",
                     context=8192, batch=4)
    assert llama3.memory.kv_cache_bytes_per_token.value == per_token
    assert llama3.memory.kv_cache_bytes_at_context.value == per_token * 8192 * 4
    # Mistral-7B's 4096-token window caps the cache: at 32k tokens it holds 4096.
    mistral = inspect(f"hf:{_write(tmp_path, MISTRAL_7B, 'MistralConfig')}", dtype="bf16",
                      context=32768)
    assert mistral.memory.kv_cache_bytes_at_context.value == per_token * 4096
    assert sheets["falcon-7b"].design.kv_heads.value == 1  # multi_query overrides num_kv_heads


def _write(root: Path, kwargs: dict, cls: str) -> Path:
    return Released(cls, cls, kwargs, cls.replace("Config", "ForCausalLM"), 1, "").write(root)


def test_options_are_checked() -> None:
    from whichmodel.errors import ConfigError

    with pytest.raises(ConfigError, match="--dtype must be one of"):
        InspectOptions(dtype="fp7").check()
    with pytest.raises(ConfigError, match="--batch must be at least 1"):
        InspectOptions(batch=0).check()


def test_mixtral_formula_counts_the_lm_head_once(sheets: dict, tmp_path: Path) -> None:
    # By hand from modeling_mixtral: per layer q, o 4096² + k, v 4096·1024, 2 of 8 SwiGLU
    # experts 3·4096·14336, router 4096·8, two RMSNorms 4096; final norm 4096; the untied head
    # 32000·4096 once. At 512 tokens each token attends to 512 keys: 4·32·512·32·128.
    by_name = {r.name: r for r in RELEASED}
    sheet = inspect(f"hf:{by_name['mixtral-8x7b'].write(tmp_path)}", context=512)
    layer = 2 * 4096**2 + 2 * 4096 * 1024 + 2 * 3 * 4096 * 14336 + 4096 * 8 + 2 * 4096
    n = 32 * layer + 4096 + 32000 * 4096
    expected = 2 * n + 4 * 32 * 512 * 32 * 128
    flops = sheet.compute.forward_flops
    assert (flops.value, flops.source) == (expected, "formula")
    assert round(flops.value / 1e9, 2) == 25.77  # FlopCounterMode's 25.77 G, not 26.03 G
    assert "LM head's matmul counted once" in sheet.compute.counting.value


def test_hybrid_kv_cache_only_in_attention_layers(tmp_path: Path) -> None:
    # Qwen3-Next-80B-A3B: every 4th of 48 layers is full attention (full_attention_interval);
    # 12 layers × 2 K/V heads × 256 × (K, V) × 2 bytes. The 36 gated-DeltaNet layers hold a
    # conv state (2·16·128 + 32·128 channels × kernel 4) and a 32 × 128 × 128 recurrent state.
    qwen = inspect(f"hf:{_write(tmp_path, QWEN3_NEXT_80B, 'Qwen3NextConfig')}", dtype="bf16")
    assert qwen.design.attention_layers.value == 12
    assert qwen.memory.kv_cache_bytes_per_token.value == 12 * 2 * 256 * 2 * 2 == 24_576
    state = 36 * ((2 * 16 * 128 + 32 * 128) * 4 + 32 * 128 * 128) * 2
    assert qwen.memory.recurrent_state_bytes.value == state
    # Jamba-v0.1: attention in layers i % attn_layer_period == attn_layer_offset (8, 4): 4 of
    # 32; its 28 Mamba layers hold conv (8192 × 4) and SSM (8192 × 16) states.
    jamba = inspect(f"hf:{_write(tmp_path, JAMBA_V01, 'JambaConfig')}", dtype="bf16")
    assert jamba.design.layer_pattern.value == "28 linear_attention + 4 full_attention"
    assert jamba.design.attention_layers.value == 4
    assert jamba.memory.kv_cache_bytes_per_token.value == 4 * 8 * 128 * 2 * 2
    assert jamba.memory.recurrent_state_bytes.value == 28 * (8192 * 4 + 8192 * 16) * 2


def test_norm_context_and_rope_facts_by_hand(tmp_path: Path) -> None:
    # modeling_olmo2.Olmo2DecoderLayer: x + post_attention_layernorm(attn(x)), then
    # h + post_feedforward_layernorm(mlp(h)); no norm before either.
    olmo = inspect(f"hf:{_write(tmp_path, OLMO2_7B, 'Olmo2Config')}")
    assert olmo.design.norm_placement.value == "post (residual branch)"
    # Phi-3-mini-128k: longrope without a factor; transformers takes 131072 / 4096.
    phi = inspect(f"hf:{_write(tmp_path, PHI3_MINI_128K, 'Phi3Config')}", context=4096)
    assert phi.design.rope_scaling.value == "longrope ×32"


def test_flops_honour_sliding_windows(tmp_path: Path) -> None:
    # Mistral-7B: every layer attends to at most 4096 keys, so a token costs the same at 8k and
    # 32k of context as at 4k; the meta forward computed the full 32k × 32k scores (a window is
    # a mask there).
    folder = _write(tmp_path, MISTRAL_7B, "MistralConfig")
    at = {t: inspect(f"hf:{folder}", context=t).compute.forward_flops for t in (4096, 32768)}
    assert at[4096].value == at[32768].value
    assert "32 sliding layers attend to 4,096 keys, not 32,768" in at[32768].note
    assert at[32768].source == "graph"
