"""int8 and ONNX variants on real small models (an MLP and a CNN trained here on digits, a tiny
Llama from its config), each variant in its own probe process, with the quality delta.

Metric values are checked against scikit-learn on predictions computed here by hand; timings are
not asserted (the machine is shared), only their structure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score

from helpers.tiny_hf import build_tiny_gqa_llama
from whichmodel.bench.base import CostProfile, GenerationConfig
from whichmodel.bench.cost import QualityData, measure_cost
from whichmodel.demo import zoo
from whichmodel.refs import parse_ref
from whichmodel.sources.base import Inputs
from whichmodel.tasks import get_task

pytestmark = pytest.mark.slow  # one probe process per model x variant
FAST = {"batch_sizes": (1, 8), "threads": 1, "budget_s": 0.05, "target_rel": 0.05}
N_TEST = 300


@pytest.fixture
def one_thread() -> Iterator[None]:
    """In-process probes set torch's threads (to FAST's 1); put the suite's setting back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).reshape(-1, 8, 8).astype(np.float32)
    return x[N_TEST:], y[N_TEST:], x[:N_TEST], y[:N_TEST]


def _train(module: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> torch.nn.Module:
    torch.manual_seed(0)
    opt = torch.optim.Adam(module.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x[:600]), torch.from_numpy(y[:600]).long()
    module.train()
    for _ in range(60):  # full batch: enough for ~90% accuracy, in about a second
        opt.zero_grad()
        torch.nn.functional.cross_entropy(module(xt), yt).backward()
        opt.step()
    return module.eval()


def _measure(
    name: str, digits: Any, tmp_path: Path, *, in_process: bool
) -> tuple[CostProfile, torch.nn.Module, Any]:
    x_train, y_train, x_test, y_test = digits
    module = _train(getattr(zoo, name)(), x_train, y_train)
    weights = tmp_path / f"{name}.safetensors"
    save_file(module.state_dict(), str(weights))
    ref = parse_ref(f"torch:whichmodel.demo.zoo:{name}?weights={weights}")
    task = get_task("classification")
    inputs = Inputs("array", x_test, ("image",))
    y_true = task.read_labels(y_test)
    profile = measure_cost(
        ref,
        inputs,
        variants=("fp32", "int8", "onnx"),
        quality=QualityData(inputs, y_true, task),
        in_process=in_process,
        **FAST,
    )
    with torch.inference_mode():
        pred = module(torch.from_numpy(x_test)).argmax(1).numpy()
    return profile, module, accuracy_score(y_test, pred)


def _check_common(profile: CostProfile, accuracy: float, fp32_bytes: int) -> None:
    assert profile.skipped_variants == {}
    assert [profile.variant, *(v.variant for v in profile.variants)] == ["fp32", "int8", "onnx"]
    reference = profile.quality
    assert reference is not None and reference.reference == "fp32"
    assert reference.agreement == 1.0 and set(reference.deltas.values()) == {0.0}
    assert reference.metrics["accuracy"] == pytest.approx(accuracy)  # sklearn on our own preds
    assert reference.n_examples == N_TEST
    assert profile.weight_bytes == fp32_bytes
    for p in (profile, *profile.variants):
        assert set(p.latency) == {1, 8} and all(lat.n >= 6 for lat in p.latency.values())
        assert p.threads == 1 and p.timer_overhead_s is not None and p.timer_overhead_s > 0
        q = p.quality
        assert q is not None and 0.0 <= q.agreement <= 1.0
        assert q.deltas == {k: q.metrics[k] - reference.metrics[k] for k in q.metrics}
    onnx = profile.variant_named("onnx")
    assert onnx.framework == "onnxruntime" and onnx.quality is not None
    assert onnx.quality.agreement >= 0.99  # the same function, float rounding apart
    assert abs(onnx.quality.deltas["accuracy"]) <= 0.01
    assert onnx.weight_bytes == pytest.approx(fp32_bytes, rel=0.05)  # initializers
    int8 = profile.variant_named("int8")
    assert int8.quality is not None and int8.quality.agreement >= 0.9
    assert any("quantize_dynamic" in n for n in int8.notes)


def _int8_bytes(module: torch.nn.Module) -> int:
    """Linear weights at 1 byte; everything else (biases, convs, norms) stays 4 bytes."""
    total = 0
    for m in module.modules():
        for name, p in m.named_parameters(recurse=False):
            one_byte = isinstance(m, torch.nn.Linear) and name == "weight"
            total += p.numel() * (1 if one_byte else 4)
    return total


def test_mlp_variants_with_quality(digits: Any, tmp_path: Path) -> None:
    """End to end: each variant in its own fresh probe process."""
    profile, module, accuracy = _measure("mlp", digits, tmp_path, in_process=False)
    n_params = sum(p.numel() for p in module.parameters())
    _check_common(profile, accuracy, n_params * 4)
    assert profile.variant_named("int8").weight_bytes == _int8_bytes(module)


def test_cnn_variants_with_quality(digits: Any, tmp_path: Path, one_thread: None) -> None:
    """The same probe code run in this process (a fresh process per variant costs ~10 s each on
    a loaded machine; the MLP test covers the subprocess path)."""
    profile, module, accuracy = _measure("cnn", digits, tmp_path, in_process=True)
    n_params = sum(p.numel() for p in module.parameters())
    _check_common(profile, accuracy, n_params * 4)
    assert profile.buffer_bytes == sum(b.numel() * b.element_size() for b in module.buffers())
    assert profile.variant_named("int8").weight_bytes == _int8_bytes(module)  # only the head


WORDS = ("the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "park", "and", "home")


def test_tiny_llama_variants_generation_and_quality(tmp_path: Path, one_thread: None) -> None:
    folder = tmp_path / "llama"
    model = build_tiny_gqa_llama(folder, words=WORDS)
    n_params = sum(p.numel() for p in model.parameters())  # embeddings tied? counted once
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(WORDS, size=int(rng.integers(4, 12)))) for _ in range(24)]
    data = tmp_path / "prompts.csv"
    pd.DataFrame({"text": texts}).to_csv(data, index=False)
    inputs = Inputs("text", np.asarray(texts, dtype=object), ("text",))
    profile = measure_cost(
        parse_ref(f"hf:{folder}"),
        inputs,
        variants=("fp32", "int8", "onnx"),
        quality=QualityData(inputs),
        generation=GenerationConfig(prompt_tokens=(8,), new_tokens=(4,), kv_growth_tokens=16),
        in_process=True,
        **FAST,
    )
    assert profile.skipped_variants == {}
    assert profile.weight_bytes == n_params * 4
    assert profile.tokens == {1: 8, 8: 64}  # b prompts of 8 tokens
    assert profile.kv_cache is not None and profile.kv_cache.bytes_per_token == 2 * 3 * 2 * 16 * 4
    assert {(g.kv_cache, g.batch_size) for g in profile.generation} == {(True, 1), (False, 1)}
    ref_quality = profile.quality
    assert ref_quality is not None and ref_quality.agreement == 1.0
    assert ref_quality.metrics["nll"] == pytest.approx(_mean_nll(model, folder, texts), rel=1e-5)
    onnx = profile.variant_named("onnx")
    assert onnx.quality is not None and onnx.quality.agreement >= 0.99
    assert [g.kv_cache for g in onnx.generation] == [False]  # the export has no cache inputs
    int8 = profile.variant_named("int8")
    assert int8.quality is not None and 0.5 <= int8.quality.agreement <= 1.0
    assert int8.weight_bytes is not None and int8.weight_bytes < profile.weight_bytes
    assert int8.quality.deltas["nll"] == pytest.approx(
        int8.quality.metrics["nll"] - ref_quality.metrics["nll"]
    )


def _mean_nll(model: torch.nn.Module, folder: Path, texts: list[str]) -> float:
    """Mean next-token cross-entropy over real (unpadded) tokens, one text at a time."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    losses = []
    with torch.inference_mode():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt")["input_ids"]
            logits = model(input_ids=ids).logits[0]
            losses.append(
                torch.nn.functional.cross_entropy(logits[:-1], ids[0, 1:], reduction="none")
            )
    return float(torch.cat(losses).mean())
