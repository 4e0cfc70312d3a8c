"""PEFT adapters (``adapter_config.json``): kind, rank, alpha, targets, base model, and the
fraction of parameters they train."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from whichmodel.errors import ModelLoadError
from whichmodel.refs import ModelRef
from whichmodel.spec.base import Adapter, Fact, Identity, Size, SpecSheet, unknown


def read_adapter(folder: Path) -> Adapter | None:
    """The adapter a folder holds, or None. Its parameters come from the weight file's header."""
    path = folder / "adapter_config.json"
    if not path.is_file():
        return None
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        why = " ".join(str(exc).split())[:200]
        raise ModelLoadError(f"{path} is not valid JSON ({why}); fix or re-save it.") from exc
    if not isinstance(cfg, dict):
        raise ModelLoadError(f"{path} must hold a JSON object; it holds {type(cfg).__name__}.")
    params = _adapter_params(folder)
    base = cfg.get("base_model_name_or_path")
    targets = cfg.get("target_modules")
    fraction: Fact[float] = unknown("base model not available locally")
    base_total = _base_params(folder, base) if params.value else None
    if base_total and params.value:
        fraction = Fact(params.value / (base_total + params.value), "formula",
                        f"adapter / (base {base_total:,} + adapter)")
    return Adapter(
        kind=Fact(str(cfg.get("peft_type", "unknown")), "config"),
        rank=Fact(cfg.get("r"), "config"),
        alpha=Fact(cfg.get("lora_alpha"), "config"),
        target_modules=Fact(sorted(targets) if isinstance(targets, list) else targets, "config"),
        base_model=Fact(base, "config"),
        parameters=params,
        trainable_fraction=fraction,
    )


def _adapter_params(folder: Path) -> Fact[int]:
    from whichmodel.spec.files import safetensors_header, tensor_count

    path = folder / "adapter_model.safetensors"
    if not path.is_file():
        return unknown("no adapter_model.safetensors")
    try:
        header = safetensors_header(path)
    except (OSError, ValueError) as exc:
        return unknown(f"{path.name} is not a safetensors file ({' '.join(str(exc).split())})")
    return Fact(sum(tensor_count(entry) for entry in header.values()), "weights")


def _base_params(folder: Path, base: Any) -> int | None:
    """Parameters of the base model when it is a local folder with a config (built on meta)."""
    if not isinstance(base, str):
        return None
    path = Path(base) if Path(base).is_absolute() else folder / base
    if not (path / "config.json").is_file():
        path = Path(base)
    if not (path / "config.json").is_file():
        return None
    from whichmodel.spec.hf import build

    model = build(path).model
    return int(sum(p.numel() for p in model.parameters()))


def adapter_only_sheet(ref: ModelRef, adapter: Adapter) -> SpecSheet:
    """The sheet of a folder that holds only an adapter (its base model is elsewhere)."""
    n = adapter.parameters
    none: Fact[Any] = unknown("adapter only: see the base model")
    return SpecSheet(
        identity=Identity(ref.name, str(ref), Fact("peft", "config"),
                          Fact(f"{adapter.kind.value} adapter", "config"),
                          Fact("adapter", "config"), unknown("adapter only")),
        size=Size(n, n, Fact(0, "formula"), n, none, none, none, none, none),
        adapter=adapter,
    )
