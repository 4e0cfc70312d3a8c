"""Hostile and broken model files: one line, exit 2, an answer within seconds, no traceback.

A config.json size that no model can have (zero, negative, fractional, a string, null, absurdly
large) is refused before anything is built from it; a model card that is a YAML bomb does not
hang; an --input-shape too large to allocate is refused before it is allocated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.bad_input import TIME_LIMIT_S, Case, refuse

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
TINY_TORCH = f"torch:{HELPERS / 'tiny_torch.py'}:mlp"
GOOD = dict(model_type="llama", architectures=["LlamaForCausalLM"], hidden_size=64,
            intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=100, max_position_embeddings=64)
SIZE_KEYS = ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
             "intermediate_size", "num_key_value_heads", "max_position_embeddings")
BAD_VALUES = {"zero": 0, "negative": -3, "float": 2.5, "string": "64", "null": None}
MODEL = "{tmp}/model"  # the case's model folder, written from the case's config


def _size_cases() -> list[tuple[str, dict, str]]:
    cases = []
    for key in SIZE_KEYS:
        for label, value in BAD_VALUES.items():
            if key == "num_key_value_heads" and value is None:
                continue  # Llama's null means one K/V head per query head: a valid config
            # null is refused by the config class itself (transformers names the key), any
            # other bad value by whichmodel before transformers sees it.
            says = key if value is None else f"{key} must be a positive integer"
            cases.append((f"{key}-{label}", {key: value}, says))
    return cases


CONFIG_CASES = [
    *_size_cases(),
    ("hidden-size-1e12", {"hidden_size": 10**12}, "hidden_size must be a positive integer"),
    ("hidden-size-nan", {"hidden_size": float("nan")}, "hidden_size must be"),
    ("hidden-size-true", {"hidden_size": True}, "hidden_size must be a positive integer"),
    ("layers-100k", {"num_hidden_layers": 100_000}, "num_hidden_layers must be"),
    ("layers-1e7", {"num_hidden_layers": 10**7}, "at most 1,024"),
    ("experts-1e9", {"num_local_experts": 10**9}, "num_local_experts must be"),
    ("text-config-negative", {"text_config": {"hidden_size": -1}}, "text_config.hidden_size"),
    ("swin-100k-stages", {"model_type": "swin", "architectures": ["SwinModel"],
                          "depths": [1] * 100_000}, "depths lists 100,000 values"),
    ("swin-stage-negative", {"model_type": "swin", "architectures": ["SwinModel"],
                             "depths": [2, 2, -6, 2]}, "depths must be"),
]


@pytest.mark.parametrize(("config", "says"), [c[1:] for c in CONFIG_CASES],
                         ids=[c[0] for c in CONFIG_CASES])
def test_bad_config_size_is_one_line(config: dict, says: str, tmp_path: Path) -> None:
    _write_config(tmp_path, {**GOOD, **config})
    refuse(tmp_path, "inspect", f"hf:{MODEL}", says=says)


def _write_config(tmp_path: Path, config: dict) -> Path:
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))  # NaN as JSON's NaN, as Python does
    return folder


def _deep(folder: Path) -> None:
    (folder / "config.json").write_text("[" * 100_000)


def _huge_integer(folder: Path) -> None:
    (folder / "config.json").write_text('{"model_type": "llama", "hidden_size": 1' + "0" * 5000
                                        + "}")


def _not_utf8(folder: Path) -> None:
    (folder / "config.json").write_bytes(b'{"model_type": "llama\xff"}')


def _too_large(folder: Path) -> None:
    with (folder / "config.json").open("wb") as f:
        f.truncate(17 * 2**20)  # sparse: 17 MiB that take no disk


def _adapter_not_object(folder: Path) -> None:
    (folder / "config.json").write_text(json.dumps(GOOD))
    (folder / "adapter_config.json").write_text("[1, 2]")


FILE_CASES = [
    ("config-nested-100k-deep", _deep, "nested too deeply"),
    ("config-integer-5000-digits", _huge_integer, "is not valid JSON"),
    ("config-not-utf8", _not_utf8, "is not valid JSON"),
    ("config-17-mib", _too_large, "is not read"),
    ("adapter-config-not-object", _adapter_not_object, "must hold a JSON object"),
]


@pytest.mark.parametrize(("write", "says"), [c[1:] for c in FILE_CASES],
                         ids=[c[0] for c in FILE_CASES])
def test_broken_config_file_is_one_line(write, says: str, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    write(folder)
    refuse(tmp_path, "inspect", f"hf:{folder}", says=says)


SHAPE_CASES = [
    Case("input-shape-1e15", ("100000,100000,100000",), "is one example of"),
    Case("input-shape-2-gib", ("16384,16384,2",), "at most 268,435,456 values"),
    Case("input-shape-zero", ("0,8",), "--input-shape must be positive sizes"),
    Case("input-shape-negative", ("-1,8",), "--input-shape must be positive sizes"),
]


@pytest.mark.parametrize("case", SHAPE_CASES, ids=[c.id for c in SHAPE_CASES])
def test_input_shape_too_large_to_allocate_is_one_line(case: Case, tmp_path: Path) -> None:
    refuse(tmp_path, "inspect", TINY_TORCH, f"--input-shape={case.args[0]}", says=case.says)


@pytest.mark.parametrize("bad_side", ["a", "b"])
def test_diff_with_one_bad_side_is_one_line(bad_side: str, tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "config.json").write_text(json.dumps(GOOD))
    _write_config(tmp_path, {**GOOD, "num_hidden_layers": 10**7})
    sides = (f"hf:{good}", f"hf:{MODEL}") if bad_side == "b" else (f"hf:{MODEL}", f"hf:{good}")
    refuse(tmp_path, "diff", *sides, says="num_hidden_layers must be a positive integer")


def _gguf_cases(folder: Path) -> list[tuple[str, str]]:
    """(reference, what its one line says) for a text file named .gguf, an empty one, and a
    real GGUF file cut short in its metadata and in its tensor data."""
    from helpers.tiny_gguf import write_gguf

    whole = write_gguf(folder / "whole.gguf", "llama", {"llama.block_count": 2},
                       {"token_embd.weight": (64, 32)}).read_bytes()
    (folder / "x.gguf").write_text("I am a text file, not a model\n")
    (folder / "empty.gguf").write_bytes(b"")
    (folder / "meta-cut.gguf").write_bytes(whole[:40])
    (folder / "data-cut.gguf").write_bytes(whole[: len(whole) - 4096])
    broken = "is not a readable GGUF file (truncated or corrupt?)"
    return [(f"gguf:{folder}/x.gguf", "x.gguf is not a GGUF file: it starts with b'I am'"),
            (str(folder / "empty.gguf"), "empty.gguf is not a GGUF file: it starts with b''"),
            (f"gguf:{folder}/meta-cut.gguf", broken), (f"gguf:{folder}/data-cut.gguf", broken)]


def test_a_broken_or_foreign_gguf_file_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    for ref, says in _gguf_cases(folder):
        refuse(tmp_path, "inspect", ref, says=says, watch=(folder,))
    refuse(tmp_path, "diff", f"gguf:{folder}/whole.gguf", f"gguf:{folder}/data-cut.gguf",
           says="data-cut.gguf is not a readable GGUF file", watch=(folder,))


def _billion_laughs(levels: int = 10) -> str:
    """Nine times nine times ... nine "lol"s in a dozen lines of YAML (9**10 strings)."""
    lines = ["---", 'lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]"
              for i in range(1, levels)]
    return "\n".join([*lines, f"datasets: *lol{levels - 1}", "license: mit", "---", "# A card"])


def test_model_card_yaml_bomb_is_not_expanded(tmp_path: Path) -> None:
    folder = _write_config(tmp_path, GOOD)
    (folder / "README.md").write_text(_billion_laughs())
    start = time.monotonic()
    env = {**os.environ, "WHICHMODEL_REPORT_DIR": str(tmp_path / "crashes")}
    proc = subprocess.run(
        [sys.executable, "-m", "whichmodel", "inspect", f"hf:{folder}", "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=TIME_LIMIT_S,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert time.monotonic() - start < TIME_LIMIT_S
    recipe = json.loads(proc.stdout)["recipe"]["facts"]
    assert recipe["card.datasets"]["source"] == "unknown"
    assert "aliases are never expanded" in recipe["card.datasets"]["note"]
    assert recipe["card.license"]["value"] == "mit"  # the plain values of the card still count
