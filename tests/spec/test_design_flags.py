"""Config flags that change the architecture: the sheet follows the model's code, not key names."""

from __future__ import annotations

from pathlib import Path

import pytest
import transformers

import whichmodel
from whichmodel.spec import kv_cache_bytes

SMALL = dict(hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
             vocab_size=1000, max_position_embeddings=256)


def sheet(tmp_path: Path, cls: str, arch: str, **kwargs):
    config = getattr(transformers, cls)(**kwargs)
    config.architectures = [arch]
    config.save_pretrained(tmp_path / arch)
    return whichmodel.inspect(f"hf:{tmp_path / arch}", context=256)


def test_deepseek_mla_caches_the_latent(tmp_path: Path) -> None:
    # DeepSeek-V2 §2.1.2: per layer and token, MLA caches d_c + d_h^R = kv_lora_rank + rope dims.
    s = sheet(tmp_path, "DeepseekV3Config", "DeepseekV3ForCausalLM",
              **dict(SMALL, num_hidden_layers=3), moe_intermediate_size=128,
              num_key_value_heads=4, n_routed_experts=8, num_experts_per_tok=2,
              n_shared_experts=1, first_k_dense_replace=1, kv_lora_rank=64, q_lora_rank=96,
              qk_rope_head_dim=16, qk_nope_head_dim=32, v_head_dim=32)
    assert s.design.attention.value == "MLA"
    per_token = s.memory.kv_cache_bytes_per_token.value
    assert per_token == kv_cache_bytes(layers=3, kv_heads=1, head_dim=1, tokens=1,
                                       dtype_bytes=4, latent_dim=64 + 16)
    assert s.size.experts.value == 8 and s.size.experts_per_token.value == 2
    assert s.compute.forward_flops.source == "formula"  # grouped experts: said, not hidden


def test_gemma2_alternates_sliding_layers(tmp_path: Path) -> None:
    s = sheet(tmp_path, "Gemma2Config", "Gemma2ForCausalLM", **SMALL, num_key_value_heads=2,
              head_dim=64, sliding_window=64)
    assert (s.design.sliding_layers.value, s.design.norm_placement.value) == (2, "pre+post")
    full = kv_cache_bytes(layers=4, kv_heads=2, head_dim=64, tokens=256, dtype_bytes=4,
                          sliding_window=64, sliding_layers=2)
    assert s.memory.kv_cache_bytes_at_context.value == full
    assert full == 2 * 2 * 64 * 4 * (2 * 256 + 2 * 64)


@pytest.mark.parametrize("use", [True, False])
def test_qwen2_window_needs_use_sliding_window(tmp_path: Path, use: bool) -> None:
    s = sheet(tmp_path, "Qwen2Config", "Qwen2ForCausalLM", **SMALL, num_key_value_heads=2,
              sliding_window=64, use_sliding_window=use, max_window_layers=2)
    assert s.design.sliding_window.value == (64 if use else None)
    assert s.design.sliding_layers.value == (2 if use else 0)  # layers >= max_window_layers


def test_llama31_rope_scaling(tmp_path: Path) -> None:
    s = sheet(tmp_path, "LlamaConfig", "LlamaForCausalLM", **SMALL, rope_theta=500000.0,
              rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                            "high_freq_factor": 4.0, "original_max_position_embeddings": 128})
    assert (s.design.rope_scaling.value, s.design.rope_theta.value) == ("llama3 ×8", 500000.0)


def test_falcon_new_decoder_architecture(tmp_path: Path) -> None:
    s = sheet(tmp_path, "FalconConfig", "FalconForCausalLM", hidden_size=256,
              num_hidden_layers=2, num_attention_heads=8, num_kv_heads=2,
              new_decoder_architecture=True, vocab_size=1000)
    assert (s.design.kv_heads.value, s.design.attention.value) == (2, "GQA")
    assert s.design.norm_placement.value == "parallel"


def test_bloom_alibi(tmp_path: Path) -> None:
    s = sheet(tmp_path, "BloomConfig", "BloomForCausalLM", hidden_size=256, n_layer=2, n_head=4,
              vocab_size=1000)
    assert s.design.position.value == "ALiBi"


def test_training_flops_six_n_d(tmp_path: Path) -> None:
    s = sheet(tmp_path, "LlamaConfig", "LlamaForCausalLM", **SMALL)
    again = whichmodel.inspect(f"hf:{tmp_path / 'LlamaForCausalLM'}", training_tokens=1000)
    assert again.compute.training_flops.value == 6 * s.size.total.value * 1000
