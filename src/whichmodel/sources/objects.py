"""Live Python objects handed to ``whichmodel.compare`` (``object:DIGEST``): models that have no
file whichmodel could load safely in another process.

A ``torch.nn.Module`` of the user's own class cannot be re-created from a file without running
the user's code again (importing their module, unpickling), which whichmodel does only with the
explicit flag. So the object stays where the user made it, in this process: the API registers it
under its content digest (:func:`register`, see :mod:`whichmodel.api_inputs` for the digest) and
passes the reference ``object:DIGEST?name=NAME`` down the pipeline like any other. Its
fingerprint is that digest (the reference's target), so the same weights give the same cache
keys, and its predictions run in this process. Its cost is measured in this process too (the
profile's notes say so): a fresh probe process could not load it.

Estimators that skops can hold are written to a ``.skops`` file instead and read as
``sklearn:`` references; only estimators skops cannot hold come here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from whichmodel.errors import ModelReferenceError
from whichmodel.refs import ModelRef
from whichmodel.sources.base import LoadOptions, Model
from whichmodel.sources.contract import Source

if TYPE_CHECKING:
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet

#: digest -> the live object, while the call that registered it runs.
_LIVE: dict[str, Any] = {}

#: What a cost measured on a live object says about itself.
IN_PROCESS_NOTE = (
    "measured in the process that passed the model object (a fresh probe process cannot "
    "re-create it): memory includes everything that process holds"
)


@contextmanager
def registered(objects: Mapping[str, Any]) -> Iterator[None]:
    """Make ``objects`` (digest -> object) loadable as ``object:DIGEST`` inside the block; a
    torch module is put in eval mode there, and back in its own mode after."""
    modes = {k: obj.training for k, obj in objects.items() if hasattr(obj, "training")}
    added = [k for k in objects if k not in _LIVE]
    _LIVE.update(objects)
    try:
        yield
    finally:
        for key in added:
            _LIVE.pop(key, None)
        for key, training in modes.items():
            objects[key].train(training)


def is_live(ref: ModelRef | str) -> bool:
    """Whether ``ref`` names a live object (its cost is measured in this process)."""
    return (ref.kind if isinstance(ref, ModelRef) else ref.partition(":")[0]) == "object"


class ObjectSource:
    """``object:DIGEST`` references (see the module docstring)."""

    def options(self, ref: ModelRef) -> Mapping[str, str]:
        from whichmodel.sources.torch import OPTIONS

        return {k: v for k, v in OPTIONS.items() if k != "weights"}

    def files(self, ref: ModelRef, *, code: bool = True) -> tuple[str, ...]:
        _live(ref)  # a missing object fails before any work, as a missing file does
        return ()  # the digest in the reference is the fingerprint

    def load(self, ref: ModelRef, options: LoadOptions) -> Model:
        obj = _live(ref)
        if is_module(ref):
            from whichmodel.sources.torch import TorchModel

            obj.eval()  # as a torch: reference is loaded; registered() restores its mode
            return TorchModel(ref, obj, ())
        from whichmodel.sources.sklearn import SklearnModel

        return SklearnModel(ref, obj, ())

    def inspect(self, ref: ModelRef, options: InspectOptions) -> SpecSheet:
        from whichmodel.spec import inspect_object

        return inspect_object(_live(ref), options, ref=ref)


SOURCE: Source = ObjectSource()


def is_module(ref: ModelRef) -> bool:
    """Whether the live object ``ref`` names is a torch module (else an estimator)."""
    obj = _live(ref)
    return hasattr(obj, "named_parameters") and hasattr(obj, "modules")


def _live(ref: ModelRef) -> Any:
    try:
        return _LIVE[ref.target]
    except KeyError:
        raise ModelReferenceError(
            f"{ref} names a Python object passed to whichmodel.compare(), which exists only "
            "inside that call and in that process; pass the object itself, or a model file."
        ) from None
