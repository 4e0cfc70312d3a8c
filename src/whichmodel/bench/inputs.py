"""The inputs a probe times: the user's examples (real lengths matter), written to a file the
probe reads, or, without data, inputs synthesized from the model and ``--input-shape``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from whichmodel.errors import ConfigError
from whichmodel.sources.base import Inputs, Model

SEED = 0
DEFAULT_WORDS = 32  # words per synthesized text, when --input-shape does not say


def write_inputs(folder: Path, sample: Inputs, n: int, stem: str = "inputs") -> Path:
    """Write the first ``n`` examples of ``sample`` (repeated when it has fewer) to a file."""
    reps = -(-n // len(sample))
    data = np.concatenate([sample.data] * reps)[:n] if reps > 1 else sample.data[:n]
    if sample.kind == "text":
        path = folder / f"{stem}.json"
        path.write_text(json.dumps([str(t) for t in data]))
    elif sample.kind == "audio":  # clips decoded to (samples, rate) rows: the probe reads no files
        import pandas as pd

        path = folder / f"{stem}.parquet"
        rows = [{"samples": c.read(), "sampling_rate": c.sampling_rate_hz} for c in data]
        pd.DataFrame(rows).to_parquet(path, index=False)
    elif data.dtype == object:  # mixed-type table (text and numbers): keep each column's type
        from whichmodel.sources.features import table_frame

        path = folder / f"{stem}.parquet"
        table_frame(Inputs(sample.kind, data, sample.columns, sample.dtypes)).to_parquet(
            path, index=False
        )
    else:
        path = folder / f"{stem}.npy"
        np.save(path, np.asarray(data), allow_pickle=False)
    return path


def read_inputs(path: Path, kind: str, columns: Sequence[str], n: int | None) -> Inputs:
    """The examples :func:`write_inputs` wrote (the first ``n``, or all)."""
    dtypes: tuple[object, ...] = ()  # a table's column types, as the Parquet file kept them
    if kind == "text":
        data = np.asarray(json.loads(path.read_text()), dtype=object)
    elif kind == "audio":
        import pandas as pd

        from whichmodel.sources.audio import AudioClip

        frame = pd.read_parquet(path)
        data = np.empty(len(frame), dtype=object)
        data[:] = [
            AudioClip(f"row {i}", int(r), len(s), samples=np.asarray(s, dtype=np.float32))
            for i, (s, r) in enumerate(zip(frame["samples"], frame["sampling_rate"], strict=True))
        ]
    elif path.suffix == ".parquet":
        import pandas as pd

        frame = pd.read_parquet(path)
        data, dtypes = frame.to_numpy(dtype=object), tuple(frame.dtypes)
    else:
        data = np.load(path, allow_pickle=False)
    inputs = Inputs(kind, data, tuple(columns), dtypes)  # type: ignore[arg-type]
    return inputs if n is None else inputs.take(slice(0, n))


def synthesize(model: Model, shape: tuple[int, ...] | None, n: int) -> Inputs:
    """``n`` seeded inputs that fit ``model`` without data.

    - scikit-learn: standard normal rows of ``n_features_in_`` columns.
    - Hugging Face text models: texts of ``shape[0]`` (default 32) words drawn from the
      tokenizer's vocabulary.
    - anything else: standard normal float32 of shape (n, *shape); an ONNX graph whose input
      fixes every dimension but the batch needs no ``shape``.

    Raises:
        ConfigError: no shape is given and none can be read from the model.
    """
    rng = np.random.default_rng(SEED)
    shape = shape or getattr(model, "example_shape", None)  # an ONNX graph's fixed input shape
    estimator = getattr(model, "estimator", None)
    tokenizer = getattr(model, "tokenizer", None)
    if estimator is not None and shape is None:
        width = getattr(estimator, "n_features_in_", None)
        if width is not None:
            cols = tuple(f"x{i}" for i in range(int(width)))
            return Inputs("tabular", rng.standard_normal((n, int(width))), cols)
    if tokenizer is not None:
        words = [w for w in tokenizer.get_vocab() if w.isalpha()] or ["hello"]
        length = shape[0] if shape else DEFAULT_WORDS
        texts = [" ".join(rng.choice(words, size=length)) for _ in range(n)]
        return Inputs("text", np.asarray(texts, dtype=object), ("text",))
    if shape is None:
        raise ConfigError(
            f"Cannot tell what inputs {model.name} takes; pass --data FILE (your examples) or "
            "--input-shape, e.g. --input-shape 1,28,28 for (n, 1, 28, 28) inputs."
        )
    return Inputs("array", rng.standard_normal((n, *shape)).astype(np.float32), ("x",))
