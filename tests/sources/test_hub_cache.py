"""``hf:org/name[@revision]`` resolves from the local Hugging Face cache, offline.

The cache is built here as ``huggingface_hub`` lays it out: ``models--org--name/blobs/<hash>``,
``snapshots/<commit>/<file>`` symlinks to the blobs, ``refs/<revision>`` holding the commit.
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import numpy as np
import pytest

import whichmodel
from whichmodel.errors import ModelReferenceError
from whichmodel.refs import parse_ref
from whichmodel.sources import fingerprint_files
from whichmodel.sources.base import Inputs

COMMIT = "0123456789abcdef0123456789abcdef01234567"
OLD = "fedcba9876543210fedcba9876543210fedcba98"
WORDS = ["good", "bad", "film", "plot", "great", "awful"]


def _cache_entry(cache: Path, repo: str, folder: Path, commit: str, revision: str) -> Path:
    entry = cache / f"models--{repo.replace('/', '--')}"
    snapshot = entry / "snapshots" / commit
    (entry / "blobs").mkdir(parents=True, exist_ok=True)
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = file.read_bytes()
        blob = entry / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snapshot / file.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (entry / "refs").mkdir(exist_ok=True)
    (entry / "refs" / revision).write_text(commit)
    return snapshot


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A cache holding acme/tiny-bert at main (COMMIT) and at v1 (OLD, other weights)."""
    from helpers.tiny_hf import build_tiny_bert

    root = tmp_path_factory.mktemp("hub")
    build_tiny_bert(root / "saved", WORDS, {0: "neg", 1: "pos"}, seed=0)
    build_tiny_bert(root / "saved-v1", WORDS, {0: "neg", 1: "pos"}, seed=1)
    cache = root / "cache"
    _cache_entry(cache, "acme/tiny-bert", root / "saved", COMMIT, "main")
    _cache_entry(cache, "acme/tiny-bert", root / "saved-v1", OLD, "v1")
    return cache, root / "saved"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test: resolution must read the disk only."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a network call was made")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    for name in ("HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)


def _proba(ref: str) -> np.ndarray:
    model = whichmodel.load(ref)
    texts = np.array(["good film", "awful plot", "great great film"], dtype=object)
    return model.predict(Inputs("text", texts, ("text",))).array


def test_a_cached_model_loads_as_its_folder(hub, offline, monkeypatch):
    cache, saved = hub
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    ref = parse_ref("hf:acme/tiny-bert")
    assert ref.target == str(cache / "models--acme--tiny-bert" / "snapshots" / COMMIT)
    assert (ref.name, str(ref)) == ("tiny-bert", "hf:acme/tiny-bert")
    np.testing.assert_array_equal(_proba("hf:acme/tiny-bert"), _proba(f"hf:{saved}"))
    sheet = whichmodel.inspect("hf:acme/tiny-bert").to_dict()
    folder = whichmodel.inspect(f"hf:{saved}").to_dict()
    assert sheet["identity"]["name"] == "tiny-bert"
    assert sheet.pop("identity") != folder.pop("identity")  # the name and reference differ
    assert sheet == folder


def test_a_revision_is_a_ref_name_or_a_commit(hub, offline, monkeypatch):
    cache, _ = hub
    monkeypatch.setenv("HF_HOME", str(cache.parent / "home"))
    (cache.parent / "home").mkdir(exist_ok=True)
    if not (cache.parent / "home" / "hub").exists():
        (cache.parent / "home" / "hub").symlink_to(cache)
    snapshots = cache / "models--acme--tiny-bert" / "snapshots"
    assert parse_ref("hf:acme/tiny-bert@v1").target.endswith(f"snapshots/{OLD}")
    assert parse_ref(f"hf:acme/tiny-bert@{OLD}").target == str(
        cache.parent / "home" / "hub" / "models--acme--tiny-bert" / "snapshots" / OLD
    )
    assert not np.array_equal(_proba("hf:acme/tiny-bert@v1"), _proba("hf:acme/tiny-bert"))
    assert snapshots.is_dir()


def test_an_uncached_model_says_how_to_download_it(hub, offline, monkeypatch):
    cache, _ = hub
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    with pytest.raises(ModelReferenceError) as raised:
        whichmodel.load("hf:sentence-transformers/all-MiniLM-L6-v2")
    assert raised.value.exit_code == 2
    assert str(raised.value) == (
        "hf:sentence-transformers/all-MiniLM-L6-v2 is neither a local folder nor in the local "
        f"Hugging Face cache ({cache}); download it with 'hf download "
        "sentence-transformers/all-MiniLM-L6-v2' (or 'huggingface-cli download'), or set "
        "HF_HUB_CACHE to the cache that holds it."
    )
    with pytest.raises(ModelReferenceError, match=r"at revision v9 .*--revision v9'"):
        whichmodel.inspect("hf:acme/tiny-bert@v9")
    ref = parse_ref("hf:acme/tiny-bert@v9")  # parsing reads, and refuses, nothing
    assert ref.target == "acme/tiny-bert@v9"
    with pytest.raises(ModelReferenceError, match="hf download acme/tiny-bert --revision v9"):
        fingerprint_files(ref)  # what compare reads first


def test_a_local_folder_wins_and_a_missing_one_word_folder_is_a_folder(hub, offline, tmp_path,
                                                                      monkeypatch):
    cache, saved = hub
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.chdir(saved.parent)
    assert parse_ref("hf:saved").target == "saved"  # the folder, not a cache lookup
    assert parse_ref("hf:nowhere").target == "nowhere"
    with pytest.raises(ModelReferenceError, match="nowhere is not a Hugging Face model folder"):
        whichmodel.load("hf:nowhere")


def test_a_revision_or_ref_file_cannot_lead_out_of_the_cache(hub, offline, monkeypatch, tmp_path):
    """``@../..`` and a ref file that holds a path instead of a commit resolve to nothing."""
    from whichmodel.refs import hub_snapshot

    cache, _ = hub
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert hub_snapshot("acme/tiny-bert@main") is not None
    assert hub_snapshot("acme/tiny-bert@../refs/main") is None  # the same file, reached by ..
    refs = cache / "models--acme--tiny-bert" / "refs"
    (refs / "evil").write_text("../../../../" + tmp_path.name)
    try:
        assert hub_snapshot("acme/tiny-bert@evil") is None
    finally:
        (refs / "evil").unlink()
    assert (hub_snapshot("acme/tiny-bert@v1") or "").endswith(f"snapshots/{OLD}")
