"""Model bytes read from tensors, checked against sizes known from the architecture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from whichmodel.bench.memory import activation_bytes, weight_and_buffer_bytes
from whichmodel.bench.variants import get_variant, torch_module
from whichmodel.refs import parse_ref
from whichmodel.sources import load
from whichmodel.sources.base import Inputs

HELPERS = Path(__file__).parents[1] / "helpers"
# TinyMLP(64, 16, 10): Linear(64->16) + Linear(16->10), weights and biases.
MLP_PARAMS = 64 * 16 + 16 + 16 * 10 + 10


def _mlp() -> object:
    return load(parse_ref(f"torch:{HELPERS / 'tiny_torch.py'}:mlp"))


def _example() -> Inputs:
    return Inputs("array", np.ones((2, 8, 8), dtype=np.float32))


@pytest.mark.parametrize(("variant", "bytes_per_weight"), [("fp32", 4), ("bf16", 2), ("fp16", 2)])
def test_weight_bytes_are_parameters_times_element_size(
    variant: str, bytes_per_weight: int, tmp_path: Path
) -> None:
    model = _mlp()
    assert model.info.parameters == MLP_PARAMS
    applied = get_variant(variant).apply(model, _example(), tmp_path).model
    assert weight_and_buffer_bytes(torch_module(applied)) == (MLP_PARAMS * bytes_per_weight, 0)
    out = applied.predict(_example()).array
    assert out.dtype == np.float32 and out.shape == (2, 10)


def test_int8_weights_are_one_byte_and_biases_stay_fp32(tmp_path: Path) -> None:
    applied = get_variant("int8").apply(_mlp(), _example(), tmp_path).model
    weights = 64 * 16 + 16 * 10  # int8
    biases = (16 + 10) * 4  # float32
    assert weight_and_buffer_bytes(torch_module(applied)) == (weights + biases, 0)


def test_tied_weights_count_once_and_buffers_separately() -> None:
    emb = nn.Embedding(100, 8)
    head = nn.Linear(8, 100, bias=False)
    head.weight = emb.weight  # tied, as language models tie input and output embeddings
    bn = nn.BatchNorm1d(8)
    model = nn.ModuleDict({"emb": emb, "head": head, "bn": bn})
    weights, buffers = weight_and_buffer_bytes(model)
    assert weights == (100 * 8 + 8 + 8) * 4  # embedding once + BatchNorm's weight and bias
    assert buffers == 8 * 4 * 2 + 8  # running mean and var (fp32), num_batches_tracked (int64)


def test_activation_bytes_count_each_op_output_and_skip_views() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)).eval()
    x = torch.ones(4, 8, 8)
    with torch.inference_mode():
        total = activation_bytes(lambda: model(x))
    assert total == 4 * (16 + 16 + 10) * 4  # flatten is a view; linear, relu, linear outputs
