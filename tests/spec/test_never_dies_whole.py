"""A spec sheet never dies whole: when FLOP counting, one design field or one of the folder's
other files fails, that fact is unknown with the reason, and the parameters, memory and design
still come out (Mamba, Gemma 4's per-layer attributes, Swin's per-stage lists, broken files)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import transformers

import whichmodel
from whichmodel.spec.files import model_card

LLAMA = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, vocab_size=100, max_position_embeddings=64)


def _saved(root: Path, cls: str, arch: str, **kwargs) -> Path:
    config = getattr(transformers, cls)(**kwargs)
    config.architectures = [arch]
    config.save_pretrained(root / arch)
    return root / arch


def _comes_out(sheet) -> None:
    """Parameters, weights memory and (where there is one) the design are all there."""
    assert sheet.size.total.value > 0 and sheet.size.total.source == "graph"
    assert sheet.memory.weights_bytes.value == sheet.size.total.value * 4  # fp32
    assert sheet.compute is not None


@pytest.mark.parametrize(("cls", "arch", "kwargs"), [
    ("MambaConfig", "MambaForCausalLM", dict(hidden_size=64, num_hidden_layers=2,
                                             vocab_size=100)),
    ("Mamba2Config", "Mamba2ForCausalLM", dict(hidden_size=64, num_hidden_layers=2,
                                               vocab_size=100, num_heads=4, head_dim=32,
                                               n_groups=1, state_size=16)),
], ids=["mamba", "mamba2"])
def test_mamba_family_flops_count_or_say_why(tmp_path: Path, cls: str, arch: str,
                                             kwargs: dict) -> None:
    sheet = whichmodel.inspect(f"hf:{_saved(tmp_path, cls, arch, **kwargs)}")
    _comes_out(sheet)
    assert sheet.identity.family.value == "state-space (Mamba)"
    flops = sheet.compute.forward_flops
    assert flops.value and flops.value > 0
    # Mamba2's meta forward asks a meta tensor for .item(): the formula, and the reason.
    assert flops.source == "graph" or "FlopCounterMode failed on meta" in flops.note


GEMMA4 = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=6, num_attention_heads=4,
              num_key_value_heads=2, head_dim=16, global_head_dim=32, vocab_size=100,
              vocab_size_per_layer_input=100, hidden_size_per_layer_input=8,
              max_position_embeddings=64)


@pytest.mark.skipif(not hasattr(transformers, "Gemma4TextConfig"),
                    reason="Gemma 4 arrived in transformers 5.x")
def test_gemma4_per_layer_head_dim_is_unknown_with_the_reason(tmp_path: Path) -> None:
    # Gemma 4's full-attention layers use global_head_dim, the sliding ones head_dim: reading
    # config.head_dim raises AmbiguousGlobalPerLayerAttributeError.
    sheet = whichmodel.inspect(
        f"hf:{_saved(tmp_path, 'Gemma4TextConfig', 'Gemma4ForCausalLM', **GEMMA4)}")
    _comes_out(sheet)
    d = sheet.design
    assert d.head_dim.source == "unknown"
    assert d.head_dim.note == "head_dim differs across layers: 16 in 5, 32 in 1"
    assert (d.layers.value, d.hidden_size.value, d.heads.value) == (6, 64, 4)
    assert d.norm_placement.value == "pre+post"
    kv = sheet.memory.kv_cache_bytes_per_token
    assert kv.source == "unknown" and "head_dim differs across layers" in kv.note
    assert sheet.compute.forward_flops.value > 0


@pytest.mark.parametrize(("cls", "arch"), [("SwinConfig", "SwinModel"),
                                           ("Swinv2Config", "Swinv2Model")])
def test_swin_per_stage_heads_are_unknown_with_the_reason(tmp_path: Path, cls: str,
                                                          arch: str) -> None:
    folder = _saved(tmp_path, cls, arch, embed_dim=32, depths=[1, 2], num_heads=[2, 4],
                    image_size=64)
    sheet = whichmodel.inspect(f"hf:{folder}")
    _comes_out(sheet)
    d = sheet.design
    for fact in (d.heads, d.kv_heads, d.head_dim, d.attention):
        assert fact.source == "unknown"
        assert fact.note == "num_attention_heads is one value per stage: [2, 4]"
    assert d.hidden_size.value == 64  # embed_dim doubled at the one stage boundary
    assert sheet.compute.forward_flops.source == "graph"


def _llama_folder(root: Path) -> Path:
    folder = root / "llama"
    transformers.LlamaConfig(**LLAMA, architectures=["LlamaForCausalLM"]).save_pretrained(folder)
    return folder


def test_broken_weight_headers_are_unknown_with_the_reason(tmp_path: Path) -> None:
    folder = _llama_folder(tmp_path)
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", 2**62) + b"{}")
    sheet = whichmodel.inspect(f"hf:{folder}")
    _comes_out(sheet)
    assert sheet.storage.files.value == ["model.safetensors"]
    assert sheet.storage.dtypes.source == "unknown"
    assert "model.safetensors is not a valid safetensors file" in sheet.storage.dtypes.note
    assert sheet.storage.sparsity.source == "unknown"


def test_broken_tokenizer_and_trainer_state_are_unknown(tmp_path: Path) -> None:
    folder = _llama_folder(tmp_path)
    (folder / "tokenizer.json").write_text(json.dumps({"model": "BPE", "added_tokens": 3}))
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": 7,
                                                           "log_history": [1, "x"]}))
    sheet = whichmodel.inspect(f"hf:{folder}")
    _comes_out(sheet)
    assert sheet.tokenizer.algorithm.source == "unknown"
    assert "tokenizer files not read" in sheet.tokenizer.algorithm.note
    assert sheet.recipe.facts["trainer.global_step"].value == 7


def test_model_card_keeps_plain_values_and_reads_no_further_than_its_cap(tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text("---\nlicense: mit\nlanguage: [en, fr]\nbase_model: &b x\n"
                    "datasets: [[a, b]]\n---\n# text\n")
    facts = model_card(card)
    assert facts["license"].value == "mit" and facts["language"].value == ["en", "fr"]
    assert facts["base_model"].value == "x"  # an alias of a plain value is a plain value
    assert facts["datasets"].source == "unknown"
    card.write_text("---\nlicense: mit\n" + "#" * 2**20 + "\n---\n")  # never closed in 64 KiB
    assert "not closed" in model_card(card)["front_matter"].note
    card.write_bytes(b"---\nlicense: caf\xe9\n---\n")  # not UTF-8: read, not a crash
    assert model_card(card)["license"].value == "caf\ufffd"
