"""PyTorch's errors say what to change: the shapes behind a shape error, the keys behind a
state-dict mismatch, the batch behind an export guard; one line, exit 2 at the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from whichmodel.errors import ModelLoadError, TaskError
from whichmodel.sources import load
from whichmodel.sources.base import Inputs, LoadOptions

ZOO = '''
import torch
from torch import nn


def lin(n_in=64):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, 3))


def cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
'''


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zoo") / "zoo.py"
    path.write_text(ZOO)
    return path


@pytest.fixture(scope="module")
def digits_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 rows of 64 pixel columns and a label: (N, 64) tables."""
    import pandas as pd

    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.random((30, 64)), columns=[f"p{i}" for i in range(64)])
    table["label"] = [str(i % 3) for i in range(30)]
    path = tmp_path_factory.mktemp("digits") / "digits.csv"
    table.to_csv(path, index=False)
    return path


def _images(n: int) -> Inputs:
    return Inputs("array", np.random.default_rng(0).random((n, 8, 8)).astype(np.float32))


def test_images_fed_to_a_linear_name_both_shapes(zoo: Path) -> None:
    model = load(f"torch:{zoo}:lin")
    with pytest.raises(TaskError) as caught:
        model.predict(_images(5))
    message = str(caught.value)
    assert message.startswith(
        "lin got inputs of shape (N, 8, 8); its first layer (Linear) expects (N, 64): reshape "
        "the data or pass ?input_shape=64 (or --input-shape 64 for every model) (mat1 and mat2 "
        "shapes cannot be multiplied"
    )
    assert "\n" not in message


def test_rows_fed_to_a_cnn_suggest_the_square_shape(zoo: Path) -> None:
    model = load(f"torch:{zoo}:cnn")
    rows = Inputs("array", np.zeros((4, 64), dtype=np.float32))
    with pytest.raises(TaskError, match=r"got inputs of shape \(N, 64\); its first layer "
                       r"\(Conv2d\) expects \(N, 1, \*, \*\): reshape the data or pass "
                       r"\?input_shape=1,8,8 \(or --input-shape 1,8,8 for every model\) "
                       r"\(Expected 3D"):
        model.predict(rows)


def test_a_module_that_fits_its_input_is_not_blamed(zoo: Path) -> None:
    model = load(f"torch:{zoo}:cnn")  # the Conv2d takes (N, 1, 10, 10); the Linear after it not
    with pytest.raises(TaskError) as caught:
        model.predict(Inputs("array", np.zeros((2, 1, 10, 10), dtype=np.float32)))
    assert "got inputs of shape (N, 1, 10, 10): reshape the data" in str(caught.value)
    assert "first layer" not in str(caught.value)


def test_the_cli_says_it_in_one_line_with_exit_2(invoke, zoo: Path, digits_csv: Path) -> None:
    ran = invoke("compare", f"torch:{zoo}:cnn", "--data", str(digits_csv), "--no-cost")
    assert ran.exit_code == 2
    assert ran.stderr.count("\n") == 1
    assert "cnn got inputs of shape (N, 64)" in ran.stderr
    assert "--input-shape 1,8,8" in ran.stderr


def test_a_state_dict_mismatch_lists_the_keys_and_sizes(zoo: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    state = dict(torch.nn.Sequential(torch.nn.Linear(32, 16)).state_dict())  # 0.weight [16, 32]
    state["extra.weight"] = torch.zeros(2, 2)
    path = tmp_path / "w.safetensors"
    save_file(state, str(path))
    with pytest.raises(ModelLoadError) as caught:
        load(f"torch:{zoo}:lin?weights={path}")
    message = str(caught.value)
    assert message == (
        f"The weights in {path} do not fit the module: 2 missing keys: 2.weight [3, 16], "
        "2.bias [3]; 1 unexpected key: extra.weight [2, 2]; 1 mis-sized key: 0.weight "
        "[16, 32] in the file, [16, 64] in the module."
    )


def test_a_state_dict_mismatch_shows_the_first_few_keys(zoo: Path, tmp_path: Path) -> None:
    import torch

    state = {f"layer{i}.weight": torch.zeros(i + 1) for i in range(7)}
    path = tmp_path / "w.pt"
    torch.save(state, str(path))
    with pytest.raises(ModelLoadError) as caught:
        load(f"torch:{zoo}:lin?weights={path}")
    assert "7 unexpected keys: layer0.weight [1], layer1.weight [2], layer2.weight [3], and 4 " \
           "more" in str(caught.value)
    assert "4 missing keys: 0.weight [16, 64], 0.bias [16], 2.weight [3, 16]" in str(caught.value)


@pytest.fixture(scope="module")
def static_export(zoo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("zoo_for_export", zoo)
    assert spec is not None and spec.loader is not None
    code = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(code)
    program = torch.export.export(code.lin(), (torch.zeros(4, 64),))  # batch fixed at 4
    path = tmp_path_factory.mktemp("static") / "static.pt2"
    torch.export.save(program, str(path))
    return path


def test_a_static_batch_export_says_to_re_export(static_export: Path) -> None:
    model = load(f"torch:{static_export}", LoadOptions(allow_pickle=True))
    assert model.predict(Inputs("array", np.zeros((4, 64), dtype=np.float32))).array.shape == (4, 3)
    with pytest.raises(TaskError) as caught:
        model.predict(Inputs("array", np.zeros((16, 64), dtype=np.float32)))
    assert str(caught.value) == (
        "static was exported with a static batch of 4, and was given a batch of 16; re-export "
        "with a dynamic batch dimension (torch.export.Dim) (Guard failed: input.size()[0] == 4)."
    )


def test_a_static_batch_export_fails_the_run_in_one_line(
    invoke, static_export: Path, digits_csv: Path
) -> None:
    ran = invoke("compare", f"torch:{static_export}", "--data", str(digits_csv), "--no-cost",
                 "--allow-pickle", "--batch-size", "16")
    assert ran.exit_code == 2
    assert ran.stderr.count("\n") == 1
    assert "exported with a static batch of 4" in ran.stderr
    assert "re-export with a dynamic batch dimension (torch.export.Dim)" in ran.stderr


def test_an_export_guard_on_the_example_shape_names_it(static_export: Path) -> None:
    model = load(f"torch:{static_export}", LoadOptions(allow_pickle=True))
    with pytest.raises(TaskError, match=r"static got inputs of shape \(N, 8, 8\); it was exported "
                       r"for inputs whose dimension 1 is 64"):
        model.predict(Inputs("array", np.zeros((4, 8, 8), dtype=np.float32)))
