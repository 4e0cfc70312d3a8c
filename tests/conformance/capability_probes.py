"""How the conformance suite calls each capability a model can declare (see
``whichmodel.sources.capabilities`` and ``whichmodel.sources.detection``) on a tiny batch, and
what one output must look like.

A probe makes ``n`` tiny inputs for a model, calls the capability on a list of them (one output
per input, in order) and checks one output against its input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import numpy as np
import pytest

from whichmodel.sources.base import Model
from whichmodel.sources.capabilities import GenerationSettings, LogLikelihood

# Every capability a model may declare besides ``predict``: each needs a probe below and a model
# in the source cases that declares it.
CAPABILITIES = frozenset({"loglikelihood", "generate", "embed", "tag", "transcribe", "detect"})


@dataclass(frozen=True)
class Probe:
    """``items(model)`` -> tiny inputs; ``call(model, items)`` -> one output per item;
    ``check(model, item, output)`` asserts the output's type and shape."""

    items: Callable[[Model], list[Any]]
    call: Callable[[Any, list[Any]], list[Any]]
    check: Callable[[Model, Any, Any], None]


def _sentences(n: int, seed: int) -> list[str]:
    from helpers.tiny_lm import sentences

    return sentences(n, seed=seed, min_words=2, max_words=6)


# -- loglikelihood: log p(continuation | context), and each token's NLL of a whole text --------
def _loglikelihood_items(model: Model) -> list[tuple[str, str]]:
    return list(zip(_sentences(4, 40), [" " + s for s in _sentences(4, 41)], strict=True))


def _loglikelihood_call(lm: Any, requests: list[tuple[str, str]]) -> list[Any]:
    rolling = lm.loglikelihood_rolling([c + x for c, x in requests])
    return list(zip(lm.loglikelihood(requests), rolling, strict=True))


def _loglikelihood_check(model: Model, request: tuple[str, str], out: Any) -> None:
    scored, nll = out
    assert isinstance(scored, LogLikelihood)
    assert np.isfinite(scored.logprob) and scored.logprob <= 0.0
    assert isinstance(scored.is_greedy, bool) and scored.n_tokens >= 1
    assert isinstance(nll, np.ndarray) and nll.dtype == np.float64 and nll.ndim == 1  # (T,)
    assert len(nll) > scored.n_tokens and np.isfinite(nll).all() and (nll >= 0).all()


# -- generate ----------------------------------------------------------------------------------
def _generate_call(lm: Any, prompts: list[str]) -> list[str]:
    return list(lm.generate_until(prompts, GenerationSettings(max_new_tokens=3)))


def _is_text(model: Model, item: Any, out: Any) -> None:
    assert isinstance(out, str)


# -- embed -------------------------------------------------------------------------------------
def _embed_call(encoder: Any, texts: list[str]) -> list[np.ndarray]:
    vectors = encoder.embed(texts)  # (n, d)
    assert isinstance(vectors, np.ndarray) and vectors.shape[0] == len(texts)
    return list(vectors)


def _embed_check(model: Model, text: str, out: Any) -> None:
    assert out.dtype == np.float32 and out.ndim == 1 and len(out) > 0  # (d,)
    assert np.isfinite(out).all()


# -- tag ---------------------------------------------------------------------------------------
def _tag_items(model: Model) -> list[list[str]]:
    from golden.cases import NER_WORDS

    rng = np.random.default_rng(5)
    return [[str(w) for w in rng.choice(NER_WORDS, size=k)] for k in (1, 4, 7, 3)]


def _tag_check(model: Model, words: list[str], out: Any) -> None:
    assert isinstance(out, list) and len(out) == len(words)  # one label per word
    assert set(out) <= set(model.classes or ())


# -- transcribe --------------------------------------------------------------------------------
def _transcribe_items(model: Model) -> list[np.ndarray]:
    from helpers.tiny_speech import tone

    rate = model.sampling_rate_hz  # type: ignore[attr-defined]
    assert isinstance(rate, int) and rate > 0
    return [tone(s, rate, freq_hz=300.0 + 50 * i, seed=i) for i, s in enumerate((0.3, 0.5, 0.4))]


# -- detect ------------------------------------------------------------------------------------
def _detect_items(model: Model) -> list[np.ndarray]:
    from helpers.tiny_detector import synthetic_images

    images, _ = synthetic_images(3, seed=1)  # (H, W, 3) uint8 each
    return [np.ascontiguousarray(np.moveaxis(im, -1, 0), dtype=np.float32) / 255 for im in images]


def _detect_check(model: Model, image: np.ndarray, out: Any) -> None:
    m = len(out.scores)
    assert out.boxes.shape == (m, 4) and out.boxes.dtype == np.float64  # xyxy pixels
    assert out.scores.shape == (m,) and out.labels.shape == (m,)
    assert (out.boxes[:, 2:] >= out.boxes[:, :2]).all() and np.isfinite(out.boxes).all()
    assert {str(label) for label in out.labels} <= set(model.classes or ())


PROBES: dict[str, Probe] = {
    "loglikelihood": Probe(_loglikelihood_items, _loglikelihood_call, _loglikelihood_check),
    "generate": Probe(lambda m: _sentences(4, 42), _generate_call, _is_text),
    "embed": Probe(lambda m: _sentences(4, 43), _embed_call, _embed_check),
    "tag": Probe(_tag_items, lambda tagger, words: list(tagger.tag(words)), _tag_check),
    "transcribe": Probe(_transcribe_items, lambda s, w: list(s.transcribe(w)), _is_text),
    "detect": Probe(_detect_items, lambda d, images: list(d.detect(images)), _detect_check),
}


def assert_same(actual: Any, expected: Any, *, rtol: float, where: str = "output") -> None:
    """Equal outputs: numbers and arrays within ``rtol`` (and as small an absolute tolerance),
    text, flags and counts exactly; tuples, lists and dataclasses field by field."""
    if is_dataclass(expected) and not isinstance(expected, type):
        assert type(actual) is type(expected), where
        for f in fields(expected):
            assert_same(getattr(actual, f.name), getattr(expected, f.name), rtol=rtol,
                        where=f"{where}.{f.name}")  # fmt: skip
    elif isinstance(expected, list | tuple):
        assert len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, rtol=rtol, where=f"{where}[{i}]")
    elif isinstance(expected, np.ndarray) and expected.dtype.kind in "fc":
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol, err_msg=where)
    elif isinstance(expected, np.ndarray):
        np.testing.assert_array_equal(actual, expected, err_msg=where)
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=rtol, abs=rtol), where
    else:
        assert actual == expected, where
