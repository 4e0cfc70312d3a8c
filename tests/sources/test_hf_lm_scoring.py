"""Batched scoring of a causal LM (sources/hf/lm_scoring.py): lm-eval's rolling windows, the same
numbers in batches of 8 as one request at a time, and shared inputs run once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from helpers.tiny_bpe import build_gpt2, build_llama, corpus
from whichmodel.sources import load
from whichmodel.sources.capabilities import ScoringSettings
from whichmodel.sources.hf import lm_scoring

USES_TORCH = True


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def lm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("scoring") / request.param
    (build_gpt2 if request.param == "gpt2" else build_llama)(folder, seed=5)
    return load(f"hf:{folder}")


@pytest.mark.parametrize("n", [0, 1, 5, 16, 17, 40, 100])
@pytest.mark.parametrize("window", [4, 16])
def test_disjoint_windows_are_lm_evals(n: int, window: int) -> None:
    from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

    tokens = list(range(100, 100 + n))
    theirs = [
        make_disjoint_window(pair)
        for pair in get_rolling_token_windows(tokens, 7, max_seq_len=window, context_len=1)
    ]
    spans = lm_scoring._disjoint(tokens, 7, window)
    # lm-eval feeds (context + continuation)[-(window + 1):][:-1] and scores the continuation
    assert spans == [((c + p)[-(window + 1) :], len(p)) for c, p in theirs]
    scored = [t for seq, k in spans for t in seq[-k:]]
    assert scored == tokens  # every token once, in order


def _requests() -> list[tuple[str, str]]:
    """Contexts of 1 to ~60 tokens (and an empty one), 1-4 choices each, some repeated."""
    rng = np.random.default_rng(0)
    contexts = [*corpus(12, seed=8, min_words=1, max_words=25), ""]
    requests = []
    for i, context in enumerate(contexts):
        for choice in corpus(int(rng.integers(1, 5)), seed=300 + i, min_words=1, max_words=4):
            requests.append((context, " " + choice))
    return requests + requests[:5]  # identical requests


def test_batches_of_8_give_the_numbers_of_one_request_at_a_time(lm: Any) -> None:
    requests = _requests()
    one = lm.loglikelihood(requests, ScoringSettings(batch_size=1))
    eight = lm.loglikelihood(requests, ScoringSettings(batch_size=8))
    np.testing.assert_allclose([r.logprob for r in eight], [r.logprob for r in one], rtol=1e-5)
    assert [(r.n_tokens, r.is_greedy) for r in eight] == [(r.n_tokens, r.is_greedy) for r in one]
    long = corpus(3, seed=10, min_words=40, max_words=60)  # past the 64 positions
    texts = corpus(6, seed=9, min_words=2, max_words=10) + long
    for rolling in ("disjoint", "sliding"):
        one_nll = lm.loglikelihood_rolling(texts, ScoringSettings(rolling=rolling, batch_size=1))
        eight_nll = lm.loglikelihood_rolling(texts, ScoringSettings(rolling=rolling, batch_size=8))
        for a, b in zip(eight_nll, one_nll, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        assert max(len(x) for x in one_nll) > 64  # some texts need several windows


def test_one_request_alone_is_its_tokens_log_probabilities(lm: Any) -> None:
    import torch

    context, choice = "the cat sat on", " the mat"
    (scored,) = lm.loglikelihood([(context, choice)], ScoringSettings(bos="always"))
    tok = lm.tokenizer
    ctx = [tok.bos_token_id, *tok(context, add_special_tokens=False).input_ids]
    cont = tok(context + choice, add_special_tokens=False).input_ids[len(ctx) - 1 :]
    with torch.inference_mode():
        logits = lm.model(input_ids=torch.tensor([ctx + cont])).logits[0].double()
    logp = torch.log_softmax(logits, -1)[len(ctx) - 1 : -1]
    expected = logp[torch.arange(len(cont)), torch.tensor(cont)].sum().item()
    assert scored.logprob == pytest.approx(expected, rel=1e-5)
    assert scored.n_tokens == len(cont)


def _rows_run(lm: Any, requests: list[tuple[str, str]], batch_size: int) -> list[int]:
    """The batch sizes of the forward passes that scoring ``requests`` runs."""
    sizes: list[int] = []
    hook = lm.model.register_forward_hook(
        lambda _module, _args, kwargs, _out: sizes.append(kwargs["input_ids"].shape[0]),
        with_kwargs=True,
    )
    try:
        lm.loglikelihood(requests, ScoringSettings(batch_size=batch_size))
    finally:
        hook.remove()
    return sizes


def test_shared_inputs_run_once(lm: Any) -> None:
    tok = lm.tokenizer
    words = ("the", "a", "on", "and", "tea")
    one_token = [w for w in words if len(tok(" " + w, add_special_tokens=False).input_ids) == 1]
    assert len(one_token) >= 2
    contexts = corpus(10, seed=11)
    # one-token choices of a context: all read from one forward over the context (lm-eval's trick)
    requests = [(c, " " + w) for c in contexts for w in one_token]
    assert _rows_run(lm, requests, batch_size=4) == [4, 4, 2]
    # a choice that is a prefix of a longer one, and a repeated request, ride along
    longer = [(c, " tea with milk") for c in contexts]
    requests = [(c, " tea") for c in contexts] + longer + longer
    assert sum(_rows_run(lm, requests, batch_size=8)) == 10
