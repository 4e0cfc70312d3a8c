"""Crafted model files, one per way a loader could be turned against the user: run code, write or
read a file it names, or allocate what its header claims. Each is built for real (a control shows
the attack works when its library is told to trust it), then handed to whichmodel the way a user
would, without a flag: refused with one line on stderr, exit 2, and nothing happens."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from whichmodel.errors import ModelLoadError
from whichmodel.sources import inspect

MARKER_CODE = "import pathlib; pathlib.Path({path!r}).write_text('the file ran code')"


def _refused(result: Any, *needles: str) -> str:
    """The one line a refusal prints; asserts exit 2 and nothing else on stderr."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]
    return str(lines[0])


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers.iris import save_iris_models

    return save_iris_models(tmp_path_factory.mktemp("iris"))


def _compare(cli: Callable[..., Any], ref: str, data: Path, label: str, store: Path, *extra: str
             ) -> Any:
    return cli("compare", ref, "--data", str(data), "--label-col", label,
               "--store", str(store / "store.db"), *extra)


# --- skops: code execution and file overwrite ---------------------------------------------------


def _crafted_skops(path: Path, edit: Callable[[dict[str, Any]], None], **attrs: Any) -> Path:
    """A real fitted classifier carrying ``attrs``, saved with skops, whose schema ``edit``
    then rewrites the way an attacker would (the estimator's attributes are
    ``schema["content"]["content"]``)."""
    import numpy as np
    import skops.io as sio
    from sklearn.datasets import load_iris
    from sklearn.dummy import DummyClassifier

    x, y = load_iris(return_X_y=True, as_frame=True)
    estimator = DummyClassifier().fit(x, np.asarray(y))
    for name, value in attrs.items():
        setattr(estimator, name, value)
    sio.dump(estimator, path)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(files["schema.json"])
    edit(schema["content"]["content"])
    files["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def _trusting_everything(path: Path) -> None:
    import skops.io as sio

    sio.load(path, trusted=sio.get_untrusted_types(file=path))


def _scipy_distribution(path: Path, marker: Path) -> Path:
    """A scipy.stats distribution whose state holds the code its ``__setstate__`` execs."""
    def edit(attrs: dict[str, Any]) -> None:
        attrs["dist_"].update(__module__="scipy.stats._continuous_distns", __class__="norm_gen")

    code = MARKER_CODE.format(path=str(marker))
    return _crafted_skops(path, edit, dist_=SimpleNamespace(_parse_arg_template=code))


def _constructed(path: Path, module: str, name: str, args: tuple[Any, ...]) -> Path:
    """An object skops builds by calling ``module.name(*args)`` (a ConstructorFromReduceNode)."""
    def edit(attrs: dict[str, Any]) -> None:
        attrs["obj_"].update(__module__=module, __class__=name, content=attrs.pop("args_"))

    return _crafted_skops(path, edit, obj_=range(0), args_=args)


def test_skops_scipy_distribution_cannot_run_code(iris, tmp_path, cli):
    marker = tmp_path / "ran"
    path = _scipy_distribution(tmp_path / "dist.skops", marker)
    with pytest.raises(KeyError):  # the control: exec runs before scipy misses its methods
        _trusting_everything(path)
    assert marker.read_text() == "the file ran code"
    marker.unlink()

    result = _compare(cli, f"sklearn:{path}", iris / "iris.csv", "target", tmp_path)
    assert not marker.exists()
    line = _refused(result, "scipy.stats._continuous_distns.norm_gen", "--allow-pickle")
    assert "run code" in line


def test_skops_memmap_cannot_overwrite_a_file(iris, tmp_path, cli):
    victim = tmp_path / "precious.txt"
    path = _constructed(tmp_path / "memmap.skops", "numpy", "memmap",
                        (str(victim), "uint8", "w+", 0, 4))
    victim.write_text("the user's data")
    _trusting_everything(path)  # the control: numpy.memmap(victim, mode="w+") truncates it
    assert victim.read_bytes() == b"\0" * 4
    victim.write_text("the user's data")

    result = _compare(cli, f"sklearn:{path}", iris / "iris.csv", "target", tmp_path)
    assert victim.read_text() == "the user's data"
    _refused(result, "numpy.memmap", "overwrite", "--allow-pickle")


def test_skops_booster_constructor_cannot_read_a_path(iris, tmp_path, cli):
    lightgbm = pytest.importorskip("lightgbm")
    secret = tmp_path / "secret.txt"
    secret.write_text("not a model")
    path = _constructed(tmp_path / "booster.skops", "lightgbm.basic", "Booster",
                        (None, None, str(secret)))
    with pytest.raises(lightgbm.basic.LightGBMError, match=r"secret\.txt"):  # the control
        _trusting_everything(path)

    _refused(_compare(cli, f"sklearn:{path}", iris / "iris.csv", "target", tmp_path),
             "lightgbm.basic.Booster", "constructor", "--allow-pickle")


# --- torch: pickled checkpoints and export archives ---------------------------------------------


class _RunsCode:
    """Unpickles into a call of ``exec`` on a string that writes a marker file."""

    def __init__(self, marker: Path) -> None:
        self.code = MARKER_CODE.format(path=str(marker))

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (self.code,))


def test_torch_checkpoint_that_runs_code_is_refused(iris, tmp_path, cli, helpers_dir):
    import torch

    marker = tmp_path / "ran"
    path = tmp_path / "weights.pt"
    torch.save({"hidden.weight": _RunsCode(marker)}, path)
    torch.load(path, weights_only=False)  # the control: a full unpickle runs it
    assert marker.exists()
    marker.unlink()

    ref = f"torch:{helpers_dir / 'tiny_torch.py'}:mlp?weights={path}"
    result = _compare(cli, ref, iris / "iris.csv", "target", tmp_path)
    assert not marker.exists()
    _refused(result, "weights.pt", "run code", "--allow-pickle")


def test_garbage_torch_export_with_allow_pickle_is_one_line(iris, tmp_path, cli):
    path = tmp_path / "garbage.pt2"
    path.write_bytes(b"not an archive")
    _refused(_compare(cli, f"torch:{path}", iris / "iris.csv", "target", tmp_path,
                      "--allow-pickle"), "not a torch.export archive")


# --- Hugging Face folders: pickled weights, remote code -----------------------------------------


@pytest.fixture
def text_csv(tmp_path: Path) -> Path:
    path = tmp_path / "reviews.csv"
    path.write_text("text,label\ngood movie,pos\nbad plot,neg\nthe film was long,neu\n")
    return path


def _copy(tiny_bert: Any, folder: Path) -> Path:
    shutil.copytree(tiny_bert.path, folder)
    return folder


@pytest.mark.parametrize("flag", [(), ("--allow-pickle",)], ids=["no_flag", "allow_pickle"])
def test_pickled_pytorch_model_bin_is_refused_in_one_line(tiny_bert, tmp_path, text_csv, cli,
                                                          flag):
    """Without the flag whichmodel refuses the pickle; with it, transformers' weights-only
    unpickler refuses it, and that is one line too."""
    import torch

    folder = _copy(tiny_bert, tmp_path / "pickled")
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "ran"
    state = dict(tiny_bert.model[0].state_dict())
    state["classifier.weight"] = _RunsCode(marker)
    torch.save(state, folder / "pytorch_model.bin")

    result = _compare(cli, f"hf:{folder}", text_csv, "label", tmp_path, *flag)
    assert not marker.exists()
    _refused(result, "--allow-pickle" if not flag else "safetensors")


@pytest.mark.parametrize("config", ["tokenizer_config.json", "config.json"])
def test_folder_that_names_its_own_code_needs_trust_remote_code(tiny_bert, tmp_path, text_csv,
                                                                cli, config):
    """transformers, told not to trust remote code, quietly uses its own class for these (the
    architecture is one it knows): whichmodel refuses instead of measuring a different model."""
    folder = _copy(tiny_bert, tmp_path / "remote")
    marker = tmp_path / "ran"
    (folder / "custom_code.py").write_text(
        MARKER_CODE.format(path=str(marker)) + "\nfrom transformers import *  # noqa\n")
    data = json.loads((folder / config).read_text())
    data["auto_map"] = ({"AutoTokenizer": ["custom_code.BertTokenizerFast", None]}
                        if config == "tokenizer_config.json"
                        else {"AutoModelForSequenceClassification":
                              "custom_code.BertForSequenceClassification"})
    (folder / config).write_text(json.dumps(data))

    result = _compare(cli, f"hf:{folder}", text_csv, "label", tmp_path)
    assert not marker.exists()
    _refused(result, config, "custom_code", "--trust-remote-code")


# --- safetensors headers that claim more than the file holds ------------------------------------

_GB = 6_400_000_000  # a 40,000 x 40,000 float32 tensor


def _huge_tensor(path: Path) -> None:
    header = {"weight": {"dtype": "F32", "shape": [40_000, 40_000], "data_offsets": [0, _GB]}}
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(64))


def _huge_header(path: Path) -> None:
    path.write_bytes(struct.pack("<Q", _GB) + b"{}")


@pytest.mark.parametrize("write", [_huge_tensor, _huge_header], ids=["tensor", "header_length"])
def test_safetensors_claiming_6gb_is_refused_before_reading(tiny_bert, tmp_path, cli, write):
    from whichmodel.sources import load

    folder = _copy(tiny_bert, tmp_path / "huge")
    write(folder / "model.safetensors")
    claim = r"model\.safetensors is not a valid safetensors file.*6,400,000,000"
    with pytest.raises(ModelLoadError, match=claim):
        load(f"hf:{folder}")
    # The spec sheet reads only the header: the claim makes its storage facts unknown, with
    # the reason, and the sheet comes out (a sheet never dies whole).
    sheet = cli("inspect", f"hf:{folder}", "--json")
    assert sheet.returncode == 0, sheet.stderr
    dtypes = json.loads(sheet.stdout)["storage"]["dtypes"]
    assert dtypes["source"] == "unknown" and "6,400,000,000" in dtypes["note"]


@pytest.mark.parametrize("write", [_huge_tensor, _huge_header], ids=["tensor", "header_length"])
def test_torch_weights_claiming_6gb_are_refused_before_reading(tmp_path, helpers_dir, write):
    from whichmodel.sources import load

    path = tmp_path / "w.safetensors"
    write(path)
    with pytest.raises(ModelLoadError, match=r"not a valid safetensors file.*6,400,000,000"):
        load(f"torch:{helpers_dir / 'tiny_torch.py'}:mlp?weights={path}")


# --- ONNX external data ------------------------------------------------------------------------


def _onnx_with_external_weight(folder: Path, location: str) -> Path:
    """A MatMul graph whose 2x2 float weight is stored as external data at ``location``."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((2, 2), np.float32), "W")
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "16")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])], [weight])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.bin"
    path.write_bytes(b"SECRET-BYTES-16B")
    return path


@pytest.mark.parametrize("where", ["parent", "absolute", "link", "working_dir"])
def test_onnx_external_data_outside_the_model_folder_is_refused(tmp_path, secret, monkeypatch,
                                                                where):
    pytest.importorskip("onnx")
    folder = tmp_path / "model"
    folder.mkdir()
    location = {"parent": "../secret.bin", "absolute": str(secret), "link": "data.bin",
                "working_dir": "secret.bin"}[where]
    if where == "link":
        os.symlink(secret, folder / "data.bin")
    path = _onnx_with_external_weight(folder, location)
    monkeypatch.chdir(tmp_path)  # old behaviour: relative locations were read from here
    with pytest.raises(ModelLoadError, match=r"tensor 'W' keeps its data") as info:
        inspect(f"onnx:{path}")
    assert "\n" not in str(info.value)


def test_onnx_external_data_next_to_the_model_is_read_from_any_working_dir(tmp_path, monkeypatch):
    import numpy as np

    pytest.importorskip("onnx")
    folder = tmp_path / "model"
    path = _onnx_with_external_weight(folder, "weights.bin")
    np.zeros((2, 2), np.float32).tofile(folder / "weights.bin")
    monkeypatch.chdir(tmp_path)
    sheet = inspect(f"onnx:{path}")
    assert sheet.storage.sparsity.value == 1.0  # all four weights are zeros: the file was read
