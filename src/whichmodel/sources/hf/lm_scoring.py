"""Scoring text with a causal LM as lm-evaluation-harness's ``hf`` model does, batched.

Two halves:

- **Encoding** (:func:`encode_pair`, :func:`rolling_spans`): which tokens are context and which
  are scored, per :class:`~whichmodel.sources.capabilities.ScoringSettings`. The ``tokenizer``
  and ``disjoint`` conventions follow lm-eval 0.4: ``TemplateLM._encode_pair`` and
  ``loglikelihood`` (lm_eval/api/model.py), ``HFLM.tok_encode`` and ``prefix_token_id``
  (lm_eval/models/huggingface.py), ``get_rolling_token_windows(context_len=1)`` and
  ``make_disjoint_window`` (lm_eval/utils.py).
- **Scoring** (:func:`score_spans`): every request is a :data:`Span` (a token sequence whose
  last k tokens are scored). Spans are sorted by length, longest first, packed into batches of
  ``batch_size`` sequences, right-padded, and scored one forward per batch. A span whose input
  is the input of another span, or a prefix of it within the same group (the choices of one
  question), is read from that span's forward instead of being run again.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from whichmodel.errors import TaskError
from whichmodel.sources.capabilities import ScoringSettings

# (sequence, k): feed sequence[:-1] to the model and score the last k tokens of the sequence.
Span = tuple[list[int], int]
# log-softmax is taken over at most this many vocabulary entries at once (rows x vocabulary),
# so a 2048-token window of a 128k vocabulary needs ~128 MB of float64, not 2 GB.
_SOFTMAX_ELEMENTS = 1 << 24


def prefix_token(tok: Any) -> int | None:
    """lm-eval's ``prefix_token_id``: BOS, else EOS (end of *text*), else None."""
    for token_id in (tok.bos_token_id, tok.eos_token_id):
        if token_id is not None:
            return int(token_id)
    return None


def encode(tok: Any, text: str, bos: str) -> list[int]:
    """The tokens of ``text`` under convention ``bos`` (lm-eval's ``tok_encode`` for
    ``tokenizer``: the tokenizer's default special tokens, none when the text already starts
    with the prefix token's text)."""
    prefix = prefix_token(tok)
    if bos == "tokenizer":
        starts = prefix is not None and text.startswith(tok.decode(prefix))
        return list(tok(text, add_special_tokens=not starts).input_ids)
    ids = list(tok(text, add_special_tokens=False).input_ids)
    if bos == "always" and prefix is not None and ids[:1] != [prefix]:
        return [prefix, *ids]
    return ids


def encode_pair(tok: Any, context: str, continuation: str, bos: str) -> tuple[list[int], list[int]]:
    """(context tokens, continuation tokens) of one log-likelihood request.

    As lm-eval: a context's trailing whitespace moves to the continuation; the continuation's
    tokens are those of context + continuation after the context's; an empty context is the
    prefix token (unless the continuation starts with it, or ``bos`` is ``never``: then the
    continuation's first token is the context).

    Raises:
        TaskError: the continuation has no tokens to score.
    """
    spaces = len(context) - len(context.rstrip())
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    if context:
        context_ids = encode(tok, context, bos)
        continuation_ids = encode(tok, context + continuation, bos)[len(context_ids) :]
    else:
        context_ids = []
        continuation_ids = list(tok(continuation, add_special_tokens=False).input_ids)
    if not context_ids:
        prefix = prefix_token(tok)
        if bos != "never" and prefix is not None and continuation_ids[:1] != [prefix]:
            context_ids = [prefix]
        else:
            context_ids, continuation_ids = continuation_ids[:1], continuation_ids[1:]
    if not continuation_ids:
        raise TaskError(f"The continuation {continuation!r} has no tokens to score.")
    return context_ids, continuation_ids


def rolling_spans(tok: Any, text: str, settings: ScoringSettings, window: int) -> list[Span]:
    """The spans that score every token of ``text`` once, in windows of ``window`` tokens.

    ``disjoint`` (lm-eval's ``loglikelihood_rolling`` with ``max_length = window``): the
    prefix token, then windows that predict up to ``window`` tokens each, the first after the
    prefix token, the next ones after one token of context, the last one after a full window.
    ``sliding``: the first window scores window - 1 tokens, each later one ``stride``.
    """
    # The prefix token is context, never scored: tokens of the text itself are (a BOS the
    # tokenizer adds included, as lm-eval scores it). Without one, the first token is context.
    tokens = encode(tok, text, "never" if settings.bos == "always" else settings.bos)
    prefix = prefix_token(tok) if settings.bos != "never" else None
    if settings.rolling == "sliding":
        stride = min(settings.stride or max(1, window // 2), window - 1)
        return _sliding(tokens if prefix is None else [prefix, *tokens], window, stride)
    if prefix is None:
        if not tokens:
            return []
        prefix, tokens = tokens[0], tokens[1:]
    return _disjoint(tokens, prefix, window)


def _disjoint(tokens: list[int], prefix: int, window: int) -> list[Span]:
    """lm-eval's get_rolling_token_windows(context_len=1) + make_disjoint_window, as spans."""
    if not tokens:
        return []
    first = min(window, len(tokens))
    spans: list[Span] = [([prefix, *tokens[:first]], first)]
    done = first
    while done < len(tokens):
        k = min(len(tokens) - done, window)
        end = done + k
        spans.append((tokens[end - window - 1 : end], k))  # a full window of input, k scored
        done = end
    return spans


def _sliding(tokens: list[int], window: int, stride: int) -> list[Span]:
    """Targets [a, b) from one pass over tokens[s:b], s = max(0, b - window)."""
    spans: list[Span] = []
    a = 1
    while a < len(tokens):
        b = min(len(tokens), a + (window - 1 if a == 1 else stride))
        spans.append((tokens[max(0, b - window) : b], b - a))
        a = b
    return spans


def score_spans(
    model: Any,
    spans: Sequence[Span],
    *,
    batch_size: int,
    groups: Sequence[Hashable] | None = None,
    device: str = "cpu",
) -> list[tuple[np.ndarray, bool]]:
    """For each span (sequence, k): ((k,) float64 log p of its last k tokens, whether each is
    the argmax there). ``groups``: spans of one group (one question's choices) may be read from
    a longer span's forward when their input is a prefix of its input."""
    inputs = [tuple(seq[:-1]) for seq, _ in spans]
    carriers, carrier_of = _carriers(inputs, groups)
    out: dict[int, tuple[np.ndarray, bool]] = {}
    served: dict[int, list[int]] = {}
    for i, c in enumerate(carrier_of):
        served.setdefault(c, []).append(i)
    for start in range(0, len(carriers), max(1, batch_size)):
        batch = carriers[start : start + max(1, batch_size)]
        rows = [(r, i) for r, c in enumerate(batch) for i in served[c]]
        scored = _forward(model, [inputs[c] for c in batch], rows, spans, inputs, device)
        for (_, i), result in zip(rows, scored, strict=True):
            out[i] = result
    return [out[i] for i in range(len(spans))]  # every span is served by one carrier


def _carriers(
    inputs: list[tuple[int, ...]], groups: Sequence[Hashable] | None
) -> tuple[list[int], list[int]]:
    """(indices of the inputs that are run, longest first; for each input, the index of the run
    input whose forward serves it). Identical inputs share one run; within a group, an input
    that is a prefix of a longer run input is served by it (causal: its logits are the same)."""
    order = sorted(range(len(inputs)), key=lambda i: (-len(inputs[i]), inputs[i]))
    carrier_of = [-1] * len(inputs)
    seen: dict[tuple[int, ...], int] = {}
    by_group: dict[Hashable, list[int]] = {}
    carriers: list[int] = []
    for i in order:
        x = inputs[i]
        c = seen.get(x)
        if c is None and groups is not None:
            c = next((j for j in by_group.get(groups[i], []) if inputs[j][: len(x)] == x), None)
        if c is None:
            c = i
            carriers.append(i)
            if groups is not None:
                by_group.setdefault(groups[i], []).append(i)
        seen[x] = c
        carrier_of[i] = c
    return carriers, carrier_of


def _forward(
    model: Any,
    batch: list[tuple[int, ...]],
    rows: list[tuple[int, int]],
    spans: Sequence[Span],
    inputs: list[tuple[int, ...]],
    device: str,
) -> list[tuple[np.ndarray, bool]]:
    """One forward over ``batch`` (right-padded), then each (row, span) of ``rows`` read off it."""
    import torch

    width = len(batch[0])  # longest first
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for r, x in enumerate(batch):
        ids[r, : len(x)] = torch.tensor(x, dtype=torch.long)
        mask[r, : len(x)] = 1
    # Right padding: a real position attends only to earlier (real) ones, and its position id
    # is its index, so the padding changes nothing the spans read.
    row_index: list[int] = []
    positions: list[int] = []
    targets: list[int] = []
    lengths: list[int] = []
    for r, i in rows:
        seq, k = spans[i]
        end = len(inputs[i])  # logits at end - k .. end - 1 predict the last k tokens
        row_index += [r] * k
        positions += range(end - k, end)
        targets += seq[-k:]
        lengths.append(k)
    with torch.inference_mode():
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        picked = logits[torch.tensor(row_index), torch.tensor(positions)]  # (N, V)
        logp, greedy = _token_logprobs(picked, torch.tensor(targets, device=picked.device))
    out, start = [], 0
    for k in lengths:
        out.append((logp[start : start + k], bool(greedy[start : start + k].all())))
        start += k
    return out


def _token_logprobs(logits: Any, targets: Any) -> tuple[np.ndarray, np.ndarray]:
    """((N,) float64 log-softmax of ``logits`` (N, V) at ``targets`` (N,), (N,) whether each
    target is the argmax), the softmax in float64 over chunks of rows."""
    import torch

    step = max(1, _SOFTMAX_ELEMENTS // max(1, logits.shape[-1]))
    logp = []
    for s in range(0, len(logits), step):
        rows = logits[s : s + step].double()
        chosen = rows.gather(1, targets[s : s + step, None])[:, 0]
        logp.append(chosen - torch.logsumexp(rows, dim=-1))
    greedy = logits.argmax(dim=-1) == targets
    return torch.cat(logp).cpu().numpy(), greedy.cpu().numpy()
