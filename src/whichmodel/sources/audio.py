"""Audio clips as models read them: decoded on demand with ``soundfile``, resampled with SciPy.

Lives with the sources because a speech model's ``predict`` (what the cost probe times) reads
clips; the data formats that produce clips are in :mod:`whichmodel.data.audio`.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.errors import MissingExtraError


@dataclass(frozen=True, eq=False)
class AudioClip:
    """One example's audio, decoded on demand.

    Args:
        source: where it came from (a file path, or ``row 3`` of a data file), for messages.
        sampling_rate_hz: the clip's own rate.
        n_frames: samples per channel.
        samples: (n_frames,) float32 mono samples held in memory, or None.
        encoded: the bytes of an encoded audio file held in memory, or None.
        Neither held: ``source`` is a file read on each :meth:`read`.
    """

    source: str
    sampling_rate_hz: int
    n_frames: int
    samples: np.ndarray | None = None
    encoded: bytes | None = None

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.sampling_rate_hz

    def read(self) -> np.ndarray:
        """(n_frames,) float32 mono samples in [-1, 1] (channels averaged).

        Raises:
            RuntimeError (soundfile's LibsndfileError) or OSError: the file no longer decodes;
            a model run records it as that example's failure.
        """
        if self.samples is not None:
            return self.samples
        sf = soundfile()
        target = io.BytesIO(self.encoded) if self.encoded is not None else self.source
        data, _rate = sf.read(target, dtype="float32", always_2d=True)  # (T, channels)
        return np.ascontiguousarray(data.mean(axis=1, dtype=np.float32))

    def __str__(self) -> str:
        name = Path(self.source).name if self.samples is None else self.source
        return f"{name} ({self.duration_s:.2f} s at {self.sampling_rate_hz} Hz)"


def resample(samples: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    """(T,) samples at ``from_hz`` -> (ceil(T * to_hz / from_hz),) float32 at ``to_hz``.

    SciPy's ``resample_poly`` with up/down = to/from reduced by their gcd: upsample, apply its
    default Kaiser-window (beta 5) anti-aliasing FIR filter, downsample.
    """
    if from_hz == to_hz:
        return samples
    from scipy.signal import resample_poly

    g = math.gcd(from_hz, to_hz)
    return np.asarray(resample_poly(samples, to_hz // g, from_hz // g), dtype=np.float32)


def waveforms(clips: Sequence[AudioClip], rate_hz: int) -> list[np.ndarray]:
    """Each clip's mono samples at ``rate_hz`` (resampled when its own rate differs)."""
    return [resample(c.read(), c.sampling_rate_hz, rate_hz) for c in clips]


def soundfile() -> Any:
    try:
        import soundfile
    except ImportError as exc:  # also raised when the libsndfile library is missing
        raise MissingExtraError("soundfile", "tasks") from exc
    return soundfile
