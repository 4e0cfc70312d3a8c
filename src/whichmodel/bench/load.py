"""Latency under load of a served model (``bench openai:…``): streamed requests at several
concurrencies, each level bounded in requests and in time.

At each concurrency ``c`` (1, 4 and 16 by default), ``c`` clients send streamed generation
requests back to back until ``requests`` were sent or ``deadline_s`` passed (no request starts
after it; those in flight finish, within the reference's ``timeout``). Per request, as EvalScope
perf and vLLM's benchmark define them:

- **TTFT**: seconds from sending to the first chunk that carries text;
- **ITL** (inter-token latency): (last text chunk − first) / (generated tokens − 1), the tokens
  as the final chunk's ``usage`` reports them (else the text chunks are counted);
- **tokens/s**: generated tokens / the request's whole latency.

Each level reports their p50/p90/p99, and the level's throughput: requests and generated tokens
per second of its wall time, and its error rate (requests that failed after the reference's
retries, over requests sent). A sweep is a live measurement of a server: it is never cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from whichmodel.errors import ConfigError

Progress = Callable[[str, int, int], None]
_ERRORS_KEPT = 5  # distinct error texts a level keeps


@dataclass(frozen=True)
class LoadConfig:
    """A sweep: ``concurrency`` levels, at most ``requests`` requests and ``deadline_s``
    seconds each, of ``max_tokens`` generated tokens on ``prompts`` (taken in turn)."""

    concurrency: tuple[int, ...] = (1, 4, 16)
    requests: int = 16
    deadline_s: float = 60.0
    max_tokens: int = 16
    prompts: tuple[str, ...] = ()

    def validate(self) -> LoadConfig:
        """Raise ConfigError for a sweep that cannot run; returns self."""
        if not self.concurrency or any(c < 1 for c in self.concurrency):
            raise ConfigError(
                f"Every concurrency must be at least 1. Got {list(self.concurrency)} instead."
            )
        if self.requests < 1 or self.max_tokens < 1 or not self.deadline_s > 0:
            raise ConfigError(
                "--requests and --new-tokens must be at least 1 and --deadline positive. Got "
                f"{self.requests}, {self.max_tokens} and {self.deadline_s} instead."
            )
        if not self.prompts or not all(p.strip() for p in self.prompts):
            raise ConfigError("The load sweep needs prompts, and none of them empty.")
        return self


@dataclass(frozen=True)
class Spread:
    """p50/p90/p99 and mean of one figure over a level's requests (``numpy.percentile``,
    linear); the samples are kept."""

    samples: tuple[float, ...]
    p50: float
    p90: float
    p99: float
    mean: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Spread | None:
        """None when there are no samples."""
        if not samples:
            return None
        a = np.asarray(samples, dtype=np.float64)
        p50, p90, p99 = (float(v) for v in np.percentile(a, [50, 90, 99]))
        return cls(tuple(float(v) for v in a), p50, p90, p99, float(a.mean()))


@dataclass(frozen=True)
class Request:
    """One streamed request: seconds, tokens, or the error it failed with."""

    latency_s: float
    ttft_s: float | None = None
    itl_s: float | None = None
    output_tokens: int = 0
    prompt_tokens: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class LoadLevel:
    """One concurrency level: per-request spreads, and the level's throughput.

    Args:
        sent / failed: requests sent, and those that failed after the retries.
        wall_s: from the first request sent to the last one finished.
        stopped: ``requests`` (all were sent) or ``deadline`` (time ran out first).
        ttft_s / itl_s / tokens_per_s: per request, over those that succeeded (ITL over those
            with two tokens or more); None when there are none.
        errors: the first distinct error texts.
    """

    concurrency: int
    sent: int
    failed: int
    wall_s: float
    stopped: str
    ttft_s: Spread | None
    itl_s: Spread | None
    tokens_per_s: Spread | None
    output_tokens: int
    errors: tuple[str, ...] = ()

    @property
    def error_rate(self) -> float:
        return self.failed / self.sent if self.sent else 0.0

    @property
    def requests_per_s(self) -> float:
        """Requests that succeeded, per second of the level's wall time."""
        return (self.sent - self.failed) / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def output_tokens_per_s(self) -> float:
        return self.output_tokens / self.wall_s if self.wall_s > 0 else 0.0


@dataclass(frozen=True)
class LoadProfile:
    """A served model's sweep: what was asked, and each level."""

    ref: str
    model: str
    api: str
    config: LoadConfig
    levels: tuple[LoadLevel, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON: the config without its prompts, each level with its throughput (samples
        left out: each spread keeps its count ``n``)."""
        config = asdict(self.config) | {"prompts": len(self.config.prompts)}
        return {"ref": self.ref, "model": self.model, "api": self.api, "config": config,
                "levels": [_level_dict(level) for level in self.levels]}  # fmt: skip


def _level_dict(level: LoadLevel) -> dict[str, Any]:
    def spread(s: Spread | None) -> dict[str, float] | None:
        return None if s is None else {"p50": s.p50, "p90": s.p90, "p99": s.p99,
                                       "mean": s.mean, "n": len(s.samples)}  # fmt: skip

    return {
        "concurrency": level.concurrency, "sent": level.sent, "failed": level.failed,
        "error_rate": level.error_rate, "wall_s": level.wall_s, "stopped": level.stopped,
        "ttft_s": spread(level.ttft_s), "itl_s": spread(level.itl_s),
        "tokens_per_s": spread(level.tokens_per_s), "output_tokens": level.output_tokens,
        "requests_per_s": level.requests_per_s,
        "output_tokens_per_s": level.output_tokens_per_s, "errors": list(level.errors),
    }  # fmt: skip


def sweep(ref: str, config: LoadConfig, *, progress: Progress | None = None) -> LoadProfile:
    """Latency under load of the ``openai:`` model ``ref`` (see the module docstring).

    Raises:
        ModelReferenceError / ModelLoadError: a bad reference, a server that cannot be reached
            or does not serve the model.
        ConfigError: a bad sweep.
    """
    from whichmodel.refs import parse_ref
    from whichmodel.sources.endpoint.client import Endpoint
    from whichmodel.sources.endpoint.settings import read_settings

    config.validate()
    parsed = parse_ref(ref)
    if parsed.kind != "openai":
        raise ConfigError(f"A load sweep measures an openai: endpoint. Got {ref!r} instead.")
    endpoint = Endpoint(read_settings(parsed))
    _check_served(endpoint)
    levels = []
    for i, c in enumerate(config.concurrency):
        if progress:
            progress(f"load {parsed.name} at concurrency {c}", i, len(config.concurrency))
        levels.append(_level(endpoint, c, config))
    if progress:
        progress(f"load {parsed.name}", len(config.concurrency), len(config.concurrency))
    return LoadProfile(str(parsed), endpoint.settings.model, endpoint.settings.api, config,
                       tuple(levels))  # fmt: skip


def _check_served(endpoint: Any) -> None:
    """ModelLoadError unless the server answers and lists the model (when it lists any)."""
    from whichmodel.errors import ModelLoadError

    listed = endpoint.listed()
    model = endpoint.settings.model
    if listed and all(m.get("id") != model for m in listed):
        served = ", ".join(str(m.get("id")) for m in listed[:20])
        raise ModelLoadError(
            f"{endpoint.settings.base_url} serves no model {model!r}; it serves: {served}. "
            "Name one of those with ?model=."
        )


def _level(endpoint: Any, concurrency: int, config: LoadConfig) -> LoadLevel:
    """``concurrency`` clients sending requests back to back, within the level's bounds."""
    lock = threading.Lock()
    done: list[Request] = []
    issued = 0  # requests started, by every client together
    started = time.perf_counter()
    deadline = started + config.deadline_s

    def client() -> None:
        nonlocal issued
        while True:
            with lock:
                if issued >= config.requests or time.perf_counter() >= deadline:
                    return
                n, issued = issued, issued + 1
            result = _one(endpoint, config.prompts[n % len(config.prompts)], config.max_tokens)
            with lock:
                done.append(result)

    with ThreadPoolExecutor(concurrency, thread_name_prefix="whichmodel-load") as pool:
        for future in [pool.submit(client) for _ in range(concurrency)]:
            future.result()
    wall = time.perf_counter() - started
    ok = [r for r in done if r.error is None]
    errors = tuple(dict.fromkeys(r.error for r in done if r.error is not None))[:_ERRORS_KEPT]
    return LoadLevel(
        concurrency, len(done), len(done) - len(ok), wall,
        "requests" if len(done) >= config.requests else "deadline",
        Spread.of([r.ttft_s for r in ok if r.ttft_s is not None]),
        Spread.of([r.itl_s for r in ok if r.itl_s is not None]),
        Spread.of([r.output_tokens / r.latency_s for r in ok if r.latency_s > 0]),
        sum(r.output_tokens for r in ok), errors,
    )  # fmt: skip


def _one(endpoint: Any, prompt: str, max_tokens: int) -> Request:
    """One streamed greedy request, timed chunk by chunk."""
    from whichmodel.sources.endpoint.client import RequestFailed

    route = endpoint.settings.api
    params: dict[str, Any] = (
        {"messages": [{"role": "user", "content": prompt}], "max_completion_tokens": max_tokens}
        if route == "chat" else {"prompt": prompt, "max_tokens": max_tokens}
    )  # fmt: skip
    times: list[float] = []
    usage: dict[str, Any] = {}
    start = time.perf_counter()
    try:
        for chunk in endpoint.stream(route, {**params, "temperature": 0.0}):
            if _chunk_text(chunk, route):
                times.append(time.perf_counter())
            usage = chunk.get("usage") or usage
    except RequestFailed as exc:
        return Request(time.perf_counter() - start, error=str(exc))
    latency = time.perf_counter() - start
    tokens = int(usage.get("completion_tokens") or len(times))
    if not times:
        return Request(latency, error="the stream carried no text")
    itl = (times[-1] - times[0]) / (tokens - 1) if tokens > 1 else None
    prompt_tokens = usage.get("prompt_tokens")
    return Request(latency, times[0] - start, itl, tokens,
                   None if prompt_tokens is None else int(prompt_tokens))  # fmt: skip


def _chunk_text(chunk: dict[str, Any], route: str) -> str:
    choice = (chunk.get("choices") or [{}])[0]
    if route == "chat":
        return str((choice.get("delta") or {}).get("content") or "")
    return str(choice.get("text") or "")


#: Words synthetic prompts are made of (without --data): plain, common, one token each in most
#: tokenizers, so ``n`` words are about ``n`` tokens.
_WORDS = ("the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "big", "red")


def synthetic_prompts(words: int, n: int = 8) -> tuple[str, ...]:
    """``n`` distinct prompts of ``words`` words (a server's prefix cache sees them differ)."""
    return tuple(
        " ".join(_WORDS[(i + k * 5) % len(_WORDS)] for k in range(words)) + f" {i}"
        for i in range(n)
    )
