"""The weight diff (issue 21) on real checkpoints: a tiny Llama, a copy with a known rank-4
update, a real PEFT LoRA adapter (peft's own merge as the reference), identical and mismatched
checkpoints, and the CLI's report files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from whichmodel.analysis.weights import WeightDiff, measures, weight_diff
from whichmodel.analysis.weights.groups import LORA, UNCHANGED

WORDS = ["the", "cat", "sat", "on", "mat"]
Q1 = "model.layers.1.self_attn.q_proj.weight"


def _llama(folder: Path, **overrides: Any) -> Any:
    from helpers.tiny_hf import build_tiny_llama

    model, _ = build_tiny_llama(folder, WORDS, seed=0, **overrides)
    return model


def _rank4(shape: tuple[int, ...], scale: float = 0.5) -> torch.Tensor:
    """U·diag(scale, ×4)·Vᵀ with orthonormal U, V: every rank measure of it is exactly 4."""
    g = torch.Generator().manual_seed(1)
    u, _ = torch.linalg.qr(torch.randn(shape[0], 4, generator=g, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(shape[1], 4, generator=g, dtype=torch.float64))
    return (u @ v.T * scale).float()


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """base, a copy whose block-1 q_proj got a rank-4 update, a PEFT adapter (r=2 on q_proj
    and v_proj, weights randomized) and peft's merge of it."""
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM

    root = tmp_path_factory.mktemp("weights")
    model = _llama(root / "base")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state[Q1] += _rank4(tuple(state[Q1].shape))
    model.load_state_dict(state)
    model.save_pretrained(root / "rank4", safe_serialization=True)

    base = LlamaForCausalLM.from_pretrained(root / "base", local_files_only=True)
    peft_model = get_peft_model(base, LoraConfig(r=2, lora_alpha=4,
                                                 target_modules=["q_proj", "v_proj"]))
    torch.manual_seed(3)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_" in name:
                p.normal_(0.0, 0.3)
    peft_model.save_pretrained(root / "adapter")
    peft_model.merge_and_unload().save_pretrained(root / "merged", safe_serialization=True)
    return {k: root / k for k in ("base", "rank4", "adapter", "merged")}


def _changed(diff: WeightDiff) -> set[str]:
    return {t.name for t in diff.tensors if t.changed}


def test_a_rank4_update_of_one_q_proj_is_found_exactly(ckpts: dict[str, Path]) -> None:
    from safetensors.torch import load_file

    diff = weight_diff(f"hf:{ckpts['base']}", f"hf:{ckpts['rank4']}")
    assert _changed(diff) == {Q1}
    (q,) = [t for t in diff.tensors if t.name == Q1]
    s = q.spectrum
    assert s is not None and s.method == "svdvals"
    assert (s.low_rank, s.energy_rank) == (4, 4)
    assert s.stable_rank == pytest.approx(4.0, rel=1e-4)
    assert s.effective_rank == pytest.approx(4.0, rel=1e-4)
    a = load_file(ckpts["base"] / "model.safetensors")[Q1].double()
    b = load_file(ckpts["rank4"] / "model.safetensors")[Q1].double()
    assert q.rel_change == pytest.approx(float((b - a).norm() / a.norm()), rel=1e-12)
    assert q.cosine == pytest.approx(float(torch.nn.functional.cosine_similarity(
        a.flatten(), b.flatten(), dim=0)), rel=1e-9)
    assert q.max_abs_delta == pytest.approx(float((b - a).abs().max()), rel=1e-12)
    assert q.identical_share == float((a == b).double().mean())
    (group,) = diff.changed
    assert (group.block, group.module, group.verdict, group.rank) == (1, "self_attn.q_proj",
                                                                     LORA, 4)
    assert group.text == "looks like a merged LoRA of rank ≤ 4"
    assert all(g.verdict == UNCHANGED and g.rel_change == 0 for g in diff.groups if g != group)
    assert diff.verdict.startswith("looks like a merged LoRA of rank ≤ 4 on self_attn.q_proj")


def test_a_peft_lora_has_its_rank_where_it_adapts_and_nothing_elsewhere(
    ckpts: dict[str, Path],
) -> None:
    merged = weight_diff(f"hf:{ckpts['base']}", f"hf:{ckpts['merged']}")
    adapted = {f"model.layers.{i}.self_attn.{m}.weight" for i in (0, 1)
               for m in ("q_proj", "v_proj")}
    assert _changed(merged) == adapted
    assert {(g.block, g.module, g.rank) for g in merged.changed} == {
        (i, f"self_attn.{m}", 2) for i in (0, 1) for m in ("q_proj", "v_proj")}
    assert {t.spectrum.low_rank for t in merged.tensors if t.spectrum is not None} == {2}
    assert all(g.verdict == UNCHANGED for g in merged.groups if g not in merged.changed)
    assert merged.verdict.startswith(
        "looks like a merged LoRA of rank ≤ 2 on self_attn.q_proj, self_attn.v_proj (4 of ")
    # base + the adapter folder, merged here without peft: the same diff
    folder = weight_diff(f"hf:{ckpts['base']}", f"hf:{ckpts['adapter']}")
    assert [(g.label, g.verdict, g.rank) for g in folder.groups] == [
        (g.label, g.verdict, g.rank) for g in merged.groups]
    for x, y in zip(folder.tensors, merged.tensors, strict=True):
        assert x.name == y.name
        assert x.norm_delta == pytest.approx(y.norm_delta, rel=1e-5, abs=1e-12)
    (use,) = folder.adapters
    assert (use.side, use.rank, use.alpha, use.scale, use.n_adapted) == ("b", 2, 4.0, 2.0, 4)
    assert use.base == f"hf:{ckpts['base']}"  # the base the adapter's config names
    # the merged checkpoint against base + adapter: the merges agree to rounding
    same = weight_diff(f"hf:{ckpts['merged']}", f"hf:{ckpts['adapter']}",
                       base=f"hf:{ckpts['base']}")
    assert all(t.rounding_only for t in same.tensors if t.changed)


def test_identical_checkpoints_are_zero_everywhere(ckpts: dict[str, Path]) -> None:
    diff = weight_diff(f"hf:{ckpts['base']}", str(ckpts["base"] / "model.safetensors"))
    assert len(diff.tensors) == 21 and not diff.changed
    for t in diff.tensors:
        assert (t.rel_change, t.norm_delta, t.max_abs_delta, t.identical_share) == (0, 0, 0, 1)
        assert t.spectrum is None
    assert diff.verdict == "unchanged: all 21 matched tensors are bit-identical"
    frame = diff.to_pandas("tensors")
    assert len(frame) == 21 and (frame["rel_change"] == 0).all()


def test_different_architectures_diff_what_matches(
    ckpts: dict[str, Path], tmp_path: Path
) -> None:
    _llama(tmp_path / "other", num_hidden_layers=3, intermediate_size=48)
    diff = weight_diff(f"hf:{ckpts['base']}", f"hf:{tmp_path / 'other'}")
    assert len(diff.tensors) == 15  # 21 less the 6 MLP matrices of blocks 0 and 1
    assert {n for n, _, _ in diff.shape_mismatch} == {
        f"model.layers.{i}.mlp.{m}.weight" for i in (0, 1) for m in ("gate_proj", "up_proj",
                                                                      "down_proj")}
    assert len(diff.only_b) == 9 and all(".layers.2." in n for n in diff.only_b)
    assert not diff.only_a
    assert diff.notes[0] == ("The architectures differ: 15 tensors match by name and shape and "
                             "are compared; 6 differ in shape, 0 are only in A, 9 only in B.")


def _save(path: Path, tensors: dict[str, torch.Tensor]) -> str:
    from safetensors.torch import save_file

    save_file(tensors, str(path))
    return str(path)


def test_a_cast_is_small_noise_and_a_full_rank_change_a_full_fine_tune(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    w = {"layers.0.mlp.weight": torch.randn(48, 40, generator=g),
         "layers.0.mlp.bias": torch.randn(48, generator=g)}
    a = _save(tmp_path / "a.safetensors", w)
    cast = _save(tmp_path / "b.safetensors", {k: v.bfloat16() for k, v in w.items()})
    noise = weight_diff(a, cast)
    assert noise.verdict.startswith("small noise only: 1 of 1 groups")
    tuned = _save(tmp_path / "c.safetensors",
                  {k: v + 0.01 * torch.randn(v.shape, generator=g) for k, v in w.items()})
    full = weight_diff(a, tuned)
    assert full.verdict == "full fine-tune: 1 of 1 groups changed"
    (matrix,) = [t for t in full.tensors if t.spectrum is not None]
    assert matrix.spectrum is not None and matrix.spectrum.low_rank is None
    assert matrix.spectrum.energy_rank is not None and matrix.spectrum.energy_rank > 20


def test_large_deltas_take_the_leading_singular_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above FULL_SVD_MAX values, svd_lowrank: its leading values equal svdvals' (the reference),
    and the rank measures stay right."""
    monkeypatch.setattr(measures, "FULL_SVD_MAX", 1000)
    monkeypatch.setattr(measures, "LOWRANK_Q", 16)
    g = torch.Generator().manual_seed(0)
    a = torch.randn(96, 64, generator=g)
    delta = torch.randn(96, 3, generator=g) @ torch.randn(3, 64, generator=g)
    diff = weight_diff(_save(tmp_path / "a.safetensors", {"w": a}),
                       _save(tmp_path / "b.safetensors", {"w": a + delta}))
    s = diff.tensors[0].spectrum
    assert s is not None and (s.method, s.computed, s.low_rank) == ("svd_lowrank", 16, 3)
    exact = torch.linalg.svdvals((a + delta).double() - a.double())
    assert s.top[:3] == pytest.approx(exact[:3].tolist(), rel=1e-4)
    assert s.energy_rank == int((torch.cumsum(exact**2, 0) < 0.9 * (exact**2).sum()).sum()) + 1
    assert s.stable_rank == pytest.approx(float((exact**2).sum() / exact[0] ** 2), rel=1e-4)


def test_the_effective_rank_is_roy_and_vetterlis() -> None:
    sigma = torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64)
    m = torch.diag(sigma)
    s = measures.spectrum(m, norm_delta=float(sigma.norm()))
    p = sigma / sigma.sum()
    assert s.effective_rank == pytest.approx(math.exp(float(-(p * p.log()).sum())), rel=1e-12)


def test_the_result_is_plain_json(ckpts: dict[str, Path]) -> None:
    diff = weight_diff(f"hf:{ckpts['base']}", f"hf:{ckpts['rank4']}")
    data = json.loads(json.dumps(diff.to_dict(), allow_nan=False))
    assert data["verdict"] == diff.verdict
    assert [g["rank"] for g in data["groups"] if g["verdict"] == LORA] == [4]
    assert diff.to_pandas("groups").shape[0] == len(diff.groups)
    with pytest.raises(ValueError, match="The 'what' parameter of to_pandas"):
        diff.to_pandas("rows")
    assert "&lt;" not in diff._repr_html_() and "merged LoRA" in diff._repr_html_()


@pytest.mark.parametrize("rslora", [False, True])
def test_an_adapter_is_merged_without_peft(tmp_path: Path, rslora: bool) -> None:
    """A hand-written adapter on Conv1D-style weights (stored (in, out): fan_in_fan_out): the
    merged tensor is W + (B @ A)ᵀ · alpha/r (alpha/√r with rsLoRA)."""
    g = torch.Generator().manual_seed(0)
    w = torch.randn(32, 48, generator=g)
    base = _save(tmp_path / "model.safetensors", {"h.0.attn.c_attn.weight": w})
    folder = tmp_path / "adapter"
    folder.mkdir()
    lora_a, lora_b = torch.randn(4, 32, generator=g), torch.randn(48, 4, generator=g)
    _save(folder / "adapter_model.safetensors", {
        "base_model.model.h.0.attn.c_attn.lora_A.weight": lora_a,
        "base_model.model.h.0.attn.c_attn.lora_B.weight": lora_b})
    (folder / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "r": 4, "lora_alpha": 8, "fan_in_fan_out": True,
        "use_rslora": rslora, "target_modules": ["c_attn"],
        "base_model_name_or_path": "org/not-here"}))
    diff = weight_diff(base, f"hf:{folder}")  # its base is not here: the other side is
    scale = 8 / math.sqrt(4) if rslora else 8 / 4
    delta = (lora_b.double() @ lora_a.double()).T * scale
    (t,) = diff.tensors
    assert t.norm_delta == pytest.approx(float(delta.norm()), rel=1e-6)
    assert t.spectrum is not None and t.spectrum.low_rank == 4
    assert diff.adapters[0].scale == scale and diff.adapters[0].base == base


@pytest.mark.parametrize(("change", "why"), [
    ({"use_dora": True}, "it uses DoRA"),
    ({"peft_type": "IA3"}, "it is a IA3 adapter; only LORA adapters are merged"),
    ({"rank_pattern": {"q_proj": 8}}, "it uses per-module ranks (rank_pattern)"),
])
def test_an_adapter_this_cannot_merge_is_refused(
    ckpts: dict[str, Path], tmp_path: Path, change: dict[str, Any], why: str
) -> None:
    import shutil

    from whichmodel.errors import ModelLoadError

    folder = tmp_path / "adapter"
    shutil.copytree(ckpts["adapter"], folder)
    cfg = json.loads((folder / "adapter_config.json").read_text())
    (folder / "adapter_config.json").write_text(json.dumps({**cfg, **change}))
    with pytest.raises(ModelLoadError) as err:
        weight_diff(f"hf:{ckpts['base']}", f"hf:{folder}")
    assert str(err.value) == f"Cannot merge the adapter in {folder}: {why}."
