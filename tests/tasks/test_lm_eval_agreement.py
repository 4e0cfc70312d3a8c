"""whichmodel's LLM tasks give lm-evaluation-harness's numbers with their default conventions:
lm-eval 0.4 itself (``helpers.lm_eval_ref``) and whichmodel's ``compare`` run the same two tiny
LMs, a GPT-2 folder (its tokenizer adds no BOS) and a Llama folder (its tokenizer puts BOS
first), on the same JSONL files:

- multiple choice, 40 questions whose choices include non-ASCII words, so characters and bytes
  normalize differently: acc, acc_norm, acc_bytes, and the chosen answer of every question;
- perplexity of 20 texts, some longer than the models' 64 positions, so rolling windows matter:
  word perplexity, byte perplexity and bits per byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import whichmodel
from helpers.lm_eval_ref import LmEvalRun, run_lm_eval, task_yaml
from helpers.tiny_bpe import build_gpt2, build_llama, corpus

USES_TORCH = True
pytestmark = pytest.mark.slow  # lm-eval's start-up: ~15 s per model
OPTIONS = {"measure_cost": False, "n_resamples": 50, "batch_size": 8}
MC_METRICS = {"acc": "accuracy", "acc_norm": "accuracy_norm", "acc_bytes": "accuracy_bytes"}
LM_METRICS = {
    "word_perplexity": "word_perplexity",
    "byte_perplexity": "byte_perplexity",
    "bits_per_byte": "bits_per_byte",
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("lm-eval-data")
    rng = np.random.default_rng(7)
    questions = []
    for i, context in enumerate(corpus(40, seed=1)):
        choices = corpus(int(rng.integers(2, 5)), seed=1000 + i, min_words=1, max_words=3)
        label = int(rng.integers(0, len(choices)))
        questions.append({"context": context, "choices": choices, "label": label})
    texts = corpus(14, seed=2) + corpus(6, seed=3, min_words=40, max_words=70)  # > 64 tokens
    mc, lm = root / "mc.jsonl", root / "texts.jsonl"
    for path, rows in ((mc, questions), (lm, [{"text": t} for t in texts])):
        lines = (json.dumps(row, ensure_ascii=False) for row in rows)
        path.write_text("\n".join(lines), encoding="utf-8")
    return mc, lm


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lm-eval-models") / request.param
    (build_gpt2 if request.param == "gpt2" else build_llama)(folder, seed=3)
    return folder


@pytest.fixture(scope="module")
def reference(model: Path, data: tuple[Path, Path], tmp_path_factory) -> LmEvalRun:
    mc, lm = data
    tasks = {
        "tiny_mc": task_yaml(
            "tiny_mc", mc, "multiple_choice", list(MC_METRICS),
            doc_to_text="{{context}}", doc_to_choice="{{choices}}", doc_to_target="{{label}}",
        ),
        "tiny_ppl": task_yaml(
            "tiny_ppl", lm, "loglikelihood_rolling", list(LM_METRICS),
            doc_to_text="", doc_to_target="{{text}}",
        ),
    }  # fmt: skip
    return run_lm_eval(model, tasks, tmp_path_factory.mktemp("lm-eval-run"), batch_size=8)


def _choices(samples: list[dict]) -> dict[str, list[int]]:
    """lm-eval's chosen answer per question by each rule, from its logged log-likelihoods."""
    out: dict[str, list[int]] = {"choice": [], "choice_norm": [], "choice_bytes": []}
    for sample in samples:
        ll = np.array([float(resp[0]) for resp in sample["filtered_resps"]])
        choices = sample["doc"]["choices"]
        out["choice"].append(int(np.argmax(ll)))
        out["choice_norm"].append(int(np.argmax(ll / [len(c) for c in choices])))
        out["choice_bytes"].append(int(np.argmax(ll / [len(c.encode()) for c in choices])))
    return out


def test_multiple_choice_equals_lm_eval(model, data, reference, tmp_path) -> None:
    result = whichmodel.compare(
        [f"hf:{model}"], data[0], task="multiple-choice", store=str(tmp_path / "s.db"), **OPTIONS
    )
    for theirs, ours in MC_METRICS.items():
        expected = reference.results["tiny_mc"][theirs]
        assert result.metric(model.name, ours) == pytest.approx(expected, abs=1e-4), ours
    predictions = result.models[0].predictions
    theirs_chosen = _choices(reference.sample_rows("tiny_mc"))
    for column, chosen in theirs_chosen.items():
        assert predictions.score(column).astype(int).tolist() == chosen, column
    # characters and bytes disagree somewhere: acc_norm is not acc_bytes under another name
    assert theirs_chosen["choice_norm"] != theirs_chosen["choice_bytes"]


def test_perplexity_equals_lm_eval(model, data, reference, tmp_path) -> None:
    store = str(tmp_path / "s.db")
    args = ([f"hf:{model}"], data[1])
    result = whichmodel.compare(
        *args, task="language-modeling", input_cols=["text"], store=store, **OPTIONS
    )
    for theirs, ours in LM_METRICS.items():
        expected = reference.results["tiny_ppl"][theirs]
        assert result.metric(model.name, ours) == pytest.approx(expected, rel=1e-4), ours
    loglik = [float(s["filtered_resps"][0]) for s in reference.sample_rows("tiny_ppl")]
    nll = result.models[0].predictions.score("nll_sum")
    np.testing.assert_allclose(-nll, loglik, rtol=1e-5)  # text by text
    # the long texts make the windows matter: whichmodel's former sliding windows differ
    sliding = whichmodel.compare(
        *args, task="language-modeling?rolling=sliding", input_cols=["text"], store=store,
        **OPTIONS,
    )  # fmt: skip
    other = sliding.models[0].predictions.score("nll_sum")
    assert not np.allclose(other[-6:], nll[-6:], rtol=1e-4)
    np.testing.assert_allclose(other[:14], nll[:14], rtol=1e-6)  # short texts: one window
