"""The Model contract and the values that cross it: what every stage knows of a model.

- :class:`Model`: what a source loads; ``predict`` plus the capabilities it declares
  (:mod:`whichmodel.sources.capabilities`).
- :class:`Inputs`, :class:`RawOutput`: a batch in, the model's answer out.
- :class:`LoadOptions`, :class:`ModelInfo`: what the user allowed, what loading read.

The Source contract (files, load, inspect) is in :mod:`whichmodel.sources.contract`: it names the
spec sheet, so it sits right of spec, while these values sit left of data and spec, which use them
(``tests/test_architecture.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from whichmodel.errors import ModelReferenceError
from whichmodel.refs import ModelRef

InputKind = Literal["tabular", "array", "text", "audio"]
OutputKind = Literal["proba", "logits", "labels", "values", "scores", "texts"]


def label_text(value: object) -> str:
    """A class label as text, the same way for data labels and model classes: ``1``, ``1.0``
    and ``np.int64(1)`` all read ``"1"``, so a model trained on float labels matches int data."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Inputs:
    """A batch of model inputs.

    Args:
        kind: ``tabular`` — ``data`` is (n, d) with one column per name in ``columns``: float64
            when every column is numeric, else object holding each cell's value;
            ``array`` — ``data`` is (n, *shape) float32, e.g. (n, 8, 8) images;
            ``text`` — ``data`` is (n,) of ``str``;
            ``audio`` — ``data`` is (n,) of ``whichmodel.sources.audio.AudioClip`` (clips of any
            length and sampling rate, decoded on demand).
        data: the values, first axis = examples.
        columns: the data columns the values came from.
        dtypes: ``tabular`` only: each column's pandas dtype as the file stores it (category
            with its levels, bool, datetime64, string, int64, ...), one per column, so that an
            estimator fitted on a DataFrame gets its columns back as it saw them; ``()`` when
            unknown (arrays, synthesized inputs).
    """

    kind: InputKind
    data: np.ndarray
    columns: tuple[str, ...] = field(default=())
    dtypes: tuple[Any, ...] = field(default=())

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def take(self, index: np.ndarray | slice) -> Inputs:
        """The examples at ``index`` (a slice or an integer array)."""
        return Inputs(self.kind, self.data[index], self.columns, self.dtypes)


@dataclass(frozen=True)
class RawOutput:
    """What a model returned for a batch, before any task reads it.

    Args:
        kind: ``proba`` (n, C) probabilities; ``logits`` (n, C) unnormalized scores;
            ``labels`` (n,) predicted class labels; ``values`` (n,) or (n, k) numbers;
            ``scores`` (n, S) float64 per-example numbers a task asked a capability for (e.g.
            summed NLL, token count); ``texts`` (n,) str, e.g. generated text.
        array: the values, first axis = examples.
        labels: (n,) str, the model's own predicted labels next to ``proba`` when it has a
            decision of its own (scikit-learn's ``predict`` beside ``predict_proba``, which an
            ``SVC`` or a calibrated model can contradict); a task then takes the label from
            here, and the probabilities only for what needs probabilities (log loss,
            calibration). None when the label is the most probable class (PyTorch and Hugging
            Face classifiers: their decision is the argmax of their logits).
    """

    kind: OutputKind
    array: np.ndarray
    labels: np.ndarray | None = None


@dataclass(frozen=True)
class LoadOptions:
    """What the user allowed when loading (both flags default to the safe choice), and the run
    store a source may cache in (an endpoint's responses; None: no cache)."""

    allow_pickle: bool = False
    trust_remote_code: bool = False
    store: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    """Static facts a source reads while loading (the spec sheet issue deepens these).

    Args:
        framework: e.g. ``"sklearn"``, ``"torch"``, ``"transformers"``.
        architecture: the estimator or module class name.
        parameters: learnable parameters (tree ensembles: number of tree nodes), None if unknown.
        files: the files the model was read from (weights, config, code), for fingerprints and size.
    """

    framework: str
    architecture: str
    parameters: int | None
    files: tuple[str, ...]


class Model(ABC):
    """A loaded model. Sources subclass this; callers use :meth:`predict`, and the methods of
    the capabilities the model declares (see ``whichmodel.sources.capabilities``).

    Attributes:
        ref: the reference it was loaded from.
        info: static facts about it.
        classes: class labels (as strings) in the order of the output columns, when the model
            knows them (scikit-learn ``classes_``, Hugging Face ``id2label``, ``?classes=``).
    """

    ref: ModelRef
    info: ModelInfo
    classes: tuple[str, ...] | None = None
    # What the model can do beyond predict, e.g. {"loglikelihood", "generate", "embed"}.
    capabilities: frozenset[str] = frozenset({"predict"})

    @property
    def name(self) -> str:
        return self.ref.name

    def lacks(self, capability: str) -> str | None:
        """Why the model cannot do ``capability`` although its kind may (an endpoint whose
        server ignores ``echo`` cannot score text), for the one-line refusal; None for the
        usual one (``whichmodel.sources.capabilities.require``)."""
        return None

    @abstractmethod
    def predict(self, inputs: Inputs) -> RawOutput:
        """Run the model on one batch. Must not change the model's state."""

    def to(self, device: str) -> None:
        """Run on ``device`` (``cuda``, ``cuda:1``) from now on: its weights move there, and
        :meth:`predict` moves each batch there and its outputs back. Sources whose models can
        override this; the rest stay on the CPU.

        Raises:
            ConfigError: this kind of model runs on the CPU only here.
        """
        from whichmodel.errors import ConfigError

        if device != "cpu":
            raise ConfigError(
                f"{self.ref} ({self.info.framework} {self.info.architecture}) runs on the CPU "
                f"only here; --device {device} times PyTorch modules and transformers "
                "classifiers."
            )


def existing_files(files: tuple[str, ...], ref: ModelRef) -> tuple[str, ...]:
    """``files``, once each is known to be a file (for ``Source.files``).

    Raises:
        ModelReferenceError: ``No such file: <the first missing one> (from <ref>).``
    """
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise ModelReferenceError(f"No such file: {missing[0]} (from {ref}).")
    return files
