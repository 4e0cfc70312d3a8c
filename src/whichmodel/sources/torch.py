"""PyTorch modules (``torch:...``).

    torch:pkg.module:factory?weights=w.safetensors&width=64   factory(width=64) + a state dict
    torch:path/to/models.py:factory?weights=w.safetensors     the same, factory from a file
    torch:model.pt                                            TorchScript (needs allow_pickle)
    torch:model.pt2                                           torch.export (needs allow_pickle)

Reserved parameters: ``weights`` (.safetensors, header checked against the file's size first; or
a .pt/.pth state dict read with ``weights_only=True``, and unpickled in full only with
``allow_pickle``), ``classes`` (comma-separated labels of the output columns), ``output``
(``logits`` default for (n, C) outputs, ``proba`` when the module already ends in softmax,
``logit`` for a binary classifier with one output), ``input_shape`` (``1,8,8``: each batch is
reshaped to (n, 1, 8, 8) first). Other parameters go to the factory; values
are read as Python literals when they parse as such (``width=64`` is the int 64).
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from whichmodel.errors import (
    MissingExtraError,
    ModelLoadError,
    ModelReferenceError,
    TaskError,
    UnsafeModelError,
    WhichModelError,
)
from whichmodel.refs import ModelRef
from whichmodel.sources import shapes
from whichmodel.sources.base import (
    Inputs,
    LoadOptions,
    Model,
    ModelInfo,
    RawOutput,
    existing_files,
)
from whichmodel.sources.contract import Source

if TYPE_CHECKING:
    from whichmodel.spec import InspectOptions
    from whichmodel.spec.base import SpecSheet

_OUTPUT_MODES = ("logits", "proba", "logit", "values")
#: The options a torch reference reads itself; a factory reference passes the others on.
OPTIONS = {
    "weights": "a .safetensors (or .pt/.pth state dict) file loaded into the factory's module",
    "classes": "comma-separated labels of the output columns",
    "output": "what the outputs are: logits (default), proba, logit (one binary logit), values",
    **shapes.OPTION,
}
RESERVED = frozenset({*OPTIONS, "name"})


class TorchModel(Model):
    """A ``torch.nn.Module`` run in eval mode under ``torch.inference_mode``."""

    def __init__(self, ref: ModelRef, module: Any, files: tuple[str, ...]) -> None:
        self.ref = ref
        self.module = module
        self.output_mode, self.classes = output_options(ref)
        self.input_shape = shapes.ref_shape(ref)
        self.info = ModelInfo("torch", _architecture(module), count_parameters(module), files)
        self.device = "cpu"

    def predict(self, inputs: Inputs) -> RawOutput:
        import torch

        from whichmodel.sources.torch_errors import shape_error

        inputs = shapes.array_batch(inputs, self.input_shape, self.ref, "a PyTorch module")
        x = torch.from_numpy(np.ascontiguousarray(inputs.data, dtype=np.float32))
        try:
            with torch.inference_mode():
                out = _first_tensor(self.module(x.to(self.device)))
        except (RuntimeError, AssertionError, ValueError) as exc:
            explained = shape_error(exc, self.module, tuple(x.shape), self.ref.name)
            if explained is None:
                raise  # the module's own failure: the caller retries example by example
            raise explained from exc
        array = out.detach().float().cpu().numpy()
        return self._raw(array)

    def to(self, device: str) -> None:
        self.module.to(device)
        self.device = device

    def _raw(self, array: np.ndarray) -> RawOutput:
        return raw_output(array, self.output_mode)


def output_options(ref: ModelRef) -> tuple[str | None, tuple[str, ...] | None]:
    """(``?output=`` mode, ``?classes=`` names) of a network's reference, checked; shared by
    PyTorch modules and ONNX graphs.

    Raises:
        ModelReferenceError: an output mode that is not one of :data:`_OUTPUT_MODES`.
    """
    mode = ref.param("output")
    if mode is not None and mode not in _OUTPUT_MODES:
        raise ModelReferenceError(
            f"The 'output' parameter of {ref} must be one of {', '.join(_OUTPUT_MODES)}. "
            f"Got {mode!r} instead."
        )
    classes = ref.param("classes")
    return mode, tuple(c.strip() for c in classes.split(",")) if classes else None


def raw_output(array: np.ndarray, mode: str | None) -> RawOutput:
    """A network's output array as the task reads it, by ``?output=`` ``mode`` (None: logits,
    or values for one column); shared by PyTorch modules and ONNX graphs."""
    if array.ndim == 0:  # one number for the whole batch: the caller says what is wrong
        return RawOutput("values", array)
    if mode == "logit":
        p = 1.0 / (1.0 + np.exp(-array.reshape(-1).astype(np.float64)))
        return RawOutput("proba", np.stack([1.0 - p, p], axis=1))
    if mode == "proba":
        return RawOutput("proba", array.astype(np.float64))
    flat = array.reshape(len(array), -1)
    if mode == "values" or flat.shape[1] == 1:
        return RawOutput("values", flat[:, 0] if flat.shape[1] == 1 else flat)
    if sum(d != 1 for d in array.shape[1:]) > 1:  # (n, 10, 3) are not 30 classes' logits
        return RawOutput("logits", array)  # the task says what it needs
    return RawOutput("logits", flat)  # (n, C) or (n, C, 1)


#: At most this many of a factory package's ``.py`` files go into the fingerprint.
MAX_CODE_FILES = 1000


class TorchSource:
    """``torch:`` references (see the module docstring)."""

    def options(self, ref: ModelRef) -> Mapping[str, str] | None:
        # A factory's keyword arguments are the rest; a TypeError of its own names a wrong one.
        return None if _is_factory(ref) else OPTIONS

    def files(self, ref: ModelRef, *, code: bool = True) -> tuple[str, ...]:
        if not _is_factory(ref):
            return existing_files((ref.target,), ref)
        module_name = ref.target.rpartition(":")[0]
        weights = ref.param("weights")
        own = existing_files(tuple(f for f in (weights, _module_file(module_name, ref)) if f), ref)
        return own + _code_files(module_name) if code else own

    def load(self, ref: ModelRef, options: LoadOptions) -> TorchModel:
        return load(ref, options)

    def inspect(self, ref: ModelRef, options: InspectOptions) -> SpecSheet:
        from whichmodel.spec import inspect_object

        return inspect_object(load(ref, options.load).module, options, ref=ref)


SOURCE: Source = TorchSource()


def _is_factory(ref: ModelRef) -> bool:
    return ":" in ref.target and not ref.target.endswith((".pt", ".pth", ".pt2"))


def _module_file(module_name: str, ref: ModelRef) -> str:
    if module_name.endswith(".py"):
        return module_name
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin or spec.origin == "built-in":
        raise ModelReferenceError(
            f"Cannot find module '{module_name}' (from {ref}); is it on PYTHONPATH, or give a "
            "path to a .py file ('torch:path/to/models.py:factory')?"
        )
    return spec.origin


def _code_files(module_name: str) -> tuple[str, ...]:
    """The Python files a factory's model may be built from: every ``.py`` of the factory's
    package (or folder, for ``file.py:factory``), unless it is an installed library."""
    if module_name.endswith(".py"):
        found = sorted(Path(module_name).parent.glob("*.py"))[:MAX_CODE_FILES]
        return tuple(str(p) for p in found)
    spec = importlib.util.find_spec(module_name.split(".")[0])
    if spec is None or not spec.origin or "-packages" in spec.origin:
        return ()  # an installed library: its version is in the fingerprint instead
    if spec.submodule_search_locations:
        return _python_files(next(iter(spec.submodule_search_locations)))[:MAX_CODE_FILES]
    return (spec.origin,)


def _python_files(root: str) -> tuple[str, ...]:
    """Every ``.py`` file under ``root``, in ``sorted(Path(root).rglob("*.py"))`` order (by path
    parts), through ``os.walk``: 4x faster than pathlib's rglob, paid once per model per run."""
    found = [
        os.path.join(folder, name)
        for folder, _, names in os.walk(root)
        for name in names
        if name.endswith(".py")
    ]
    return tuple(sorted(found, key=lambda f: f.split(os.sep)))


def load(ref: ModelRef, options: LoadOptions) -> TorchModel:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError("PyTorch", "torch") from exc
    target = ref.target
    suffix = Path(target).suffix.lower()
    files: tuple[str, ...]
    if suffix == ".pt2":
        _require_code_permission(Path(target), "a torch.export archive", options)
        module, files = _load_exported(Path(target)), (target,)
    elif suffix in {".pt", ".pth"} and ref.param("weights") is None:
        _require_code_permission(Path(target), "a TorchScript file", options)
        module, files = _load_torchscript(Path(target)), (target,)
    elif ":" in target:
        module, files = _build_from_factory(ref, options)
    else:
        raise ModelReferenceError(
            f"Cannot read {ref}: expected 'torch:pkg.module:factory?weights=FILE', "
            "a TorchScript '.pt' file or a torch.export '.pt2' file."
        )
    # An exported graph raises on eval(); its train/eval behaviour was fixed at export time.
    if suffix != ".pt2" and hasattr(module, "eval"):
        module.eval()
    return TorchModel(ref, module, files)


def _require_code_permission(path: Path, what: str, options: LoadOptions) -> None:
    """TorchScript and torch.export archives hold code and, in torch 2.13, pickled parts that
    ``torch.jit.load`` / ``torch.export.load`` unpickle: loading one can run what it contains."""
    if not options.allow_pickle:
        raise UnsafeModelError(
            f"{path} is {what}, and loading one can run code stored in it. Pass --allow-pickle "
            "if you trust it, or save a state dict with safetensors and use "
            "'torch:pkg.module:factory?weights=FILE'."
        )


def _load_torchscript(path: Path) -> Any:
    import torch

    _require_file(path)
    try:
        with warnings.catch_warnings():
            # torch 2.13 deprecates TorchScript; the user's file is what it is, so say nothing.
            warnings.filterwarnings(
                "ignore", r"`torch\.jit\.load` is deprecated", DeprecationWarning
            )
            return torch.jit.load(str(path), map_location="cpu")  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise ModelLoadError(
            f"{path} is not a TorchScript file ({_first_line(exc)}). A state dict needs the module "
            "that reads it: use 'torch:pkg.module:factory?weights=FILE'."
        ) from exc


def _load_exported(path: Path) -> Any:
    import logging
    import zipfile

    import torch

    _require_file(path)
    if not zipfile.is_zipfile(path):  # torch.export.load would log a traceback first
        raise ModelLoadError(f"{path} is not a torch.export archive (not a zip file).")
    logger = logging.getLogger("torch.export")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its fallback to an older format logs a traceback on failure
    try:
        return torch.export.load(str(path)).module()
    except Exception as exc:
        raise ModelLoadError(f"{path} is not a torch.export archive ({_first_line(exc)}).") from exc
    finally:
        logger.setLevel(level)


def _build_from_factory(ref: ModelRef, options: LoadOptions) -> tuple[Any, tuple[str, ...]]:
    import torch

    module_name, _, factory_name = ref.target.rpartition(":")
    code_module = _import_code(module_name, ref)
    factory = getattr(code_module, factory_name, None)
    if not callable(factory):
        raise ModelReferenceError(f"{module_name} has no callable '{factory_name}' (from {ref}).")
    kwargs = {k: _literal(v) for k, v in ref.params if k not in RESERVED}
    call = f"{module_name}:{factory_name}(**{kwargs})"
    with _user_code(call, ref):
        try:
            module = factory(**kwargs)
        except TypeError as exc:
            raise ModelReferenceError(f"{call} failed: {_first_line(exc)}") from exc
    if not isinstance(module, torch.nn.Module):
        raise ModelLoadError(
            f"{call} returned {type(module).__name__}, not a torch.nn.Module (from {ref})."
        )
    files = [str(getattr(code_module, "__file__", "") or "")]
    weights = ref.param("weights")
    if weights:
        _load_weights(module, Path(weights), options)
        files.insert(0, weights)
    return module, tuple(f for f in files if f)


@contextlib.contextmanager
def _user_code(what: str, ref: ModelRef) -> Iterator[None]:
    """Runs the user's factory code: whatever it raises, or a ``sys.exit`` in it, becomes one
    :class:`ModelLoadError` naming the code, never a traceback or a silent exit of whichmodel
    (a gate must not pass because a model's module exited 0 on import)."""
    try:
        yield
    except WhichModelError:
        raise
    except SystemExit as exc:
        raise ModelLoadError(
            f"{what} called sys.exit({exc.code!r}) (from {ref}), so there is no model to load. "
            "Guard script code in the module with if __name__ == '__main__'."
        ) from None
    except Exception as exc:
        raise ModelLoadError(
            f"{what} failed: {type(exc).__name__}: {_first_line(exc)} (from {ref})."
        ) from exc


def _import_code(module_name: str, ref: ModelRef) -> Any:
    """The module a factory reference names. A ``file.py`` is executed once per process for each
    content it has (cached by its resolved path and digest): a script that trains on import
    trains once however often the model loads (predictions, spec sheet), and an edited file is
    read again."""
    if module_name.endswith(".py"):
        import hashlib

        path = Path(module_name)
        _require_file(path)
        digest = hashlib.sha256(str(path.resolve()).encode() + b"\0" + path.read_bytes())
        name = f"whichmodel_user_{digest.hexdigest()[:24]}"
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ModelReferenceError(f"Cannot import {path} (from {ref}).")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            with _user_code(f"importing {path}", ref):
                spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]  # a half-run module must not be found by the next load
            raise
        return module
    try:
        with _user_code(f"importing {module_name}", ref):
            return importlib.import_module(module_name)
    except ModelLoadError as exc:
        if not isinstance(exc.__cause__, ImportError):
            raise
        raise ModelReferenceError(
            f"Cannot import module '{module_name}' (from {ref}): {exc.__cause__}. "
            "Is it on PYTHONPATH, or give a path to a .py file?"
        ) from exc.__cause__


def _load_weights(module: Any, path: Path, options: LoadOptions) -> None:
    _require_file(path)
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from whichmodel.sources.weights import safetensors_header

        safetensors_header(path)  # a header claiming more than the file holds: refused here
        try:
            state = load_file(str(path), device="cpu")
        except SafetensorError as exc:
            raise ModelLoadError(f"{path} is not a readable safetensors file ({exc}).") from exc
    else:
        state = _load_checkpoint(path, options)
    if not isinstance(state, Mapping):
        raise ModelLoadError(
            f"{path} holds a {type(state).__name__}, not a state dict; save it with "
            "torch.save(model.state_dict())."
        )
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        from whichmodel.sources.torch_errors import state_dict_mismatch

        why = state_dict_mismatch(module, state) or _first_line(exc)
        raise ModelLoadError(f"The weights in {path} do not fit the module: {why}.") from exc


def _load_checkpoint(path: Path, options: LoadOptions) -> Any:
    """A .pt/.pth state dict, unpickled with ``weights_only=True`` (tensors and plain containers
    only): anything else in the pickle, such as a class whose ``__reduce__`` runs a command, is
    refused unless the user allows pickles."""
    import pickle

    import torch

    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" not in str(exc).lower():
            raise _not_a_state_dict(path, exc) from exc
        if not options.allow_pickle:
            raise UnsafeModelError(
                f"{path} holds Python objects besides tensors, and unpickling them can run code. "
                "Save the weights with safetensors or torch.save(model.state_dict()), or pass "
                "--allow-pickle if you trust it."
            ) from exc
    except Exception as exc:
        raise _not_a_state_dict(path, exc) from exc
    try:
        return torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as exc:
        raise _not_a_state_dict(path, exc) from exc


def _not_a_state_dict(path: Path, exc: BaseException) -> ModelLoadError:
    return ModelLoadError(
        f"{path} is not a plain state dict ({_first_line(exc)}); save it with "
        "safetensors or torch.save(model.state_dict())."
    )


def _first_tensor(out: Any) -> Any:
    import torch

    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, dict) or hasattr(out, "keys"):
        return out["logits"] if "logits" in out else next(iter(out.values()))
    if isinstance(out, tuple | list):
        return out[0]
    raise TaskError(f"The module returned {type(out).__name__}; expected a tensor.")


def count_parameters(module: Any) -> int:
    """Parameters of a module, counting tied (shared) tensors once."""
    seen: set[int] = set()
    total = 0
    for p in module.parameters():
        ptr = p.data_ptr()
        if ptr and ptr in seen:  # meta-device and empty tensors all report 0: count each
            continue
        seen.add(ptr)
        total += p.numel()
    return total


def _architecture(module: Any) -> str:
    original = getattr(module, "original_name", None)  # TorchScript keeps the Python class name
    return str(original or type(module).__name__)


def _literal(value: str) -> Any:
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise ModelReferenceError(f"No such file: {path}")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
