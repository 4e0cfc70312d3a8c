"""A fake source for tests: deterministic models with no files and no framework.

    fake:classifier?classes=3&seed=0      probabilities over classes "0", "1", "2"
    fake:classifier?classes=cat,dog       ... over the classes "cat" and "dog"
    fake:regressor?seed=1                 one number per example

Each example's output depends only on the seed and the example's own values (a CRC-32 of its
bytes seeds a generator), so it is the same in any batch, in any order, in any process. The
source is registered under the hidden kind ``fake``: tests name it, users are never offered it.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from whichmodel.errors import ModelReferenceError
from whichmodel.refs import ModelRef
from whichmodel.sources.base import Inputs, LoadOptions, Model, ModelInfo, RawOutput
from whichmodel.sources.contract import Source

if TYPE_CHECKING:
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet

_TARGETS = ("classifier", "regressor")


class FakeModel(Model):
    """``classifier``: ``proba`` (n, C), rows drawn from a flat Dirichlet; ``regressor``:
    ``values`` (n,), standard normal draws."""

    def __init__(self, ref: ModelRef) -> None:
        self.ref = ref
        if ref.target not in _TARGETS:
            raise ModelReferenceError(
                f"A fake model is one of {', '.join(_TARGETS)}. Got {ref.target!r} (from {ref})."
            )
        self.seed = _integer(ref, "seed", "0")
        if ref.target == "classifier":
            self.classes = _classes(ref)
        self.info = ModelInfo("fake", f"Fake{ref.target.title()}", 0, ())

    def predict(self, inputs: Inputs) -> RawOutput:
        draws = [self._generator(example) for example in inputs.data]
        if self.classes is None:
            return RawOutput("values", np.array([g.standard_normal() for g in draws]))
        alpha = np.ones(len(self.classes))
        proba = np.array([g.dirichlet(alpha) for g in draws]).reshape(-1, len(alpha))  # (n, C)
        return RawOutput("proba", proba)

    def _generator(self, example: object) -> np.random.Generator:
        data = example.tobytes() if isinstance(example, np.ndarray) else repr(example).encode()
        return np.random.default_rng([self.seed, zlib.crc32(data)])


class FakeSource:
    """The ``fake:`` kind: no files, a model built from the reference alone."""

    def options(self, ref: ModelRef) -> Mapping[str, str]:
        return {
            "classes": "a count of classes, or comma-separated labels (classifier)",
            "seed": "the integer the outputs are drawn from",
        }

    def files(self, ref: ModelRef, *, code: bool = True) -> tuple[str, ...]:
        return ()

    def load(self, ref: ModelRef, options: LoadOptions) -> FakeModel:
        return FakeModel(ref)

    def inspect(self, ref: ModelRef, options: InspectOptions) -> SpecSheet:
        from whichmodel.spec.base import Fact, Identity, Size, SpecSheet, unknown

        model = FakeModel(ref)
        none = Fact(0, "config", "a fake model has no weights")
        identity = Identity(ref.name, str(ref), Fact("fake", "config"),
                            Fact(model.info.architecture, "config"), Fact("fake", "config"),
                            Fact({}, "config"))
        size = Size(none, none, none, none, none, none, none, unknown("no weights"),
                    unknown("no weights"))
        return SpecSheet(identity, size)


SOURCE: Source = FakeSource()


def _integer(ref: ModelRef, key: str, default: str) -> int:
    raw = ref.param(key, default) or default
    try:
        return int(raw)
    except ValueError:
        raise ModelReferenceError(
            f"The '{key}' parameter of {ref} must be an integer. Got {raw!r} instead."
        ) from None


def _classes(ref: ModelRef) -> tuple[str, ...]:
    """``classes=3`` -> ``("0", "1", "2")``; ``classes=cat,dog`` -> ``("cat", "dog")``."""
    raw = ref.param("classes", "2") or "2"
    classes = tuple(str(i) for i in range(int(raw))) if raw.isdigit() else tuple(raw.split(","))
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ModelReferenceError(
            f"The 'classes' parameter of {ref} must be a count of at least 2 or distinct "
            f"comma-separated labels. Got {raw!r} instead."
        )
    return classes
