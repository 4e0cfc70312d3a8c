"""Every model type transformers knows gets a spec sheet from its default config alone.

``tools/spec_sweep.py`` walks each type in ``CONFIG_MAPPING``: default config, ``architectures``
set to its first auto class, ``config.json`` alone in a folder, ``whichmodel.inspect``, held
against a meta build of the same class. The walk is cut into shards so ``pytest -n`` spreads it;
each shard holds the figures the whole walk must hold (a shard is stricter than the whole).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

SHARDS = 8


def _sweep():
    path = Path(__file__).parents[2] / "tools" / "spec_sweep.py"
    spec = importlib.util.spec_from_file_location("spec_sweep", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("spec_sweep", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_type_gets_a_sheet(shard: int) -> None:
    import transformers

    sweep = _sweep()
    types = sweep.model_types()
    assert len(types) > 500  # transformers 5 knows ~800 types: the walk is not empty
    level = transformers.utils.logging.get_verbosity()
    transformers.utils.logging.set_verbosity_error()
    try:
        outcomes = list(sweep.walk(types[shard::SHARDS]))
    finally:
        transformers.utils.logging.set_verbosity(level)
    sheets = [o for o in outcomes if o.stage == "ok"]
    crashes = [f"{o.model_type}: {o.error}" for o in outcomes if o.stage == "sheet"]
    assert crashes == []  # every type with a meta build gives a sheet
    unnamed = [o.model_type for o in sheets if not o.family_named]
    assert len(unnamed) <= math.floor(0.05 * len(sheets)), unnamed
    wrong = [(o.model_type, o.sheet_params, o.meta_params) for o in sheets if not o.params_right]
    assert len(wrong) <= math.floor(0.005 * len(sheets)), wrong
    # Time is not asserted (on a shared machine a wall clock says more about the load than the
    # code: SAM 3 took 3.2 s at load 5.6 and 10.9 s with two suites running); tools/spec_sweep.py
    # prints the slowest sheets, and the README quotes them with the load.


def _tiny(root: Path, cls: str, arch: str, **kwargs) -> str:
    import transformers

    config = getattr(transformers, cls)(**kwargs)
    config.architectures = [arch]
    config.save_pretrained(root / arch)
    return f"hf:{root / arch}"


TINY = dict(hidden_size=64, num_hidden_layers=6, vocab_size=100)


@pytest.mark.parametrize(("cls", "arch", "kwargs", "family"), [
    ("RwkvConfig", "RwkvForCausalLM", dict(attention_hidden_size=64, intermediate_size=128),
     "recurrent"),
    ("Qwen3NextConfig", "Qwen3NextForCausalLM",
     dict(num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_experts=4,
          num_experts_per_tok=2, moe_intermediate_size=32, shared_expert_intermediate_size=32,
          linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16,
          linear_value_head_dim=16, full_attention_interval=3),
     "hybrid (attention + linear attention, MoE)"),
    ("CLIPTextConfig", "CLIPTextModel", dict(num_attention_heads=4, intermediate_size=128),
     "encoder-only transformer"),
], ids=["rwkv", "qwen3_next", "clip_text_model"])
def test_family_from_structure(tmp_path: Path, cls: str, arch: str, kwargs: dict,
                               family: str) -> None:
    import whichmodel

    sheet = whichmodel.inspect(_tiny(tmp_path, cls, arch, **TINY, **kwargs))
    assert sheet.identity.family.value == family
    if family.startswith("hybrid"):  # only its attention layers (every 3rd of 6) cache K/V
        from whichmodel.spec.base import DTYPE_BYTES

        assert sheet.design.attention_layers.value == 2
        per_token = 2 * 2 * 16 * 2 * DTYPE_BYTES[sheet.memory.dtype]  # layers, K/V heads, dim, K+V
        assert sheet.memory.kv_cache_bytes_per_token.value == per_token


def test_depth_extrapolation_when_only_the_first_block_differs(tmp_path: Path) -> None:
    # RWKV's first block carries the embedding LayerNorm: 2- and 3-block forwards are
    # extrapolated, and equal one forward through all 6 blocks.
    import torch
    import transformers

    import whichmodel
    from whichmodel.spec.compute import count_flops

    ref = _tiny(tmp_path, "RwkvConfig", "RwkvForCausalLM", **TINY, attention_hidden_size=64,
                intermediate_size=128)
    flops = whichmodel.inspect(ref).compute.forward_flops
    assert "2- and 3-block forwards extrapolated to 6 blocks" in flops.note
    config = transformers.AutoConfig.from_pretrained(ref[3:])
    with torch.device("meta"):
        model = transformers.RwkvForCausalLM._from_config(config).eval()
    ids = torch.zeros((1, 16), dtype=torch.long, device="meta")
    whole = count_flops(model, {"input_ids": ids, "attention_mask": torch.ones_like(ids),
                                "use_cache": False})
    assert flops.value == whole // 16


def test_fsmt_shares_its_decoder_embeddings(tmp_path: Path) -> None:
    # FSMT's config says tie_word_embeddings=false, but its code shares the decoder's input and
    # output tables (fairseq's share_decoder_input_output_embed): one table, as built.
    import torch
    import transformers

    import whichmodel

    kwargs = dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                  decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                  src_vocab_size=50, tgt_vocab_size=60)
    ref = _tiny(tmp_path, "FSMTConfig", "FSMTForConditionalGeneration", **kwargs)
    with torch.device("meta"):
        model = transformers.FSMTForConditionalGeneration._from_config(
            transformers.AutoConfig.from_pretrained(ref[3:]))
    assert whichmodel.inspect(ref).size.total.value == sum(p.numel() for p in model.parameters())


def test_flop_inputs_from_the_input_contract(tmp_path: Path) -> None:
    # ResNet's config names no image size (a CNN takes any): the 224 crop, 3 channels; a
    # wav2vec2 CTC model takes a waveform: 1 s at 16 kHz; both equal a real forward's count.
    import torch
    import transformers

    import whichmodel
    from whichmodel.spec.compute import count_flops

    cases = [("ResNetConfig", "ResNetForImageClassification",
              dict(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1]), (1, 3, 224, 224)),
             ("Wav2Vec2Config", "Wav2Vec2ForCTC",
              dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                   intermediate_size=64, conv_dim=(8, 8), conv_stride=(5, 2),
                   conv_kernel=(10, 3), num_conv_pos_embeddings=16, vocab_size=20),
              (1, 16000))]
    for cls, arch, kwargs, shape in cases:
        ref = _tiny(tmp_path, cls, arch, **kwargs)
        flops = whichmodel.inspect(ref).compute.forward_flops
        model = getattr(transformers, arch)(getattr(transformers, cls)(**kwargs)).eval()
        real = count_flops(model, {model.main_input_name: torch.randn(shape)})
        assert (flops.value, flops.source) == (real, "graph"), arch
        assert f"one example of shape {shape[1:]}" in flops.note
