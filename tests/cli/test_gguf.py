"""``whichmodel inspect gguf:FILE`` and ``whichmodel diff gguf:FILE hf:DIR`` on a tiny Llama
written as GGUF by the gguf package (see ``tests/spec/test_gguf.py`` for the sheet's figures)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from helpers.tiny_gguf import LlamaFiles, save_llama_and_ggufs

if TYPE_CHECKING:
    from cli.conftest import Invoke  # the fixture's type; conftest is not imported at run time


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> LlamaFiles:
    return save_llama_and_ggufs(tmp_path_factory.mktemp("gguf"), ("Q4_0",))


def test_inspect_prints_the_gguf_sheet(invoke: Invoke, llama: LlamaFiles) -> None:
    path = llama.ggufs["Q4_0"].path
    ran = invoke("inspect", f"gguf:{path}")
    assert ran.exit_code == 0, ran.stderr
    assert "llama-Q4_0: llama" in ran.stdout
    assert "storage.bits_per_weight" in ran.stdout and "4.614" in ran.stdout
    assert "weights as stored, KV cache at fp16, batch 1, 64 tokens" in ran.stdout
    sheet = json.loads(invoke("inspect", str(path), "--json").stdout)  # a bare .gguf path
    assert sheet["storage"]["quantization"]["value"] == "Q4_0"


def test_diff_says_what_the_quantization_saved(invoke: Invoke, llama: LlamaFiles) -> None:
    ran = invoke("diff", f"gguf:{llama.ggufs['Q4_0'].path}", f"hf:{llama.folder}",
                 "--dtype", "fp16")
    assert ran.exit_code == 0, ran.stderr
    assert ("  • llama-Q4_0: 4.6 bits per weight, weight memory 3.5× smaller than hf "
            "(16.0 bits per weight)\n") in ran.stdout
    stored = invoke("diff", f"gguf:{llama.ggufs['Q4_0'].path}", f"hf:{llama.folder}")
    assert ("  • hf: GQA with 2 K/V heads, fp32 cache against fp16 → KV cache 2.0× larger "
            "than llama-Q4_0 at the same context\n") in stored.stdout
