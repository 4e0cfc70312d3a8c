"""Models and data as a Python user has them, turned into what the pipeline reads: references
and paths.

The pipeline (store, fingerprints, resumed runs, the cost probe in a fresh process) works on
files, so objects are written to a content-addressed folder next to the run store
(``<store folder>/objects/``), each once:

- a fitted scikit-learn, XGBoost or LightGBM estimator -> ``DIGEST.skops``, read back as a
  ``sklearn:`` reference under the same safety rules as any skops file
  (:mod:`whichmodel.sources.skops_trust`); the digest is that of the estimator's state
  (``pickle.dumps``, written only to hash it, never read). An estimator holding a type skops
  may not restore safely stays a live object (below);
- a ``transformers`` model (with its tokenizer: ``(model, tokenizer)``) -> ``DIGEST/``, a Hugging
  Face folder of safetensors (``save_pretrained``), read as an ``hf:`` reference;
- any other ``torch.nn.Module`` stays in this process: ``object:DIGEST``
  (:mod:`whichmodel.sources.objects`), fingerprinted by its weights, its repr and the forward
  code of its classes; its cost is measured in this process and says so;
- a pandas DataFrame, NumPy ``(X, y)`` or a ``datasets.Dataset`` -> ``DIGEST.parquet`` (or a
  ``save_to_disk`` folder for a Dataset), read like any data file.

The same object gives the same digest, so a second call reuses the stored predictions.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from whichmodel.errors import ConfigError, DataError, brief

if TYPE_CHECKING:
    from whichmodel.results import CompareConfig

Writer = Callable[[Path], object]


def object_folder(store: str | Path) -> Path:
    """Where a run store at ``store`` keeps the models and data passed to it as objects."""
    return Path(store).parent / "objects"


@contextmanager
def prepared(models: Any, data: Any, options: dict[str, Any]) -> Iterator[CompareConfig]:
    """The CompareConfig of a Python call: its objects written next to the store or, those that
    cannot be, made loadable in this process for the block (:mod:`whichmodel.api_inputs`)."""
    from whichmodel.api_options import compare_config
    from whichmodel.results import CompareConfig
    from whichmodel.sources.objects import registered
    from whichmodel.tasks.lm_eval_yaml import default_data

    folder = object_folder(options.get("store", CompareConfig.store))
    refs, live = as_refs(models, folder)
    data = default_data(options.get("task"), data)  # an lm-eval task YAML names its data
    path = as_data(data, folder, label_col=options.get("label_col", CompareConfig.label_col))
    with registered(live):
        yield compare_config(refs, path, options)


def as_refs(models: Any, folder: Path) -> tuple[list[str], dict[str, Any]]:
    """(one reference per model, the live objects among them by digest) for ``models``: a dict
    {name: model} or a sequence of models; a model is a reference string (or path) or an object
    (see the module docstring). Objects in a list are named after their class; the pipeline
    makes repeated names unique (``LogisticRegression``, ``LogisticRegression-2``).

    Raises:
        ConfigError: ``models`` is empty or holds something that is not a model.
    """
    if isinstance(models, str | Path) or hasattr(models, "predict") or _is_module(models):
        models = [models]  # one model where several were expected: a common slip, not an error
    named = models.items() if isinstance(models, Mapping) else [(None, m) for m in models]
    refs: list[str] = []
    live: dict[str, Any] = {}
    for name, model in named:
        if name is not None and not isinstance(name, str):
            raise ConfigError(f"Model names must be strings. Got {brief(name)} instead.")
        ref, obj = _ref(model, folder)
        if obj is not None:
            live[ref.partition(":")[2].partition("?")[0]] = obj
        refs.append(_named(ref, name if name is not None else _class_name(model)))
    if not refs:
        raise ConfigError("No models to compare; pass at least one model or reference.")
    return refs, live


def _ref(model: Any, folder: Path) -> tuple[str, Any]:
    """(the reference of one model, the live object it names or None)."""
    if isinstance(model, str | Path):
        return str(model), None
    if isinstance(model, tuple) and len(model) == 2 and hasattr(model[0], "save_pretrained"):
        return "hf:" + str(_hf_folder(model[0], model[1], folder)), None
    if hasattr(model, "save_pretrained") and hasattr(model, "config"):
        return "hf:" + str(_hf_folder(model, None, folder)), None
    if _is_module(model):
        return f"object:{module_digest(model)}", model
    if hasattr(model, "predict") and (hasattr(model, "fit") or hasattr(model, "get_booster")):
        path = _skops_file(model, folder)
        if path is not None:
            return f"sklearn:{path}", None
        return f"object:{_state_digest(model)}", model
    raise ConfigError(
        f"Cannot compare a {type(model).__name__}: pass a model reference (e.g. "
        "'sklearn:model.skops'), a fitted estimator, a torch.nn.Module or a transformers model."
    )


def _is_module(model: Any) -> bool:
    return hasattr(model, "named_parameters") and hasattr(model, "state_dict")


def _class_name(model: Any) -> str | None:
    """A display name for an object (its class; a pipeline's final step's), None for a
    reference, which names itself."""
    if isinstance(model, str | Path):
        return None
    if isinstance(model, tuple):
        model = model[0]
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps and isinstance(steps[-1], tuple):
        model = steps[-1][-1]
    return type(model).__name__


def _named(ref: str, name: str | None) -> str:
    """``ref`` with ``?name=`` set to ``name`` (URL-quoted, so any name survives parsing)."""
    if name is None:
        return ref
    sep = "&" if "?" in ref else "?"
    return f"{ref}{sep}name={quote(name, safe='')}"


def module_digest(module: Any) -> str:
    """A PyTorch module's content digest: its weights and buffers (names, dtypes, shapes,
    bytes), its repr (the layers and their settings) and the forward code of every class in it,
    so an edited ``forward`` with the same weights is a different model."""
    import torch

    h = hashlib.sha256(repr(module).encode())
    for cls in sorted({type(m) for m in module.modules()}, key=lambda c: c.__qualname__):
        code = getattr(getattr(cls, "forward", None), "__code__", None)
        h.update(f"{cls.__module__}.{cls.__qualname__}".encode())
        if code is not None:
            h.update(code.co_code + repr(code.co_consts).encode())
    for name, tensor in module.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:32]


def _state_digest(obj: Any) -> str:
    """An estimator's digest: its pickled state (dumped only to hash it). An object pickle
    cannot hold (a lambda inside) gets a digest of its own, and its predictions are not reused."""
    try:
        return hashlib.sha256(pickle.dumps(obj, protocol=5)).hexdigest()[:32]
    except Exception:  # pickle raises many kinds; an unhashable object just is not cached
        return uuid.uuid4().hex


def _skops_file(estimator: Any, folder: Path) -> Path | None:
    """The estimator as ``folder/DIGEST.skops``, or None when skops cannot hold it or would
    need to restore a type whichmodel does not trust (see ``skops_trust``)."""
    import skops.io as sio

    from whichmodel.sources.skops_trust import is_trusted

    try:
        data = sio.dumps(estimator)
        untrusted = sio.get_untrusted_types(data=data)
    except Exception:  # skops cannot serialize it (a lambda, a custom type): keep it live
        return None
    if not all(is_trusted(name) for name in untrusted):
        return None
    return _written(folder / f"{_state_digest(estimator)}.skops", lambda p: p.write_bytes(data))


def _hf_folder(model: Any, tokenizer: Any, folder: Path) -> Path:
    """A transformers model (and tokenizer) saved as safetensors in ``folder/DIGEST/``, the
    digest being that of the files saved."""

    def save(path: Path) -> None:
        model.save_pretrained(path, safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(path)

    return _content_addressed(folder, "", save)


def as_data(data: Any, folder: Path, *, label_col: str) -> str:
    """The path of ``data``: a path as given; a DataFrame, NumPy ``(X, y)`` or a
    ``datasets.Dataset`` written to ``folder`` (see the module docstring). ``(X, y)`` gives
    columns ``x0, x1, ...`` (a 2-D X) or one array column ``x`` (images: (n, C, H, W)), and the
    labels as ``label_col``.

    Raises:
        ConfigError: ``data`` is none of these.
        DataError: ``(X, y)`` of different lengths.
    """
    import pandas as pd

    if isinstance(data, str | Path):
        return str(data)
    if isinstance(data, tuple) and len(data) == 2:
        data = _xy_frame(*data, label_col=label_col)
    if isinstance(data, pd.DataFrame):
        frame = data
        return str(_content_addressed(folder, ".parquet", lambda p: frame.to_parquet(p)))
    if hasattr(data, "save_to_disk") and hasattr(data, "features"):
        dataset = data
        return str(_content_addressed(
            folder, "", lambda p: dataset.save_to_disk(str(p)), skip=("state.json",)
        ))
    raise ConfigError(
        f"Cannot read data from a {type(data).__name__}: pass a path (CSV, JSONL, Parquet, a "
        "folder), a pandas DataFrame, a datasets.Dataset or NumPy arrays (X, y)."
    )


def _xy_frame(x: Any, y: Any, *, label_col: str) -> Any:
    """``(X, y)`` as one DataFrame (see :func:`as_data`)."""
    import numpy as np
    import pandas as pd

    if len(x) != len(y):
        raise DataError(f"X has {len(x)} rows and y {len(y)}; give one label per row of X.")
    labels = np.asarray(y)
    if isinstance(x, pd.DataFrame):
        frame = x.reset_index(drop=True).copy()
    else:
        array = np.asarray(x)
        if array.ndim == 2:
            frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        else:  # one example is an array: a Parquet list column, read back as (n, *shape)
            frame = pd.DataFrame({"x": [row.tolist() for row in array]})
    if label_col in frame.columns:
        raise ConfigError(f"X already has a column {label_col!r}; name the labels otherwise.")
    frame[label_col] = labels
    return frame


def _content_addressed(
    folder: Path, suffix: str, write: Writer, *, skip: Sequence[str] = ()
) -> Path:
    """Write with ``write`` to a temporary path in ``folder``, then keep it as
    ``folder/DIGEST{suffix}`` (a file, or a folder whose files are hashed, ``skip`` left out);
    when that already exists, the new copy is dropped and the old one kept, so its files'
    digests, and the cache keys made from them, stay the same."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".writing-", dir=folder))
    try:
        target = tmp / f"item{suffix}"
        write(target)
        final = folder / f"{_digest(target, skip)}{suffix}"
        if not final.exists():
            os.replace(target, final)
        return final
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _written(path: Path, write: Writer) -> Path:
    """``path``, written with ``write`` unless it exists (its name is its content's digest)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".writing-{uuid.uuid4().hex}{path.suffix}")
        write(tmp)
        os.replace(tmp, path)
    return path


def _digest(path: Path, skip: Sequence[str]) -> str:
    """SHA-256 of a file, or of a folder's files (relative names and bytes, ``skip`` left out)."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if f.name in skip:
            continue
        h.update(str(f.relative_to(path) if path.is_dir() else "").encode() + b"\0")
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:32]
