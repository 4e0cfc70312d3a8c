"""Every command that loads a file needing ``--allow-pickle`` accepts the flag: ``diff`` too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cli.conftest import Invoke


def test_diff_takes_allow_pickle(invoke: Invoke, mlp_torchscript: Path, mlp_exported: Path
                                 ) -> None:
    refs = (f"torch:{mlp_torchscript}", f"torch:{mlp_exported}")
    refused = invoke("diff", *refs)
    assert refused.exit_code == 2
    assert "Pass --allow-pickle" in refused.stderr
    ran = invoke("diff", *refs, "--allow-pickle", "--json")
    assert ran.exit_code == 0, ran.stderr
    diff = json.loads(ran.stdout)
    assert diff["a"]["identity"]["ref"] == refs[0] and diff["b"]["identity"]["ref"] == refs[1]
