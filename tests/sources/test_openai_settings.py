"""The ``openai:`` reference's options and the echo logprobs, without a server: every bad
option is one line that never echoes a key, the key is read from the variable named, and the
continuation's logprob is the sum over the echoed prompt tokens that start in it (lm-eval's
``token_logprobs[ctxlen:-1]``), on a response shaped as vLLM returns it."""

from __future__ import annotations

import numpy as np
import pytest

from whichmodel.errors import ModelLoadError, ModelReferenceError
from whichmodel.refs import parse_ref
from whichmodel.sources import fingerprint_files
from whichmodel.sources.endpoint.logprobs import (
    NoPromptLogprobs,
    continuation,
    prompt_tokens,
    token_nll,
)
from whichmodel.sources.endpoint.settings import PLACEHOLDER_KEY, read_settings


def test_the_reference_reads_its_options_and_names_the_model():
    ref = parse_ref("openai:http://10.0.0.5:8000/v1/?model=meta-llama/Llama-3-8B&api=chat"
                    "&max_tokens=64&temperature=0.5&seed=3&concurrency=8&timeout=30&retries=1")
    settings = read_settings(ref)
    assert ref.kind == "openai" and ref.name == "Llama-3-8B"
    assert (settings.base_url, settings.model, settings.api) == (
        "http://10.0.0.5:8000/v1", "meta-llama/Llama-3-8B", "chat")
    assert (settings.max_tokens, settings.temperature, settings.seed) == (64, 0.5, 3)
    assert (settings.concurrency, settings.timeout_s, settings.retries) == (8, 30.0, 1)
    assert settings.key_env == "OPENAI_API_KEY" and not settings.loopback
    assert fingerprint_files(ref) == ()
    assert (settings.price_in_per_1m, settings.price_out_per_1m) == (None, None)  # the table's
    priced = read_settings(parse_ref("openai:http://h/v1?model=m&price_in=0.5&price_out=1.5"))
    assert (priced.price_in_per_1m, priced.price_out_per_1m) == (0.5, 1.5)


@pytest.mark.parametrize(("ref", "says"), [
    ("openai:http://h/v1", "names no model; add ?model=NAME"),
    ("openai:ftp://h/v1?model=m", "names the API's URL"),
    ("openai:http://h/v1?model=m&api=embeddings", "'api' parameter of openai:http://h/v1 must"),
    ("openai:http://h/v1?model=m&concurrency=0", "must be an integer >= 1. Got '0'"),
    ("openai:http://h/v1?model=m&temperature=hot", "must be a number >= 0.0. Got 'hot'"),
    ("openai:http://h/v1?model=m&api_key=sk-secret", "Options: api, concurrency, key_env"),
    ("openai:http://h/v1?model=m&price_in=1", "sets ?price_in= without ?price_out=; give both"),
    ("openai:http://h/v1?model=m&price_in=1&price_out=-2", "must be a number >= 0.0. Got '-2'"),
])  # fmt: skip
def test_a_bad_option_is_one_line_before_anything_is_sent(ref, says):
    with pytest.raises(ModelReferenceError) as refused:
        fingerprint_files(parse_ref(ref))
    assert says in str(refused.value) and "\n" not in str(refused.value)
    assert "sk-secret" not in str(refused.value)


def test_a_key_pasted_as_key_env_is_refused_without_echoing_it():
    with pytest.raises(ModelReferenceError) as refused:
        read_settings(parse_ref("openai:http://h/v1?model=m&key_env=sk-abc.123"))
    assert "must name an environment variable" in str(refused.value)
    assert "sk-abc.123" not in str(refused.value)


def test_the_key_comes_from_the_variable_named(monkeypatch):
    monkeypatch.delenv("MY_KEY", raising=False)
    remote = read_settings(parse_ref("openai:https://api.example.com/v1?model=m&key_env=MY_KEY"))
    with pytest.raises(ModelLoadError, match="environment variable MY_KEY, which is not set"):
        remote.api_key()
    local = read_settings(parse_ref("openai:http://localhost:8000/v1?model=m&key_env=MY_KEY"))
    assert local.loopback and local.api_key() == PLACEHOLDER_KEY
    monkeypatch.setenv("MY_KEY", "k-1")
    assert remote.api_key() == local.api_key() == "k-1"


def _vllm_echo(prompt_logprobs: list[float | None], *, generated: bool = True) -> dict:
    """An echo completion of 'the cat sat on' (+ ' the' generated) as vLLM shapes it: BOS
    echoed as '<s>', offsets counted over the token strings, so shifted by its 3 characters."""
    tokens = ["<s>", "the", " cat", " sat", " on", *([" the"] if generated else [])]
    offsets, at = [], 0
    for t in tokens:
        offsets.append(at)
        at += len(t)
    values = [*prompt_logprobs, *([-0.5] if generated else [])]
    tops = [None, *({t: v + (0.0 if i != 2 else 1.0)} for i, (t, v) in
                    enumerate(zip(tokens[1:], values[1:], strict=True)))]  # fmt: skip
    return {
        "choices": [{"text": "the cat sat on the", "logprobs": {
            "tokens": tokens, "token_logprobs": values, "text_offset": offsets,
            "top_logprobs": tops}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1 if generated else 0},
    }  # fmt: skip


def test_the_continuation_is_the_sum_over_its_echoed_tokens():
    response = _vllm_echo([None, -1.0, -2.0, -3.0, -4.0])
    tokens = prompt_tokens(response)
    on = continuation(tokens, len(" on"))  # context 'the cat sat'
    assert (on.logprob, on.n_tokens, on.is_greedy) == (-4.0, 1, True)
    two = continuation(tokens, len(" sat on"))
    assert (two.logprob, two.n_tokens) == (-7.0, 2)
    # ' cat' was not the top token (its top_logprobs hold a likelier one): not greedy
    assert continuation(tokens, len(" cat sat on")).is_greedy is False
    np.testing.assert_array_equal(token_nll(tokens), [1.0, 2.0, 3.0, 4.0])
    assert continuation(prompt_tokens(_vllm_echo([None, -1.0, -2.0, -3.0, -4.0],
                                                 generated=False)), 3).logprob == -4.0


def test_a_response_without_prompt_logprobs_is_no_echo():
    ignored = {"choices": [{"text": "the", "logprobs": None}], "usage": {"prompt_tokens": 5}}
    with pytest.raises(NoPromptLogprobs, match="returned 0 logprobs for a prompt of 5 tokens"):
        prompt_tokens(ignored)
    short = _vllm_echo([None, -1.0, -2.0, -3.0, -4.0])
    short["usage"]["prompt_tokens"] = 9  # fewer logprobs than the server counted prompt tokens
    with pytest.raises(NoPromptLogprobs):
        prompt_tokens(short)


def test_scoring_settings_a_server_cannot_honour_are_refused_in_one_line():
    from whichmodel.errors import TaskError
    from whichmodel.sources.capabilities import LM_EVAL_SCORING, ScoringSettings
    from whichmodel.sources.endpoint.model import _server_side

    _server_side(LM_EVAL_SCORING)  # lm-eval's conventions: what a server does anyway
    for settings, says in (
        (ScoringSettings(bos="always"), "bos=always cannot apply to an endpoint"),
        (ScoringSettings(rolling="sliding", stride=8), "in one window"),
        (ScoringSettings(window=64), "in one window"),
    ):
        with pytest.raises(TaskError, match=says):
            _server_side(settings)
