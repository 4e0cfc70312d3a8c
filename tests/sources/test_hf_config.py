"""config.json's sizes are checked once, before transformers builds anything from them: every
default config transformers ships passes, and each bad value gets one message naming the key."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pytest

from whichmodel.errors import ModelLoadError
from whichmodel.sources.hf.config import MAX_LAYERS, check_sizes, read_config_json


def test_every_default_config_of_transformers_passes() -> None:
    """The bounds refuse no model transformers knows: each config class's defaults, sub-configs
    included, as save_pretrained writes them."""
    transformers = pytest.importorskip("transformers")
    checked = 0
    logging.getLogger("transformers").setLevel(logging.ERROR)
    for model_type, cls in transformers.CONFIG_MAPPING.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # deprecation notes of old config classes
                raw = json.loads(cls().to_json_string(use_diff=False))
        except Exception:  # a few classes need arguments; nothing to check then
            continue
        check_sizes(raw, Path(f"{model_type}/config.json"))
        checked += 1
    assert checked > 300


@pytest.mark.parametrize(("raw", "says"), [
    ({"hidden_size": -3}, "hidden_size must be a positive integer, at most 1,048,576. Got -3."),
    ({"hidden_size": 2.5}, "Got 2.5."),
    ({"hidden_size": False}, "Got False."),
    ({"num_hidden_layers": MAX_LAYERS + 1}, "at most 1,024. Got 1025."),
    ({"vision_config": {"patch_size": 0}}, "vision_config.patch_size must be"),
    ({"depths": [512, 512, 1]}, "depths adds up to 1,025 layers, at most 1,024."),
    ({"num_hidden_layers": {"vision": 5, "language": -1}}, "num_hidden_layers must be"),
    ({"num_heads": [1] * 2000}, "num_heads lists 2,000 values, at most 1,024"),
])
def test_bad_sizes_name_the_key_and_the_value(raw: dict, says: str) -> None:
    with pytest.raises(ModelLoadError) as info:
        check_sizes(raw, Path("m/config.json"))
    assert str(info.value).startswith("m/config.json: ")
    assert says in str(info.value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_what_real_configs_hold_passes() -> None:
    check_sizes({
        "hidden_size": 768.0,  # a whole float: the config class decides
        "num_key_value_heads": None,  # null: the config class's default
        "num_experts": 0, "head_dim": 0,  # "none" and "derive it" in some classes
        "depths": [2, 2, 18, 2], "num_heads": [4, 8, 16, 32],  # Swin-B
        "num_hidden_layers": {"vision": 5, "language": 9, "cross_encoder": 5},  # LXMERT
        "image_size": [384, 384],
        "max_position_embeddings": 10_485_760,  # Llama 4 Scout
        "id2label": {"0": "hidden_size"}, "task_specific_params": {"hidden_size": "x"},
    }, Path("config.json"))


def test_config_json_is_read_within_bounds(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("[" * 50_000)
    with pytest.raises(ModelLoadError, match="nested too deeply"):
        read_config_json(path)
    path.write_text("[1]")
    with pytest.raises(ModelLoadError, match="must hold a JSON object; it holds list"):
        read_config_json(path)
    path.write_text(json.dumps({"model_type": "llama", "hidden_size": 64}))
    assert read_config_json(path)["hidden_size"] == 64
