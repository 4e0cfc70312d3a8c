"""``torch.compile`` (opt-in): compiling takes seconds to minutes, reported as the variant time."""

from __future__ import annotations

from pathlib import Path

from whichmodel.bench.variants.base import Applied, Variant, torch_module, with_module
from whichmodel.sources.base import Inputs, Model


class Compiled(Variant):
    on_device = True
    name = "compile"
    description = "torch.compile (inductor), compiled on the first calls"

    def apply(self, model: Model, example: Inputs, workdir: Path) -> Applied:
        import torch

        compiled = torch.compile(torch_module(model), dynamic=True)
        variant = with_module(model, compiled)
        variant.predict(example)  # compile now, so the first timed call is not the compile
        note = "compile: torch.compile(dynamic=True), compiled before timing (in variant_time_s)."
        return Applied(variant, model.info.framework, (note,))
