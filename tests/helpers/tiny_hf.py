"""Tiny Hugging Face models built offline, with random seeded weights."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def build_tiny_bert(
    folder: Path,
    words: Sequence[str],
    id2label: dict[int, str],
    *,
    seed: int = 0,
    initializer_range: float = 0.02,
) -> tuple[Any, Any]:
    """Save a BertForSequenceClassification (hidden 32, 2 layers, 2 heads) and a WordPiece
    tokenizer over ``words`` into ``folder``; returns (model in eval mode, tokenizer).

    The tokenizer is read from a folder holding only vocab.txt: transformers 5 ignores
    ``BertTokenizerFast(vocab_file=...)`` and keeps just the special tokens (every word [UNK]).
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    vocab = folder.parent / f"{folder.name}-vocab"
    vocab.mkdir(parents=True, exist_ok=True)
    (vocab / "vocab.txt").write_text("\n".join([*SPECIAL_TOKENS, *words]) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast.from_pretrained(vocab, local_files_only=True)
    assert tokenizer.vocab_size == len(SPECIAL_TOKENS) + len(words)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        initializer_range=initializer_range,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return model, tokenizer


LM_SPECIAL = ("<pad>", "<unk>", "<s>", "</s>")


def build_tiny_llama(
    folder: Path, words: Sequence[str], *, seed: int = 0, **overrides: Any
) -> tuple[Any, Any]:
    """Save a LlamaForCausalLM (hidden 32, 2 layers, 64 positions) and a word-level tokenizer
    over ``words`` (split on spaces; BOS ``<s>``, EOS ``</s>``, pad ``<pad>``) into ``folder``;
    returns (model in eval mode, tokenizer). ``overrides`` set LlamaConfig fields, e.g.
    ``num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=1``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    vocab, tokenizer = word_tokenizer(words)
    fields: dict[str, Any] = {
        "vocab_size": len(vocab),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "max_position_embeddings": 64,
        "bos_token_id": vocab["<s>"],
        "eos_token_id": vocab["</s>"],
        "pad_token_id": vocab["<pad>"],
        "initializer_range": 0.5,  # random weights with an opinion: texts score differently
    }
    cfg = LlamaConfig(**{**fields, **overrides})
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg).eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return model, tokenizer


def word_tokenizer(words: Sequence[str]) -> tuple[dict[str, int], Any]:
    """A word-level tokenizer over :data:`LM_SPECIAL` then ``words`` (split on spaces; BOS
    ``<s>``, EOS ``</s>``, pad ``<pad>``): (its vocabulary, the tokenizer)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate([*LM_SPECIAL, *words])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.decoder = decoders.WordPiece(prefix="##")  # joins words with single spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
    )
    return vocab, tokenizer


def build_tiny_gpt2(folder: Path, words: Sequence[str], *, seed: int = 0) -> tuple[Any, Any]:
    """Save a GPT2LMHeadModel (2 layers, width 32, 2 heads, 64 positions) and the word-level
    tokenizer of :func:`word_tokenizer` into ``folder``; returns (model in eval mode,
    tokenizer). Its config names the architecture ``GPT2LMHeadModel``, not ``*ForCausalLM``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    vocab, tokenizer = word_tokenizer(words)
    config = GPT2Config(
        vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=2, n_head=2,
        bos_token_id=vocab["<s>"], eos_token_id=vocab["</s>"], pad_token_id=vocab["<pad>"],
        initializer_range=0.5,  # random weights with an opinion: texts score differently
    )  # fmt: skip
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return model, tokenizer


# A tiny decoder: 3 layers, 4 query heads sharing 2 key/value heads (grouped-query attention).
TINY_LLAMA = {
    "vocab_size": 96,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 512,
}


def build_tiny_gqa_llama(
    folder: Path | None = None, *, words: Sequence[str] = (), seed: int = 0
) -> Any:
    """A LlamaForCausalLM from :data:`TINY_LLAMA` with random seeded weights, in eval mode.

    With ``folder``, it is saved there (safetensors + config) together with a WordPiece tokenizer
    over ``words`` (any tokenizer whose ids fit the vocabulary will do for a random model).
    """
    import torch
    from transformers import BertTokenizerFast, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(**TINY_LLAMA)).eval()
    if folder is not None:
        model.save_pretrained(folder, safe_serialization=True)
        vocab = folder.parent / f"{folder.name}-vocab"
        vocab.mkdir(parents=True, exist_ok=True)
        tokens = [*SPECIAL_TOKENS, *words]
        assert len(tokens) <= TINY_LLAMA["vocab_size"]
        (vocab / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
        BertTokenizerFast.from_pretrained(vocab, local_files_only=True).save_pretrained(folder)
    return model
