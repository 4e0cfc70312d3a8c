"""Safe by default, and every failure a user can cause is a WhichModelError with a clear message."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest

from whichmodel.errors import ModelLoadError, ModelReferenceError, UnsafeModelError
from whichmodel.refs import parse_ref
from whichmodel.sources import Inputs, LoadOptions, load, reference_files

ALLOW_PICKLE = LoadOptions(allow_pickle=True)


@pytest.fixture
def untrusted_code(helpers_dir, monkeypatch):
    """tests/helpers/untrusted_code.py, importable by name for the length of one test."""
    monkeypatch.delitem(sys.modules, "untrusted_code", raising=False)
    monkeypatch.syspath_prepend(str(helpers_dir))
    import untrusted_code

    return untrusted_code


# --- scikit-learn: pickles and foreign types ---------------------------------------------------


@pytest.fixture(scope="module")
def logreg_joblib(logreg, tmp_path_factory):
    import joblib

    path = tmp_path_factory.mktemp("joblib") / "logreg.joblib"
    joblib.dump(logreg.model, path)
    return path


def test_joblib_is_refused_without_allow_pickle(logreg_joblib):
    with pytest.raises(UnsafeModelError, match="allow-pickle"):
        load(f"sklearn:{logreg_joblib}")


def test_joblib_loads_with_allow_pickle(logreg_joblib, logreg, tabular_inputs):
    model = load(str(logreg_joblib), ALLOW_PICKLE)  # a bare .joblib path is an sklearn reference
    expected = logreg.model.predict_proba(tabular_inputs.data)
    np.testing.assert_array_equal(model.predict(tabular_inputs).array, expected)


@pytest.fixture
def foreign_pipeline(untrusted_code, digits, tmp_path):
    """A skops file whose Pipeline calls a function from outside the estimator libraries."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipeline = make_pipeline(
        FunctionTransformer(func=untrusted_code.scale_pixels),
        LogisticRegression(max_iter=1000, random_state=0),
    ).fit(digits.x_train * 16.0, digits.y_train)
    path = tmp_path / "pipeline.skops"
    sio.dump(pipeline, path)
    assert "untrusted_code.scale_pixels" in sio.get_untrusted_types(file=path)
    return path, pipeline


def test_skops_with_a_foreign_type_is_refused_without_allow_pickle(foreign_pipeline):
    path, _ = foreign_pipeline
    with pytest.raises(UnsafeModelError, match=r"untrusted_code\.scale_pixels.*--allow-pickle"):
        load(f"sklearn:{path}")


def test_skops_with_a_foreign_type_loads_with_allow_pickle(foreign_pipeline, tabular_inputs):
    path, pipeline = foreign_pipeline
    model = load(f"sklearn:{path}", ALLOW_PICKLE)
    assert model.info.architecture == "FunctionTransformer → LogisticRegression"
    assert model.info.framework == "sklearn"
    x = tabular_inputs.data * 16.0
    out = model.predict(Inputs("tabular", x, tabular_inputs.columns))
    np.testing.assert_array_equal(out.array, pipeline.predict_proba(x))


def test_library_types_skops_does_not_trust_load_in_one_audited_pass(digits, tmp_path):
    """HistGradientBoosting holds TreePredictor, which skops flags; the types read from the
    file's schema cover it, so the one-pass load trusts it as get_untrusted_types would."""
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingClassifier

    from whichmodel.sources.sklearn import schema_types

    est = HistGradientBoostingClassifier(max_iter=3).fit(digits.x_train, digits.y_train)
    path = tmp_path / "hgb.skops"
    sio.dump(est, path)
    flagged = set(sio.get_untrusted_types(file=path))
    assert flagged and flagged <= schema_types(path).keys()
    model = load(f"sklearn:{path}")
    assert type(model.estimator) is HistGradientBoostingClassifier


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_unreadable_skops_file_is_a_load_error(logreg, tmp_path, damage):
    data = logreg.path.read_bytes()
    path = tmp_path / "broken.skops"
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"not a zip file")
    with pytest.raises(ModelLoadError, match=r"broken\.skops"):
        load(f"sklearn:{path}")


@pytest.mark.parametrize(
    "ref",
    [
        "sklearn:{tmp}/missing.skops",
        "{tmp}/missing.joblib",
        "torch:{tmp}/missing.pt",
        "torch:{tmp}/missing.pt2",
        "torch:{helper}:mlp?weights={tmp}/missing.safetensors",
        "torch:{tmp}/missing.py:mlp",
        "hf:{tmp}/missing-folder",
    ],
)
def test_missing_file_is_a_reference_error(ref, tmp_path, helpers_dir):
    text = ref.format(tmp=tmp_path, helper=helpers_dir / "tiny_torch.py")
    with pytest.raises(ModelReferenceError, match="missing"):
        load(text, ALLOW_PICKLE)
    with pytest.raises(ModelReferenceError, match="missing"):
        reference_files(parse_ref(text))


# --- torch ---------------------------------------------------------------------------------------


def test_weights_that_do_not_fit_the_factory_are_a_load_error(mlp_weights, helpers_dir):
    ref = f"torch:{helpers_dir / 'tiny_torch.py'}:mlp?weights={mlp_weights}&hidden=8"
    with pytest.raises(ModelLoadError, match="do not fit"):
        load(ref)


def test_a_state_dict_is_not_torchscript(tiny_mlp, tmp_path):
    import torch

    path = tmp_path / "state.pt"
    torch.save(tiny_mlp.state_dict(), path)
    with pytest.raises(ModelLoadError, match=r"not a TorchScript file.*factory"):
        load(f"torch:{path}", ALLOW_PICKLE)


def test_a_plain_state_dict_loads_through_a_factory(
    tiny_mlp, tmp_path, helpers_dir, tabular_inputs
):
    import torch

    path = tmp_path / "state.pt"
    torch.save(tiny_mlp.state_dict(), path)
    model = load(f"torch:{helpers_dir / 'tiny_torch.py'}:mlp?weights={path}")
    with torch.inference_mode():
        expected = tiny_mlp(torch.from_numpy(tabular_inputs.data.astype(np.float32))).numpy()
    np.testing.assert_allclose(model.predict(tabular_inputs).array, expected, rtol=1e-6)


def test_a_checkpoint_beyond_tensors_needs_allow_pickle(tiny_mlp, tmp_path, helpers_dir):
    """weights_only refuses any class it does not know (here a UserDict); the user may allow it."""
    import collections

    import torch

    path = tmp_path / "checkpoint.pt"
    torch.save(collections.UserDict(tiny_mlp.state_dict()), path)
    ref = f"torch:{helpers_dir / 'tiny_torch.py'}:mlp?weights={path}"
    with pytest.raises(UnsafeModelError, match=r"checkpoint\.pt holds Python objects.*--allow"):
        load(ref)
    assert load(ref, ALLOW_PICKLE).info.parameters == sum(p.numel() for p in tiny_mlp.parameters())


def test_garbage_safetensors_is_a_load_error(tmp_path, helpers_dir):
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(b"junk")
    with pytest.raises(ModelLoadError, match=r"garbage\.safetensors is not a valid safetensors"):
        load(f"torch:{helpers_dir / 'tiny_torch.py'}:mlp?weights={path}")


def test_garbage_pt2_is_a_load_error(tmp_path):
    path = tmp_path / "garbage.pt2"
    path.write_bytes(b"not an archive")
    with pytest.raises(ModelLoadError, match=r"not a torch\.export archive"):
        load(f"torch:{path}", ALLOW_PICKLE)


@pytest.mark.parametrize(("name", "what"), [("m.pt", "TorchScript"), ("m.pt2", "torch.export")])
def test_archives_that_can_run_code_need_allow_pickle(tmp_path, name, what):
    path = tmp_path / name
    path.write_bytes(b"whatever is inside is never read")
    with pytest.raises(UnsafeModelError, match=f"{what}.*--allow-pickle"):
        load(f"torch:{path}")


def test_unknown_factory_is_a_reference_error(helpers_dir, mlp_weights):
    with pytest.raises(ModelReferenceError, match="no callable 'resnet'"):
        load(f"torch:{helpers_dir / 'tiny_torch.py'}:resnet?weights={mlp_weights}")


def test_unknown_factory_argument_is_a_reference_error(helpers_dir):
    with pytest.raises(ModelReferenceError, match="depth"):
        load(f"torch:{helpers_dir / 'tiny_torch.py'}:mlp?depth=3")


def test_unimportable_module_is_a_reference_error():
    with pytest.raises(ModelReferenceError, match=r"Cannot import module 'no_such_pkg\.zoo'"):
        load("torch:no_such_pkg.zoo:mlp")


def test_unknown_output_mode_is_a_reference_error(helpers_dir):
    with pytest.raises(ModelReferenceError, match="'output' parameter"):
        load(f"torch:{helpers_dir / 'tiny_torch.py'}:mlp?output=softmax")


# --- Hugging Face --------------------------------------------------------------------------------


def _custom_code_folder(tiny_bert, tmp_path, *, custom_config: bool):
    folder = tmp_path / "custom"
    shutil.copytree(tiny_bert.path, folder)
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["FancyBertForSequenceClassification"]
    config["auto_map"] = {
        "AutoModelForSequenceClassification": "modeling_fancy.FancyBertForSequenceClassification"
    }
    if custom_config:
        config["auto_map"]["AutoConfig"] = "configuration_fancy.FancyConfig"
        config["model_type"] = "fancy-bert"
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize("custom_config", [False, True], ids=["custom_head", "custom_config"])
def test_folder_with_custom_code_needs_trust_remote_code(tiny_bert, tmp_path, custom_config):
    folder = _custom_code_folder(tiny_bert, tmp_path, custom_config=custom_config)
    with pytest.raises(UnsafeModelError, match="--trust-remote-code"):
        load(f"hf:{folder}")


def test_unknown_architecture_without_code_is_a_load_error(tiny_bert, tmp_path):
    folder = tmp_path / "unknown"
    shutil.copytree(tiny_bert.path, folder)
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["NoSuchModelForThings"]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="NoSuchModelForThings"):
        load(f"hf:{folder}")


def test_hf_folder_with_garbage_weights_is_a_load_error(tiny_bert, tmp_path):
    folder = tmp_path / "garbage"
    shutil.copytree(tiny_bert.path, folder)
    (folder / "model.safetensors").write_bytes(b"junk")
    with pytest.raises(ModelLoadError, match=r"model\.safetensors is not a valid safetensors"):
        load(f"hf:{folder}")


def test_hf_folder_without_config_is_a_reference_error(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelReferenceError, match=r"no config\.json"):
        load(f"hf:{tmp_path}")


def test_unsupported_kind_names_the_supported_ones():
    with pytest.raises(ModelReferenceError, match="use one of: hf, onnx, openai, sklearn, torch"):
        load("gguf:model.gguf")
