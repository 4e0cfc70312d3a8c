"""LLM generation: time to first token, inter-token latency, tokens/s, and KV-cache growth.

Greedy decoding written out step by step (not ``generate``), so that each step is timed on its
own: the prefill call that yields the first token, then one call per further token, either
feeding only the new token with the cache of past keys/values (``kv_cache=True``) or the whole
sequence again (``kv_cache=False``). Prompts are random token ids of the requested length
(seeded), so every batch row has the same length and needs no padding.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

import numpy as np

from whichmodel.bench.base import GenerationConfig, GenerationCost, KVCacheGrowth
from whichmodel.bench.memory import status_bytes
from whichmodel.bench.timing import Latency, median_ci

SEED = 0


def is_causal_lm(module: Any) -> bool:
    """Whether a torch module is a Hugging Face decoder-only language model."""
    return type(module).__name__.endswith("ForCausalLM")


def prompts(vocab_size: int, batch_size: int, prompt_tokens: int) -> Any:
    """(batch_size, prompt_tokens) int64 random token ids, the same for the same shape."""
    import torch

    gen = torch.Generator().manual_seed(SEED)
    return torch.randint(0, vocab_size, (batch_size, prompt_tokens), generator=gen)


def cache_of(out: Any) -> Any:
    """The key/value cache a forward returned: ``out.cache`` from transformers 5.25 on,
    ``out.past_key_values`` before (reading the old name warns from 5.25 on)."""
    return out["cache"] if "cache" in out else out.get("past_key_values")


def cache_argument(lm: Any) -> str:
    """The forward's keyword for the cache of earlier tokens: ``cache`` from transformers 5.25
    on, ``past_key_values`` before. Looked up once per model, outside the timed steps."""
    return "cache" if "cache" in inspect.signature(lm.forward).parameters else "past_key_values"


def _now() -> int:
    return time.perf_counter_ns()


def generate_once(
    lm: Any, ids: Any, new_tokens: int, *, kv_cache: bool
) -> tuple[float, list[float], float]:
    """One greedy generation of ``new_tokens`` after ``ids`` (B, T).

    Returns:
        (seconds to the first token, seconds of each later step, total seconds).
    """
    import torch

    with torch.inference_mode():
        start = _now()
        out = lm(input_ids=ids, use_cache=kv_cache)
        token = out.logits[:, -1].argmax(-1, keepdim=True)  # (B, 1)
        first = _now()
        past, seq, steps = (cache_of(out) if kv_cache else None), ids, []
        cache_kw = cache_argument(lm) if kv_cache else ""
        for _ in range(new_tokens - 1):
            step = _now()
            seq = torch.cat([seq, token], dim=1)
            if kv_cache:
                out = lm(input_ids=token, use_cache=True, **{cache_kw: past})
                past = cache_of(out)
            else:
                out = lm(input_ids=seq, use_cache=False)
            token = out.logits[:, -1].argmax(-1, keepdim=True)
            steps.append((_now() - step) / 1e9)
        end = _now()
    return (first - start) / 1e9, steps, (end - start) / 1e9


def measure_generation(
    lm: Any,
    vocab_size: int,
    config: GenerationConfig,
    *,
    budget_s: float,
    target_rel: float,
    supports_cache: bool = True,
) -> tuple[tuple[GenerationCost, ...], tuple[str, ...]]:
    """Every point of the grid; runs repeat until the total's median is known to ``target_rel``
    or ``budget_s`` per point is spent (at least 3 runs, one untimed warm-up run first)."""
    results, notes = [], []
    for kv in config.kv_cache:
        if kv and not supports_cache:
            notes.append("generation with the KV cache is not available in this runtime")
            continue
        for p in config.prompt_tokens:
            for n in config.new_tokens:
                for b in config.batch_sizes:
                    ids = prompts(vocab_size, b, p)
                    results.append(_point(lm, ids, n, kv, budget_s, target_rel))
    return tuple(results), tuple(notes)


def _point(
    lm: Any, ids: Any, new_tokens: int, kv: bool, budget_s: float, target_rel: float
) -> GenerationCost:
    generate_once(lm, ids, new_tokens, kv_cache=kv)  # warm-up
    ttfts: list[float] = []
    steps: list[float] = []
    totals: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(totals) < 3 or time.perf_counter() < deadline:
        first, later, total = generate_once(lm, ids, new_tokens, kv_cache=kv)
        ttfts.append(first)
        steps += later
        totals.append(total)
        if len(totals) >= 6:
            low, high = median_ci(np.asarray(totals))
            if (high - low) / 2 <= target_rel * float(np.median(totals)):
                break
    total_s = Latency.from_samples(totals)
    batch = int(ids.shape[0])
    return GenerationCost(
        prompt_tokens=int(ids.shape[1]),
        new_tokens=new_tokens,
        batch_size=batch,
        kv_cache=kv,
        ttft=Latency.from_samples(ttfts),
        inter_token=Latency.from_samples(steps or [float("nan")]),
        total=total_s,
        tokens_per_s=batch * new_tokens / total_s.p50_s,
    )


def cache_bytes(past: Any) -> tuple[int, int]:
    """(bytes, bytes per element) of every key/value tensor a cache holds (transformers'
    ``DynamicCache``: ``layers[i].keys`` / ``.values``, each (B, kv_heads, T, head_dim))."""
    total, element = 0, 0
    for layer in getattr(past, "layers", ()):
        for t in (getattr(layer, "keys", None), getattr(layer, "values", None)):
            if t is not None and hasattr(t, "nbytes"):
                total += int(t.nbytes)
                element = int(t.element_size())
    return total, element


def kv_cache_growth(
    lm: Any, vocab_size: int, *, tokens: int, batch_size: int = 1, prompt_tokens: int = 8
) -> KVCacheGrowth | None:
    """Generate ``tokens`` tokens with the cache and measure what it grew by, per token and per
    sequence: from the cache's tensors (exact) and from the process's resident memory."""
    import torch

    ids = prompts(vocab_size, batch_size, prompt_tokens)
    with torch.inference_mode():
        out = lm(input_ids=ids, use_cache=True)
        past = cache_of(out)
        before, element = cache_bytes(past)
        if element == 0:
            return None
        rss_before = status_bytes("VmRSS")
        token, cache_kw = out.logits[:, -1].argmax(-1, keepdim=True), cache_argument(lm)
        for _ in range(tokens):
            out = lm(input_ids=token, use_cache=True, **{cache_kw: past})
            past = cache_of(out)
            token = out.logits[:, -1].argmax(-1, keepdim=True)
        rss_after = status_bytes("VmRSS")
        after, _ = cache_bytes(past)
    per = tokens * batch_size
    return KVCacheGrowth(
        tokens=tokens,
        batch_size=batch_size,
        bytes_per_token=(after - before) / per,
        rss_bytes_per_token=(rss_after - rss_before) / per,
        element_bytes=element,
    )


def lm_outputs(lm: Any, ids: Any, mask: Any) -> dict[str, np.ndarray]:
    """Per position: the greedy next token (n, T-1) and the negative log-likelihood of the
    actual next token (n, T-1, NaN at padding), from one forward pass."""
    import torch

    with torch.inference_mode():
        logits = lm(input_ids=ids, attention_mask=mask, use_cache=False).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)  # (n, T-1, V)
        nll = -logp.gather(-1, ids[:, 1:, None])[..., 0]  # (n, T-1)
        nll = torch.where(mask[:, 1:].bool(), nll, torch.nan)
    return {"next_token": logits[:, :-1].argmax(-1).numpy(), "nll": nll.numpy()}
