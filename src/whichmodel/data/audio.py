"""Audio inputs for speech tasks: an audio folder, or a column of arrays or encoded audio.

Two ways to give audio (both read with ``soundfile``; no torchaudio):

- **audio folder** (the layout of Hugging Face's ``audiofolder``): a folder of audio files
  (``.wav``, ``.flac``, ``.ogg``, ``.mp3``; subfolders allowed) and a metadata file at its top,
  ``metadata.csv`` (or ``metadata.jsonl`` / ``metadata.parquet``) with a ``file_name`` column (the
  path relative to the folder) and the transcript column, named with ``--label-col`` (e.g.
  ``text``). Other columns can be sliced by (``--slice-by speaker``). Every file's header is read
  up front (a missing or unreadable file is an error before any model runs); the samples are read
  batch by batch, so memory does not grow with the folder.
- **a column of a Parquet/JSONL file or ``datasets`` folder**: float arrays (one per example, any
  length) with a ``sampling_rate`` column in Hz; or dicts ``{"array", "sampling_rate"}`` (what
  ``datasets`` decodes its ``Audio`` feature to); or dicts ``{"bytes", "path"}`` (how ``datasets``
  stores the ``Audio`` feature: the encoded file).

Multi-channel audio is averaged to mono. A model that expects another sampling rate gets the
clip resampled with SciPy's polyphase ``resample_poly`` (see
:func:`whichmodel.sources.audio.resample`); the task records the rates in its results.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from whichmodel.errors import DataError
from whichmodel.sources.audio import AudioClip, soundfile
from whichmodel.sources.base import Inputs

METADATA_FILES = ("metadata.csv", "metadata.jsonl", "metadata.parquet")
FILE_COLUMN = "file_name"
RATE_COLUMN = "sampling_rate"


def audio_features(inputs: Inputs) -> Inputs:
    """Audio inputs as a (n, 2) table of ``duration_s`` and ``sampling_rate_hz``: what the
    analysis groups errors by (e.g. "duration_s > 7.5")."""
    clips = inputs.data
    table = np.array([[c.duration_s, c.sampling_rate_hz] for c in clips], dtype=np.float64)
    return Inputs("tabular", table.reshape(len(clips), 2), ("duration_s", "sampling_rate_hz"))


# -- audio folders --------------------------------------------------------------------------
def metadata_file(folder: Path) -> Path | None:
    """The metadata file of an audio folder, or None when ``folder`` is not one."""
    return next((folder / n for n in METADATA_FILES if (folder / n).is_file()), None)


def read_audio_folder(folder: Path) -> pd.DataFrame:
    """The metadata table of an audio folder, with the ``file_name`` column replaced by an
    ``audio`` column of :class:`AudioClip` (headers read, samples not).

    Raises:
        DataError: no metadata file or no ``file_name`` column, a missing or unreadable file.
    """
    from whichmodel.data.tables import read_table

    meta = metadata_file(folder)
    if meta is None:
        raise DataError(
            f"{folder} has no {' / '.join(METADATA_FILES)}; an audio folder needs one with a "
            f"'{FILE_COLUMN}' column and a transcript column."
        )
    frame = read_table(meta)
    if FILE_COLUMN not in frame.columns:
        raise DataError(
            f"{meta} has no '{FILE_COLUMN}' column (the audio file of each row, relative to "
            f"{folder}); its columns are {', '.join(repr(str(c)) for c in frame.columns)}."
        )
    clips = [_file_clip(folder, value, i) for i, value in enumerate(frame[FILE_COLUMN])]
    out = frame.drop(columns=[FILE_COLUMN])
    out.insert(0, "audio", pd.Series(clips, dtype=object, index=out.index))
    return out


def _file_clip(folder: Path, value: object, row: int) -> AudioClip:
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"Row {row} of {folder}'s metadata has no '{FILE_COLUMN}'.")
    path = folder / value
    if not path.is_file():
        raise DataError(f"No audio file {path} (row {row} of {folder}'s metadata).")
    sf = soundfile()
    try:
        info = sf.info(str(path))
    except (RuntimeError, OSError) as exc:  # soundfile.LibsndfileError is a RuntimeError
        raise DataError(f"Cannot read the audio file {path}: {_first_line(exc)}") from exc
    return AudioClip(str(path), int(info.samplerate), int(info.frames))


# -- audio in a data column ------------------------------------------------------------------
def audio_inputs(frame: pd.DataFrame, columns: list[str], name: str) -> Inputs:
    """Inputs of kind ``audio`` from ``frame``: one audio column (an audio folder's ``audio``,
    arrays, or ``datasets`` Audio dicts), plus the ``sampling_rate`` column arrays need.

    Raises:
        DataError: no audio column, several, or values that are not audio.
    """
    chosen = [c for c in columns if c != RATE_COLUMN]
    if len(chosen) != 1:
        raise DataError(
            f"Speech to text reads one audio column; {name} gives {len(chosen)} "
            f"({', '.join(repr(c) for c in chosen)}). Name it with --input-cols."
        )
    column = chosen[0]
    rates = frame[RATE_COLUMN].to_numpy() if RATE_COLUMN in frame.columns else None
    clips = [
        _cell_clip(value, None if rates is None else rates[i], f"row {i} of {name}", column)
        for i, value in enumerate(frame[column])
    ]
    return Inputs("audio", np.asarray(_object_array(clips)), (column,))


def holds_audio(series: pd.Series) -> bool:
    """Whether a column's first value is audio: a clip, an array of samples or an audio dict."""
    first = series.iloc[0] if len(series) else None
    if isinstance(first, dict):
        return "bytes" in first or "array" in first
    return isinstance(first, AudioClip | list | tuple | np.ndarray)


def _object_array(clips: list[AudioClip]) -> np.ndarray:
    out = np.empty(len(clips), dtype=object)
    out[:] = clips
    return out


def _cell_clip(value: object, rate: object, where: str, column: str) -> AudioClip:
    if isinstance(value, AudioClip):
        return value
    if isinstance(value, dict):
        cell: dict[str, Any] = value
        if cell.get("bytes") is not None:
            return _encoded_clip(bytes(cell["bytes"]), str(cell.get("path") or where))
        if cell.get("array") is not None:
            value, rate = cell["array"], cell.get(RATE_COLUMN, rate)
    if isinstance(value, list | tuple | np.ndarray):
        samples = np.asarray(value, dtype=np.float32)
        if samples.ndim == 2:  # (channels, T), as datasets decodes multi-channel audio
            samples = samples.mean(axis=0)
        if samples.ndim != 1 or not len(samples):
            raise DataError(f"The audio of {where} is not a non-empty 1-D array of samples.")
        try:
            rate_hz = int(rate) if rate is not None and not pd.isna(rate) else 0  # type: ignore[call-overload]
        except (TypeError, ValueError):
            rate_hz = 0
        if rate_hz <= 0:
            raise DataError(
                f"The audio of {where} has no sampling rate; add a '{RATE_COLUMN}' column (Hz)."
            )
        return AudioClip(where, rate_hz, len(samples), samples=samples)
    raise DataError(
        f"Column '{column}' of {where} holds {type(value).__name__}, not audio (an array of "
        "samples, or a dict with 'array' and 'sampling_rate', or 'bytes')."
    )


def _encoded_clip(data: bytes, where: str) -> AudioClip:
    sf = soundfile()
    try:
        info = sf.info(io.BytesIO(data))
    except (RuntimeError, OSError) as exc:
        raise DataError(f"Cannot read the audio of {where}: {_first_line(exc)}") from exc
    return AudioClip(where, int(info.samplerate), int(info.frames), encoded=data)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
