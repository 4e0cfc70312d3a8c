"""Language modeling end to end with tiny Llama models: perplexity from the logits, sliding
windows, bits per byte, resume, and a clear error for a model that cannot score text."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import whichmodel
from helpers.tiny_lm import TinyLM, build, sentences, token_nll
from whichmodel.errors import TaskError
from whichmodel.sources import load
from whichmodel.sources.capabilities import ScoringSettings

USES_TORCH = True
OPTIONS = {"measure_cost": False, "n_resamples": 200, "batch_size": 8}


@pytest.fixture(scope="module")
def lms(tmp_path_factory: pytest.TempPathFactory) -> tuple[TinyLM, TinyLM]:
    root = tmp_path_factory.mktemp("lm")
    return build(root / "lm-a", seed=0), build(root / "lm-b", seed=1)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    texts = sentences(20)
    path = tmp_path_factory.mktemp("corpus") / "texts.jsonl"
    lines = [json.dumps({"id": i, "text": t}) for i, t in enumerate(texts)]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, texts


def _direct_nll(lm: TinyLM, text: str) -> np.ndarray:
    ids = [lm.tokenizer.bos_token_id, *lm.tokenizer(text, add_special_tokens=False).input_ids]
    return token_nll(lm, ids)


def test_perplexity_is_exp_of_mean_token_nll_from_the_logits(lms, corpus, tmp_path):
    path, texts = corpus
    result = whichmodel.compare(
        [lms[0].ref, lms[1].ref],
        path,
        task="language-modeling",
        input_cols=["text"],
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    # float32 models: 8 texts right-padded in one forward pass, each without its last token
    # (as lm-eval feeds them), differ from one pass per whole text by ~1e-7 relative
    for lm, name in zip(lms, ("lm-a", "lm-b"), strict=True):
        nll = np.concatenate([_direct_nll(lm, t) for t in texts])
        n_bytes = sum(len(t.encode("utf-8")) for t in texts)
        assert result.metric(name, "perplexity") == pytest.approx(math.exp(nll.mean()), rel=1e-6)
        assert result.metric(name, "token_loss") == pytest.approx(nll.mean(), rel=1e-6)
        assert result.metric(name, "bits_per_byte") == pytest.approx(
            nll.sum() / n_bytes / math.log(2), rel=1e-6
        )
        n_words = sum(len(t.split()) for t in texts)
        assert result.metric(name, "word_perplexity") == pytest.approx(
            math.exp(nll.sum() / n_words), rel=1e-6
        )
        assert result.metric(name, "byte_perplexity") == pytest.approx(
            math.exp(nll.sum() / n_bytes), rel=1e-6
        )
    ppl = {m.model: m for m in result.statistics.metrics if m.name == "perplexity"}
    assert ppl["lm-a"].ci_low < ppl["lm-a"].value < ppl["lm-a"].ci_high
    assert ppl["lm-a"].value != pytest.approx(ppl["lm-b"].value)  # different models differ
    (test,) = result.statistics.tests
    assert test.test == "wilcoxon" and test.n == len(texts)


def test_sliding_window_scores_every_token_once_with_enough_context(lms):
    lm = lms[0]
    model = load(lm.ref)
    text = " ".join(sentences(1, seed=3, min_words=70, max_words=70))  # > 64 positions
    ids = [lm.tokenizer.bos_token_id, *lm.tokenizer(text, add_special_tokens=False).input_ids]
    window, stride = 16, 6
    settings = ScoringSettings(bos="always", rolling="sliding", window=window, stride=stride)
    (nll,) = model.loglikelihood_rolling([text], settings)  # type: ignore[attr-defined]
    assert nll.shape == (len(ids) - 1,)
    first = token_nll(lm, ids[:window])  # the first window sees the whole prefix
    np.testing.assert_allclose(nll[: window - 1], first, rtol=1e-5)
    for j in range(window, len(ids)):  # later tokens: context of window - stride to window - 1
        candidates = [token_nll(lm, ids[j - c : j + 1])[-1] for c in range(window - stride, window)]
        # float32 model: the same context over other positions differs by ~1e-7 relative
        assert min(abs(c / nll[j - 1] - 1) for c in candidates) < 1e-5, j


def test_long_texts_go_through_compare_within_the_model_context(lms, tmp_path):
    long_text = " ".join(sentences(1, seed=4, min_words=100, max_words=100))
    path = tmp_path / "long.csv"
    path.write_text(f'text\n"{long_text}"\n"the cat sat"\n', encoding="utf-8")
    result = whichmodel.compare(
        [lms[0].ref],
        path,
        task="language-modeling?rolling=sliding&window=32&stride=16",
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    assert result.task == "language-modeling?rolling=sliding&stride=16&window=32"
    assert result.metric("lm-a", "perplexity") > 1


def test_rerun_reuses_stored_scores(lms, corpus, tmp_path):
    path, _ = corpus
    args = ([lms[0].ref], path)
    kwargs = {"task": "language-modeling", "input_cols": ["text"], "store": str(tmp_path / "s.db")}
    first = whichmodel.compare(*args, **kwargs, **OPTIONS)
    second = whichmodel.compare(*args, **kwargs, **OPTIONS)
    assert first.models[0].computed_batches == 3 and second.models[0].computed_batches == 0
    assert second.models[0].reused_batches == 3
    assert second.metric("lm-a", "perplexity") == first.metric("lm-a", "perplexity")
    np.testing.assert_array_equal(
        second.models[0].predictions.scores, first.models[0].predictions.scores
    )


def test_a_classifier_cannot_do_language_modeling(tmp_path, corpus):
    from helpers.tiny_hf import build_tiny_bert
    from helpers.tiny_lm import WORDS

    build_tiny_bert(tmp_path / "bert", WORDS, {0: "a", 1: "b"})
    with pytest.raises(TaskError, match="needs a model that can score text"):
        whichmodel.compare(
            [f"hf:{tmp_path / 'bert'}"],
            corpus[0],
            task="language-modeling",
            input_cols=["text"],
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )


def test_unknown_task_option_is_one_clear_line(cli, corpus, lms, tmp_path):
    proc = cli(
        "compare",
        lms[0].ref,
        "--data",
        str(corpus[0]),
        "--task",
        "language-modeling?windw=8",
        "--no-cost",
        "--store",
        str(tmp_path / "s.db"),
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: The 'language-modeling' task has no option 'windw'. Did you mean 'window'? "
        "Its options: bos, rolling, stride, window."
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("language-modeling?stride=8", "applies to sliding windows only: add rolling=sliding"),
        ("language-modeling?rolling=sliding&window=8&stride=8", "must be smaller than the window"),
        ("language-modeling?rolling=slide", "must be one of disjoint, sliding. Got 'slide'"),
        ("multiple-choice?bos=sometimes", "must be one of tokenizer, always, never"),
    ],
)
def test_convention_options_are_checked_in_one_line(spec: str, message: str) -> None:
    from whichmodel.tasks import get_task

    with pytest.raises(TaskError, match=message) as raised:
        get_task(spec)
    assert "\n" not in str(raised.value)


def test_the_default_conventions_are_lm_evals_and_keep_the_task_name() -> None:
    from whichmodel.tasks import get_task

    lm, mc = get_task("language-modeling"), get_task("multiple-choice")
    assert (lm.name, lm.rolling, lm.bos) == ("language-modeling", "disjoint", "tokenizer")  # type: ignore[attr-defined]
    assert (mc.name, mc.bos) == ("multiple-choice", "tokenizer")  # type: ignore[attr-defined]
