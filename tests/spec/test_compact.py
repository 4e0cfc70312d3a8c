"""The compact spec a comparison keeps per model, and the diff of two of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import whichmodel
from whichmodel.spec import InspectOptions
from whichmodel.spec.compact import SPEC_KEYS, CompactSpec, compact, compact_diff


def _llama(root: Path, name: str, *, kv_heads: int, layers: int = 2, context: int = 128) -> str:
    """A config-only Llama folder (built on meta by the sheet: no weights anywhere)."""
    from transformers import LlamaConfig

    LlamaConfig(
        hidden_size=256, intermediate_size=512, num_hidden_layers=layers, num_attention_heads=8,
        num_key_value_heads=kv_heads, vocab_size=1000, max_position_embeddings=context,
        architectures=["LlamaForCausalLM"],
    ).save_pretrained(root / name)  # fmt: skip
    return f"hf:{root / name}"


def test_every_key_is_kept_with_its_source_and_equals_the_sheet(tmp_path: Path) -> None:
    sheet = whichmodel.inspect(_llama(tmp_path, "gqa", kv_heads=2))
    spec = json.loads(json.dumps(compact(sheet).to_dict()))  # what results.json stores
    assert CompactSpec.from_dict(spec).to_dict() == spec  # read back as it was written
    assert list(spec["facts"]) == list(SPEC_KEYS)
    facts = sheet.facts()
    for key, fact in spec["facts"].items():
        if key in facts and facts[key].value is not None:
            assert fact == {"value": facts[key].value, "source": facts[key].source,
                            **({"note": facts[key].note} if facts[key].note else {})}, key
    assert spec["facts"]["design.kv_heads"] == {"value": 2, "source": "config"}
    assert spec["facts"]["design.attention"]["value"] == "GQA"
    assert spec["facts"]["size.total"]["value"] == sheet.size.total.value
    # Facts that do not apply are unknown, with the reason, not missing.
    trees = spec["facts"]["estimator.trees"]
    assert trees["value"] is None and trees["source"] == "unknown" and "estimator" in trees["note"]
    assert (spec["flops_per"], spec["context"]) == ("token", 128)


def test_estimators_and_modules_show_what_they_do_not_have_as_unknown() -> None:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from whichmodel.demo.zoo import cnn

    x, y = load_digits(return_X_y=True)
    fitted = LogisticRegression(max_iter=200).fit(x[:300], y[:300])
    linear = compact(whichmodel.inspect(fitted)).to_dict()
    assert linear["facts"]["identity.family"]["value"] == "linear"
    assert linear["facts"]["estimator.n_features"]["value"] == 64
    flops = linear["facts"]["compute.forward_flops"]
    assert flops["source"] == "unknown" and flops["note"].startswith("FLOPs are not counted")
    assert linear["facts"]["design.attention"]["source"] == "unknown"
    assert linear["flops_per"] is None

    module = cnn()
    sheet = whichmodel.inspect(module, InspectOptions(input_shape=(8, 8)))
    conv = compact(sheet).to_dict()
    assert conv["facts"]["identity.family"]["value"] == "CNN"
    assert conv["facts"]["size.total"]["value"] == sum(p.numel() for p in module.parameters())
    assert conv["facts"]["compute.forward_flops"]["value"] > 0
    assert (conv["flops_per"], conv["input_shape"]) == ("example", [8, 8])
    assert conv["facts"]["design.layers"]["source"] == "unknown"  # not a transformer LM
    assert conv["facts"]["estimator.kind"]["source"] == "unknown"


def test_compact_diff_has_consequences_and_compares_flops_only_at_the_same_context(
    tmp_path: Path,
) -> None:
    mha = compact(whichmodel.inspect(_llama(tmp_path, "mha", kv_heads=8)))
    gqa = compact(whichmodel.inspect(_llama(tmp_path, "gqa", kv_heads=2)))
    found, same = compact_diff(mha, gqa, ("mha", "gqa"))
    by_key = {d.key: d for d in found}
    kv = by_key["memory.kv_cache_bytes_per_token"]
    assert kv.a == 4 * kv.b
    assert kv.consequence == (
        "gqa: GQA with 2 K/V heads → KV cache 4.0× smaller than mha at the same context"
    )
    assert by_key["design.kv_heads"].a == 8 and "design.layers" in same
    assert by_key["compute.forward_flops"].consequence.startswith("gqa: forward FLOPs")

    longer = compact(whichmodel.inspect(_llama(tmp_path, "long", kv_heads=2, context=256)))
    found, _ = compact_diff(gqa, longer, ("gqa", "long"))
    flops = next(d for d in found if d.key == "compute.forward_flops")
    assert flops.consequence == ""  # per token at 128 vs 256 tokens: not the same quantity
    assert longer.facts["design.context_length"].value == 256


def test_a_failing_sheet_is_recorded_and_the_comparison_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np
    import pandas as pd
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    frame["label"] = (frame["a"] > 0).astype(int)
    frame.to_csv(tmp_path / "d.csv", index=False)
    sio.dump(LogisticRegression().fit(frame[["a", "b", "c"]], frame["label"]), tmp_path / "m.skops")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no sheet today")

    monkeypatch.setattr("whichmodel.spec.compact.compact", broken)
    result = whichmodel.compare(
        [f"sklearn:{tmp_path / 'm.skops'}"], tmp_path / "d.csv",
        store=str(tmp_path / "s.db"), measure_cost=False, n_resamples=20,
    )  # fmt: skip
    model = result.models[0]
    assert model.spec is None
    assert model.spec_error == "the spec sheet failed: RuntimeError: no sheet today"
    assert result.statistics.metrics  # the comparison itself is whole
