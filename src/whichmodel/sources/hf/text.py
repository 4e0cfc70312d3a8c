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
from whichmodel.sources.capabilities import (
    LM_EVAL_SCORING,
    GenerationSettings,
    LogLikelihood,
    ScoringSettings,
)
from whichmodel.sources.hf import lm_scoring
from whichmodel.sources.hf.base import HFModel

_MAX_WINDOW = 2048  # tokens per forward pass when the config allows more
_TOKENIZER_INFINITY = int(1e30)  # transformers' model_max_length when the tokenizer sets none


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
        """The token generation starts after: BOS, else EOS, else none."""
        token_id = lm_scoring.prefix_token(self._tok())
        return [] if token_id is None else [token_id]

    def _positions(self) -> int:
        """lm-eval's ``max_length``: the config's n_positions, max_position_embeddings or n_ctx,
        else the tokenizer's model_max_length, else 2048."""
        config = getattr(self.model.config, "text_config", None) or self.model.config
        for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
            if getattr(config, attr, None) is not None:
                return int(getattr(config, attr))
        limit = getattr(self.tokenizer, "model_max_length", None)
        return int(limit) if limit and limit < _TOKENIZER_INFINITY else _MAX_WINDOW

    def _max_length(self) -> int:
        """Tokens per forward pass unless a task asks for more: :meth:`_positions`, at most
        2048 (a long-context model's every window would otherwise hold its whole context)."""
        return min(self._positions(), _MAX_WINDOW)

    def loglikelihood(
        self, requests: Sequence[tuple[str, str]], settings: ScoringSettings = LM_EVAL_SCORING
    ) -> list[LogLikelihood]:
        tok, limit = self._tok(), self._max_length()
        spans: list[lm_scoring.Span] = []
        groups: list[tuple[int, ...]] = []
        for context, continuation in requests:
            context_ids, cont_ids = lm_scoring.encode_pair(tok, context, continuation, settings.bos)
            if len(cont_ids) > limit:
                raise TaskError(
                    f"The continuation {continuation[:40]!r}... has {len(cont_ids)} tokens, more "
                    f"than the model's context ({limit})."
                )
            # As lm-eval: a request longer than the context loses its first tokens.
            spans.append(((context_ids + cont_ids)[-(limit + 1) :], len(cont_ids)))
            groups.append(tuple(context_ids))  # one question's choices share their context
        scored = lm_scoring.score_spans(
            self.model, spans, batch_size=settings.batch_size, groups=groups, device=self.device
        )
        return [LogLikelihood(float(lp.sum()), greedy, len(lp)) for lp, greedy in scored]

    def loglikelihood_rolling(
        self, texts: Sequence[str], settings: ScoringSettings = LM_EVAL_SCORING
    ) -> list[np.ndarray]:
        window = min(settings.window or self._max_length(), self._positions())
        if window < 2:
            raise TaskError(f"The window must be at least 2 tokens. Got {window}.")
        tok = self._tok()
        per_text = [lm_scoring.rolling_spans(tok, t, settings, window) for t in texts]
        spans = [span for text_spans in per_text for span in text_spans]
        scored = iter(
            lm_scoring.score_spans(
                self.model, spans, batch_size=settings.batch_size, device=self.device
            )
        )
        return [
            np.concatenate([-next(scored)[0] for _ in text_spans] or [np.zeros(0)])
            for text_spans in per_text
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
