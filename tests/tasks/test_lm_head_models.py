"""A GPT-2 folder (``GPT2LMHeadModel``, not ``*ForCausalLM``) scores text for the log-likelihood
tasks, with the log-likelihoods GPT2LMHeadModel gives by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import whichmodel
from helpers.tiny_hf import build_tiny_gpt2
from helpers.tiny_lm import WORDS, TinyLM, sentences, token_nll
from whichmodel.sources import load
from whichmodel.sources.hf.text import is_causal_lm

USES_TORCH = True
OPTIONS = {"measure_cost": False, "n_resamples": 50, "batch_size": 8}


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory: pytest.TempPathFactory) -> TinyLM:
    folder = tmp_path_factory.mktemp("gpt2") / "gpt2"
    model, tokenizer = build_tiny_gpt2(folder, WORDS, seed=0)
    assert json.loads((folder / "config.json").read_text())["architectures"] == ["GPT2LMHeadModel"]
    return TinyLM(folder, model, tokenizer)


def test_causal_architectures_are_recognized_by_name_and_by_the_auto_mapping() -> None:
    assert is_causal_lm("GPT2LMHeadModel") and is_causal_lm("LlamaForCausalLM")
    assert is_causal_lm("ReformerModelWithLMHead")  # listed by transformers' causal-LM mapping
    assert not is_causal_lm("BertModel") and not is_causal_lm("BertForSequenceClassification")


def test_a_gpt2_folder_declares_the_log_likelihood_capabilities(gpt2: TinyLM) -> None:
    model = load(gpt2.ref)
    assert {"loglikelihood", "generate"} <= model.capabilities


def test_gpt2_perplexity_is_that_of_its_logits(gpt2: TinyLM, tmp_path) -> None:
    texts = sentences(12, seed=4)
    path = tmp_path / "texts.jsonl"
    path.write_text("\n".join(json.dumps({"text": t}) for t in texts), encoding="utf-8")
    result = whichmodel.compare(
        [gpt2.ref], path, task="language-modeling", input_cols=["text"],
        store=str(tmp_path / "s.db"), **OPTIONS,
    )  # fmt: skip
    tok = gpt2.tokenizer
    nll = np.concatenate([
        token_nll(gpt2, [tok.bos_token_id, *tok(t, add_special_tokens=False).input_ids])
        for t in texts
    ])  # fmt: skip
    # float32: 8 texts in one padded forward pass differ from one pass each by ~1e-7 relative
    assert result.metric("gpt2", "perplexity") == pytest.approx(math.exp(nll.mean()), rel=1e-6)


def test_gpt2_answers_multiple_choice_by_its_log_likelihoods(gpt2: TinyLM, tmp_path) -> None:
    rng = np.random.default_rng(1)
    contexts = sentences(10, seed=6)
    choices = [sentences(3, seed=50 + i, min_words=1, max_words=3) for i in range(10)]
    labels = [int(rng.integers(0, 3)) for _ in contexts]
    path = tmp_path / "mc.jsonl"
    rows = zip(contexts, choices, labels, strict=True)
    path.write_text(
        "\n".join(json.dumps({"context": c, "choices": ch, "label": y}) for c, ch, y in rows),
        encoding="utf-8",
    )
    result = whichmodel.compare(
        [gpt2.ref], path, task="multiple-choice?bos=always", store=str(tmp_path / "s.db"),
        **OPTIONS,
    )  # fmt: skip
    tok = gpt2.tokenizer
    picks = []  # BOS before every context (bos=always)
    for context, options in zip(contexts, choices, strict=True):
        ctx = tok(context, add_special_tokens=False).input_ids
        scores = []
        for choice in options:
            cont = tok(choice, add_special_tokens=False).input_ids
            scores.append(-token_nll(gpt2, [tok.bos_token_id, *ctx, *cont])[-len(cont):].sum())
        picks.append(int(np.argmax(scores)))
    expected = float(np.mean(np.array(picks) == np.array(labels)))
    assert result.metric("gpt2", "accuracy") == pytest.approx(expected, abs=1e-12)
