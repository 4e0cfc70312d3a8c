"""The ``openai:`` kind: a model behind an OpenAI-compatible endpoint (vLLM, llama.cpp, TGI,
``transformers serve``, a hosted API), read with the official ``openai`` SDK.

``load`` lists the server's models and probes what the model can do
(:func:`whichmodel.sources.endpoint.model.probe`); the spec sheet says what the server says it
is (its ``/models`` entry, the model id it reports, its ``system_fingerprint``) and the probed
capabilities, and nothing about weights, which are not read. The network is reached only here,
at the URL the user names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from whichmodel.refs import ModelRef
from whichmodel.sources.base import LoadOptions, Model
from whichmodel.sources.contract import Source
from whichmodel.sources.endpoint.settings import OPTIONS, read_settings

if TYPE_CHECKING:
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
        from whichmodel.sources.endpoint.model import EndpointModel
        from whichmodel.sources.endpoint.sheet import endpoint_sheet

        model = self.load(ref, options.load)
        assert isinstance(model, EndpointModel)
        return endpoint_sheet(model)


SOURCE: Source = EndpointSource()
