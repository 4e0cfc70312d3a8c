"""A loopback HTTP proxy that fails half of the requests it sees, and counts what it forwards.

The first attempt of each distinct request (method, path, body) fails, alternately with a 429
and with a connection dropped before any answer; the next attempt is forwarded. A request whose
body holds ``poison`` is answered 500 every time. ``forwarded`` counts, per request, the answers
the upstream server gave: a request that succeeded and was sent again counts twice.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_TIMEOUT_S = 60.0


class FlakyProxy:
    def __init__(self, upstream: str, poison: str) -> None:
        self.upstream = urlsplit(upstream)
        self.poison = poison.encode()
        self.lock = threading.Lock()
        self.seen: Counter[tuple[str, str, bytes]] = Counter()
        self.forwarded: Counter[tuple[str, str, bytes]] = Counter()
        self.failed = 0
        self.authorizations: set[str] = set()  # the Authorization headers it was sent

    def verdict(self, key: tuple[str, str, bytes]) -> str:
        """``drop``, ``429``, ``500`` or ``forward`` for this attempt of ``key``."""
        with self.lock:
            self.seen[key] += 1
            if self.poison in key[2]:
                self.failed += 1
                return "500"
            if self.seen[key] == 1:
                self.failed += 1
                return "drop" if self.failed % 2 else "429"
            return "forward"

    def forward(self, method: str, path: str, body: bytes, headers: dict[str, str]
                ) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self.upstream.hostname is not None and self.upstream.port is not None
        connection = http.client.HTTPConnection(
            self.upstream.hostname, self.upstream.port, timeout=_TIMEOUT_S
        )
        try:
            connection.request(method, path, body=body or None, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()


def _handler(proxy: FlakyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            key = (self.command, self.path, body)
            with proxy.lock:
                proxy.authorizations.add(self.headers.get("Authorization") or "")
            verdict = proxy.verdict(key)
            if verdict == "drop":  # the connection ends with no answer at all
                self.close_connection = True
                return
            if verdict in ("429", "500"):
                payload = b'{"error": {"message": "injected", "type": "injected"}}'
                self.send_response(int(verdict))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            keep = {"Content-Type", "Authorization", "Accept"}
            headers = {k: v for k, v in self.headers.items() if k.title() in keep}
            status, answer_headers, payload = proxy.forward(self.command, self.path, body, headers)
            with proxy.lock:
                if status < 400:
                    proxy.forwarded[key] += 1
            self.send_response(status)
            for name, value in answer_headers:
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

    return Handler


@contextmanager
def flaky_proxy(upstream: str, *, poison: str) -> Iterator[tuple[str, FlakyProxy]]:
    """(the proxy's API root, the proxy) in front of ``upstream`` (``http://host:port/v1``)."""
    proxy = FlakyProxy(upstream, poison)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{proxy.upstream.path}", proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
