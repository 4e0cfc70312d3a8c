"""A text model without data (inputs synthesized from its tokenizer, tokens/s reported), and the
optional torchao int8 variant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.tiny_hf import build_tiny_bert
from whichmodel.bench.cost import measure_cost
from whichmodel.bench.variants import get_variant, torch_module
from whichmodel.refs import parse_ref
from whichmodel.sources import load
from whichmodel.sources.base import Inputs

WORDS = ("good", "bad", "film", "plot", "great", "awful", "the", "was")


@pytest.fixture
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_text_model_without_data_reports_tokens_per_second(
    tmp_path: Path, one_thread: None
) -> None:
    folder = tmp_path / "bert"
    build_tiny_bert(folder, WORDS, {0: "neg", 1: "pos"})
    profile = measure_cost(
        parse_ref(f"hf:{folder}"),
        None,
        batch_sizes=(1, 4),
        input_shape=(6,),  # six words per synthesized text
        threads=1,
        budget_s=0.05,
        in_process=True,
    )
    # Each text: [CLS] + 6 known words + [SEP]; the tokenizer knows every synthesized word.
    assert profile.tokens == {1: 8, 4: 32}
    assert profile.tokens_per_s(4) == pytest.approx(32 / profile.latency[4].p50_s)
    assert profile.weight_bytes == profile.parameters * 4  # type: ignore[operator]


def test_torchao_int8_quantizes_linear_weights_to_one_byte(tmp_path: Path) -> None:
    pytest.importorskip("torchao")  # the optional `torchao` extra, not in `all`
    helpers = Path(__file__).parents[1] / "helpers"
    model = load(parse_ref(f"torch:{helpers / 'tiny_torch.py'}:mlp"))
    x = Inputs("array", np.ones((2, 8, 8), dtype=np.float32))
    before = model.predict(x).array
    variant = get_variant("int8-torchao")
    assert variant.unavailable(model) is None
    applied = variant.apply(model, x, tmp_path).model
    from whichmodel.bench.memory import weight_and_buffer_bytes

    weights, _ = weight_and_buffer_bytes(torch_module(applied))
    linear = 64 * 16 + 16 * 10
    # int8 weights + fp32 biases + per-row scales (fp32) and zero points (int8) of each Linear
    assert weights == linear + (16 + 10) * 4 + (16 + 10) * (4 + 1)
    assert np.abs(applied.predict(x).array - before).max() < 0.1
