"""A function outside the estimator libraries, for the skops safety tests: a Pipeline that holds
it makes ``skops.io.get_untrusted_types`` list ``untrusted_code.scale_pixels``."""

from __future__ import annotations

import numpy as np


def scale_pixels(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64) / 16.0
