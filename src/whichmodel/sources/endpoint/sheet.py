"""The spec sheet of a served model: what its server said when it was probed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from whichmodel.sources.endpoint.model import EndpointModel
    from whichmodel.spec.base import SpecSheet


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
