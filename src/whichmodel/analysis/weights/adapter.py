"""PEFT LoRA adapters read without peft: ``adapter_config.json`` + ``adapter_model.safetensors``,
merged into their base model's weights one tensor at a time.

For a module with ``lora_A`` (r, in) and ``lora_B`` (out, r), the merged weight is
W + ΔW with ΔW = B @ A · scale, scale = alpha / r (alpha / √r with ``use_rslora``), and ΔW
transposed when ``fan_in_fan_out`` (Conv1D-style weights stored (in, out)): what peft's
``merge_and_unload`` computes. Tensors the adapter stores whole (``modules_to_save``) replace the
base's. What this does not merge (DoRA, per-module ranks or alphas, embedding or convolution
LoRA, LoRA biases, other PEFT methods) is refused in one line rather than merged wrong.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whichmodel.errors import ModelLoadError

if TYPE_CHECKING:
    import torch

CONFIG = "adapter_config.json"
WEIGHTS = "adapter_model.safetensors"
_PREFIX = "base_model.model."


@dataclass(frozen=True)
class LoraAdapter:
    """A LoRA adapter folder, read. ``pairs``: base tensor name -> (lora_A key, lora_B key);
    ``replaced``: base tensor name -> the adapter's key of the tensor that replaces it."""

    folder: Path
    rank: int
    alpha: float
    scale: float
    use_rslora: bool
    fan_in_fan_out: bool
    target_modules: tuple[str, ...]
    base_model: str | None
    pairs: dict[str, tuple[str, str]]
    replaced: dict[str, str]


def is_adapter(folder: Path) -> bool:
    """Whether ``folder`` holds a PEFT adapter (its config and its safetensors weights)."""
    return (folder / CONFIG).is_file() and (folder / WEIGHTS).is_file()


def read_lora(folder: Path) -> LoraAdapter:
    """Read the LoRA adapter in ``folder``; only headers, no weights.

    Raises:
        ModelLoadError: the config is unreadable, or the adapter is one this cannot merge.
    """
    from whichmodel.sources.weights import safetensors_header

    cfg = _config(folder / CONFIG)
    rank, alpha = cfg.get("r"), cfg.get("lora_alpha", cfg.get("r"))
    if not isinstance(rank, int) or rank <= 0 or not isinstance(alpha, int | float):
        raise _cannot(folder, f"its r ({rank!r}) and lora_alpha ({alpha!r}) are not numbers")
    rslora = bool(cfg.get("use_rslora"))
    header = safetensors_header(folder / WEIGHTS)
    pairs, replaced = _keys(folder, header)
    for base, (key_a, _) in pairs.items():
        if header[key_a]["shape"][0] != rank:
            raise _cannot(folder, f"{base} has rank {header[key_a]['shape'][0]}, not r={rank}")
    targets = cfg.get("target_modules")
    return LoraAdapter(
        folder=folder, rank=rank, alpha=float(alpha),
        scale=alpha / math.sqrt(rank) if rslora else alpha / rank, use_rslora=rslora,
        fan_in_fan_out=bool(cfg.get("fan_in_fan_out")),
        target_modules=tuple(sorted(targets)) if isinstance(targets, list) else
        ((targets,) if isinstance(targets, str) else ()),
        base_model=cfg.get("base_model_name_or_path") or None,
        pairs=pairs, replaced=replaced,
    )


def _config(path: Path) -> dict[str, Any]:
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ModelLoadError(f"Cannot read {path} ({' '.join(str(exc).split())[:200]}).") from exc
    if not isinstance(cfg, dict):
        raise ModelLoadError(f"{path} must hold a JSON object.")
    kind = cfg.get("peft_type")
    if kind != "LORA":
        raise _cannot(path.parent, f"it is a {kind} adapter; only LORA adapters are merged")
    for flag, what in (("use_dora", "DoRA"), ("rank_pattern", "per-module ranks (rank_pattern)"),
                       ("alpha_pattern", "per-module alphas (alpha_pattern)"),
                       ("lora_bias", "LoRA biases")):
        if cfg.get(flag):
            raise _cannot(path.parent, f"it uses {what}")
    return cfg


def _keys(
    folder: Path, header: dict[str, Any]
) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """The adapter's tensors by the base tensor each changes."""
    halves: dict[str, dict[str, str]] = {}
    replaced: dict[str, str] = {}
    for key, entry in header.items():
        name = key.removeprefix(_PREFIX)
        for half in ("lora_A", "lora_B"):
            if f".{half}.weight" in name:
                base = name.replace(f".{half}.weight", ".weight")
                if len(entry["shape"]) != 2:
                    raise _cannot(folder, f"{key} is not a matrix (a convolution LoRA)")
                halves.setdefault(base, {})[half] = key
                break
        else:
            if "lora_" in name:
                raise _cannot(folder, f"it holds {key}, a kind of LoRA tensor this cannot merge")
            replaced[name] = key
    pairs = {}
    for base, found in halves.items():
        if set(found) != {"lora_A", "lora_B"}:
            raise _cannot(folder, f"{base} has only {', '.join(found)}")
        pairs[base] = (found["lora_A"], found["lora_B"])
    return pairs, replaced


def merged(adapter: LoraAdapter, name: str, base: torch.Tensor) -> torch.Tensor:
    """Base tensor ``name`` with the adapter merged in, in the base's dtype (a new tensor), as
    peft's ``merge_and_unload`` makes it; the base tensor itself when the adapter leaves it."""
    import torch
    from safetensors import safe_open

    if name in adapter.replaced:
        with safe_open(str(adapter.folder / WEIGHTS), framework="pt") as f:
            whole: torch.Tensor = f.get_tensor(adapter.replaced[name])
        return whole
    if name not in adapter.pairs:
        return base
    key_a, key_b = adapter.pairs[name]
    with safe_open(str(adapter.folder / WEIGHTS), framework="pt") as f:
        lora_a: torch.Tensor = f.get_tensor(key_a)
        lora_b: torch.Tensor = f.get_tensor(key_b)
    wide = torch.float64 if base.dtype == torch.float64 else torch.float32
    delta = (lora_b.to(wide) @ lora_a.to(wide)) * adapter.scale  # (out, r) @ (r, in)
    if adapter.fan_in_fan_out:
        delta = delta.T
    if tuple(delta.shape) != tuple(base.shape):
        raise _cannot(adapter.folder, f"its update of {name} has shape {tuple(delta.shape)}; "
                                      f"the base's is {tuple(base.shape)}")
    out: torch.Tensor = (base.to(wide) + delta).to(base.dtype)
    return out


def _cannot(folder: Path, why: str) -> ModelLoadError:
    return ModelLoadError(f"Cannot merge the adapter in {folder}: {why}.")
