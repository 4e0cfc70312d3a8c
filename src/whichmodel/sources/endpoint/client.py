"""The HTTP side of an endpoint: the official ``openai`` SDK, made robust and resumable.

- **Timeouts and retries** are the SDK's own: ``timeout`` per request, and ``max_retries``
  retries on 408, 409, 429, any 5xx, a timeout and a dropped or refused connection, with
  exponential backoff (0.5 s doubling to at most 8 s, less up to 25 % jitter; a ``Retry-After``
  of up to 2 minutes is obeyed instead), read from ``openai._base_client`` (3.x).
- **Requests in flight together**: :meth:`Endpoint.map` sends up to ``concurrency`` at once
  from a thread pool (the SDK's client is thread-safe).
- **A response cache** in the run store, keyed by (base URL, the server's model id, the route
  and every request parameter): a finished request is written as it finishes, so an
  interrupted run, or a batch retried example by example after one of its requests failed,
  sends none of them again. A sampled request (temperature > 0) is cached only when seeded.
- **Read back** (:meth:`Endpoint.reading_back`): the responses a run's requests got, from the
  store alone, with their ``usage`` (the tokens a run is costed by, :mod:`whichmodel.bench.tokens`);
  a sampled answer that is not cached keeps its ``usage`` alone for this.
- **The API key** goes to the SDK and nowhere else: every error text leaving this module has
  it replaced (:meth:`Endpoint.redact`).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

from whichmodel.errors import MissingExtraError, ModelLoadError
from whichmodel.sources.endpoint.settings import EndpointSettings
from whichmodel.store.cache import cache_key

if TYPE_CHECKING:
    from whichmodel.store import Store

Params = dict[str, Any]  # one request's JSON body, ``model`` left out (the client adds it)
Response = dict[str, Any]  # the response's JSON, as the SDK parsed it


class RequestFailed(RuntimeError):
    """A request failed after its retries; the text never holds the API key. Not a
    WhichModelError: the examples it served are recorded as failed and the run goes on."""


class Endpoint:
    """One server and model, with its key, retries, cache and concurrency.

    Args:
        settings: the reference's settings.
        store: the run store the responses are cached in; None caches nothing.
    """

    def __init__(self, settings: EndpointSettings, store: Store | None = None) -> None:
        try:
            import openai
        except ImportError as exc:
            raise MissingExtraError("openai", "openai") from exc
        self.settings = settings
        self._key = settings.api_key()
        self._client = openai.OpenAI(
            api_key=self._key, base_url=settings.base_url, timeout=settings.timeout_s,
            max_retries=settings.retries,
        )  # fmt: skip
        # its connection pool closes with the model, not at the interpreter's exit (where an
        # open socket is a ResourceWarning)
        weakref.finalize(self, self._client.close)
        self._store = store
        self.model_id = settings.model  # the server's id for it, once listed (see listed())
        self._read: list[Response] | None = None  # while reading back: what map returned

    @contextlib.contextmanager
    def reading_back(self) -> Iterator[list[Response]]:
        """While open, :meth:`map` sends nothing: it answers from the store alone (a request
        not stored fails, as a request the server failed) and appends every response it
        returns to the list yielded, whose ``usage`` says what the request cost."""
        self._read = []
        try:
            yield self._read
        finally:
            self._read = None

    def redact(self, text: str) -> str:
        """``text`` with the API key replaced by ``***``."""
        return text.replace(self._key, "***") if self._key else text

    def listed(self) -> list[Response]:
        """The server's ``/models`` entries (an empty list when it has no such route).

        Raises:
            ModelLoadError: the server cannot be reached, or refuses the key.
        """
        import openai

        client = self._client.with_options(max_retries=min(self.settings.retries, 1))
        try:
            return [m.model_dump(mode="json") for m in client.models.list()]
        except openai.NotFoundError:
            return []
        except openai.APIStatusError as exc:
            raise ModelLoadError(
                f"{self.settings.base_url}/models answered {exc.status_code}: "
                f"{self.redact(_one_line(exc.message))}"
            ) from None
        except openai.APIError as exc:  # connection refused, DNS, timeout
            raise ModelLoadError(
                f"Cannot reach {self.settings.base_url} ({self.redact(_cause(exc))}); "
                "is the server running, and is the URL its API root (ending in /v1)?"
            ) from None

    def send(self, route: str, params: Params, *, retries: int | None = None) -> Response:
        """One request to ``route`` (``completions``, ``chat`` or ``embeddings``), uncached.

        Raises:
            RequestFailed: the server failed it after the retries (or at once, for a 4xx).
        """
        import openai

        client = self._client if retries is None else self._client.with_options(
            max_retries=retries
        )  # fmt: skip
        calls: dict[str, Callable[..., Any]] = {
            "completions": client.completions.create,
            "chat": client.chat.completions.create,
            "embeddings": client.embeddings.create,
        }
        call = calls[route]
        try:
            return dict(call(model=self.settings.model, **params).model_dump(mode="json"))
        except openai.APIError as exc:
            raise self._failed(exc) from None

    def stream(self, route: str, params: Params) -> Iterator[Response]:
        """One streamed request to ``route`` (``completions`` or ``chat``), uncached: its
        chunks as they arrive (the last one with ``usage``, where the server gives it).

        Raises:
            RequestFailed: the server failed it (after the retries), or the stream broke.
        """
        import openai

        creates: dict[str, Callable[..., Any]] = {
            "completions": self._client.completions.create,
            "chat": self._client.chat.completions.create,
        }
        create = creates[route]
        usage = {"stream_options": {"include_usage": True}}
        try:
            for chunk in create(model=self.settings.model, stream=True, **usage, **params):
                yield dict(chunk.model_dump(mode="json"))
        except openai.APIError as exc:
            raise self._failed(exc) from None
        except Exception as exc:  # the transport's own, from a stream broken midway
            text = _one_line(f"{type(exc).__name__}: {exc}")
            raise RequestFailed(f"{self.settings.base_url}: {self.redact(text)}") from None

    def _failed(self, exc: Any) -> RequestFailed:
        """The SDK's error (``openai.APIError``) as one line without the key: the status the
        server answered, or the transport's cause."""
        import openai

        if isinstance(exc, openai.APIStatusError):
            return RequestFailed(
                f"{self.settings.base_url} answered {exc.status_code}: "
                f"{self.redact(_one_line(exc.message))}"
            )
        return RequestFailed(f"{self.settings.base_url}: {self.redact(_cause(exc))}")

    def map(self, route: str, requests: Sequence[Params], *, cacheable: bool) -> list[Response]:
        """The responses to ``requests``, in order: cached ones read, the others sent, up to
        ``concurrency`` at a time, each stored as it arrives when ``cacheable``.

        Raises:
            RequestFailed: some request failed (after every other one finished and was stored):
                the first failure, with how many failed.
        """
        keys = [self._key_of(route, p) for p in requests]
        out: list[Response | None] = [self._cached(k) if cacheable else None for k in keys]
        if self._read is not None:
            return self._read_back(out, keys)
        todo = [i for i, r in enumerate(out) if r is None]
        failures: list[str] = []
        if todo:
            workers = min(self.settings.concurrency, len(todo))
            with ThreadPoolExecutor(workers, thread_name_prefix="whichmodel-endpoint") as pool:
                futures: dict[Future[Response], int] = {
                    pool.submit(self.send, route, requests[i]): i for i in todo
                }
                for future in as_completed(futures):  # stored here, on one thread, as they end
                    i = futures[future]
                    try:
                        out[i] = future.result()
                    except RequestFailed as exc:
                        failures.append(str(exc))
                        continue
                    self._put(keys[i], out[i], whole=cacheable)
        if failures:
            more = f" ({len(failures)} of {len(requests)} requests failed)"
            raise RequestFailed(failures[0] + (more if len(failures) > 1 else ""))
        return [r for r in out if r is not None]

    def _read_back(self, out: list[Response | None], keys: list[str]) -> list[Response]:
        """The stored responses (or, for a sampled one, its usage alone) of ``keys``."""
        assert self._read is not None
        found = [r if r is not None else self._usage_of(k) for r, k in zip(out, keys, strict=True)]
        missing = sum(r is None for r in found)
        if missing:
            raise RequestFailed(f"{missing} of {len(keys)} responses are not in the store")
        responses = [r for r in found if r is not None]
        self._read.extend(responses)
        return responses

    def _key_of(self, route: str, params: Params) -> str:
        # the model's price is no request parameter: a new price re-sends nothing
        return cache_key("endpoint", self.settings.base_url, self.model_id, route, params)

    def _cached(self, key: str) -> Response | None:
        if self._store is None:
            return None
        value = self._store.get_cached("endpoint", key)
        return dict(value) if isinstance(value, dict) else None

    def _usage_of(self, key: str) -> Response | None:
        if self._store is None:
            return None
        value = self._store.get_cached("endpoint-usage", key)
        return {"usage": value} if isinstance(value, dict) else None

    def _put(self, key: str, response: Response | None, *, whole: bool) -> None:
        """Store ``response``; a sampled one (``whole`` False) only its ``usage``: it must
        never answer a request again, but what it cost is read back."""
        if self._store is None or response is None:
            return
        if whole:
            self._store.put_cached("endpoint", key, response)
        elif isinstance(response.get("usage"), dict):
            self._store.put_cached("endpoint-usage", key, response["usage"])


def _cause(exc: BaseException) -> str:
    """The SDK's error with what caused it ("Connection error." says little on its own)."""
    inner = exc.__cause__ or exc.__context__
    text = str(exc) if inner is None else f"{exc} {type(inner).__name__}: {inner}"
    return _one_line(text)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]
