"""What a Hugging Face folder's other files say: weights as stored (safetensors headers,
quantization config), the training recipe (trainer state, training arguments, model card) and
generation defaults. Nothing here unpickles or imports code from the folder.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from whichmodel.spec.base import Fact, Recipe, Storage, unknown

# safetensors dtype codes -> the sheet's names.
_ST_DTYPES = {"F64": "fp64", "F32": "fp32", "F16": "fp16", "BF16": "bf16", "I8": "int8",
              "U8": "uint8", "I16": "int16", "I32": "int32", "I64": "int64", "BOOL": "bool",
              "F8_E4M3": "fp8", "F8_E5M2": "fp8"}
#: Weight files up to this size are read to measure sparsity (exact zeros).
SPARSITY_MAX_BYTES = 512 * 2**20


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file: tensor name -> {dtype, shape, data_offsets}.
    Reads only the first 8 + header-length bytes, and checks every claim against the file's
    size (:func:`whichmodel.sources.weights.safetensors_header`).

    Raises:
        ModelLoadError: the header claims more than the file holds, or is not a tensor table.
    """
    from whichmodel.sources.weights import safetensors_header as checked

    return checked(path)


def storage(folder: Path, raw_config: dict[str, Any]) -> Storage:
    """Weights as stored: files, bytes, parameters per dtype, quantization, sparsity."""
    weights = sorted(folder.glob("*.safetensors"))
    pickled = sorted([*folder.glob("*.bin"), *folder.glob("*.pt"), *folder.glob("*.pth")])
    pickled = [p for p in pickled if p.name != "training_args.bin"]
    names = [p.name for p in [*weights, *pickled]]
    dtypes: Counter[str] = Counter()
    for path in weights:  # a header that claims more than its file holds is refused here
        for entry in safetensors_header(path).values():
            count = 1
            for dim in entry["shape"]:
                count *= int(dim)
            dtypes[_ST_DTYPES.get(entry["dtype"], entry["dtype"].lower())] += count
    return Storage(
        files=Fact(names, "weights") if names else unknown("no weight files (config only)"),
        file_bytes=Fact(sum(p.stat().st_size for p in [*weights, *pickled]), "weights")
        if names else unknown("no weight files"),
        dtypes=Fact(dict(dtypes), "weights") if dtypes else unknown(
            "no safetensors headers to read" + (" (pickled .bin weights are not opened)"
                                                if pickled else "")),
        quantization=_quantization(raw_config),
        sparsity=_sparsity(weights),
    )


def majority_dtype(stored: Storage) -> str | None:
    """The dtype most parameters are stored in, if the headers were read."""
    dtypes = stored.dtypes.value
    return max(dtypes, key=lambda k: dtypes[k]) if dtypes else None


def _quantization(raw: dict[str, Any]) -> Fact[str]:
    q = raw.get("quantization_config")
    if not isinstance(q, dict):
        return Fact("none", "config")
    method = q.get("quant_method", "unknown method")
    if q.get("load_in_4bit"):
        bits: Any = 4
    elif q.get("load_in_8bit"):
        bits = 8
    else:
        bits = q.get("bits") or q.get("w_bit")
    group = q.get("group_size") or q.get("q_group_size")
    parts = [str(method)] + ([f"{bits}-bit"] if bits else []) + (
        [f"group {group}"] if group else []) + (
        [str(q["bnb_4bit_quant_type"])] if q.get("bnb_4bit_quant_type") else [])
    return Fact(", ".join(parts), "config")


def _sparsity(weights: list[Path]) -> Fact[float]:
    if not weights:
        return unknown("no safetensors weights")
    if sum(p.stat().st_size for p in weights) > SPARSITY_MAX_BYTES:
        return unknown(f"weights over {SPARSITY_MAX_BYTES // 2**20} MiB are not read for sparsity")
    import torch
    from safetensors import SafetensorError, safe_open

    zeros = total = 0
    for path in weights:  # headers checked by storage() before this reads any tensor
        try:
            with safe_open(str(path), framework="pt") as f:
                for key in f.keys():  # noqa: SIM118 (safe_open is not a dict)
                    tensor = f.get_tensor(key)
                    if tensor.is_floating_point():
                        total += tensor.numel()
                        zeros += int(tensor.numel() - torch.count_nonzero(tensor))
        except SafetensorError as exc:
            return unknown(f"{path.name} could not be read ({exc})")
    return Fact(zeros / total if total else 0.0, "weights", "fraction of exact zeros")


def generation(folder: Path) -> dict[str, Fact[Any]] | None:
    """Generation defaults from ``generation_config.json``."""
    data = _read_json(folder / "generation_config.json")
    if data is None:
        return None
    keys = ("do_sample", "temperature", "top_k", "top_p", "max_new_tokens", "max_length",
            "repetition_penalty", "num_beams")
    return {k: Fact(data[k], "config") for k in keys if k in data}


def recipe(folder: Path) -> Recipe | None:
    """Training facts from trainer_state.json, training_args.bin and the model card."""
    facts: dict[str, Fact[Any]] = {}
    state = _read_json(folder / "trainer_state.json")
    if state is not None:
        for key in ("global_step", "epoch", "max_steps", "num_train_epochs", "train_batch_size",
                    "best_metric"):
            if state.get(key) is not None:
                facts[f"trainer.{key}"] = Fact(state[key], "config")
        losses = [e["loss"] for e in state.get("log_history", []) if "loss" in e]
        if losses:
            facts["trainer.final_loss"] = Fact(losses[-1], "config", "last logged training loss")
    args = training_args(folder / "training_args.bin")
    for key in ("learning_rate", "per_device_train_batch_size", "num_train_epochs",
                "weight_decay", "warmup_steps", "lr_scheduler_type", "optim", "seed", "bf16",
                "fp16"):
        if key in args:
            facts[f"args.{key}"] = Fact(args[key], "config", "training_args.bin, not unpickled")
    for key, value in model_card(folder / "README.md").items():
        facts[f"card.{key}"] = Fact(value, "config", "model card")
    return Recipe(facts) if facts else None


def model_card(path: Path) -> dict[str, Any]:
    """The YAML front matter of a model card: datasets, base model, license, language."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    if not text.startswith("---"):
        return {}
    front = text[3:].split("\n---", 1)[0]
    try:
        meta = yaml.safe_load(front)
    except yaml.YAMLError:
        return {}
    if not isinstance(meta, dict):
        return {}
    keys = ("base_model", "datasets", "license", "language", "pipeline_tag", "library_name")
    return {k: meta[k] for k in keys if meta.get(k) is not None}


class _Stub:
    """Stands in for every class a pickle names: records arguments and state, runs nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _DataOnly(pickle.Unpickler):
    """An unpickler that never imports: each global becomes a fresh :class:`_Stub` subclass."""

    def find_class(self, module: str, name: str) -> Any:
        return type(name, (_Stub,), {"origin": f"{module}.{name}"})

    def persistent_load(self, pid: Any) -> Any:
        return None  # tensor storages: not needed for the arguments


def training_args(path: Path) -> dict[str, Any]:
    """The fields of a ``training_args.bin`` (a torch.save zip of ``TrainingArguments``), read
    with an unpickler that imports nothing and calls nothing of the file's."""
    if not path.is_file() or not zipfile.is_zipfile(path):
        return {}
    with zipfile.ZipFile(path) as archive:
        name = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
        if name is None:
            return {}
        try:
            obj = _DataOnly(archive.open(name)).load()
        except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, ValueError):
            return {}
    state = _state(obj)
    return {k: _plain(v) for k, v in state.items()} if isinstance(state, dict) else {}


def _state(obj: Any) -> Any:
    # copyreg._reconstructor(cls, object, None) + BUILD(state): the state is on the stub.
    return obj.state if isinstance(obj, _Stub) else obj


def _plain(value: Any) -> Any:
    if isinstance(value, _Stub):  # an enum such as IntervalStrategy('steps')
        return value.args[0] if len(value.args) == 1 else str(value.args)
    return value
