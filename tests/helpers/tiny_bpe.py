"""Tiny causal LMs with a real subword tokenizer: a byte-level BPE trained in code (a second or
so) on text with non-ASCII words, so characters and bytes differ and words split into pieces.

- :func:`build_gpt2`: a GPT2LMHeadModel whose tokenizer adds no special token (as GPT-2's);
- :func:`build_llama`: a LlamaForCausalLM whose tokenizer puts BOS first (as Llama's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

WORDS = (
    "the", "a", "cat", "dog", "bird", "sat", "ran", "flew", "on", "under", "over", "mat", "log",
    "tree", "far", "away", "and", "then", "slept", "café", "naïve", "über", "straße",
    "smörgåsbord", "jalapeño", "crème", "brûlée", "façade", "piñata", "déjà", "vu", "東京", "ramen",
    "☕", "coffee", "tea", "water", "river", "mountain", "north", "south", "quickly", "slowly",
)


def corpus(n: int, seed: int, *, min_words: int = 3, max_words: int = 12) -> list[str]:
    """``n`` sentences of random words from :data:`WORDS`."""
    rng = np.random.default_rng(seed)
    return [
        " ".join(rng.choice(WORDS, size=int(rng.integers(min_words, max_words + 1))))
        for _ in range(n)
    ]


def bpe_tokenizer(*, vocab_size: int = 300, bos_first: bool = False) -> Any:
    """A byte-level BPE over :data:`WORDS` (BOS/EOS ``<|endoftext|>`` as GPT-2, or ``<s>``,
    ``</s>`` with BOS put first by the tokenizer when ``bos_first``)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<s>", "</s>", "<pad>"] if bos_first else ["<|endoftext|>"]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(corpus(400, seed=123), trainer=trainer)
    if bos_first:
        core.post_processor = processors.TemplateProcessing(
            single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", core.token_to_id("<s>"))]
        )
        return PreTrainedTokenizerFast(
            tokenizer_object=core, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<|endoftext|>", eos_token="<|endoftext|>"
    )


def build_gpt2(
    folder: Path, *, seed: int = 0, n_positions: int = 64, n_layer: int = 2, n_embd: int = 32
) -> tuple[Any, Any]:
    """Save a GPT2LMHeadModel and its BPE tokenizer (no special tokens added) into ``folder``;
    returns (model in eval mode, tokenizer)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = bpe_tokenizer()
    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    config = GPT2Config(
        vocab_size=len(tok), n_positions=n_positions, n_embd=n_embd, n_layer=n_layer,
        n_head=max(2, n_embd // 64), bos_token_id=eot, eos_token_id=eot, initializer_range=0.3,
    )  # fmt: skip
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    return model, tok


def build_llama(folder: Path, *, seed: int = 0, positions: int = 64) -> tuple[Any, Any]:
    """Save a LlamaForCausalLM (hidden 32, 2 layers) and its BPE tokenizer (BOS first) into
    ``folder``; returns (model in eval mode, tokenizer)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = bpe_tokenizer(bos_first=True)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=positions,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id, initializer_range=0.3,
    )  # fmt: skip
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)
    return model, tok
