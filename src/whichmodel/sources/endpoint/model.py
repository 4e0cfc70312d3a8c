"""A model behind an OpenAI-compatible endpoint, with the capabilities its server really has.

Probed when it loads (:func:`probe`), each with one short request:

- ``generate``: always, through the API the reference names (``completions`` or ``chat``);
- ``loglikelihood``: only through ``completions``, and only when a short prompt sent with
  ``echo=true, logprobs=1, max_tokens=1`` comes back with one logprob per prompt token
  (counted against ``usage.prompt_tokens``); otherwise a task that scores text stops with one
  line naming servers that do return them (:meth:`EndpointModel.lacks`);
- ``embed``: when ``/embeddings`` answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from whichmodel.errors import TaskError
from whichmodel.refs import ModelRef
from whichmodel.sources.base import Inputs, Model, ModelInfo, RawOutput
from whichmodel.sources.capabilities import (
    LM_EVAL_SCORING,
    GenerationSettings,
    LogLikelihood,
    ScoringSettings,
)
from whichmodel.sources.endpoint import logprobs
from whichmodel.sources.endpoint.client import Endpoint, Params, RequestFailed

if TYPE_CHECKING:
    from whichmodel.spec.base import SpecSheet

_PROBE_TEXT = "The quick brown fox jumps over the lazy dog"
_PREDICT_TOKENS = 16  # what predict (the cost probe's call) generates per text


@dataclass(frozen=True)
class Probed:
    """What the server said about itself at load.

    Args:
        entry: its ``/models`` entry for the model (empty when it lists none).
        reported_model: the ``model`` its answer to the generation probe names.
        system_fingerprint: that answer's ``system_fingerprint``, when it has one.
        capabilities: what the model can do (``predict`` and the probed ones).
        lacking: capability -> why the server does not have it.
    """

    entry: dict[str, Any]
    reported_model: str
    system_fingerprint: str | None
    capabilities: frozenset[str]
    lacking: dict[str, str] = field(default_factory=dict)


class EndpointModel(Model):
    """A served model: generation, and log-likelihoods and embeddings where its server has
    them. Requests go through :class:`~whichmodel.sources.endpoint.client.Endpoint`."""

    def __init__(self, ref: ModelRef, endpoint: Endpoint, probed: Probed) -> None:
        self.ref = ref
        self.endpoint = endpoint
        self.probed = probed
        self.capabilities = probed.capabilities
        self.info = ModelInfo("openai", probed.reported_model, None, ())

    def lacks(self, capability: str) -> str | None:
        return self.probed.lacking.get(capability)

    def predict(self, inputs: Inputs) -> RawOutput:
        """A short greedy generation per text (what the cost probe times): ``texts`` (n,)."""
        column = inputs.data[:, 0] if inputs.data.ndim == 2 else inputs.data
        limit = self.endpoint.settings.max_tokens or _PREDICT_TOKENS
        texts = self.generate_until([str(t) for t in column], GenerationSettings(limit))
        return RawOutput("texts", np.asarray(texts, dtype=object))

    def generate_until(self, prompts: Sequence[str], settings: GenerationSettings) -> list[str]:
        params, cacheable = self._generation_params(settings)
        route = self.endpoint.settings.api
        if route == "chat":
            requests = [{"messages": [{"role": "user", "content": p}], **params} for p in prompts]
        else:
            requests = [{"prompt": p, **params} for p in prompts]
        responses = self.endpoint.map(route, requests, cacheable=cacheable)
        return [_cut(_text(r, route), settings.stop) for r in responses]

    def _generation_params(self, settings: GenerationSettings) -> tuple[Params, bool]:
        """(the request's parameters, whether its answer may be cached): the task's settings,
        each overridden by the reference's own when it sets one."""
        own = self.endpoint.settings
        temperature = own.temperature
        if temperature is None:
            temperature = settings.temperature if settings.do_sample else 0.0
        params: Params = {"temperature": temperature}
        if temperature > 0 and settings.top_p < 1:
            params["top_p"] = settings.top_p
        limit = own.max_tokens or settings.max_new_tokens
        params["max_completion_tokens" if own.api == "chat" else "max_tokens"] = limit
        if settings.stop:
            params["stop"] = list(settings.stop)
        if own.seed is not None:
            params["seed"] = own.seed
        return params, temperature == 0 or own.seed is not None

    def loglikelihood(
        self, requests: Sequence[tuple[str, str]], settings: ScoringSettings = LM_EVAL_SCORING
    ) -> list[LogLikelihood]:
        _server_side(settings)
        moved = [_spaces_to_continuation(c, x) for c, x in requests]
        responses = self._echo([c + x for c, x in moved])
        return [
            logprobs.continuation(logprobs.prompt_tokens(r), len(x))
            for r, (_, x) in zip(responses, moved, strict=True)
        ]

    def loglikelihood_rolling(
        self, texts: Sequence[str], settings: ScoringSettings = LM_EVAL_SCORING
    ) -> list[np.ndarray]:
        # The server scores each token with all the text before it (its own context limit
        # applies; a longer text fails as that example's failure): one window, no stride.
        _server_side(settings)
        return [logprobs.token_nll(logprobs.prompt_tokens(r)) for r in self._echo(list(texts))]

    def _echo(self, prompts: list[str]) -> list[dict[str, Any]]:
        params = {"echo": True, "logprobs": 1, "max_tokens": 1, "temperature": 0.0}
        if self.endpoint.settings.seed is not None:
            params["seed"] = self.endpoint.settings.seed
        requests = [{"prompt": p, **params} for p in prompts]
        return self.endpoint.map("completions", requests, cacheable=True)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        responses = self.endpoint.map("embeddings", [{"input": [t]} for t in texts], cacheable=True)
        return np.asarray([r["data"][0]["embedding"] for r in responses], dtype=np.float32)

    def spec_sheet(self) -> SpecSheet:
        """What the server says the model is (see :func:`.sheet.endpoint_sheet`)."""
        from whichmodel.sources.endpoint.sheet import endpoint_sheet

        return endpoint_sheet(self)


def probe(endpoint: Endpoint) -> Probed:
    """The model's ``/models`` entry and capabilities, from one short request per capability.

    Raises:
        ModelLoadError: the server cannot be reached, does not serve the model (the message
            lists what it serves), or fails the generation probe.
    """
    from whichmodel.errors import ModelLoadError

    settings = endpoint.settings
    listed = endpoint.listed()
    entry = next((m for m in listed if m.get("id") == settings.model), None)
    if listed and entry is None:
        served = ", ".join(str(m.get("id")) for m in listed[:20])
        raise ModelLoadError(
            f"{settings.base_url} serves no model {settings.model!r}; it serves: {served}. "
            "Name one of those with ?model=."
        )
    endpoint.model_id = str((entry or {}).get("id") or settings.model)
    route = settings.api
    first: Params = (
        {"messages": [{"role": "user", "content": _PROBE_TEXT}], "max_completion_tokens": 1}
        if route == "chat" else {"prompt": _PROBE_TEXT, "max_tokens": 1}
    )  # fmt: skip
    try:
        answer = endpoint.send(route, {**first, "temperature": 0.0})
    except RequestFailed as exc:
        raise ModelLoadError(f"The {route} API of {settings.model} fails: {exc}") from None
    capabilities = {"predict", "generate"}
    lacking: dict[str, str] = {}
    why = _loglikelihood_refusal(endpoint)
    if why is None:
        capabilities.add("loglikelihood")
    else:
        lacking["loglikelihood"] = why
    if _embeds(endpoint):
        capabilities.add("embed")
    return Probed(
        entry or {}, str(answer.get("model") or settings.model), answer.get("system_fingerprint"),
        frozenset(capabilities), lacking,
    )  # fmt: skip


def _loglikelihood_refusal(endpoint: Endpoint) -> str | None:
    """Why the server cannot score text, None when it can (one echo request)."""
    url = endpoint.settings.base_url
    if endpoint.settings.api == "chat":
        return (
            f"the chat API returns no prompt logprobs; use ?api=completions with a server that "
            f"does ({logprobs.ECHO_SERVERS})."
        )
    params = {"prompt": _PROBE_TEXT, "echo": True, "logprobs": 1, "max_tokens": 1}
    try:
        logprobs.prompt_tokens(endpoint.send("completions", params))
    except (RequestFailed, logprobs.NoPromptLogprobs) as exc:
        return (
            f"the server at {url} ignores 'echo' ({exc}), so it cannot score text; serve the "
            f"model with {logprobs.ECHO_SERVERS}, which return prompt logprobs."
        )
    return None


def _embeds(endpoint: Endpoint) -> bool:
    try:
        answer = endpoint.send("embeddings", {"input": ["probe"]})
    except RequestFailed:
        return False
    return bool(answer.get("data"))


def _text(response: dict[str, Any], route: str) -> str:
    choice = (response.get("choices") or [{}])[0]
    if route == "chat":
        return str((choice.get("message") or {}).get("content") or "")
    return str(choice.get("text") or "")


def _spaces_to_continuation(context: str, continuation: str) -> tuple[str, str]:
    """As lm-evaluation-harness: a context's trailing spaces belong to the continuation."""
    spaces = len(context) - len(context.rstrip(" "))
    return context[: len(context) - spaces], " " * spaces + continuation


def _cut(text: str, stop: tuple[str, ...]) -> str:
    """``text`` up to the first stop string (servers that stop after one may keep it)."""
    ends = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[: min(ends)] if ends else text


def _server_side(settings: ScoringSettings) -> None:
    """Refuse the scoring settings a server cannot honour: it tokenizes the text itself (its
    tokenizer's special tokens, as ``bos=tokenizer``) and scores each token after all the text
    before it (one window)."""
    if settings.bos != "tokenizer":
        raise TaskError(
            f"bos={settings.bos} cannot apply to an endpoint: the server tokenizes the text and "
            "adds its tokenizer's special tokens. Leave bos unset (bos=tokenizer)."
        )
    if settings.rolling == "sliding" or settings.window is not None:
        raise TaskError(
            "An endpoint scores each token after all the text before it, in one window: leave "
            "rolling, window and stride unset."
        )
