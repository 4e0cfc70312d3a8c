"""The ``openai:`` kind: a model behind an OpenAI-compatible endpoint (vLLM, llama.cpp, TGI,
``transformers serve``, a hosted API), read with the official ``openai`` SDK.

``load`` lists the server's models and probes what the model can do
(:func:`whichmodel.sources.endpoint.model.probe`); the spec sheet says what the server says it
is (its ``/models`` entry, the model id it reports, its ``system_fingerprint``) and the probed
capabilities, and nothing about weights, which are not read. The network is reached only here,
at the URL the user names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from whichmodel.refs import ModelRef
from whichmodel.sources.base import LoadOptions, Model
from whichmodel.sources.contract import Source
from whichmodel.sources.endpoint.settings import OPTIONS, read_settings

if TYPE_CHECKING:
    from whichmodel.sources.endpoint.model import EndpointModel
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet


class EndpointSource:
    """``openai:URL?model=NAME``: no files; the server is the model."""

    def options(self, ref: ModelRef) -> Mapping[str, str]:
        return OPTIONS

    def files(self, ref: ModelRef, *, code: bool = True) -> tuple[str, ...]:
        read_settings(ref)  # a malformed reference fails before any work, as a missing file does
        return ()

    def load(self, ref: ModelRef, options: LoadOptions) -> Model:
        from whichmodel.sources.endpoint.client import Endpoint
        from whichmodel.sources.endpoint.model import EndpointModel, probe

        store = None
        if options.store is not None:
            from whichmodel.store import Store

            store = Store.open(options.store)
        endpoint = Endpoint(read_settings(ref), store)
        return EndpointModel(ref, endpoint, probe(endpoint))

    def inspect(self, ref: ModelRef, options: InspectOptions) -> SpecSheet:
        model = self.load(ref, options.load)
        assert hasattr(model, "spec_sheet")
        return endpoint_sheet(model)  # type: ignore[arg-type]


SOURCE: Source = EndpointSource()


def endpoint_sheet(model: EndpointModel) -> SpecSheet:
    """The spec sheet of a served model: what the server reports, each fact's note saying so;
    sizes unknown (no weights are read)."""
    from whichmodel.spec.base import Fact, Identity, Size, SpecSheet, unknown

    settings, probed = model.endpoint.settings, model.probed
    lacking = "; ".join(f"no {k}: {v}" for k, v in sorted(probed.lacking.items()))
    capabilities = ", ".join(sorted(probed.capabilities - {"predict"}))
    framework = Fact(
        "openai-compatible endpoint", "config",
        f"{settings.base_url}, {settings.api} API; capabilities probed: {capabilities}"
        + (f" ({lacking})" if lacking else ""),
    )  # fmt: skip
    fingerprint = probed.system_fingerprint
    architecture = Fact(
        probed.reported_model, "config",
        "the model id the server reports; /models entry: "
        + (json.dumps(probed.entry, sort_keys=True) if probed.entry else "none listed")
        + (f"; system_fingerprint: {fingerprint}" if fingerprint else ""),
    )  # fmt: skip
    served = unknown("a served model: the server does not say")
    identity = Identity(model.name, str(model.ref), framework, architecture, served, served)
    none = unknown("a served model: its weights are not read")
    size = Size(none, none, none, none, none, none, none, none, none)
    notes = (f"capabilities: {capabilities}", *(f"no {k}: {v}" for k, v in probed.lacking.items()))
    return SpecSheet(identity, size, notes=notes)
