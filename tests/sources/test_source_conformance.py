"""The conformance suite every model source passes: one tiny real model per kind of reference.

Each case is a reference string, the inputs it reads, and what the framework itself says about the
same model (its outputs, parameter count and classes), computed from the in-memory object.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from whichmodel.refs import parse_ref
from whichmodel.sources import Inputs, LoadOptions, Model, load, reference_files

# TorchScript is deprecated in torch >= 2.9 and torch.jit.load says so; reading it is the point.


@dataclass(frozen=True)
class Case:
    """A reference and what loading it must give.

    Args:
        expected: the framework's own output for ``inputs`` (first axis = examples).
        parameters: the exact parameter count, or None where only "positive" is checked.
        architecture: the exact class name, or None where only "non-empty" is checked.
        syspath: a folder the reference needs on ``sys.path`` (dotted ``torch:`` references).
    """

    ref: str
    inputs: Inputs
    weights: Path
    kind: str
    expected: np.ndarray
    framework: str
    architecture: str | None
    parameters: int | None
    classes: tuple[str, ...] | None
    syspath: Path | None = None


def _sklearn_case(fx: Callable[[str], object], name: str, *, frame: bool = False) -> Case:
    saved, inputs = fx(name), fx("tabular_inputs")
    est = saved.model
    x = inputs.data
    if frame:
        import pandas as pd

        x = pd.DataFrame(x, columns=list(inputs.columns))
    classes = getattr(est, "classes_", None)
    linear = hasattr(est, "coef_") and type(est).__module__.startswith("sklearn")
    return Case(
        ref=f"sklearn:{saved.path}",
        inputs=inputs,
        weights=saved.path,
        kind="proba" if classes is not None else "values",
        expected=est.predict_proba(x) if classes is not None else est.predict(x),
        framework=type(est).__module__.split(".")[0],
        architecture=type(est).__name__,
        parameters=int(np.size(est.coef_) + np.size(est.intercept_)) if linear else None,
        classes=tuple(str(c) for c in classes) if classes is not None else None,
    )


def _torch_expected(fx: Callable[[str], object], inputs: Inputs) -> tuple[np.ndarray, int]:
    import torch

    module = fx("tiny_mlp")
    with torch.inference_mode():
        out = module(torch.from_numpy(np.asarray(inputs.data, dtype=np.float32)))
    return out.numpy(), sum(p.numel() for p in module.parameters())


def _torch_case(fx: Callable[[str], object], form: str) -> Case:
    inputs = fx("image_inputs" if form in {"torchscript", "export"} else "tabular_inputs")
    expected, n_params = _torch_expected(fx, inputs)
    weights = fx("mlp_weights")
    helper = fx("helpers_dir") / "tiny_torch.py"
    syspath, classes = None, None
    if form == "path":
        ref = f"torch:{helper}:mlp?weights={weights}&hidden=16"
    elif form == "dotted":
        classes = tuple(str(i) for i in range(10))
        ref = f"torch:tiny_torch:mlp?weights={weights}&classes={','.join(classes)}"
        syspath = helper.parent
    else:
        weights = fx("mlp_torchscript" if form == "torchscript" else "mlp_exported")
        ref = f"torch:{weights}"
    return Case(
        ref=ref,
        inputs=inputs,
        weights=weights,
        kind="logits",
        expected=expected,
        framework="torch",
        architecture=None if form == "export" else "TinyMLP",  # an exported graph: GraphModule
        parameters=n_params,
        classes=classes,
        syspath=syspath,
    )


def _hf_case(fx: Callable[[str], object]) -> Case:
    import torch

    saved, inputs = fx("tiny_bert"), fx("text_inputs")
    model, tokenizer = saved.model
    batch = tokenizer(list(inputs.data), padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = model(**batch).logits.numpy()
    return Case(
        ref=f"hf:{saved.path}",
        inputs=inputs,
        weights=saved.path / "model.safetensors",
        kind="logits",
        expected=expected,
        framework="transformers",
        architecture="BertForSequenceClassification",
        parameters=sum(p.numel() for p in model.parameters()),
        classes=("neg", "neu", "pos"),
    )


CASES: dict[str, Callable[[Callable[[str], object]], Case]] = {
    "logreg": lambda fx: _sklearn_case(fx, "logreg"),
    "hist_gb": lambda fx: _sklearn_case(fx, "hist_gb"),
    "ridge": lambda fx: _sklearn_case(fx, "ridge"),
    "xgboost": lambda fx: _sklearn_case(fx, "xgb"),
    "lightgbm": lambda fx: _sklearn_case(fx, "lgbm", frame=True),
    "torch_path": lambda fx: _torch_case(fx, "path"),
    "torch_dotted": lambda fx: _torch_case(fx, "dotted"),
    "torchscript": lambda fx: _torch_case(fx, "torchscript"),
    "torch_export": lambda fx: _torch_case(fx, "export"),
    "hf_bert": _hf_case,
}
PARAMS = [pytest.param(name, id=name) for name in CASES]


@pytest.fixture(scope="module")
def built_cases() -> dict[str, Case]:
    """Cases built so far: the framework's own outputs are computed once per case."""
    return {}


@pytest.fixture(params=PARAMS)
def case(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, built_cases: dict[str, Case]
) -> Case:
    if request.param not in built_cases:
        built_cases[request.param] = CASES[request.param](request.getfixturevalue)
    built = built_cases[request.param]
    if built.syspath is not None:
        monkeypatch.delitem(sys.modules, "tiny_torch", raising=False)  # import it afresh
        monkeypatch.syspath_prepend(str(built.syspath))
    return built


@pytest.fixture
def model(case: Case) -> Model:
    # TorchScript and torch.export archives can run code when loaded: the user must allow it.
    return load(case.ref, LoadOptions(allow_pickle=str(case.ref).endswith((".pt", ".pt2"))))


def _permutation(n: int) -> np.ndarray:
    return np.random.default_rng(1).permutation(n)


def test_predict_gives_one_row_per_example_and_matches_the_framework(case: Case, model: Model):
    out = model.predict(case.inputs)
    assert out.kind == case.kind
    assert out.array.shape[0] == len(case.inputs)
    assert out.array.shape == case.expected.shape
    assert np.isfinite(out.array).all()
    np.testing.assert_allclose(out.array, case.expected, rtol=1e-5, atol=1e-6)
    if out.kind == "proba":
        np.testing.assert_allclose(out.array.sum(axis=1), 1.0, atol=1e-6)
    if out.kind in {"proba", "logits"} and model.classes is not None:
        assert out.array.shape[1] == len(model.classes)


def test_predict_is_deterministic(case: Case, model: Model):
    first, second = model.predict(case.inputs), model.predict(case.inputs)
    assert first.kind == second.kind
    np.testing.assert_array_equal(first.array, second.array)


def test_batch_order_invariance(case: Case, model: Model):
    order = _permutation(len(case.inputs))
    full = model.predict(case.inputs).array
    permuted = model.predict(case.inputs.take(order)).array
    np.testing.assert_allclose(permuted, full[order], rtol=1e-5, atol=1e-6)


def test_batch_split_invariance(case: Case, model: Model):
    half = len(case.inputs) // 2
    full = model.predict(case.inputs).array
    parts = [model.predict(case.inputs.take(s)).array for s in (slice(0, half), slice(half, None))]
    np.testing.assert_allclose(np.concatenate(parts), full, rtol=0, atol=1e-5)


def test_info_describes_the_model(case: Case, model: Model):
    info = model.info
    assert info.framework == case.framework
    assert info.architecture
    if case.architecture is not None:
        assert info.architecture == case.architecture
    assert isinstance(info.parameters, int) and info.parameters > 0
    if case.parameters is not None:
        assert info.parameters == case.parameters
    assert info.files and all(Path(f).is_file() for f in info.files)


def test_classes(case: Case, model: Model):
    assert model.classes == case.classes


def test_reference_files_exist_and_are_the_files_read(case: Case, model: Model):
    files = reference_files(parse_ref(case.ref))
    assert all(Path(f).is_file() for f in files)
    resolved = {Path(f).resolve() for f in files}
    assert case.weights.resolve() in resolved
    assert resolved == {Path(f).resolve() for f in model.info.files}


def test_regression_gives_one_value_per_example(ridge, tabular_inputs):
    out = load(f"sklearn:{ridge.path}").predict(tabular_inputs)
    assert out.kind == "values"
    assert out.array.shape == (len(tabular_inputs),)
    assert out.array.dtype == np.float64
