"""What a spec sheet is computed at (:class:`InspectOptions`) and dtype names.

Kept apart from the package's ``__init__`` so the sheet builders (``hf_sheet``, ``onnx_graph``,
``torch_module``), which ``inspect`` imports, need not import the package back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from whichmodel.errors import ConfigError
from whichmodel.sources.base import LoadOptions

#: dtype spellings users and configs use -> the sheet's names.
DTYPE_ALIASES = {
    "float32": "fp32", "fp32": "fp32", "float": "fp32", "float16": "fp16", "fp16": "fp16",
    "half": "fp16", "bfloat16": "bf16", "bf16": "bf16", "int8": "int8", "int4": "int4",
    "float64": "fp64",
}


@dataclass(frozen=True)
class InspectOptions:
    """What the sheet is computed at.

    Args:
        context: tokens of context for per-token FLOPs and the KV cache (default: the model's
            context length, capped at :attr:`default_context_cap` for FLOP counting speed).
        dtype: dtype for the memory figures (default: the stored dtype, else fp32).
        batch: sequences held in the KV cache at once.
        text: a text file to measure the tokenizer on (characters and words per token).
        input_shape: one example's shape for non-LLM FLOPs, e.g. ``(1, 8, 8)``.
        training_tokens: tokens for the 6·N·D training-FLOPs estimate.
        load: what the user allowed when loading (pickle, remote code).
    """

    context: int | None = None
    dtype: str | None = None
    batch: int = 1
    text: Path | None = None
    input_shape: tuple[int, ...] | None = None
    training_tokens: int | None = None
    load: LoadOptions = LoadOptions()  # noqa: RUF009 (frozen, so one shared default is safe)

    def check(self) -> InspectOptions:
        """Validate and normalize; raises ConfigError on a bad value."""
        if self.context is not None and self.context < 1:
            raise ConfigError(f"--context must be a positive number of tokens. Got {self.context}.")
        if self.batch < 1:
            raise ConfigError(f"--batch must be at least 1. Got {self.batch}.")
        if self.dtype is not None and self.dtype.lower() not in DTYPE_ALIASES:
            raise ConfigError(
                f"--dtype must be one of {', '.join(sorted(set(DTYPE_ALIASES.values())))}. "
                f"Got {self.dtype!r}."
            )
        if self.text is not None and not Path(self.text).is_file():
            raise ConfigError(f"--text {self.text}: no such file.")
        if self.input_shape is not None:
            _check_shape(tuple(self.input_shape))
        return self


#: FLOPs of a PyTorch module are counted on a real forward of one zero example: its values are
#: allocated (4 bytes each at fp32), so one example holds at most this many (1 GiB).
MAX_EXAMPLE_VALUES = 2**28


def _check_shape(shape: tuple[int, ...]) -> None:
    text = ",".join(str(d) for d in shape)
    if not shape or any(d < 1 for d in shape):
        raise ConfigError(
            f"--input-shape must be positive sizes separated by commas, e.g. 1,8,8. Got {text!r}."
        )
    values = math.prod(shape)
    if values > MAX_EXAMPLE_VALUES:
        raise ConfigError(
            f"--input-shape {text} is one example of {values:,} values ({values * 4 / 2**30:,.0f} "
            f"GiB at fp32); FLOPs are counted on a real forward of one example, so give a shape "
            f"of at most {MAX_EXAMPLE_VALUES:,} values."
        )


def canonical_dtype(name: str | None) -> str | None:
    """``torch.bfloat16`` / ``bfloat16`` / ``bf16`` -> ``bf16``; None when not a known dtype."""
    if name is None:
        return None
    return DTYPE_ALIASES.get(str(name).replace("torch.", "").lower())
