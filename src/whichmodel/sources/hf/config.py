"""``config.json`` as whichmodel reads it: bounded in size, and every size a model is built from
checked, once, before transformers sees it.

transformers trusts a config: ``hidden_size: -3`` fails deep inside a tensor constructor, ``0``
divides by zero, ``num_hidden_layers: 10**7`` builds ten million blocks (even on ``meta`` each
costs about a millisecond), and a float or a string trips strict validation in some versions and
passes in others. Here each such value gets one message: what the key must be, and what it holds.

``null`` is left to the model's own config class, which knows whether it means "the default"
(Llama's ``num_key_value_heads: null`` is one K/V head per query head) or nothing at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from whichmodel.errors import ModelLoadError

#: Real config.json files take a few KiB; a 21,843-class ImageNet-21k head's labels about 2 MiB.
MAX_CONFIG_BYTES = 16 * 2**20

#: Bounds far beyond any released model, low enough that whichmodel can build the model on meta
#: in seconds and count its sizes in int64 (the deepest released LMs have ~130 blocks, the
#: widest hidden sizes are under 20,000, the longest context is Llama 4 Scout's 10,485,760).
MAX_LAYERS = 1024  # each block costs ~1 ms to build, even on meta
MAX_WIDTH = 2**20
MAX_HEADS = 2**16
MAX_VOCAB = 2**24
MAX_POSITIONS = 2**32
MAX_EXPERTS = 2**20  # Doge's default has 16,384; expert weights are one fused tensor each
MAX_PIXELS = 2**16

_LIMITS: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("num_hidden_layers", "n_layer", "num_layers", "encoder_layers",
                     "decoder_layers", "num_decoder_layers", "num_encoder_layers", "depths"),
                    (1, MAX_LAYERS)),
    **dict.fromkeys(("hidden_size", "d_model", "n_embd", "embed_dim", "hidden_sizes",
                     "intermediate_size", "moe_intermediate_size", "ffn_dim", "d_ff",
                     "encoder_ffn_dim", "decoder_ffn_dim", "n_inner", "ffn_hidden_size"),
                    (1, MAX_WIDTH)),
    # 0 is GLM-5's "derive it from the hidden size".
    **dict.fromkeys(("head_dim", "d_kv"), (0, MAX_WIDTH)),
    **dict.fromkeys(("num_attention_heads", "n_head", "num_heads", "num_key_value_heads",
                     "num_kv_heads", "n_head_kv", "encoder_attention_heads",
                     "decoder_attention_heads"), (1, MAX_HEADS)),
    "vocab_size": (1, MAX_VOCAB),
    **dict.fromkeys(("max_position_embeddings", "n_positions", "n_ctx", "max_target_positions",
                     "max_source_positions", "max_seq_len"), (1, MAX_POSITIONS)),
    # 0 experts is how some dense configs of MoE-capable classes say "no experts".
    **dict.fromkeys(("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts"),
                    (0, MAX_EXPERTS)),
    **dict.fromkeys(("image_size", "patch_size", "num_channels", "num_mel_bins"),
                    (1, MAX_PIXELS)),
}
#: Sub-configs whose sizes build part of the model (multimodal towers, encoder-decoder halves).
_NESTED = ("encoder", "decoder")


def read_config_json(path: Path) -> dict[str, Any]:
    """``config.json`` as written, its sizes checked (:func:`check_sizes`).

    Raises:
        ModelLoadError: the file is too large, not JSON, not an object, or a size is invalid.
    """
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ModelLoadError(
                f"{path} is {size / 2**20:.0f} MiB; a config.json over "
                f"{MAX_CONFIG_BYTES // 2**20} MiB is not read (real ones take a few KiB)."
            )
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except RecursionError:
        raise ModelLoadError(f"{path} is nested too deeply to be a model config.") from None
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ModelLoadError(
            f"{path} is not valid JSON ({short(exc)}); fix or re-save it."
        ) from exc
    if not isinstance(raw, dict):
        raise ModelLoadError(f"{path} must hold a JSON object; it holds {type(raw).__name__}.")
    check_sizes(raw, path)
    return raw


def check_sizes(raw: dict[str, Any], path: Path) -> None:
    """Every size key of ``raw`` (and of its sub-configs) is an integer within its bounds, or a
    list of them (Swin's per-stage ``depths``, ``num_heads``) or a mapping of them (LXMERT's
    layers per tower); ``null`` is left to transformers. A float counts when it is a whole number
    (some config classes default to ``1200.0``): the class itself then decides.

    Raises:
        ModelLoadError: ``<path>: hidden_size must be a positive integer ... Got -3.``
    """
    stack: list[tuple[str, dict[str, Any]]] = [("", raw)]
    while stack:  # a loop, not recursion: a hostile file may nest sub-configs deeply
        prefix, config = stack.pop()
        for key, value in config.items():
            if isinstance(value, dict) and (key.endswith("_config") or key in _NESTED):
                stack.append((f"{prefix}{key}.", value))
            elif key in _LIMITS and value is not None:
                _check(f"{prefix}{key}", value, *_LIMITS[key], path)


def _check(name: str, value: Any, low: int, high: int, path: Path) -> None:
    values = list(value.values()) if isinstance(value, dict) else (
        value if isinstance(value, list) else [value])
    if len(values) > MAX_LAYERS:
        problem = f"lists {len(values):,} values, at most {MAX_LAYERS:,} (one per stage or layer)"
    elif not values or not all(_is_whole(v) and low <= v <= high for v in values):
        kind = "a positive integer" if low == 1 else "a non-negative integer"
        listed = " (or a list of them, one per stage)" if isinstance(value, list | dict) else ""
        problem = f"must be {kind}{listed}, at most {high:,}. Got {_shown(value)}"
    elif name.endswith("depths") and sum(values) > MAX_LAYERS:
        problem = f"adds up to {sum(values):,} layers, at most {MAX_LAYERS:,}"
    else:
        return
    raise ModelLoadError(f"{path}: {name} {problem}. Fix the config or re-save it from its model.")


def _is_whole(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()  # False for nan and inf
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(value)} entries)"


def short(exc: BaseException) -> str:
    """An exception's message on one line, at most 200 characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:200] + "..."


def config_error(exc: Exception, path: Path) -> ModelLoadError | None:
    """transformers' own validation of a config (strict dataclasses from 5.x: a null or a
    mistyped field, heads that do not divide the hidden size) as one line; None for any other
    exception."""
    if not any(c.__name__.startswith("StrictDataclass") for c in type(exc).__mro__):
        return None
    import transformers

    # "Validation error for field 'hidden_size':\n    TypeError: Field 'hidden_size' expected
    # int, got NoneType (value: None)": the field, then the cause after its exception's name.
    text = short(exc)
    field = re.match(r"Validation error for field '([^']+)':", text)
    cause = text.split(": ", 2)[-1] if ": " in text else text
    what = f"its {field.group(1)}" if field else "this config"
    return ModelLoadError(
        f"{path}: transformers {transformers.__version__} refuses {what}: {cause.rstrip('.')}. "
        "Fix the config or re-save it from its model."
    )
