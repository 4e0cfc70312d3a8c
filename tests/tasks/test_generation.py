"""Text generation: BLEU, chrF, ROUGE and exact match equal sacrebleu's, rouge-score's and
scikit-learn's values on a shared fixture, bootstrap replicates equal the metric on the resampled
corpus, and tiny Llama models generate through compare exactly as greedy decoding by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sacrebleu
from rouge_score import rouge_scorer

import whichmodel
from helpers.tiny_lm import TinyLM, build, sentences
from whichmodel.analysis.stats import bootstrap_weights
from whichmodel.tasks import Predictions, get_task

USES_TORCH = True
OPTIONS = {"measure_cost": False, "n_resamples": 100, "batch_size": 4}
REFERENCES = [
    "the cat sat on the mat",
    "a quick brown fox jumps over the lazy dog",
    "rain is expected tomorrow in the north",
    "she sells sea shells by the sea shore",
    "the meeting was moved to friday",
    "exact answer",
]
HYPOTHESES = [
    "the cat sat on a mat",
    "a fast brown fox jumped over a lazy dog",
    "tomorrow rain is expected in northern areas",
    "she sells shells at the sea shore",
    "the meeting moved to monday",
    " exact answer ",
]


def _preds(hyps: list[str]) -> Predictions:
    return Predictions(np.arange(len(hyps)), np.asarray(hyps, dtype=str))


def test_metrics_equal_the_reference_libraries():
    task = get_task("generation")
    y = np.asarray(REFERENCES, dtype=str)
    values = {
        m.name: m.score(y, _preds(HYPOTHESES), None) for m in task.metrics(y, _preds(HYPOTHESES))
    }
    assert values["bleu"] == pytest.approx(sacrebleu.corpus_bleu(HYPOTHESES, [REFERENCES]).score)
    assert values["chrf"] == pytest.approx(sacrebleu.corpus_chrf(HYPOTHESES, [REFERENCES]).score)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    for kind in ("rouge1", "rouge2", "rougeL"):
        expected = np.mean(
            [scorer.score(r, h)[kind].fmeasure for r, h in zip(REFERENCES, HYPOTHESES, strict=True)]
        )
        assert values[kind] == pytest.approx(expected)
    assert values["exact_match"] == pytest.approx(1 / 6)  # only " exact answer " (stripped)
    assert 10 < values["bleu"] < 90  # neither trivial nor perfect


def test_bootstrap_replicates_are_the_metric_on_the_resampled_corpus():
    task = get_task("generation")
    y = np.asarray(REFERENCES, dtype=str)
    preds = _preds(HYPOTHESES)
    weights = bootstrap_weights(len(y), 5, seed=3)  # (5, n) draw counts
    for metric in task.metrics(y, preds):
        replicates = metric.replicate(y, preds, weights)
        for w, value in zip(weights, replicates, strict=True):
            drawn = np.repeat(np.arange(len(y)), w.astype(int))  # the resample itself
            expected = metric.score(y[drawn], _preds([HYPOTHESES[i] for i in drawn]), None)
            assert value == pytest.approx(expected, rel=1e-9, abs=1e-12), metric.name


@pytest.fixture(scope="module")
def lms(tmp_path_factory: pytest.TempPathFactory) -> tuple[TinyLM, TinyLM]:
    root = tmp_path_factory.mktemp("gen")
    return build(root / "lm-a", seed=0), build(root / "lm-b", seed=3)


def _greedy(lm: TinyLM, prompt: str, max_new_tokens: int) -> str:
    """Greedy decoding by hand: one forward pass per new token, argmax, stop at EOS."""
    import torch

    tok = lm.tokenizer
    ids = [tok.bos_token_id, *tok(prompt, add_special_tokens=False).input_ids]
    new: list[int] = []
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            next_id = int(lm.model(input_ids=torch.tensor([ids + new])).logits[0, -1].argmax())
            if next_id == tok.eos_token_id:
                break
            new.append(next_id)
    return tok.decode(new, skip_special_tokens=True)


def test_generation_end_to_end_matches_greedy_decoding(lms, tmp_path):
    prompts = sentences(10, seed=7, min_words=2, max_words=6)  # lengths differ: left padding
    refs = sentences(10, seed=8)
    path = tmp_path / "gen.jsonl"
    rows = [{"prompt": p, "label": r} for p, r in zip(prompts, refs, strict=True)]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = whichmodel.compare(
        [lm.ref for lm in lms],
        path,
        task="generation?max_new_tokens=6",
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    assert result.task == "generation?max_new_tokens=6"
    generated = []
    for lm, model in zip(lms, result.models, strict=True):
        expected = [_greedy(lm, p, 6) for p in prompts]
        assert model.predictions.pred.tolist() == expected
        assert sum(len(t.split()) for t in expected) > 10  # real text, not EOS at once
        generated.append(expected)
        assert result.metric(model.name, "bleu") == pytest.approx(
            sacrebleu.corpus_bleu(expected, [refs]).score
        )
        (settings,) = model.tables["generation_settings"]
        assert settings["max_new_tokens"] == 6 and settings["do_sample"] is False
    assert generated[0] != generated[1]
    (test,) = result.statistics.tests
    assert test.test == "mcnemar_exact"
