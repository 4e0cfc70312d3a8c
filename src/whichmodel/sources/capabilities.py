"""What a model can do beyond ``predict``: the small contracts task kinds call.

A source declares its capabilities in ``Model.capabilities`` and implements the matching methods.
The contract follows lm-evaluation-harness's three-method model interface (``loglikelihood``,
``loglikelihood_rolling``, ``generate_until``), plus ``embed`` for embedding models:

========================  ==================================================================
capability                methods
========================  ==================================================================
``loglikelihood``         :meth:`LanguageModel.loglikelihood`, :meth:`.loglikelihood_rolling`
``generate``              :meth:`LanguageModel.generate_until`
``embed``                 :meth:`Embedder.embed`
``tag``                   :meth:`Tagger.tag`
``transcribe``            :meth:`Transcriber.transcribe`
========================  ==================================================================

A task asks for the capability it needs with :func:`require`, which raises a one-line
:class:`~whichmodel.errors.TaskError` naming what the model lacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np

from whichmodel.errors import TaskError
from whichmodel.sources.base import Model


@dataclass(frozen=True)
class LogLikelihood:
    """log p(continuation | context) of one request.

    Args:
        logprob: sum over the continuation's tokens of log p(token | everything before), nats.
        is_greedy: whether greedy decoding from the context produces exactly the continuation.
        n_tokens: the continuation's token count.
    """

    logprob: float
    is_greedy: bool
    n_tokens: int


@dataclass(frozen=True)
class GenerationSettings:
    """How text is generated; recorded with the results (it is part of the task's name).

    Args:
        max_new_tokens: the most tokens generated per prompt.
        do_sample: sample (with ``temperature`` and ``top_p``) instead of greedy decoding.
        temperature: sampling temperature (used only when ``do_sample``).
        top_p: nucleus sampling mass (used only when ``do_sample``).
        stop: generation is cut at the first of these strings (which is dropped).
        seed: seeds sampling, so a rerun generates the same text.
    """

    max_new_tokens: int = 32
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 0


BOS_CONVENTIONS = ("tokenizer", "always", "never")
ROLLING_CONVENTIONS = ("disjoint", "sliding")


@dataclass(frozen=True)
class ScoringSettings:
    """How text is scored; lm-evaluation-harness's (0.4) ``hf`` model's conventions by default.
    Recorded with the results (they are task options, part of the task's name).

    Args:
        bos: what a text starts with. ``tokenizer``: the special tokens the tokenizer adds by
            default (none for GPT-2's, BOS for Llama's), as lm-eval with ``add_bos_token``
            unset; an empty context is the prefix token (BOS, else EOS). ``always``: the prefix
            token first, whatever the tokenizer does. ``never``: no special token; a text's
            first token is then context only, never scored.
        rolling: how :meth:`LanguageModel.loglikelihood_rolling` splits a text longer than
            ``window``. ``disjoint``: lm-eval's ``loglikelihood_rolling``: the prefix token,
            then windows that each score up to ``window`` new tokens, the last one with a full
            window of context, the others with one token. ``sliding``: each window scores
            ``stride`` new tokens after ``window - stride`` of context (the Hugging Face
            "Perplexity of fixed-length models" guide).
        window: tokens per forward pass; None: the model's context (at most 2048).
        stride: new tokens per sliding window; None: window // 2. Only with ``sliding``.
        batch_size: the most sequences in one forward pass.
    """

    bos: str = "tokenizer"
    rolling: str = "disjoint"
    window: int | None = None
    stride: int | None = None
    batch_size: int = 1

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("bos", self.bos, BOS_CONVENTIONS),
            ("rolling", self.rolling, ROLLING_CONVENTIONS),
        ):
            if value not in allowed:
                raise TaskError(
                    f"The '{name}' setting must be one of {', '.join(allowed)}. Got {value!r}."
                )
        if self.stride is not None and self.rolling != "sliding":
            raise TaskError(
                f"A stride ({self.stride}) applies to sliding windows only: add rolling=sliding."
            )
        if self.window is not None and self.stride is not None and self.stride >= self.window:
            raise TaskError(
                f"The stride ({self.stride}) must be smaller than the window ({self.window})."
            )


LM_EVAL_SCORING = ScoringSettings()


class LanguageModel(Protocol):
    """A model that assigns probabilities to text and generates it (capabilities
    ``loglikelihood`` and ``generate``)."""

    def loglikelihood(
        self, requests: Sequence[tuple[str, str]], settings: ScoringSettings = LM_EVAL_SCORING
    ) -> list[LogLikelihood]:
        """For each (context, continuation): log p(continuation | context). The continuation's
        tokens are those of ``context + continuation`` after the context's tokens; a context's
        trailing whitespace belongs to the continuation. ``settings.bos`` says what the
        context starts with."""
        ...

    def loglikelihood_rolling(
        self, texts: Sequence[str], settings: ScoringSettings = LM_EVAL_SCORING
    ) -> list[np.ndarray]:
        """For each text, (T,) float64 negative log-likelihood in nats of each of its T scored
        tokens, each scored exactly once, in the windows ``settings.rolling`` names (see
        :class:`ScoringSettings`)."""
        ...

    def generate_until(self, prompts: Sequence[str], settings: GenerationSettings) -> list[str]:
        """The text generated after each prompt (the prompt itself not included)."""
        ...


class Embedder(Protocol):
    """A model that maps text to vectors (capability ``embed``)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(n, d) float32 embeddings, one row per text."""
        ...


class Tagger(Protocol):
    """A model that labels each word of a sentence (capability ``tag``)."""

    def tag(self, words: Sequence[Sequence[str]]) -> list[list[str]]:
        """One label per word for each sentence (e.g. IOB2 tags ``B-PER``, ``I-PER``, ``O``)."""
        ...


class Transcriber(Protocol):
    """A speech-to-text model (capability ``transcribe``)."""

    sampling_rate_hz: int  # the rate its feature extractor expects

    def transcribe(self, waveforms: Sequence[np.ndarray]) -> list[str]:
        """The text spoken in each (T,) float32 mono waveform, sampled at ``sampling_rate_hz``."""
        ...


_WHAT = {
    "loglikelihood": (
        "score text (log-likelihoods)",
        "use a causal language model (a Hugging Face folder of a *ForCausalLM or *LMHeadModel "
        "architecture).",
    ),
    "generate": (
        "generate text",
        "use a causal language model (a Hugging Face folder of a *ForCausalLM or *LMHeadModel "
        "architecture).",
    ),
    "tag": (
        "label each word",
        "use a token classifier (a Hugging Face folder of a *ForTokenClassification architecture).",
    ),
    "transcribe": (
        "transcribe speech",
        "use a speech recognizer (a Hugging Face folder of a *ForCTC architecture or of "
        "WhisperForConditionalGeneration, with its feature extractor and tokenizer files).",
    ),
    "embed": (
        "embed text",
        "use an encoder without a task head (e.g. a sentence-transformers folder or BertModel).",
    ),
}


def require(model: Model, capability: str, task: str) -> None:
    """Raise TaskError unless ``model`` declares ``capability``; the message says what to use."""
    if capability not in model.capabilities:
        what, hint = _WHAT.get(capability, (capability, "use a model that has it."))
        lacks = getattr(model, "lacks", None)
        reason = lacks(capability) if callable(lacks) else None
        if reason:
            raise TaskError(f"The '{task}' task needs a model that can {what}; {model.name} "
                            f"cannot: {reason}")
        raise TaskError(
            f"The '{task}' task needs a model that can {what}; {model.name} "
            f"({model.info.architecture}) cannot: {hint}"
        )


def as_language_model(model: Model, capability: str, task: str) -> LanguageModel:
    """``model`` as a :class:`LanguageModel` if it declares ``capability`` (:func:`require`)."""
    require(model, capability, task)
    return cast(LanguageModel, model)


def as_embedder(model: Model, task: str) -> Embedder:
    """``model`` as an :class:`Embedder`, if it declares ``embed`` (see :func:`require`)."""
    require(model, "embed", task)
    return cast(Embedder, model)


def as_transcriber(model: Model, task: str) -> Transcriber:
    """``model`` as a :class:`Transcriber`, if it declares ``transcribe`` (see :func:`require`)."""
    require(model, "transcribe", task)
    return cast(Transcriber, model)


def as_tagger(model: Model, task: str) -> Tagger:
    """``model`` as a :class:`Tagger`, if it declares ``tag`` (see :func:`require`)."""
    require(model, "tag", task)
    return cast(Tagger, model)
