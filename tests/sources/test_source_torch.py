"""Torch-specific behaviour the conformance suite does not cover."""

from __future__ import annotations

import pytest

from whichmodel.errors import TaskError
from whichmodel.sources import load
from whichmodel.sources.torch import count_parameters


def test_count_parameters_on_the_meta_device():
    import torch
    from torch import nn

    with torch.device("meta"):  # every meta tensor reports data_ptr() == 0
        module = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    assert count_parameters(module) == 64 * 16 + 16 + 16 * 10 + 10


def test_count_parameters_counts_tied_weights_once():
    from torch import nn

    module = nn.Sequential(nn.Embedding(50, 8), nn.Linear(8, 50, bias=False))
    module[1].weight = module[0].weight
    assert count_parameters(module) == 50 * 8


def test_text_input_is_a_task_error(helpers_dir, mlp_weights, text_inputs):
    model = load(f"torch:{helpers_dir / 'tiny_torch.py'}:mlp?weights={mlp_weights}")
    with pytest.raises(TaskError, match="cannot read text"):
        model.predict(text_inputs)


def test_package_code_files_are_listed_in_pathlib_order(tmp_path):
    # A package's .py files are part of a factory model's fingerprint, in this order: the
    # os.walk listing must keep pathlib's order by path parts ("demo/zoo.py" before "demo.py",
    # which plain string order would swap) so stored fingerprints stay valid.
    from whichmodel.sources.torch import _python_files

    for name in ("demo.py", "demo/zoo.py", "demo/a/b.py", "a_b/c.py", "a/b.py", "z.txt", "B.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    expected = tuple(str(p) for p in sorted(tmp_path.rglob("*.py")))
    assert _python_files(str(tmp_path)) == expected
    assert len(expected) == 6


FACTORY_THAT_COUNTS = '''
from pathlib import Path

import torch
from torch import nn

with open(Path(__file__).with_name("imports.txt"), "a") as f:  # "trains" on import
    f.write("imported\\n")


def lin():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3))
'''


def test_a_factory_file_runs_once_per_process(tmp_path):
    import numpy as np

    import whichmodel

    code = tmp_path / "counting.py"
    code.write_text(FACTORY_THAT_COUNTS)
    counter = tmp_path / "imports.txt"
    ref = f"torch:{code}:lin"
    for _ in range(3):
        load(ref)
    assert counter.read_text().splitlines() == ["imported"]
    x, y = np.random.default_rng(0).random((20, 4)), np.array([str(i % 3) for i in range(20)])
    whichmodel.compare([ref], (x, y), no_cost=True, store=str(tmp_path / "s.db"))  # load + spec
    assert counter.read_text().splitlines() == ["imported"]
    code.write_text(FACTORY_THAT_COUNTS + "\n# edited\n")  # another content: read again, once
    load(ref)
    load(ref)
    assert counter.read_text().splitlines() == ["imported", "imported"]
