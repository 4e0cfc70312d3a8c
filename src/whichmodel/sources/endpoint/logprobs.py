"""Prompt log-probabilities from a completions response with ``echo=true, logprobs=1``.

lm-evaluation-harness's ``local-completions`` sends ``context + continuation`` as token ids,
with ``echo=true``, ``logprobs=1``, ``max_tokens=1`` and ``temperature=0``, and sums
``token_logprobs[ctxlen:-1]``: the prompt's tokens past the context, the generated token left
out; the continuation is greedy when each of those tokens is the top one of its
``top_logprobs``. Without a local tokenizer, whichmodel sends the text and finds the same
tokens by their ``text_offset``: the continuation's tokens are the prompt tokens that start in
its last ``len(continuation)`` characters. The prompt's tokens are the first
``usage.prompt_tokens`` of the echo; a response with fewer logprobs than that is a server that
ignored ``echo`` (``transformers serve``, llama.cpp's ``llama-server``), which lm-eval would
score at chance without a word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from whichmodel.sources.capabilities import LogLikelihood

#: What to use instead of a server that ignores ``echo``, for the one-line refusal.
ECHO_SERVERS = "vLLM or llama-cpp-python's server (python -m llama_cpp.server)"


class NoPromptLogprobs(ValueError):
    """The response holds no log-probability for some prompt token: ``echo`` was ignored."""


@dataclass(frozen=True)
class PromptTokens:
    """The echoed prompt of one response.

    Args:
        logprobs: (T,) float64 log p(token | tokens before), nats; NaN where the server gives
            none (the first token, which nothing precedes).
        offsets: (T,) int64 where each token starts, in the server's character offsets.
        greedy: (T,) bool, whether each token is the most probable one at its position.
        end: where the prompt ends, in the same offsets.
    """

    logprobs: np.ndarray
    offsets: np.ndarray
    greedy: np.ndarray
    end: int


def prompt_tokens(response: dict[str, Any]) -> PromptTokens:
    """The prompt tokens of ``response`` (the first choice of an echo completion).

    Raises:
        NoPromptLogprobs: the response has no logprobs, or fewer than ``usage.prompt_tokens``.
    """
    choice = (response.get("choices") or [{}])[0]
    lp = choice.get("logprobs") or {}
    values, offsets = lp.get("token_logprobs"), lp.get("text_offset")
    n_prompt = int((response.get("usage") or {}).get("prompt_tokens") or 0)
    if not values or not offsets or n_prompt < 1 or len(values) < n_prompt:
        got = len(values or ())
        raise NoPromptLogprobs(
            f"it returned {got} logprobs for a prompt of {n_prompt} tokens"
        )
    tops = lp.get("top_logprobs") or [None] * len(values)
    logprobs = np.array([np.nan if v is None else float(v) for v in values[:n_prompt]])
    greedy = np.array([
        v is None or not top or v >= max(top.values()) for v, top in zip(values, tops, strict=False)
    ][:n_prompt], dtype=bool)  # fmt: skip
    # the prompt ends where the first generated token starts, or with its last token
    names = lp.get("tokens") or []
    if len(offsets) > n_prompt:
        end = int(offsets[n_prompt])
    elif len(names) >= n_prompt:
        end = int(offsets[n_prompt - 1]) + len(str(names[n_prompt - 1]))
    else:
        end = len(choice.get("text") or "")
    return PromptTokens(logprobs, np.asarray(offsets[:n_prompt], dtype=np.int64), greedy, end)


def continuation(tokens: PromptTokens, n_chars: int) -> LogLikelihood:
    """log p(continuation | context) for a continuation of ``n_chars`` characters at the end of
    the prompt: the sum over the prompt tokens that start within it.

    Raises:
        ValueError: no token starts within it (the context's last token runs into it), or one
            of its tokens has no logprob.
    """
    start = tokens.end - n_chars
    mine = tokens.offsets >= start
    if not mine.any():
        raise ValueError(
            "no token of the echoed prompt starts in the continuation: the context's last token "
            "runs into it"
        )
    values = tokens.logprobs[mine]
    if np.isnan(values).any():
        raise ValueError(
            "the continuation's first token is the prompt's first, which has no logprob"
        )
    return LogLikelihood(float(values.sum()), bool(tokens.greedy[mine].all()), int(mine.sum()))


def token_nll(tokens: PromptTokens) -> np.ndarray:
    """(T,) float64 NLL in nats of each prompt token the server scored (a first token that
    nothing precedes, BOS or not, has no score and is left out)."""
    return np.asarray(-tokens.logprobs[~np.isnan(tokens.logprobs)], dtype=np.float64)
