"""GGUF files (``gguf:model.gguf``, llama.cpp and Ollama): spec sheets only (``whichmodel
inspect``, spec diff against the Hugging Face checkpoint the file was converted from).

Running a GGUF model needs llama.cpp, which whichmodel does not drive; a ``gguf:`` reference
cannot be loaded for predictions, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from whichmodel.errors import ModelReferenceError
from whichmodel.refs import SOURCES, ModelRef
from whichmodel.sources.base import LoadOptions, Model, existing_files
from whichmodel.sources.contract import Source

if TYPE_CHECKING:
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet


class GGUFSource:
    """One ``.gguf`` file; its header and tensor table are read, never its tensor data."""

    def options(self, ref: ModelRef) -> Mapping[str, str]:
        return {}

    def files(self, ref: ModelRef, *, code: bool = True) -> tuple[str, ...]:
        return existing_files((ref.target,), ref)

    def load(self, ref: ModelRef, options: LoadOptions) -> Model:
        supported = sorted(k for k in SOURCES.names() if k != ref.kind)
        raise ModelReferenceError(
            f"Model references of kind '{ref.kind}:' give spec sheets only (inspect, diff); "
            f"to run a model, use one of: {', '.join(supported)}."
        )

    def inspect(self, ref: ModelRef, options: InspectOptions) -> SpecSheet:
        from whichmodel.spec.gguf_sheet import inspect_gguf

        return inspect_gguf(ref, options)


SOURCE: Source = GGUFSource()
