"""``whichmodel diff A B --weights``: the table, --json, --out (JSON, Markdown and an HTML page
with every name escaped) and the one-line errors, exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch

if TYPE_CHECKING:
    from cli.conftest import Invoke

EVIL = "layers.0.<script>alert(1)</script>|x.weight"


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    """Two safetensors files: block 0's ``attn`` changed by a rank-2 update, ``mlp`` not, and a
    tensor whose name is markup."""
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(0)
    a = {"layers.0.attn.weight": torch.randn(24, 24, generator=g),
         "layers.0.mlp.weight": torch.randn(24, 16, generator=g), EVIL: torch.ones(3)}
    b = dict(a)
    b["layers.0.attn.weight"] = a["layers.0.attn.weight"] + (
        torch.randn(24, 2, generator=g) @ torch.randn(2, 24, generator=g))
    save_file(a, str(tmp_path / "a.safetensors"))
    save_file(b, str(tmp_path / "b.safetensors"))
    return "a.safetensors", "b.safetensors"  # the commands run in tmp_path


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_the_table_names_the_changed_group(invoke: Invoke, pair: tuple[str, str]) -> None:
    ran = invoke("diff", *pair, "--weights")
    assert ran.exit_code == 0, ran.stderr
    first, *rest = ran.stdout.splitlines()
    assert first == (f"{pair[0]} vs {pair[1]}: looks like a merged LoRA of rank ≤ 2 on attn "
                     "(1 of 3 groups); everything else unchanged")
    assert any(line.split()[:2] == ["0", "attn"] for line in rest)
    assert rest[-1] == "3 tensors in 3 groups compared; 2 groups unchanged."
    data = json.loads(invoke("diff", *pair, "--weights", "--json").stdout)
    assert {g["module"]: g["rank"] for g in data["groups"]} == {
        "attn": 2, "mlp": None, "<script>alert(1)</script>|x": None}


def test_out_writes_json_markdown_and_an_escaped_page(
    invoke: Invoke, pair: tuple[str, str], tmp_path: Path
) -> None:
    ran = invoke("diff", *pair, "--weights", "--out", "report")
    assert ran.exit_code == 0, ran.stderr
    folder = tmp_path / "report"
    data = json.loads((folder / "weight_diff.json").read_text())
    assert data["verdict"].startswith("looks like a merged LoRA of rank ≤ 2")
    page = (folder / "weight_diff.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<svg" in page and "block 0 attn: looks like a merged LoRA of rank ≤ 2" in page
    markdown = (folder / "weight_diff.md").read_text()
    assert "| 0 attn | looks like a merged LoRA of rank ≤ 2 |" in markdown


def test_pickled_weights_need_the_flag(invoke: Invoke, pair: tuple[str, str],
                                       tmp_path: Path) -> None:
    from safetensors.torch import load_file

    torch.save(load_file(tmp_path / pair[0]), tmp_path / "a.pt")
    ran = invoke("diff", "torch:a.pt", pair[0], "--weights")
    assert ran.exit_code == 2
    assert _one_line(ran.stderr) == (
        "error: a.pt is pickled, and reading it can run code stored in it. Convert it to "
        "safetensors, or pass --allow-pickle if you trust it.")
    allowed = invoke("diff", "torch:a.pt", pair[0], "--weights", "--allow-pickle")
    assert allowed.exit_code == 0, allowed.stderr
    assert "unchanged: all 3 matched tensors are bit-identical" in allowed.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["missing.safetensors", "hf:nowhere", "--weights"],
     "error: missing.safetensors: missing.safetensors does not exist."),
    (["onnx:m.onnx", "hf:nowhere", "--weights"],
     "error: onnx:m.onnx: a weight diff compares hf: folders and torch: weight files, not "
     "onnx: models."),
    (["hf:a", "hf:b", "--out", "x"],
     "error: --base and --out belong to the weight diff; add --weights."),
])
def test_bad_input_is_one_line_and_exit_2(invoke: Invoke, args: list[str], message: str) -> None:
    ran = invoke("diff", *args)
    assert ran.exit_code == 2
    assert _one_line(ran.stderr) == message
