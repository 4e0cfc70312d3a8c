"""A fake variant for tests, registered under the hidden name ``fake``: it runs for every model
(any framework, the fake source's too), leaves the model as it is and says so in a note, so a
test of the bench flow needs no PyTorch."""

from __future__ import annotations

from pathlib import Path

from whichmodel.bench.variants.base import Applied, Variant
from whichmodel.sources.base import Inputs, Model

NOTE = "fake: the model as loaded, under another name (a variant for tests)"


class FakeVariant(Variant):
    name = "fake"
    description = "the model unchanged (for tests)"

    def unavailable(self, model: Model) -> str | None:
        return None

    def apply(self, model: Model, example: Inputs, workdir: Path) -> Applied:
        return Applied(model, model.info.framework, (NOTE,))
