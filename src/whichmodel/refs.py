"""Model references: the strings users type to name a model.

    sklearn:models/lr.skops                      scikit-learn / XGBoost / LightGBM estimator (skops)
    torch:pkg.module:factory?weights=w.safetensors  a module built by ``factory(**kwargs)``
    torch:model.pt                               a TorchScript file
    torch:model.pt2                              a ``torch.export`` archive
    hf:path/to/folder                            a local Hugging Face folder
    hf:org/name[@revision]                       a model in the local Hugging Face cache
    onnx:model.onnx                              an ONNX graph (run with ONNX Runtime)
    gguf:model.gguf                              a GGUF file (spec sheets: inspect and diff)
    openai:http://host:port/v1?model=NAME        a model behind an OpenAI-compatible endpoint

An ``openai:`` reference reads ``model`` (required: a name the server lists at ``/v1/models``),
``api=completions|chat`` (the API generation goes through; log-likelihoods need completions and
a server that honours ``echo``), ``max_tokens``, ``temperature`` and ``seed`` (each overrides the
task's generation setting; sampled answers are cached only when ``seed`` is set),
``concurrency`` (requests in flight, 4), ``timeout`` (seconds per request, 120), ``retries``
(on 408/409/429/5xx and dropped connections, with backoff and jitter, 4) and ``key_env`` (the
environment variable holding the API key, ``OPENAI_API_KEY``; a server on this machine needs
none). The key itself is never part of a reference, so it is never recorded.

Any reference takes ``?name=...`` to set the name shown in tables, and a bare path is accepted when
its kind is clear from it (``.skops``, ``.pt``, ``.pt2``, ``.onnx``, ``.gguf``, a folder with
``config.json``). ``hf:org/name`` that is no local folder is looked up in the local Hugging Face
cache (:func:`hub_snapshot`; never the network) and stands for its snapshot folder; one that
is not cached either fails where its source reads it, saying how to download it
(:func:`not_cached`). Parsing
keeps every option; the source of the kind declares the others it
reads, and ``whichmodel.sources.checked_source`` refuses the rest before a model runs.

The kinds are the names of :data:`SOURCES`, the registry of model sources (see
``whichmodel.sources.contract.Source``): a kind is accepted, listed and suggested only when a
source reads it. It lives here, not in ``whichmodel.sources``, because parsing a reference (and
``whichmodel --help``) must not import numpy or any source.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

from whichmodel.errors import ModelReferenceError
from whichmodel.registry import Registry

#: kind -> the Source that reads it; the summary is its usage, for help texts. Typed ``object``
#: here and ``Source`` where it is looked up (``whichmodel.sources.source``): the Source contract
#: names the spec sheet, a stage right of this module, which knows only the names.
SOURCES: Registry[object] = Registry("model kind", error=ModelReferenceError)
SOURCES.register("sklearn", "whichmodel.sources.sklearn:SOURCE", summary="sklearn:FILE.skops")
SOURCES.register(
    "torch", "whichmodel.sources.torch:SOURCE",
    summary="torch:pkg.mod:factory?weights=w.safetensors",
)
SOURCES.register("hf", "whichmodel.sources.hf.source:SOURCE", summary="hf:DIR or hf:org/name")
SOURCES.register("onnx", "whichmodel.sources.onnx:SOURCE", summary="onnx:FILE")
SOURCES.register("gguf", "whichmodel.sources.gguf:SOURCE", summary="gguf:FILE (spec sheets only)")
SOURCES.register(
    "openai", "whichmodel.sources.endpoint.source:SOURCE", summary="openai:URL?model=NAME"
)
# Deterministic models with no files, for tests (``fake:classifier?classes=3&seed=0``).
SOURCES.register("fake", "whichmodel.sources.fake:SOURCE", hidden=True)
# Live Python objects handed to ``whichmodel.compare`` (``object:DIGEST``), never typed by users.
SOURCES.register("object", "whichmodel.sources.objects:SOURCE", hidden=True)


def __getattr__(name: str) -> tuple[str, ...]:
    """``KINDS``: the kinds users are told about (help texts, error messages), read from
    :data:`SOURCES` each time, so a source registered later is listed too."""
    if name == "KINDS":
        return SOURCES.names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
_SUFFIX_KIND = {
    ".skops": "sklearn",
    ".joblib": "sklearn",
    ".pkl": "sklearn",
    ".pickle": "sklearn",
    ".pt": "torch",
    ".pth": "torch",
    ".pt2": "torch",
    ".onnx": "onnx",
    ".gguf": "gguf",
}


@dataclass(frozen=True)
class ModelRef:
    """A parsed model reference. Stores values only; nothing is read from disk here.

    Args:
        kind: a name of :data:`SOURCES` (a listed kind, or a hidden one such as ``fake``).
        target: what follows ``kind:`` up to ``?`` (a path or ``pkg.module:factory``).
        params: the ``?key=value&...`` pairs, in order.
        raw: the string as the user wrote it.
    """

    kind: str
    target: str
    params: tuple[tuple[str, str], ...] = field(default=())
    raw: str = ""

    def param(self, key: str, default: str | None = None) -> str | None:
        """The value of query parameter ``key``, or ``default``."""
        for k, v in self.params:
            if k == key:
                return v
        return default

    @property
    def name(self) -> str:
        """A short display name: ``?name=`` if given, else the file or factory name."""
        explicit = self.param("name")
        if explicit:
            return explicit
        if self.kind == "openai":  # the URL says where, the model what
            return (self.param("model") or self.target).rstrip("/").rsplit("/", 1)[-1]
        if self.kind == "torch" and ":" in self.target:
            weights = self.param("weights")
            return Path(weights).stem if weights else self.target.rsplit(":", 1)[1]
        path = Path(self.target.rstrip("/"))
        if path.parent.name == "snapshots" and path.parent.parent.name.startswith("models--"):
            return path.parent.parent.name.split("--")[-1]  # a cache snapshot: the repo's name
        return path.stem or self.target

    def __str__(self) -> str:
        return self.raw or f"{self.kind}:{self.target}"


def parse_ref(text: str) -> ModelRef:
    """Parse a model reference string.

    >>> parse_ref("torch:my.zoo:cnn?weights=cnn.safetensors&width=32").param("width")
    '32'
    >>> parse_ref("models/lr.skops").kind
    'sklearn'

    Raises:
        ModelReferenceError: the string names no known kind and none can be inferred.
    """
    raw = text.strip()
    if not raw:
        raise ModelReferenceError("Empty model reference; expected e.g. 'sklearn:model.skops'.")
    body, _, query = raw.partition("?")
    params = tuple(parse_qsl(query, keep_blank_values=True)) if query else ()
    kind, sep, target = body.partition(":")
    if sep and kind in SOURCES:
        if not target:
            raise ModelReferenceError(f"Model reference {raw!r} has nothing after '{kind}:'.")
        if kind == "hf" and not Path(target).exists():
            target = hub_snapshot(target) or target
        return ModelRef(kind, target, params, raw)
    if sep and kind.isalpha() and len(kind) > 1:  # "sklaern:m.skops": a mistyped kind, not a path
        close = SOURCES.close_matches(kind, n=1)
        hint = f" Did you mean '{close[0]}:'?" if close else ""
        raise ModelReferenceError(
            f"Unknown model kind '{kind}:' in {raw!r}.{hint} Known kinds: "
            f"{', '.join(k + ':' for k in SOURCES.names())}."
        )
    inferred = _infer_kind(body)
    if inferred is None:
        raise ModelReferenceError(
            f"Cannot tell what kind of model {raw!r} is; prefix it with one of "
            f"{', '.join(k + ':' for k in SOURCES.names())} (e.g. 'sklearn:model.skops')."
        )
    return ModelRef(inferred, body, params, raw)


def _infer_kind(target: str) -> str | None:
    path = Path(target)
    if path.suffix.lower() in _SUFFIX_KIND:
        return _SUFFIX_KIND[path.suffix.lower()]
    if path.is_dir() and (path / "config.json").is_file():
        return "hf"
    return None


_HUB_ID = re.compile(r"(?P<repo>\w[\w.-]*(?:/\w[\w.-]*)?)(?:@(?P<revision>[\w./-]+))?")
_COMMIT = re.compile(r"[0-9a-f]{40}")


def hub_cache() -> Path:
    """The Hugging Face hub cache folder, found as ``huggingface_hub`` finds it: ``HF_HUB_CACHE``,
    else ``HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub`` (``~/.cache`` by default)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "huggingface" / "hub"


def hub_snapshot(target: str) -> str | None:
    """The snapshot folder of ``org/name[@revision]`` in the local Hugging Face cache
    (``models--org--name/snapshots/<commit>``, the commit read from ``refs/<revision>``, ``main``
    by default, or given as a commit); reads only the disk. None when it is not cached there
    (or ``target`` is no hub id).
    """
    match = _HUB_ID.fullmatch(target)
    if match is None or ".." in (match["revision"] or "").split("/"):
        return None  # a revision is a branch, tag or commit: never a way out of the cache
    revision = match["revision"] or "main"
    entry = hub_cache() / f"models--{match['repo'].replace('/', '--')}"
    ref_file = entry / "refs" / revision
    if ref_file.is_file():
        commit = ref_file.read_text(encoding="utf-8").strip()
    elif _COMMIT.fullmatch(revision):
        commit = revision
    else:
        return None
    if not _COMMIT.fullmatch(commit):  # a ref file holds one commit hash, nothing else
        return None
    snapshot = entry / "snapshots" / commit
    return str(snapshot) if snapshot.is_dir() else None


def not_cached(target: str) -> str | None:
    """What to do about ``hf:org/name[@revision]`` that is neither a folder nor cached: the
    download command, in one line; None when ``target`` does not read as a hub id of that form
    (then it is a folder that is not there)."""
    match = _HUB_ID.fullmatch(target)
    if match is None or "/" not in match["repo"]:
        return None
    repo, revision = match["repo"], match["revision"]
    at = f" at revision {revision}" if revision else ""
    flag = f" --revision {revision}" if revision else ""
    return (
        f"hf:{target} is neither a local folder nor in the local Hugging Face cache{at} "
        f"({hub_cache()}); download it with 'hf download {repo}{flag}' (or 'huggingface-cli "
        "download'), or set HF_HUB_CACHE to the cache that holds it."
    )


def kinds_help() -> str:
    """The kinds of reference with their usage, for help texts: ``"sklearn:FILE.skops, ..."``."""
    return ", ".join(SOURCES.summary(k) or f"{k}:..." for k in SOURCES.names())
