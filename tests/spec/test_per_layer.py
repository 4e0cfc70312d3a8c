"""Per-layer truth held against transformers' own cache: a real forward of a tiny hybrid on the
CPU fills a ``DynamicCache``; the sheet's KV cache and recurrent state equal what it holds."""

from __future__ import annotations

from pathlib import Path

import pytest
import transformers

import whichmodel

TINY = dict(hidden_size=64, num_hidden_layers=4, vocab_size=100, num_attention_heads=4,
            num_key_value_heads=2)
HYBRIDS = [
    ("Qwen3NextConfig", "Qwen3NextForCausalLM",
     dict(head_dim=16, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
          shared_expert_intermediate_size=32, linear_num_key_heads=2, linear_num_value_heads=4,
          linear_key_head_dim=16, linear_value_head_dim=16, full_attention_interval=2)),
    ("JambaConfig", "JambaForCausalLM",
     dict(intermediate_size=64, attn_layer_period=2, attn_layer_offset=1, expert_layer_period=2,
          expert_layer_offset=1, num_experts=2, mamba_d_state=8)),
    ("BambaConfig", "BambaForCausalLM",
     dict(intermediate_size=64, attn_layer_indices=[1], mamba_n_heads=4, mamba_d_head=32,
          mamba_d_state=8)),
    ("GraniteMoeHybridConfig", "GraniteMoeHybridForCausalLM",
     dict(intermediate_size=64, layer_types=["mamba", "attention", "mamba", "mamba"],
          mamba_n_heads=4, mamba_d_head=32, mamba_d_state=8)),
]


def _cache_bytes(model, tokens: int) -> tuple[int, int]:
    """(K/V bytes, conv + recurrent state bytes) a real forward of ``tokens`` leaves cached."""
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.zeros((1, tokens), dtype=torch.long), use_cache=True)
    kv = state = 0
    for layer in out.past_key_values.layers:
        for t in (getattr(layer, "keys", None), getattr(layer, "values", None)):
            kv += t.numel() * t.element_size() if isinstance(t, torch.Tensor) else 0
        for states in (getattr(layer, "conv_states", {}), getattr(layer, "recurrent_states", {})):
            state += sum(t.numel() * t.element_size() for t in states.values() if t is not None)
    return kv, state


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("cls", "arch", "kwargs"), HYBRIDS, ids=lambda x: str(x)[:12])
def test_hybrid_cache_equals_transformers_cache(tmp_path: Path, cls: str, arch: str,
                                                kwargs: dict) -> None:
    transformers.utils.logging.set_verbosity_error()
    config = getattr(transformers, cls)(**TINY, **kwargs)
    config.architectures = [arch]
    config.save_pretrained(tmp_path)
    sheet = whichmodel.inspect(f"hf:{tmp_path}", dtype="fp32", context=3)
    model = getattr(transformers, arch)._from_config(config, attn_implementation="eager").eval()
    kv, state = _cache_bytes(model, 3)
    assert sheet.identity.family.value.startswith("hybrid")
    assert sheet.memory.kv_cache_bytes_at_context.value == kv > 0
    assert sheet.memory.recurrent_state_bytes.value == state > 0
    assert sheet.memory.total_bytes.value == sheet.memory.weights_bytes.value + kv + state
