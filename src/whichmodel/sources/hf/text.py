"""Hugging Face text models with capabilities beyond a task head: causal LMs and encoders.

- :class:`HFCausalLM` (``*ForCausalLM``, ``*LMHeadModel``, any causal LM transformers' auto-mapping
  lists; :func:`is_causal_lm`): ``loglikelihood``, ``loglikelihood_rolling``,
  ``generate_until`` (see :mod:`whichmodel.sources.capabilities`).
- :class:`HFTokenTagger` (``*ForTokenClassification``): ``tag``, one label per word.
- :class:`HFEncoder` (a base encoder such as ``BertModel``, or a sentence-transformers folder):
  ``embed`` by the folder's pooling (mean by default, ``1_Pooling/config.json`` may say CLS),
  L2-normalized when the folder's ``modules.json`` lists a ``Normalize`` module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from whichmodel.errors import ModelLoadError, TaskError
from whichmodel.sources.base import Inputs, RawOutput
from whichmodel.sources.capabilities import GenerationSettings, LogLikelihood
from whichmodel.sources.hf.base import HFModel

_MAX_WINDOW = 2048  # tokens per forward pass when the config allows more


def _as_text(inputs: Inputs) -> Inputs:
    """Text inputs for :meth:`predict` (what the cost probe times): a table's first column
    (e.g. multiple choice's ``context``) read as text."""
    if inputs.kind == "text":
        return inputs
    column = inputs.data[:, 0] if inputs.data.ndim == 2 else inputs.data
    return Inputs("text", np.asarray([str(v) for v in column], dtype=object), inputs.columns[:1])


class HFCausalLM(HFModel):
    """A causal language model and its tokenizer. :meth:`predict` returns next-token logits
    (n, T, V) of the text, which is what the cost probe times."""

    capabilities = frozenset({"predict", "loglikelihood", "generate"})

    def predict(self, inputs: Inputs) -> RawOutput:
        return super().predict(_as_text(inputs))

    def _tok(self) -> Any:
        if self.tokenizer is None:
            raise ModelLoadError(f"{self.ref} has no tokenizer files, so it cannot read text.")
        return self.tokenizer

    def _prefix(self) -> list[int]:
        """The token every text is scored after: BOS, else EOS (as lm-evaluation-harness uses
        its end-of-text token), else none (then a text's first token is not scored)."""
        tok = self._tok()
        for token_id in (tok.bos_token_id, tok.eos_token_id):
            if token_id is not None:
                return [int(token_id)]
        return []

    def _max_window(self) -> int:
        positions = getattr(self.model.config, "max_position_embeddings", None) or _MAX_WINDOW
        return int(min(positions, _MAX_WINDOW))

    def _logprobs(self, ids: list[int]) -> np.ndarray:
        """(len(ids), V) float64 log-softmax of the logits at each position."""
        import torch

        with torch.inference_mode():
            logits = self.model(input_ids=torch.tensor([ids])).logits[0]  # (T, V)
            return torch.log_softmax(logits.double(), dim=-1).numpy()

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[LogLikelihood]:
        tok = self._tok()
        out = []
        for context, continuation in requests:
            # As lm-evaluation-harness: a context's trailing spaces belong to the continuation.
            spaces = len(context) - len(context.rstrip(" "))
            context, continuation = context[: len(context) - spaces], " " * spaces + continuation
            whole = tok(context + continuation, add_special_tokens=False).input_ids
            context_ids = tok(context, add_special_tokens=False).input_ids if context else []
            cont_ids = whole[len(context_ids) :]
            given = [*self._prefix(), *context_ids]
            if not given:  # no context and no BOS/EOS: the first token cannot be scored
                given, cont_ids = cont_ids[:1], cont_ids[1:]
            if not cont_ids:
                raise TaskError(f"The continuation {continuation!r} has no tokens to score.")
            ids = given + cont_ids
            ids = ids[-(self._max_window() + 1) :]
            logp = self._logprobs(ids[:-1])[-len(cont_ids) :]  # (len(cont), V)
            picked = logp[np.arange(len(cont_ids)), cont_ids]
            greedy = bool(np.all(logp.argmax(axis=1) == np.asarray(cont_ids)))
            out.append(LogLikelihood(float(picked.sum()), greedy, len(cont_ids)))
        return out

    def loglikelihood_rolling(
        self, texts: Sequence[str], *, window: int | None = None, stride: int | None = None
    ) -> list[np.ndarray]:
        window = min(window or self._max_window(), self._max_window())
        if window < 2:
            raise TaskError(f"The window must be at least 2 tokens. Got {window}.")
        stride = min(stride or max(1, window // 2), window - 1)
        tok = self._tok()
        return [
            _rolling_nll(
                self._logprobs,
                [*self._prefix(), *tok(t, add_special_tokens=False).input_ids],
                window,
                stride,
            )
            for t in texts
        ]

    def generate_until(self, prompts: Sequence[str], settings: GenerationSettings) -> list[str]:
        import torch

        tok = self._tok()
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        # Left padding: generation continues from the last position of every row. Asked for in
        # this call only: setting tok.padding_side would left-pad every later predict() too.
        batch = tok(
            list(prompts), return_tensors="pt", padding=True, padding_side="left",
            add_special_tokens=False,
        )  # fmt: skip
        prefix = self._prefix()
        if prefix:  # the same start a scored text gets
            start = torch.full((len(prompts), 1), prefix[0], dtype=batch["input_ids"].dtype)
            batch["input_ids"] = torch.cat([start, batch["input_ids"]], dim=1)
            batch["attention_mask"] = torch.cat(
                [torch.ones_like(start), batch["attention_mask"]], dim=1
            )
        torch.manual_seed(settings.seed)
        sampling = (
            {"temperature": settings.temperature, "top_p": settings.top_p}
            if settings.do_sample
            else {}
        )
        with torch.inference_mode():
            out = self.model.generate(
                **batch,
                max_new_tokens=settings.max_new_tokens,
                do_sample=settings.do_sample,
                pad_token_id=pad,
                **sampling,
            )
        new = out[:, batch["input_ids"].shape[1] :]
        texts = tok.batch_decode(new, skip_special_tokens=True)
        return [_cut(t, settings.stop) for t in texts]


def _rolling_nll(logprobs: Any, tokens: list[int], window: int, stride: int) -> np.ndarray:
    """(T,) NLL in nats of tokens[1:], each scored once.

    Targets [a, b) are scored from one forward pass over tokens[s:b], s = max(0, b - window):
    the logits at position i predict token i + 1. The first pass scores up to window - 1
    targets, later ones ``stride`` each (the sliding-window scheme of the Hugging Face
    "Perplexity of fixed-length models" guide), so each sees >= window - stride tokens of context.
    """
    nll = np.empty(max(len(tokens) - 1, 0), dtype=np.float64)
    a = 1
    while a < len(tokens):
        b = min(len(tokens), a + (window - 1 if a == 1 else stride))
        s = max(0, b - window)
        logp = logprobs(tokens[s:b])  # (b - s, V)
        targets = np.arange(a, b)
        nll[a - 1 : b - 1] = -logp[targets - 1 - s, np.asarray(tokens)[targets]]
        a = b
    return nll


def _cut(text: str, stop: tuple[str, ...]) -> str:
    ends = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[: min(ends)] if ends else text


class HFEncoder(HFModel):
    """A text encoder whose pooled hidden states are embeddings; :meth:`predict` returns them
    as ``values`` (n, d)."""

    capabilities = frozenset({"predict", "embed"})

    def predict(self, inputs: Inputs) -> RawOutput:
        text = _as_text(inputs)
        return RawOutput("values", self.embed([str(t) for t in text.data]))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        tok = self._tokenizer_or_fail()
        folder = Path(self.ref.target)
        pooling, normalize = _pooling(folder)
        batch = tok(list(texts), padding=True, truncation=True, return_tensors="pt")
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state  # (n, T, h)
            if pooling == "cls":
                pooled = hidden[:, 0]
            else:  # mean over real tokens, as sentence-transformers' Pooling does
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (n, T, 1)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if normalize:
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return np.asarray(pooled.float().numpy())

    def _tokenizer_or_fail(self) -> Any:
        if self.tokenizer is None:
            raise ModelLoadError(f"{self.ref} has no tokenizer files, so it cannot read text.")
        return self.tokenizer


def _pooling(folder: Path) -> tuple[str, bool]:
    """(``mean`` or ``cls``, whether to L2-normalize) from a sentence-transformers folder."""
    pooling = "mean"
    config = folder / "1_Pooling" / "config.json"
    if config.is_file():
        settings = json.loads(config.read_text(encoding="utf-8"))
        if settings.get("pooling_mode_cls_token"):
            pooling = "cls"
    modules = folder / "modules.json"
    normalize = modules.is_file() and "Normalize" in modules.read_text(encoding="utf-8")
    return pooling, normalize


class HFTokenTagger(HFModel):
    """A token classifier (``*ForTokenClassification``): one label per word, read from the
    logits of the word's first sub-token (the usual alignment; later sub-tokens are ignored).
    Words cut off by the tokenizer's maximum length get the label ``O``."""

    capabilities = frozenset({"predict", "tag"})

    def tag(self, words: Sequence[Sequence[str]]) -> list[list[str]]:
        import torch

        tok = self._tokenizer_or_fail()
        batch = tok(
            [list(w) for w in words],
            is_split_into_words=True,
            padding=True,
            truncation=True,
            return_tensors="pt",
        )
        with torch.inference_mode():
            best = self.model(**batch).logits.argmax(-1).numpy()  # (n, T)
        id2label = self.model.config.id2label
        out = []
        for i, sentence in enumerate(words):
            labels = ["O"] * len(sentence)
            seen: set[int] = set()
            for position, word in enumerate(batch.word_ids(i)):
                if word is not None and word not in seen:
                    seen.add(word)
                    labels[word] = str(id2label[int(best[i, position])])
            out.append(labels)
        return out

    def _tokenizer_or_fail(self) -> Any:
        if self.tokenizer is None:
            raise ModelLoadError(f"{self.ref} has no tokenizer files, so it cannot read text.")
        return self.tokenizer


def is_causal_lm(architecture: str) -> bool:
    """Whether ``architecture`` is a causal language model: named so (``*ForCausalLM``,
    ``*LMHeadModel`` such as GPT-2's), or one transformers' auto-mapping lists for causal LM
    (``ReformerModelWithLMHead``, ``BertGenerationDecoder``...)."""
    if architecture.endswith(("ForCausalLM", "LMHeadModel")):
        return True
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    for names in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values():
        if architecture in ((names,) if isinstance(names, str) else tuple(names)):
            return True
    return False


def text_model_class(architecture: str) -> type[HFModel] | None:
    """The capability class for an architecture, or None for a task-head model."""
    if is_causal_lm(architecture):  # before encoders: GPT2LMHeadModel ends in "Model"
        return HFCausalLM
    if architecture.endswith("ForTokenClassification"):
        return HFTokenTagger
    if architecture.endswith("Model") and "For" not in architecture:
        return HFEncoder
    return None
