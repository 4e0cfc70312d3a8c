"""Local Hugging Face folders (``hf:DIR``): config + safetensors (+ tokenizer).

Always ``local_files_only=True``: nothing is downloaded. The head is the class named first in the
config's ``architectures`` (e.g. ``BertForSequenceClassification``). A folder whose configs name
code of its own (``auto_map`` in config.json, tokenizer_config.json, ...) is refused unless
``trust_remote_code``; pickled weights (``pytorch_model.bin``) unless ``allow_pickle``; and every
safetensors header is checked against its file's size before transformers reads it.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whichmodel.errors import (
    MissingExtraError,
    ModelLoadError,
    ModelReferenceError,
    UnsafeModelError,
)
from whichmodel.refs import ModelRef, not_cached
from whichmodel.sources.base import LoadOptions, Model
from whichmodel.sources.contract import Source
from whichmodel.sources.hf.base import HFModel
from whichmodel.sources.hf.config import (
    config_refused,
    load_error,
    read_config_json,
    refuse_folder_code,
)

if TYPE_CHECKING:
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet


class HFSource:
    """``hf:DIR`` references: every file in the folder is the model's."""

    def options(self, ref: ModelRef) -> Mapping[str, str]:
        return {}  # the config names the head, its labels and the tokenizer

    def files(self, ref: ModelRef, *, code: bool = True) -> tuple[str, ...]:
        folder = Path(ref.target)
        if not folder.is_dir():
            _refuse_uncached(ref)
            raise ModelReferenceError(f"{folder} is not a folder (from {ref}).")
        return tuple(str(p) for p in sorted(folder.rglob("*")) if p.is_file())

    def load(self, ref: ModelRef, options: LoadOptions) -> Model:
        _refuse_uncached(ref)
        return load(ref, options)

    def inspect(self, ref: ModelRef, options: InspectOptions) -> SpecSheet:
        from whichmodel.spec.hf_sheet import inspect_hf

        _refuse_uncached(ref)
        return inspect_hf(ref, options)


def _refuse_uncached(ref: ModelRef) -> None:
    """ModelReferenceError saying how to download ``hf:org/name`` when it is neither a folder
    nor in the local cache (parse_ref resolved it otherwise)."""
    hint = None if Path(ref.target).exists() else not_cached(ref.target)
    if hint is not None:
        raise ModelReferenceError(hint)


SOURCE: Source = HFSource()


def load(ref: ModelRef, options: LoadOptions) -> Model:
    folder = Path(ref.target)
    if not (folder / "config.json").is_file():
        raise ModelReferenceError(f"{folder} is not a Hugging Face model folder (no config.json).")
    read_config_json(folder / "config.json")  # sizes checked before anything is built from them
    refuse_folder_code(folder, trust_remote_code=options.trust_remote_code)
    _check_weights(folder, options)
    try:
        import transformers
    except ImportError as exc:
        raise MissingExtraError("transformers", "hf") from exc
    try:
        config = transformers.AutoConfig.from_pretrained(
            folder, local_files_only=True, trust_remote_code=options.trust_remote_code
        )
    except Exception as exc:
        refused = config_refused(exc, folder / "config.json")
        if refused is None:
            raise
        raise refused from exc
    from safetensors import SafetensorError

    model_class = _head_class(config, folder, options, transformers)
    try:
        with _quiet_progress_bars(transformers):
            model = model_class.from_pretrained(
                folder, local_files_only=True, trust_remote_code=options.trust_remote_code
            )
    except pickle.UnpicklingError as exc:  # transformers unpickles with weights_only=True
        raise ModelLoadError(
            f"Cannot load the weights in {folder}: they hold Python objects besides tensors, "
            "which transformers refuses to unpickle. Convert them to safetensors."
        ) from exc
    except (OSError, ValueError, RuntimeError, SafetensorError) as exc:
        raise ModelLoadError(f"Cannot load the weights in {folder}: {exc}") from exc
    model.eval()
    tokenizer = _tokenizer(folder, transformers, options)
    from whichmodel.sources.detection import detection_model_class
    from whichmodel.sources.hf.speech import speech_model_class
    from whichmodel.sources.hf.text import text_model_class

    # causal LMs, encoders, detectors, speech recognizers: capabilities beyond a task head
    name = type(model).__name__
    detector = detection_model_class(name)
    files = SOURCE.files(ref, code=False)
    if detector is not None:
        return detector(ref, model, files)
    cls = speech_model_class(name) or text_model_class(name) or HFModel
    return cls(ref, model, tokenizer, files)


def _check_weights(folder: Path, options: LoadOptions) -> None:
    """Safetensors headers are held against their files' sizes; pickled weights, which run code
    when unpickled, need ``allow_pickle`` when there are no safetensors to read instead."""
    from whichmodel.sources.weights import check_safetensors, pickled_weights

    safetensors = sorted(folder.glob("*.safetensors"))
    check_safetensors(safetensors)
    pickled = pickled_weights(folder)
    if pickled and not safetensors and not options.allow_pickle:
        raise UnsafeModelError(
            f"{folder} holds its weights as pickles ({', '.join(p.name for p in pickled)}), and "
            "unpickling can run code. Convert them to safetensors, or pass --allow-pickle if "
            "you trust them."
        )


@contextmanager
def _quiet_progress_bars(transformers: Any) -> Iterator[None]:
    """transformers 5 draws a "Loading weights" bar on stderr; whichmodel draws its own."""
    hf_logging = transformers.utils.logging
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _head_class(config: Any, folder: Path, options: LoadOptions, transformers: Any) -> Any:
    architectures = getattr(config, "architectures", None) or []
    if architectures and hasattr(transformers, architectures[0]):
        return getattr(transformers, architectures[0])
    if architectures and getattr(config, "auto_map", None):
        if not options.trust_remote_code:
            raise UnsafeModelError(
                f"{folder} uses the custom class {architectures[0]} from code in the folder; "
                "pass --trust-remote-code if you trust it."
            )
        return transformers.AutoModelForSequenceClassification
    raise ModelLoadError(
        f"{folder}/config.json names no architecture transformers knows "
        f"({architectures or 'none'}); "
        "set 'architectures' to e.g. ['BertForSequenceClassification']."
    )


def _tokenizer(folder: Path, transformers: Any, options: LoadOptions) -> Any:
    names = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "spiece.model", "vocab.json")
    if not any((folder / n).is_file() for n in names):
        return None
    try:
        return transformers.AutoTokenizer.from_pretrained(
            folder, local_files_only=True, trust_remote_code=options.trust_remote_code
        )
    except (OSError, ValueError) as exc:
        raise load_error(exc, f"the tokenizer in {folder}") from exc
