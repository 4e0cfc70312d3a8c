"""LLM generation figures and KV-cache growth on a tiny Llama built from its config."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from helpers.tiny_hf import TINY_LLAMA, build_tiny_gqa_llama
from whichmodel.bench.base import GenerationConfig
from whichmodel.bench.generation import (
    cache_argument,
    cache_of,
    generate_once,
    is_causal_lm,
    kv_cache_growth,
    lm_outputs,
    measure_generation,
)

VOCAB = TINY_LLAMA["vocab_size"]


@pytest.fixture(scope="module")
def llama() -> Iterator[torch.nn.Module]:
    # One thread: on a shared, oversubscribed machine two spinning OpenMP threads stall for
    # up to a second per call; the figures are not asserted, the structure is.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield build_tiny_gqa_llama()
    torch.set_num_threads(threads)


def kv_bytes_per_token(element_bytes: int) -> int:
    """KV-cache bytes per token per sequence from the config: every layer stores one key and one
    value vector per key/value head, so 2 · layers · kv_heads · head_dim · bytes per element
    (Pope et al. 2022, "Efficiently Scaling Transformer Inference", section 2.1)."""
    head_dim = TINY_LLAMA["hidden_size"] // TINY_LLAMA["num_attention_heads"]
    return (
        2
        * TINY_LLAMA["num_hidden_layers"]
        * TINY_LLAMA["num_key_value_heads"]
        * head_dim
        * element_bytes
    )


def test_the_tiny_llama_is_a_causal_lm(llama: torch.nn.Module) -> None:
    assert is_causal_lm(llama) and not is_causal_lm(torch.nn.Linear(2, 2))


@pytest.mark.parametrize(("dtype", "element_bytes"), [(torch.float32, 4), (torch.bfloat16, 2)])
def test_kv_cache_growth_matches_the_formula(
    llama: torch.nn.Module, dtype: torch.dtype, element_bytes: int
) -> None:
    model = llama.to(dtype)
    try:
        growth = kv_cache_growth(model, VOCAB, tokens=24, batch_size=2)
    finally:
        llama.to(torch.float32)
    assert growth is not None and growth.element_bytes == element_bytes
    expected = kv_bytes_per_token(element_bytes)  # 2 * 3 * 2 * 16 * 4 = 768 B in fp32
    assert growth.bytes_per_token == pytest.approx(expected, rel=0.10)
    assert growth.tokens == 24 and growth.batch_size == 2


def test_the_cache_gives_the_same_tokens_as_recomputing(llama: torch.nn.Module) -> None:
    ids = torch.randint(0, VOCAB, (2, 6), generator=torch.Generator().manual_seed(1))
    first, steps, total = generate_once(llama, ids, 5, kv_cache=True)
    assert len(steps) == 4 and 0 < first <= total and sum(steps) <= total
    # Same greedy continuation with and without the cache (what the timings compare).
    with torch.inference_mode():
        seq = ids
        for _ in range(5):
            nxt = llama(input_ids=seq, use_cache=False).logits[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], 1)
        out = llama(input_ids=ids, use_cache=True)
        past, tok, cached = cache_of(out), out.logits[:, -1].argmax(-1, keepdim=True), [ids]
        for _ in range(4):
            cached.append(tok)
            out = llama(input_ids=tok, use_cache=True, **{cache_argument(llama): past})
            past, tok = cache_of(out), out.logits[:, -1].argmax(-1, keepdim=True)
        cached.append(tok)
    assert torch.equal(seq, torch.cat(cached, 1))


def test_generation_grid_structure(llama: torch.nn.Module) -> None:
    config = GenerationConfig(prompt_tokens=(4, 12), new_tokens=(3,), batch_sizes=(1, 2))
    results, notes = measure_generation(llama, VOCAB, config, budget_s=0.05, target_rel=0.02)
    assert notes == ()
    points = {(g.prompt_tokens, g.batch_size, g.kv_cache) for g in results}
    assert points == {(p, b, kv) for p in (4, 12) for b in (1, 2) for kv in (True, False)}
    for g in results:
        runs = g.total.n
        assert runs >= 3 and g.ttft.n == runs and g.inter_token.n == runs * (g.new_tokens - 1)
        assert g.tokens_per_s == pytest.approx(g.batch_size * g.new_tokens / g.total.p50_s)
        assert g.ttft.p50_s <= g.total.p99_s


def test_without_cache_support_only_recompute_is_measured(llama: torch.nn.Module) -> None:
    config = GenerationConfig(prompt_tokens=(4,), new_tokens=(2,))
    results, notes = measure_generation(
        llama, VOCAB, config, budget_s=0.01, target_rel=0.5, supports_cache=False
    )
    assert [g.kv_cache for g in results] == [False] and "not available" in notes[0]


def test_lm_outputs_mask_padding_and_score_the_next_token(llama: torch.nn.Module) -> None:
    ids = torch.randint(0, VOCAB, (2, 5), generator=torch.Generator().manual_seed(2))
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    out = lm_outputs(llama, ids, mask)
    assert out["next_token"].shape == (2, 4) and out["nll"].shape == (2, 4)
    assert torch.isnan(torch.from_numpy(out["nll"][1, 2:])).all()
    with torch.inference_mode():
        logits = llama(input_ids=ids[:1]).logits[0]  # (T, V)
    expected = torch.nn.functional.cross_entropy(logits[:-1], ids[0, 1:], reduction="none")
    assert torch.allclose(torch.from_numpy(out["nll"][0]), expected, atol=1e-5)
