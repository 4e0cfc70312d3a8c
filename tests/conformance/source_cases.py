"""The conformance cases of the model sources: for every kind the sources registry lists (and
the hidden ``fake``), tiny real models, each with the inputs it reads and what the framework
itself says about the same model (its outputs, parameter count and classes), computed from the
in-memory object.

:data:`CASES` maps a kind to its cases; ``test_sources.py`` fails for a registered kind without
one. A case is built on first use from the session fixtures of ``helpers.model_fixtures`` and
the golden recipes (``fx`` is ``request.getfixturevalue``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.sources.base import Inputs, LoadOptions, OutputKind

Fixture = Callable[[str], Any]


@dataclass(frozen=True)
class SourceCase:
    """A reference and what loading it must give.

    Args:
        path: the file or folder the reference names (None: a fake model has no files).
        weights: the weights file among the reference's files (None: none).
        inputs: what ``predict`` reads (None: the model cannot predict).
        kind: the output kind ``predict`` declares for ``inputs``.
        expected: the framework's own output for ``inputs`` (first axis = examples), or None
            where only shapes are checked.
        parameters: the exact parameter count, or None where only "positive" is checked.
        architecture: the exact class name, or None where only "non-empty" is checked.
        syspath: a folder the reference needs on ``sys.path`` (dotted ``torch:`` references).
        options: what loading needs allowed (TorchScript and torch.export archives run code).
        capabilities: what the loaded model must declare (copied from its :class:`Spec`).
        weights_read: False for a served model (``openai:``), whose parameter count is unknown.
    """

    ref: str
    path: Path | None
    weights: Path | None
    inputs: Inputs | None
    kind: OutputKind | None
    expected: np.ndarray | None
    framework: str
    architecture: str | None
    parameters: int | None
    classes: tuple[str, ...] | None
    syspath: Path | None = None
    options: LoadOptions = LoadOptions()  # noqa: RUF009 (frozen: one shared default is safe)
    capabilities: frozenset[str] = frozenset()
    weights_read: bool = True

    @property
    def missing_ref(self) -> str:
        """The reference with its file or folder moved to where nothing is; the fake, which
        reads no file, gets a reference naming no fake model instead."""
        if self.path is None:
            return "fake:oracle"
        return self.ref.replace(str(self.path), str(self.path.parent / "missing" / self.path.name))


@dataclass(frozen=True)
class Spec:
    """How to build a case, and the capabilities its loaded model must declare (empty: the
    source only inspects, and refuses to load)."""

    build: Callable[[Fixture], SourceCase]
    capabilities: frozenset[str]

    def case(self, fx: Fixture) -> SourceCase:
        return replace(self.build(fx), capabilities=self.capabilities)


PREDICT = frozenset({"predict"})


def _sklearn_case(fx: Fixture, name: str, *, frame: bool = False) -> SourceCase:
    saved, inputs = fx(name), fx("tabular_inputs")
    est = saved.model
    x = inputs.data
    if frame:
        import pandas as pd

        x = pd.DataFrame(x, columns=list(inputs.columns))
    classes = getattr(est, "classes_", None)
    linear = hasattr(est, "coef_") and type(est).__module__.startswith("sklearn")
    return SourceCase(
        ref=f"sklearn:{saved.path}",
        path=saved.path,
        weights=saved.path,
        inputs=inputs,
        kind="proba" if classes is not None else "values",
        expected=est.predict_proba(x) if classes is not None else est.predict(x),
        framework=type(est).__module__.split(".")[0],
        architecture=type(est).__name__,
        parameters=int(np.size(est.coef_) + np.size(est.intercept_)) if linear else None,
        classes=tuple(str(c) for c in classes) if classes is not None else None,
    )


def _torch_expected(fx: Fixture, inputs: Inputs) -> tuple[np.ndarray, int]:
    import torch

    module = fx("tiny_mlp")
    with torch.inference_mode():
        out = module(torch.from_numpy(np.asarray(inputs.data, dtype=np.float32)))
    return out.numpy(), sum(p.numel() for p in module.parameters())


def _torch_case(fx: Fixture, form: str) -> SourceCase:
    inputs = fx("image_inputs" if form in {"torchscript", "export"} else "tabular_inputs")
    expected, n_params = _torch_expected(fx, inputs)
    weights = fx("mlp_weights")
    helper = fx("helpers_dir") / "tiny_torch.py"
    syspath, classes, path = None, None, weights
    if form == "path":
        ref = f"torch:{helper}:mlp?weights={weights}&hidden=16"
    elif form == "dotted":
        classes = tuple(str(i) for i in range(10))
        ref = f"torch:tiny_torch:mlp?weights={weights}&classes={','.join(classes)}"
        syspath = helper.parent
    else:
        weights = path = fx("mlp_torchscript" if form == "torchscript" else "mlp_exported")
        ref = f"torch:{weights}"
    return SourceCase(
        ref=ref,
        path=path,
        weights=weights,
        inputs=inputs,
        kind="logits",
        expected=expected,
        framework="torch",
        architecture=None if form == "export" else "TinyMLP",  # an exported graph: GraphModule
        parameters=n_params,
        classes=classes,
        syspath=syspath,
        options=LoadOptions(allow_pickle=form in {"torchscript", "export"}),
    )


def _hf_logits(model: Any, tokenizer: Any, texts: list[str]) -> np.ndarray:
    import torch

    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        return np.asarray(model(**batch).logits.numpy())


def _hf_case(folder: Path, inputs: Inputs | None, kind: OutputKind | None, **facts: Any
             ) -> SourceCase:
    """A Hugging Face folder: every file in it is the model's; ``weights`` its safetensors."""
    return SourceCase(
        ref=f"hf:{folder}", path=folder, weights=folder / "model.safetensors", inputs=inputs,
        kind=kind, framework="transformers", **facts,
    )  # fmt: skip


def _bert_case(fx: Fixture) -> SourceCase:
    saved, inputs = fx("tiny_bert"), fx("text_inputs")
    model, tokenizer = saved.model
    return _hf_case(
        saved.path, inputs, "logits", expected=_hf_logits(model, tokenizer, list(inputs.data)),
        architecture="BertForSequenceClassification",
        parameters=sum(p.numel() for p in model.parameters()), classes=("neg", "neu", "pos"),
    )  # fmt: skip


def _llama_case(fx: Fixture) -> SourceCase:
    """A tiny random Llama (``loglikelihood``, ``generate``); ``predict`` gives (n, T, V)."""
    from helpers.tiny_lm import build, sentences

    lm = build(fx("tmp_path_factory").mktemp("llama") / "lm", seed=0)
    texts = sentences(7, seed=3)
    return _hf_case(
        lm.folder, Inputs("text", np.array(texts, dtype=object)), "logits",
        expected=_hf_logits(lm.model, lm.tokenizer, texts), architecture="LlamaForCausalLM",
        parameters=sum(p.numel() for p in lm.model.parameters()), classes=None,
    )  # fmt: skip


def _encoder_case(fx: Fixture) -> SourceCase:
    """The real MiniLM, a sentence-transformers folder (``embed``); ``predict`` gives its
    embeddings (n, 384)."""
    from golden.cases import minilm_folder

    return _hf_case(
        minilm_folder(), fx("text_inputs"), "values", expected=None, architecture="BertModel",
        parameters=None, classes=None,
    )  # fmt: skip


def _tagger_case(fx: Fixture) -> SourceCase:
    """The golden token-classification recipe's first random tagger (``tag``)."""
    from golden.cases import NER_TAGS, NER_WORDS, token_classification

    recipe = token_classification(fx("tmp_path_factory").mktemp("tagger"))
    folder = Path(recipe.refs[0].removeprefix("hf:"))
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(NER_WORDS, size=int(rng.integers(2, 7)))) for _ in range(9)]
    return _hf_case(
        folder, Inputs("text", np.array(texts, dtype=object)), "logits", expected=None,
        architecture="BertForTokenClassification", parameters=None,
        classes=tuple(NER_TAGS[i] for i in sorted(NER_TAGS)),
    )  # fmt: skip


def _audio_inputs(root: Path) -> Inputs:
    from helpers.tiny_speech import write_audio_folder
    from whichmodel.data.dataset import read_dataset

    return read_dataset(write_audio_folder(root / "audio"), label_col="text", audio=True).inputs


def _speech_case(fx: Fixture, architecture: str) -> SourceCase:
    """A tiny random speech recognizer (``transcribe``) on 8 synthesized clips at 8 and 16 kHz;
    ``predict`` gives one transcript per clip."""
    from helpers.tiny_speech import build_tiny_wav2vec2, build_tiny_whisper

    root = fx("tmp_path_factory").mktemp("speech")
    if architecture == "WhisperForConditionalGeneration":
        build_tiny_whisper(root / "model", seed=2)
    else:
        build_tiny_wav2vec2(root / "model", seed=0, attention_mask=True)
    return _hf_case(
        root / "model", _audio_inputs(root), "texts", expected=None, architecture=architecture,
        parameters=None, classes=None,
    )  # fmt: skip


def _detr_case(fx: Fixture) -> SourceCase:
    """A tiny random DETR (``detect`` only: its ``predict`` refuses)."""
    from helpers.tiny_detector import CLASSES, save_tiny_detr

    folder = save_tiny_detr(fx("tmp_path_factory").mktemp("detr") / "detr")
    return _hf_case(
        folder, None, None, expected=None, architecture="DetrForObjectDetection",
        parameters=None, classes=tuple(CLASSES),
    )  # fmt: skip


def _openai_case(fx: Fixture) -> SourceCase:
    """The tiny Llama behind ``transformers serve`` on loopback (``helpers.openai_server``). Its
    architecture is the id the server reports, which varies with its version (PATH, or PATH@main
    in transformers 5.18): tests/sources/test_openai_source.py checks it."""
    served = fx("openai_server")
    return SourceCase(
        ref=served.ref(), path=None, weights=None, inputs=fx("text_inputs").take(slice(0, 6)),
        kind="texts", expected=None, framework="openai", architecture=None,
        parameters=None, classes=None, weights_read=False,
    )  # fmt: skip


def _onnx_case(fx: Fixture) -> SourceCase:
    import onnx
    from onnx import numpy_helper

    from helpers.tiny_onnx import MLP_PARAMETERS, save_onnx_mlp

    path = save_onnx_mlp(fx("tmp_path_factory").mktemp("onnx") / "mlp.onnx")
    inputs = fx("tabular_inputs")
    weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    x = np.asarray(inputs.data, dtype=np.float32)
    expected = np.maximum(x @ weights["w1"], 0) @ weights["w2"]  # the graph, in NumPy
    return SourceCase(
        ref=f"onnx:{path}", path=path, weights=path, inputs=inputs, kind="logits",
        expected=expected, framework="onnx", architecture=None, parameters=MLP_PARAMETERS,
        classes=None,
    )  # fmt: skip


def _gguf_case(fx: Fixture) -> SourceCase:
    """A tiny random Llama written as GGUF (F16 matrices, F32 norms) by the gguf package."""
    from helpers.tiny_gguf import write_llama_gguf
    from helpers.tiny_lm import build

    root = fx("tmp_path_factory").mktemp("gguf")
    lm = build(root / "lm", seed=0)
    path = write_llama_gguf(lm.model, lm.tokenizer, root / "llama.gguf").path
    return SourceCase(
        ref=f"gguf:{path}", path=path, weights=path, inputs=None, kind=None, expected=None,
        framework="gguf", architecture=None,
        parameters=sum(p.numel() for p in lm.model.parameters()), classes=None,
    )  # fmt: skip


def _fake_case(fx: Fixture, target: str) -> SourceCase:
    classifier = target == "classifier"
    return SourceCase(
        ref=f"fake:{target}?classes=3&seed=0" if classifier else "fake:regressor?seed=1",
        path=None, weights=None, inputs=fx("tabular_inputs"),
        kind="proba" if classifier else "values", expected=None, framework="fake",
        architecture=f"Fake{target.title()}", parameters=0,
        classes=("0", "1", "2") if classifier else None,
    )  # fmt: skip


#: kind -> case name -> how to build it. Every kind of ``whichmodel.refs.SOURCES`` (listed or
#: hidden) needs at least one case, and every capability a model can declare one model with it.
CASES: dict[str, dict[str, Spec]] = {
    "sklearn": {
        "logreg": Spec(lambda fx: _sklearn_case(fx, "logreg"), PREDICT),
        "hist_gb": Spec(lambda fx: _sklearn_case(fx, "hist_gb"), PREDICT),
        "ridge": Spec(lambda fx: _sklearn_case(fx, "ridge"), PREDICT),
        "xgboost": Spec(lambda fx: _sklearn_case(fx, "xgb"), PREDICT),
        "lightgbm": Spec(lambda fx: _sklearn_case(fx, "lgbm", frame=True), PREDICT),
    },
    "torch": {
        "torch_path": Spec(lambda fx: _torch_case(fx, "path"), PREDICT),
        "torch_dotted": Spec(lambda fx: _torch_case(fx, "dotted"), PREDICT),
        "torchscript": Spec(lambda fx: _torch_case(fx, "torchscript"), PREDICT),
        "torch_export": Spec(lambda fx: _torch_case(fx, "export"), PREDICT),
    },
    "hf": {
        "hf_bert": Spec(_bert_case, PREDICT),
        "hf_llama": Spec(_llama_case, PREDICT | {"loglikelihood", "generate"}),
        "hf_encoder": Spec(_encoder_case, PREDICT | {"embed"}),
        "hf_tagger": Spec(_tagger_case, PREDICT | {"tag"}),
        "hf_ctc": Spec(lambda fx: _speech_case(fx, "Wav2Vec2ForCTC"), PREDICT | {"transcribe"}),
        "hf_whisper": Spec(
            lambda fx: _speech_case(fx, "WhisperForConditionalGeneration"),
            PREDICT | {"transcribe"},
        ),
        "hf_detr": Spec(_detr_case, frozenset({"detect"})),
    },
    "onnx": {"onnx_mlp": Spec(_onnx_case, PREDICT)},
    "gguf": {"gguf_llama": Spec(_gguf_case, frozenset())},
    "openai": {"openai_served": Spec(_openai_case, PREDICT | {"generate"})},
    "fake": {
        "fake_classifier": Spec(lambda fx: _fake_case(fx, "classifier"), PREDICT),
        "fake_regressor": Spec(lambda fx: _fake_case(fx, "regressor"), PREDICT),
    },
}
