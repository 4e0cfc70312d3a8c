"""The conformance suite every model source passes: every kind ``whichmodel.refs.SOURCES`` lists,
and the hidden ``fake``, on the tiny real models of ``source_cases.py``.

For each case: its files exist; ``predict`` gives one row per example of the declared kind,
equal to the framework's own output, the same after a second load, in any batch order and
split; ``info`` and ``classes`` describe the model; ``inspect`` gives a sheet with a name and a
parameter count (or why not); a missing file is one line. Each capability a model declares is
called on a tiny batch (``capability_probes.py``). A kind registered without a case fails here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pytest

import whichmodel
from conformance.capability_probes import CAPABILITIES, PROBES, assert_same
from conformance.source_cases import CASES, SourceCase, Spec
from whichmodel.errors import ModelReferenceError, WhichModelError
from whichmodel.refs import SOURCES, parse_ref
from whichmodel.sources import Model, fingerprint_files, load, reference_files, source

USES_TORCH = True
KINDS = (*SOURCES.names(), "fake")  # the listed kinds, and the hidden one the tests use
SPECS = {name: spec for specs in CASES.values() for name, spec in specs.items()}


def _params(want: Callable[[Spec], bool] = lambda spec: True) -> list[object]:
    """The cases of every registered kind that ``want`` selects; a kind without any case gives
    a parameter whose test fails (a missing case is a failure, never a skip)."""
    params: list[object] = []
    for kind in KINDS:
        specs = CASES.get(kind, {})
        if not specs:
            params.append(pytest.param(f"<{kind}>", id=f"{kind}-has-no-case"))
        params += [pytest.param(name, id=name) for name, s in specs.items() if want(s)]
    return params


ALL = _params()
LOADS = _params(lambda s: bool(s.capabilities))
PREDICTS = _params(lambda s: "predict" in s.capabilities)
INSPECT_ONLY = _params(lambda s: not s.capabilities)
PREDICTS_AND_MORE = _params(lambda s: "predict" in s.capabilities and len(s.capabilities) > 1)
CAPABILITY_PARAMS = [
    pytest.param(name, capability, id=f"{name}-{capability}")
    for name, spec in SPECS.items()
    for capability in sorted(spec.capabilities - {"predict"})
]


@pytest.fixture(scope="module")
def built() -> dict[str, object]:
    """Cases built and models loaded so far (predict must not change a model's state, which
    ``test_capabilities_leave_predict_unchanged`` checks on a fresh load)."""
    return {}


@pytest.fixture
def case(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, built: dict[str, object]
) -> SourceCase:
    name = request.param
    if name not in SPECS:
        pytest.fail(
            f"The model source {name[1:-1]!r} is registered in whichmodel.refs.SOURCES but has "
            "no conformance case: add one to CASES in tests/conformance/source_cases.py."
        )
    if name not in built:
        built[name] = SPECS[name].case(request.getfixturevalue)
    made = built[name]
    assert isinstance(made, SourceCase)
    if made.syspath is not None:
        monkeypatch.delitem(sys.modules, "tiny_torch", raising=False)  # import it afresh
        monkeypatch.syspath_prepend(str(made.syspath))
    return made


@pytest.fixture
def model(case: SourceCase, built: dict[str, object]) -> Model:
    key = f"model:{case.ref}"
    if key not in built:
        built[key] = load(case.ref, case.options)
    loaded = built[key]
    assert isinstance(loaded, Model)
    return loaded


def _permutation(n: int) -> np.ndarray:
    return np.random.default_rng(1).permutation(n)


def _assert_one_line(error: BaseException) -> None:
    message = str(error)
    assert message.strip() == message and message and "\n" not in message, message


def _assert_same_rows(
    actual: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float
) -> None:
    if expected.dtype.kind in "fc":
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)
    else:  # labels and texts: exactly
        np.testing.assert_array_equal(actual, expected)


def test_every_registered_kind_has_cases_and_every_capability_a_model() -> None:
    assert "fake" in SOURCES and "fake" not in SOURCES.names()
    assert set(CASES) == set(KINDS), "a kind registered without cases, or cases of no kind"
    declared = set().union(*(spec.capabilities for spec in SPECS.values()))
    assert declared - {"predict"} == CAPABILITIES == set(PROBES)


@pytest.mark.parametrize("case", ALL, indirect=True)
def test_files_exist_and_are_the_files_read(case: SourceCase) -> None:
    ref = parse_ref(case.ref)
    files = SOURCES.get(ref.kind).files(ref, code=False)
    assert files == reference_files(ref)
    assert all(Path(f).is_file() for f in files)
    assert set(files) <= set(fingerprint_files(ref))
    resolved = {Path(f).resolve() for f in files}
    if case.weights is None:
        assert files == ()
    else:
        assert case.weights.resolve() in resolved
    if case.capabilities:  # a model it loads was read from exactly these files
        assert resolved == {Path(f).resolve() for f in load(case.ref, case.options).info.files}


@pytest.mark.parametrize("case", ALL, indirect=True)
def test_inspect_gives_a_sheet_with_a_name_and_a_parameter_count(case: SourceCase) -> None:
    sheet = whichmodel.inspect(case.ref, load=case.options)
    assert isinstance(sheet, whichmodel.SpecSheet)
    assert sheet.identity.name == parse_ref(case.ref).name
    total = sheet.size.total
    if total.value is None:  # unknown, and the sheet says why
        assert total.source == "unknown" and total.note.strip()
    else:
        assert isinstance(total.value, int) and total.value >= 0
        if case.parameters is not None:
            assert total.value == case.parameters


@pytest.mark.parametrize("case", ALL, indirect=True)
def test_a_missing_file_is_one_line(case: SourceCase) -> None:
    bad = parse_ref(case.missing_ref)
    if case.path is not None:
        with pytest.raises(ModelReferenceError) as found:
            SOURCES.get(bad.kind).files(bad)
        _assert_one_line(found.value)
        assert str(case.path.parent / "missing") in str(found.value)
    with pytest.raises(ModelReferenceError) as refused:
        load(bad, case.options)
    _assert_one_line(refused.value)
    with pytest.raises(WhichModelError) as uninspectable:
        whichmodel.inspect(bad, load=case.options)
    _assert_one_line(uninspectable.value)


@pytest.mark.parametrize("case", ALL, indirect=True)
def test_the_source_declares_its_options_and_refuses_any_other(case: SourceCase) -> None:
    """Every source says which ``?key=`` options it reads (None: a torch factory passes the
    rest to the user's code); the case's own options pass, an unknown one is one line that
    names it, before any file is read or model loaded."""
    ref = parse_ref(case.ref)
    declared = source(ref.kind).options(ref)
    if declared is None:
        assert ref.kind == "torch" and ":" in ref.target  # a factory's keyword arguments
        return
    assert isinstance(declared, Mapping)
    assert all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in declared.items())
    fingerprint_files(ref)  # the case's own options are all known
    sep = "&" if "?" in case.ref else "?"
    bad = parse_ref(f"{case.ref}{sep}zzz_unknown=1")
    for use in (fingerprint_files, lambda r: load(r, case.options),
                lambda r: whichmodel.inspect(r, load=case.options)):
        with pytest.raises(ModelReferenceError) as refused:
            use(bad)
        _assert_one_line(refused.value)
        assert f"The option 'zzz_unknown' of {ref.kind}:{ref.target} is not one" in str(
            refused.value
        )
        assert "Options: " in str(refused.value) and "name" in str(refused.value)


@pytest.mark.parametrize("case", INSPECT_ONLY, indirect=True)
def test_a_source_that_only_inspects_refuses_to_load_in_one_line(case: SourceCase) -> None:
    with pytest.raises(ModelReferenceError) as refused:
        load(case.ref, case.options)
    _assert_one_line(refused.value)
    assert f"'{parse_ref(case.ref).kind}:'" in str(refused.value)


@pytest.mark.parametrize("case", PREDICTS, indirect=True)
def test_predict_gives_one_row_per_example_of_the_declared_kind(
    case: SourceCase, model: Model
) -> None:
    assert case.inputs is not None
    out = model.predict(case.inputs)
    assert out.kind == case.kind
    assert out.array.shape[0] == len(case.inputs)
    if out.kind == "texts":
        assert all(isinstance(t, str) for t in out.array)
    else:
        assert out.array.dtype.kind == "f" and np.isfinite(out.array).all()
    if case.expected is not None:  # what the framework itself computes
        assert out.array.shape == case.expected.shape
        np.testing.assert_allclose(out.array, case.expected, rtol=1e-5, atol=1e-6)
    if out.kind == "proba":
        np.testing.assert_allclose(out.array.sum(axis=1), 1.0, atol=1e-6)
    if out.kind in {"proba", "logits"} and model.classes is not None:
        assert out.array.shape[-1] == len(model.classes)


@pytest.mark.parametrize("case", PREDICTS, indirect=True)
def test_predict_is_deterministic(case: SourceCase, model: Model) -> None:
    assert case.inputs is not None
    first, second = model.predict(case.inputs), model.predict(case.inputs)
    assert first.kind == second.kind
    np.testing.assert_array_equal(first.array, second.array)


@pytest.mark.parametrize("case", PREDICTS, indirect=True)
def test_two_loads_predict_bit_equal(case: SourceCase, model: Model) -> None:
    assert case.inputs is not None
    again = load(case.ref, case.options)
    assert again is not model
    first, second = model.predict(case.inputs), again.predict(case.inputs)
    assert first.kind == second.kind
    np.testing.assert_array_equal(first.array, second.array)


@pytest.mark.parametrize("case", PREDICTS, indirect=True)
def test_batch_order_invariance(case: SourceCase, model: Model) -> None:
    assert case.inputs is not None
    order = _permutation(len(case.inputs))
    full = model.predict(case.inputs).array
    permuted = model.predict(case.inputs.take(order)).array
    # BLAS may sum in another order for another batch: equal to float32 rounding.
    _assert_same_rows(permuted, full[order], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", PREDICTS, indirect=True)
def test_batch_split_invariance(case: SourceCase, model: Model) -> None:
    assert case.inputs is not None
    half = len(case.inputs) // 2
    full = model.predict(case.inputs).array
    for rows in (slice(0, half), slice(half, None)):
        part = model.predict(case.inputs.take(rows)).array
        whole = full[rows]
        if part.ndim >= 3:  # (n, T, ...) per token: a smaller batch pads to fewer tokens
            whole = whole[:, : part.shape[1]]
        _assert_same_rows(part, whole, rtol=0, atol=1e-5)


@pytest.mark.parametrize("case", LOADS, indirect=True)
def test_info_describes_the_model(case: SourceCase, model: Model) -> None:
    info = model.info
    assert info.framework == case.framework
    assert info.architecture
    if case.architecture is not None:
        assert info.architecture == case.architecture
    if not case.weights_read:  # a served model: its weights are never read, their count unknown
        assert info.parameters is None
    else:
        assert isinstance(info.parameters, int)
        if case.parameters is not None:
            assert info.parameters == case.parameters
        else:
            assert info.parameters > 0
    assert all(Path(f).is_file() for f in info.files)
    assert bool(info.files) == (case.weights is not None)


@pytest.mark.parametrize("case", LOADS, indirect=True)
def test_classes(case: SourceCase, model: Model) -> None:
    assert model.classes == case.classes


@pytest.mark.parametrize("case", LOADS, indirect=True)
def test_capabilities_are_the_declared_ones(case: SourceCase, model: Model) -> None:
    assert model.capabilities == case.capabilities
    assert model.capabilities - {"predict"} <= set(PROBES)


@pytest.mark.parametrize(("case", "capability"), CAPABILITY_PARAMS, indirect=["case"])
def test_capability_gives_one_output_per_input_in_any_order(
    case: SourceCase, capability: str
) -> None:
    model = load(case.ref, case.options)  # fresh: no earlier call may shape what it returns
    probe = PROBES[capability]
    items = probe.items(model)
    out = probe.call(model, items)
    assert len(out) == len(items)
    for item, one in zip(items, out, strict=True):
        probe.check(model, item, one)
    assert_same(probe.call(model, items), out, rtol=0.0)  # deterministic
    order = _permutation(len(items))
    permuted = probe.call(model, [items[i] for i in order])
    assert_same(permuted, [out[i] for i in order], rtol=1e-6)


@pytest.mark.parametrize("case", PREDICTS_AND_MORE, indirect=True)
def test_capabilities_leave_predict_unchanged(case: SourceCase) -> None:
    """``predict`` must not change the model's state; nor may any capability (a tokenizer left
    padding on the left would shift every later prediction)."""
    assert case.inputs is not None
    model = load(case.ref, case.options)
    before = model.predict(case.inputs).array
    for capability in sorted(model.capabilities - {"predict"}):
        probe = PROBES[capability]
        probe.call(model, probe.items(model))
    np.testing.assert_array_equal(model.predict(case.inputs).array, before)


def test_regression_gives_one_value_per_example(ridge, tabular_inputs) -> None:
    out = load(f"sklearn:{ridge.path}").predict(tabular_inputs)
    assert out.kind == "values"
    assert out.array.shape == (len(tabular_inputs),)
    assert out.array.dtype == np.float64
