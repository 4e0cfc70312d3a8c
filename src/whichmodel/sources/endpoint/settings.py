"""The options of an ``openai:`` reference, read and checked before anything is sent.

    openai:http://127.0.0.1:8000/v1?model=NAME&api=completions&concurrency=4

The API key is never part of the reference: ``key_env`` names the environment variable it is
read from (``OPENAI_API_KEY`` by default), so the recorded command line, results and store hold
only that name.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from whichmodel.errors import ModelLoadError, ModelReferenceError
from whichmodel.refs import ModelRef

#: The options an ``openai:`` reference reads, with what each does (``name`` aside).
OPTIONS: dict[str, str] = {
    "model": "the model name the server serves (required; see its /v1/models)",
    "api": "completions (default) or chat: the API generation goes through",
    "max_tokens": "the most tokens generated per prompt (default: the task's max_new_tokens)",
    "temperature": "sampling temperature; 0 is greedy (default: the task's settings)",
    "seed": "the seed sent with each request; sampled answers are cached only when it is set",
    "concurrency": "requests in flight together (default 4)",
    "key_env": "the environment variable the API key is read from (default OPENAI_API_KEY)",
    "timeout": "seconds one request may take, retries aside (default 120)",
    "retries": "retries of a request on 408/409/429/5xx or a dropped connection (default 4)",
    "price_in": "USD per 1M prompt tokens (with price_out; overrides whichmodel's price table)",
    "price_out": "USD per 1M generated tokens (with price_in; overrides the price table)",
}

APIS = ("completions", "chat")
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
# What the SDK is given when a loopback server needs no key (it refuses an empty one).
PLACEHOLDER_KEY = "whichmodel-no-key"


@dataclass(frozen=True)
class EndpointSettings:
    """What an ``openai:`` reference asks for; values only, nothing is sent here.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the model name requests carry.
        api: ``completions`` or ``chat``, for generation (log-likelihoods need completions).
        max_tokens: overrides the task's ``max_new_tokens`` when set.
        temperature: overrides the task's sampling when set (0: greedy).
        seed: sent with every request when set; makes sampled answers cacheable.
        concurrency: requests in flight together.
        key_env: the environment variable that holds the API key.
        timeout_s: seconds one request may take (each retry again).
        retries: the SDK's ``max_retries``.
        price_in_per_1m / price_out_per_1m: USD per 1M prompt / generated tokens, both or
            neither; None: whichmodel's dated price table (:mod:`whichmodel.bench.tokens`).
    """

    base_url: str
    model: str
    api: str = "completions"
    max_tokens: int | None = None
    temperature: float | None = None
    seed: int | None = None
    concurrency: int = 4
    key_env: str = DEFAULT_KEY_ENV
    timeout_s: float = 120.0
    retries: int = 4
    price_in_per_1m: float | None = None
    price_out_per_1m: float | None = None

    @property
    def loopback(self) -> bool:
        """Whether the server is on this machine (then it may need no key)."""
        host = urlsplit(self.base_url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def api_key(self) -> str:
        """The key from :attr:`key_env`; a placeholder for a loopback server when it is unset.

        Raises:
            ModelLoadError: the variable is unset and the server is not on this machine (the
                message names the variable, never a value).
        """
        key = os.environ.get(self.key_env)
        if key:
            return key
        if self.loopback:
            return PLACEHOLDER_KEY
        raise ModelLoadError(
            f"The API key of {self.base_url} is read from the environment variable "
            f"{self.key_env}, which is not set; set it, or name another with ?key_env=NAME."
        )


def read_settings(ref: ModelRef) -> EndpointSettings:
    """The settings of ``ref`` (kind ``openai``), checked.

    Raises:
        ModelReferenceError: the URL is not http(s), ``model`` is missing, or a value is out of
            range (``The 'concurrency' parameter of openai:... must be ... Got ... instead.``).
    """
    url = ref.target.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ModelReferenceError(
            f"An openai: reference names the API's URL, e.g. "
            f"'openai:http://127.0.0.1:8000/v1?model=NAME'. Got {ref.target!r} instead."
        )
    model = ref.param("model")
    if not model:
        raise ModelReferenceError(
            f"openai:{url} names no model; add ?model=NAME (one the server lists at "
            f"{url}/models)."
        )
    api = ref.param("api", "completions") or "completions"
    if api not in APIS:
        raise _bad(ref, "api", "completions or chat", api)
    return EndpointSettings(
        base_url=url,
        model=model,
        api=api,
        max_tokens=_int(ref, "max_tokens", 1),
        temperature=_float(ref, "temperature", 0.0),
        seed=_int(ref, "seed", 0),
        concurrency=_int(ref, "concurrency", 1) or 4,
        key_env=_key_env(ref),
        timeout_s=_float(ref, "timeout", 0.001) or 120.0,
        retries=_retries(ref),
        **_prices(ref),
    )


def _int(ref: ModelRef, key: str, minimum: int) -> int | None:
    value = _float(ref, key, minimum, integer=True)
    return None if value is None else int(value)


def _float(ref: ModelRef, key: str, minimum: float, *, integer: bool = False) -> float | None:
    """The number ``?key=`` holds, None when absent.

    Raises:
        ModelReferenceError: it is no number (no integer when ``integer``), or below ``minimum``.
    """
    raw = ref.param(key)
    if raw is None:
        return None
    try:
        value: float | None = int(raw) if integer else float(raw)
    except ValueError:
        value = None
    if value is None or not value >= minimum or value in (float("inf"),):
        what = "an integer" if integer else "a number"
        raise _bad(ref, key, f"{what} >= {minimum}", raw)
    return value


def _retries(ref: ModelRef) -> int:
    value = _int(ref, "retries", 0)
    return 4 if value is None else value


def _prices(ref: ModelRef) -> dict[str, float | None]:
    """``?price_in=`` and ``?price_out=`` (USD per 1M tokens), given together or not at all."""
    price_in, price_out = _float(ref, "price_in", 0.0), _float(ref, "price_out", 0.0)
    if (price_in is None) != (price_out is None):
        names = ("price_in", "price_out")
        given, missing = names if price_out is None else names[::-1]
        raise ModelReferenceError(
            f"openai:{ref.target} sets ?{given}= without ?{missing}=; give both (USD per 1M "
            "prompt and generated tokens), or neither to use whichmodel's price table."
        )
    return {"price_in_per_1m": price_in, "price_out_per_1m": price_out}


def _key_env(ref: ModelRef) -> str:
    name = ref.param("key_env", DEFAULT_KEY_ENV) or DEFAULT_KEY_ENV
    if not name.replace("_", "a").isalnum() or name[0].isdigit():
        # a key pasted here would be recorded with the reference: say so without echoing it
        raise ModelReferenceError(
            f"The 'key_env' parameter of openai:{ref.target} must name an environment variable "
            "(letters, digits, _), not hold the key itself: keys are read from the environment."
        )
    return name


def _bad(ref: ModelRef, key: str, expected: str, got: str) -> ModelReferenceError:
    return ModelReferenceError(
        f"The '{key}' parameter of openai:{ref.target} must be {expected}. Got {got!r} instead."
    )
