"""Tiny causal LMs and text for the language-model task tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

WORDS = tuple(
    [
        "the",
        "a",
        "cat",
        "dog",
        "bird",
        "sat",
        "ran",
        "flew",
        "on",
        "under",
        "over",
        "mat",
        "log",
        "tree",
        "far",
        "away",
        "and",
        "then",
        "slept",
    ]
)


@dataclass(frozen=True)
class TinyLM:
    folder: Path
    model: Any
    tokenizer: Any

    @property
    def ref(self) -> str:
        return f"hf:{self.folder}"


def build(folder: Path, seed: int) -> TinyLM:
    from helpers.tiny_hf import build_tiny_llama

    model, tokenizer = build_tiny_llama(folder, WORDS, seed=seed)
    return TinyLM(folder, model, tokenizer)


def sentences(n: int, seed: int = 0, *, min_words: int = 3, max_words: int = 9) -> list[str]:
    rng = np.random.default_rng(seed)
    return [
        " ".join(rng.choice(WORDS, size=int(rng.integers(min_words, max_words + 1))))
        for _ in range(n)
    ]


def token_nll(lm: TinyLM, ids: list[int]) -> np.ndarray:
    """(len(ids) - 1,) NLL in nats of ids[1:] from one forward pass, by torch's cross-entropy."""
    import torch

    with torch.inference_mode():
        logits = lm.model(input_ids=torch.tensor([ids])).logits[0].double()  # (T, V)
        nll = torch.nn.functional.cross_entropy(
            logits[:-1], torch.tensor(ids[1:]), reduction="none"
        )
    return np.asarray(nll.numpy())
