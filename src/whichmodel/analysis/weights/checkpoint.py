"""The tensors of a checkpoint, by name, read one at a time.

A reference names a checkpoint: ``hf:DIR`` (or a cached ``hf:org/name``) holding
``model.safetensors``, shards listed in ``model.safetensors.index.json``, or a PEFT adapter
(merged into its base, :mod:`whichmodel.analysis.weights.adapter`); ``torch:FILE.safetensors``,
``torch:pkg.mod:factory?weights=FILE`` or a bare ``FILE.safetensors``. Safetensors files are read
with ``safetensors.safe_open``: each tensor is a fresh memory map of its bytes, so only the
tensors in use are in memory. Pickled weights (``.bin``, ``.pt``, ``.pth``) can run code when
read, and are refused unless ``allow_pickle``; then they are memory-mapped with ``torch.load``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whichmodel.errors import ModelLoadError, ModelReferenceError, UnsafeModelError

if TYPE_CHECKING:
    import torch

    from whichmodel.analysis.weights.adapter import LoraAdapter

INDEX = "model.safetensors.index.json"
_PICKLED = (".bin", ".pt", ".pth", ".ckpt")


@dataclass(frozen=True)
class Entry:
    """A tensor as stored: its shape and dtype name."""

    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's tensors. ``files``: tensor name -> the safetensors file holding it;
    ``state``: a pickled state dict (memory-mapped) instead; ``adapter``: a LoRA adapter merged
    into ``files``/``state`` (then ``ref`` is the adapter's and ``base`` the base's);
    :attr:`fresh`: each :meth:`tensor` call returns a tensor no one else holds."""

    ref: str
    entries: dict[str, Entry]
    files: dict[str, Path] = field(default_factory=dict)
    state: dict[str, Any] | None = None
    adapter: LoraAdapter | None = None
    base: str | None = None

    @property
    def fresh(self) -> bool:
        """Whether :meth:`tensor` returns a new tensor each time (a fresh memory map, or a
        merge), which the caller may overwrite; a state dict's tensors are shared."""
        return self.state is None

    def tensor(self, name: str) -> torch.Tensor:
        """Tensor ``name`` (on the CPU, in its stored dtype), the adapter merged in."""
        t: torch.Tensor
        if self.state is not None:
            t = self.state[name]
        else:
            from safetensors import safe_open

            with safe_open(str(self.files[name]), framework="pt") as f:
                t = f.get_tensor(name)
        if self.adapter is None:
            return t
        from whichmodel.analysis.weights.adapter import merged

        return merged(self.adapter, name, t)


def open_checkpoint(
    text: str, *, allow_pickle: bool = False, base: str | None = None, other: str | None = None
) -> Checkpoint:
    """The checkpoint ``text`` names. For an adapter folder, its base is ``base`` when given,
    else the base its config names when that is a local folder or cached, else ``other`` (the
    other side of the diff).

    Raises:
        ModelReferenceError: no such file or folder, or a kind with no weights to diff.
        UnsafeModelError: the weights are pickled and ``allow_pickle`` is False.
        ModelLoadError: the files are unreadable, or hold no weights.
    """
    path = _path(text)
    if path.is_dir():
        from whichmodel.analysis.weights.adapter import is_adapter

        if is_adapter(path):
            return _adapted(text, path, allow_pickle=allow_pickle, base=base, other=other)
        return _folder(text, path, allow_pickle=allow_pickle)
    if path.suffix == ".safetensors":
        return _safetensors(text, [path])
    if path.suffix in _PICKLED:
        return _pickled(text, [path], allow_pickle=allow_pickle)
    raise ModelReferenceError(
        f"{text}: a weight diff reads safetensors files and Hugging Face folders; {path.name} "
        "is neither."
    )


def _path(text: str) -> Path:
    """The file or folder a reference names, checked to exist."""
    from whichmodel.refs import not_cached, parse_ref

    raw = text.strip()
    if raw.endswith(".safetensors") and ":" not in raw.split("?")[0]:
        target = raw
    else:
        ref = parse_ref(raw)
        if ref.kind not in ("hf", "torch"):
            raise ModelReferenceError(
                f"{text}: a weight diff compares hf: folders and torch: weight files, not "
                f"{ref.kind}: models."
            )
        target = ref.param("weights") or ref.target
        if ref.kind == "torch" and ref.param("weights") is None and ":" in target:
            raise ModelReferenceError(
                f"{text} names no weights; add ?weights=FILE.safetensors to diff its weights."
            )
        if ref.kind == "hf" and not Path(target).exists() and (hint := not_cached(target)):
            raise ModelReferenceError(hint)
    path = Path(target)
    if not path.exists():
        raise ModelReferenceError(f"{text}: {path} does not exist.")
    return path


def _folder(text: str, folder: Path, *, allow_pickle: bool) -> Checkpoint:
    import json

    index = folder / INDEX
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            shards = sorted({folder / str(f) for f in weight_map.values()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelLoadError(f"{index} has no readable weight_map ({exc}).") from exc
        missing = [s.name for s in shards if not s.is_file()]
        if missing:
            raise ModelLoadError(f"{index} lists {missing[0]}, which is not in {folder}.")
        return _safetensors(text, shards)
    files = sorted(folder.glob("*.safetensors"))
    if files:
        return _safetensors(text, files)
    pickled = sorted(p for p in folder.iterdir()
                     if p.suffix in _PICKLED and p.name != "training_args.bin")
    if pickled:
        return _pickled(text, pickled, allow_pickle=allow_pickle)
    raise ModelLoadError(f"{folder} holds no weights (no .safetensors file).")


def _safetensors(text: str, paths: list[Path]) -> Checkpoint:
    from whichmodel.sources.weights import safetensors_header

    entries: dict[str, Entry] = {}
    files: dict[str, Path] = {}
    for path in paths:
        for name, entry in safetensors_header(path).items():
            if name in files:
                raise ModelLoadError(f"{name} is in both {files[name]} and {path}.")
            entries[name] = Entry(tuple(entry["shape"]), str(entry["dtype"]))
            files[name] = path
    return Checkpoint(text, entries, files=files)


def _pickled(text: str, paths: list[Path], *, allow_pickle: bool) -> Checkpoint:
    if not allow_pickle:
        raise UnsafeModelError(
            f"{paths[0]} is pickled, and reading it can run code stored in it. Convert it to "
            "safetensors, or pass --allow-pickle if you trust it."
        )
    import torch

    state: dict[str, Any] = {}
    for path in paths:
        try:
            loaded = torch.load(str(path), map_location="cpu", mmap=True, weights_only=False)
        except Exception as exc:
            raise ModelLoadError(f"Cannot read {path}: {' '.join(str(exc).split())[:200]}") from exc
        if isinstance(loaded, torch.nn.Module):
            loaded = loaded.state_dict()
        if not isinstance(loaded, dict):
            raise ModelLoadError(f"{path} holds a {type(loaded).__name__}, not a state dict.")
        state.update({k: v for k, v in loaded.items() if isinstance(v, torch.Tensor)})
    entries = {k: Entry(tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in
               state.items()}
    return Checkpoint(text, entries, state=state)


def _adapted(
    text: str, folder: Path, *, allow_pickle: bool, base: str | None, other: str | None
) -> Checkpoint:
    from dataclasses import replace

    from whichmodel.analysis.weights.adapter import read_lora

    adapter = read_lora(folder)
    base_ref = base or _local_base(adapter.base_model, folder) or other
    if base_ref is None:
        raise ModelReferenceError(
            f"{text} is an adapter whose base ({adapter.base_model}) is not here; give it with "
            "--base."
        )
    inner = open_checkpoint(base_ref, allow_pickle=allow_pickle)
    if inner.adapter is not None:
        raise ModelReferenceError(f"{text}: its base {base_ref} is an adapter too.")
    missing = [n for n in (*adapter.pairs, *adapter.replaced) if n not in inner.entries]
    if missing:
        raise ModelLoadError(f"The adapter in {folder} changes {missing[0]}, which {base_ref} "
                             "does not have: is it the adapter's base model?")
    return replace(inner, ref=text, adapter=adapter, base=base_ref)


def _local_base(name: str | None, folder: Path) -> str | None:
    """The adapter config's base as a reference, when it is a local folder or cached."""
    if not name:
        return None
    from whichmodel.refs import hub_snapshot

    for candidate in (Path(name), folder / name):
        if candidate.is_dir():
            return f"hf:{candidate}"
    return f"hf:{name}" if hub_snapshot(name) else None
