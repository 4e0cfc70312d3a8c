"""A real OpenAI-compatible server on loopback for the endpoint tests: ``transformers serve``
serving a tiny Llama saved in a temporary folder, started once per session and stopped at the
end.

The folder is :func:`helpers.tiny_lm.build`'s, with two changes a real Llama tokenizer has:
its tokenizer adds BOS (so the server's prompt is the ``hf:`` source's, which prepends BOS), and a
chat template (``/v1/chat/completions`` needs one). ``transformers serve`` ignores ``echo`` and
``logprobs`` and has no ``/v1/embeddings``: it is the server that cannot score text.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_START_DEADLINE_S = 180.0  # a busy 2-core machine took 26 s


@dataclass(frozen=True)
class Served:
    """A running server: its API root, and the folder it serves (the ``hf:`` twin)."""

    url: str  # e.g. http://127.0.0.1:PORT/v1
    folder: Path
    log: Path
    # Whether /v1/models lists the model: transformers 5.25 lists the model it serves, 5.18
    # (the lowest allowed) only the models of the Hugging Face cache, so none here; then an
    # unknown model is refused by the server itself, not by whichmodel's check of the list
    listed: bool = True

    @property
    def model(self) -> str:
        return str(self.folder)  # transformers serve names a local model by its path

    def ref(self, url: str | None = None, **options: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"model": self.model, **options}.items())
        return f"openai:{url or self.url}?{query}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def served_folder(folder: Path) -> Path:
    """The tiny Llama in ``folder``, its tokenizer adding BOS and holding a chat template."""
    from helpers.tiny_lm import build

    build(folder, seed=0)
    spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    bos = spec["model"]["vocab"]["<s>"]
    first = [{"SpecialToken": {"id": "<s>", "type_id": 0}}]
    spec["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [*first, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [*first, {"Sequence": {"id": "A", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [bos], "tokens": ["<s>"]}},
    }  # fmt: skip
    (folder / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["chat_template"] = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def openai_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``transformers serve`` on a free loopback port, serving a tiny Llama; stopped at the end."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    root = tmp_path_factory.mktemp("served")
    folder = served_folder(root / "lm")
    port = free_port()
    log = root / "serve.log"
    # A cache of its own, empty: the server lists the cache's models on /v1/models, and
    # transformers 5.18's listing fails with a 500 when the cache folder does not exist
    cache = root / "hub-cache"
    cache.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "HF_HUB_CACHE": str(cache)}
    command = [str(Path(sys.executable).parent / "transformers"), "serve", str(folder),
               "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + _START_DEADLINE_S
        while not _ready(f"http://127.0.0.1:{port}/health"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                pytest.fail(f"transformers serve did not start (exit {process.poll()}):\n{tail}")
            time.sleep(0.25)
        url = f"http://127.0.0.1:{port}/v1"
        with urllib.request.urlopen(f"{url}/models", timeout=10) as answer:
            ids = [m.get("id") for m in json.load(answer).get("data", [])]
        yield Served(url, folder, log, listed=str(folder) in ids)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
