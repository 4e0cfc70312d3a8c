"""What a Hugging Face folder's other files say: weights as stored (safetensors headers,
quantization config), the training recipe (trainer state, training arguments, model card) and
generation defaults. Nothing here unpickles or imports code from the folder.
"""

from __future__ import annotations

import json
import math
import pickle
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from whichmodel.errors import ModelLoadError
from whichmodel.spec.base import Fact, Recipe, Storage, unknown

# safetensors dtype codes -> the sheet's names.
_ST_DTYPES = {"F64": "fp64", "F32": "fp32", "F16": "fp16", "BF16": "bf16", "I8": "int8",
              "U8": "uint8", "I16": "int16", "I32": "int32", "I64": "int64", "BOOL": "bool",
              "F8_E4M3": "fp8", "F8_E5M2": "fp8"}
#: Weight files up to this size are read to measure sparsity (exact zeros).
SPARSITY_MAX_BYTES = 512 * 2**20
#: A model card's front matter is a few hundred bytes; no more than this is read.
MAX_CARD_BYTES = 64 * 2**10
_CARD_LIST_MAX = 256  # datasets or languages a card lists; longer lists are not kept


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
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


def tensor_count(entry: dict[str, Any]) -> int:
    """Values in one tensor of a checked :func:`safetensors_header`."""
    return math.prod(entry["shape"])


def storage(folder: Path, raw_config: dict[str, Any]) -> Storage:
    """Weights as stored: files, bytes, parameters per dtype, quantization, sparsity."""
    weights = sorted(folder.glob("*.safetensors"))
    pickled = sorted([*folder.glob("*.bin"), *folder.glob("*.pt"), *folder.glob("*.pth")])
    pickled = [p for p in pickled if p.name != "training_args.bin"]
    names = [p.name for p in [*weights, *pickled]]
    dtypes: Counter[str] = Counter()
    unread: list[str] = []
    for path in weights:  # a header that claims more than its file holds is an unknown fact
        try:
            for entry in safetensors_header(path).values():
                dtypes[_ST_DTYPES.get(entry["dtype"], entry["dtype"].lower())] += tensor_count(
                    entry)
        except ModelLoadError as exc:  # the file's name is enough on its own sheet
            unread.append(_one_line(str(exc).replace(str(path), path.name)))
    return Storage(
        files=Fact(names, "weights") if names else unknown("no weight files (config only)"),
        file_bytes=Fact(sum(p.stat().st_size for p in [*weights, *pickled]), "weights")
        if names else unknown("no weight files"),
        dtypes=Fact(dict(dtypes), "weights", "; ".join(unread)) if dtypes else unknown(
            "; ".join(unread) or "no safetensors headers to read" + (
                " (pickled .bin weights are not opened)" if pickled else "")),
        quantization=_quantization(raw_config),
        sparsity=_sparsity(weights) if not unread else unknown(
            "not measured: " + "; ".join(unread)),
    )


def _one_line(exc: BaseException | str) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:160] + "..."


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
    from safetensors import safe_open

    zeros = total = 0
    for path in weights:  # headers checked by storage() before this reads any tensor
        try:
            with safe_open(str(path), framework="pt") as f:
                for key in f.keys():  # noqa: SIM118 (safe_open is not a dict)
                    tensor = f.get_tensor(key)
                    if tensor.is_floating_point():
                        total += tensor.numel()
                        zeros += int(tensor.numel() - torch.count_nonzero(tensor))
        except Exception as exc:  # SafetensorError and kin: a fact unknown, never a dead sheet
            return unknown(f"not measured: {path.name} cannot be read ({_one_line(exc)})")
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
        history = state.get("log_history")
        losses = [e["loss"] for e in history if isinstance(e, dict) and "loss" in e] if (
            isinstance(history, list)) else []
        if losses:
            facts["trainer.final_loss"] = Fact(losses[-1], "config", "last logged training loss")
    args = training_args(folder / "training_args.bin")
    for key in ("learning_rate", "per_device_train_batch_size", "num_train_epochs",
                "weight_decay", "warmup_steps", "lr_scheduler_type", "optim", "seed", "bf16",
                "fp16"):
        if key in args:
            facts[f"args.{key}"] = Fact(args[key], "config", "training_args.bin, not unpickled")
    for key, fact in model_card(folder / "README.md").items():
        facts[f"card.{key}"] = fact
    return Recipe(facts) if facts else None


def model_card(path: Path) -> dict[str, Fact[Any]]:
    """The YAML front matter of a model card: datasets, base model, license, language.

    Only the first :data:`MAX_CARD_BYTES` are read, and a value is kept only when it is plain (a
    string, a number, or a short list of them): YAML anchors and aliases let a few lines stand
    for an exponentially large value ("billion laughs"), which nothing here may expand. A front
    matter that cannot be read is one unknown fact, ``front_matter``, with the reason.
    """
    try:
        with path.open("rb") as f:
            text = f.read(MAX_CARD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return {}
    if not text.startswith("---"):
        return {}
    if "\n---" not in text[3:]:
        return {"front_matter": unknown(
            f"README.md: front matter not closed within its first {MAX_CARD_BYTES // 1024} KiB")}
    try:
        meta = yaml.safe_load(text[3:].split("\n---", 1)[0])
    except (yaml.YAMLError, RecursionError) as exc:
        why = " ".join(str(exc).split())[:200]
        return {"front_matter": unknown(f"README.md: front matter is not valid YAML ({why})")}
    if not isinstance(meta, dict):
        return {}
    keys = ("base_model", "datasets", "license", "language", "pipeline_tag", "library_name")
    return {k: _card_fact(k, meta[k]) for k in keys if meta.get(k) is not None}


def _card_fact(key: str, value: Any) -> Fact[Any]:
    scalar = (str, int, float, bool)
    if isinstance(value, scalar) or (isinstance(value, list) and len(value) <= _CARD_LIST_MAX
                                     and all(isinstance(v, scalar) for v in value)):
        return Fact(value, "config", "model card")
    return unknown(f"model card: {key} is not a string, a number or a list of up to "
                   f"{_CARD_LIST_MAX} of them; not kept (YAML aliases are never expanded)")


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
    try:
        with zipfile.ZipFile(path) as archive:
            name = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
            if name is None:
                return {}
            obj = _DataOnly(archive.open(name)).load()
    except Exception:  # a broken zip or pickle (BadZipFile, UnpicklingError, ...): no arguments
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
