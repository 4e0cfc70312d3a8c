"""The tokenizer a folder ships: algorithm, vocabulary, special tokens, and how it splits the
user's text (characters and words per token)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from whichmodel.errors import ConfigError
from whichmodel.spec.base import Fact, Tokenizer, unknown


def read(folder: Path, *, text: Path | None = None) -> Tokenizer | None:
    """The folder's tokenizer facts, or None when it has no tokenizer files. Files that cannot
    be read make every fact unknown with the reason; a bad ``--text`` raises ConfigError."""
    try:
        return _read(folder, text)
    except ConfigError:
        raise
    except Exception as exc:  # a broken tokenizer file never takes the sheet down
        why: Fact[Any] = unknown(
            f"tokenizer files not read: {type(exc).__name__}: {' '.join(str(exc).split())}"[:300])
        return Tokenizer(why, why, why, why, why)


def _read(folder: Path, text: Path | None) -> Tokenizer | None:
    spec_file = folder / "tokenizer.json"
    if spec_file.is_file():
        try:
            spec = json.loads(spec_file.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            spec = None
        if isinstance(spec, dict):
            return _from_spec(spec, spec_file, text)
    if (folder / "vocab.txt").is_file():
        words = (folder / "vocab.txt").read_text(encoding="utf-8", errors="replace").splitlines()
        return Tokenizer(Fact("WordPiece", "config", "vocab.txt only"), Fact(len(words), "config"),
                         unknown("no tokenizer.json"), *_unmeasured(text))
    for name in ("tokenizer.model", "spiece.model", "sentencepiece.bpe.model"):
        if (folder / name).is_file():
            return Tokenizer(Fact("SentencePiece", "config", name), unknown("not parsed"),
                             unknown("no tokenizer.json"), *_unmeasured(text))
    return None


def _unmeasured(text: Path | None) -> tuple[Fact[float], Fact[float]]:
    note = "measured only with tokenizer.json" if text else "pass --text FILE to measure"
    return unknown(note), unknown(note)


def _algorithm(spec: dict[str, Any]) -> str:
    model = spec.get("model") or {}
    kind = str(model.get("type") or "")
    if not kind:  # old files name the model by its keys
        kind = "WordPiece" if "continuing_subword_prefix" in model else "BPE" if "merges" in (
            model) else "unknown"
    if kind == "BPE":
        if _mentions(spec.get("pre_tokenizer"), "ByteLevel") or _mentions(
            spec.get("decoder"), "ByteLevel"
        ):
            return "byte-level BPE"
        if model.get("byte_fallback"):
            return "BPE (byte fallback)"
    return kind


def _mentions(node: Any, kind: str) -> bool:
    if isinstance(node, dict):
        return node.get("type") == kind or any(_mentions(v, kind) for v in node.values())
    if isinstance(node, list):
        return any(_mentions(v, kind) for v in node)
    return False


def _from_spec(spec: dict[str, Any], path: Path, text: Path | None) -> Tokenizer:
    model = spec.get("model") or {}
    vocab = model.get("vocab") or {}
    added = [t for t in spec.get("added_tokens") or [] if isinstance(t, dict)]
    ids = set(vocab.values()) if isinstance(vocab, dict) else set(range(len(vocab)))
    size = len(ids | {t.get("id") for t in added})
    special = [str(t["content"]) for t in added if t.get("special")]
    chars, words = _measure(path, text) if text else _unmeasured(None)
    return Tokenizer(
        algorithm=Fact(_algorithm(spec), "config", "tokenizer.json"),
        vocab_size=Fact(size, "config", "vocabulary + added tokens"),
        special_tokens=Fact(special, "config"),
        chars_per_token=chars,
        words_per_token=words,
    )


def _measure(path: Path, text: Path) -> tuple[Fact[float], Fact[float]]:
    from tokenizers import Tokenizer as HFTokenizer

    try:
        content = text.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read --text {text} as UTF-8 text: {exc}") from exc
    tok = HFTokenizer.from_file(str(path))
    tok.no_padding()  # sentence-transformers folders pad every line to a fixed length
    tok.no_truncation()
    lines = [line for line in content.splitlines() if line.strip()]
    n_tokens = sum(len(e.ids) for e in tok.encode_batch(lines, add_special_tokens=False))
    if n_tokens == 0:
        raise ConfigError(f"--text {text} holds no text to tokenize.")
    chars = sum(len(line) for line in lines)
    words = sum(len(line.split()) for line in lines)
    note = f"on {text.name}: {chars} characters, {words} words, {n_tokens} tokens"
    return (Fact(chars / n_tokens, "formula", note), Fact(words / n_tokens, "formula", note))
