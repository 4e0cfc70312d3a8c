"""Multiple choice by log-likelihood with tiny Llama models: accuracy and length-normalized
accuracy equal scikit-learn's on choices scored directly from the logits."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

import whichmodel
from helpers.tiny_lm import TinyLM, build, sentences, token_nll
from whichmodel.errors import DataError

USES_TORCH = True
OPTIONS = {"measure_cost": False, "n_resamples": 200, "batch_size": 8}


@pytest.fixture(scope="module")
def lms(tmp_path_factory: pytest.TempPathFactory) -> tuple[TinyLM, TinyLM]:
    root = tmp_path_factory.mktemp("mc")
    return build(root / "lm-a", seed=0), build(root / "lm-b", seed=2)


@pytest.fixture(scope="module")
def questions(tmp_path_factory: pytest.TempPathFactory):
    """30 examples with 2-4 choices of 1-4 words (lengths differ, so normalizing matters)."""
    rng = np.random.default_rng(0)
    contexts = sentences(30, seed=5)
    choices = [
        sentences(int(rng.integers(2, 5)), seed=100 + i, min_words=1, max_words=4)
        for i in range(30)
    ]
    labels = [int(rng.integers(0, len(c))) for c in choices]
    path = tmp_path_factory.mktemp("mcdata") / "mc.jsonl"
    rows = [
        {"context": c, "choices": ch, "label": y}
        for c, ch, y in zip(contexts, choices, labels, strict=True)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path, contexts, choices, np.array(labels)


def _choice_logprob(lm: TinyLM, context: str, choice: str) -> float:
    tok = lm.tokenizer
    ctx = tok(context, add_special_tokens=False).input_ids
    cont = tok(choice, add_special_tokens=False).input_ids  # word-level: tokens split at spaces
    nll = token_nll(lm, [tok.bos_token_id, *ctx, *cont])
    return float(-nll[-len(cont) :].sum())


def test_accuracy_and_norm_equal_sklearn_on_logits(lms, questions, tmp_path):
    path, contexts, choices, labels = questions
    result = whichmodel.compare(
        [lm.ref for lm in lms],
        path,
        task="multiple-choice?bos=always",  # BOS before every context, as _choice_logprob
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    differs = 0
    for lm, name in zip(lms, ("lm-a", "lm-b"), strict=True):
        raw, norm = [], []
        for ctx, cs in zip(contexts, choices, strict=True):
            ll = np.array([_choice_logprob(lm, ctx, c) for c in cs])
            raw.append(int(np.argmax(ll)))
            norm.append(int(np.argmax(ll / [len(c.encode()) for c in cs])))
        differs += sum(a != b for a, b in zip(raw, norm, strict=True))
        assert result.metric(name, "accuracy") == accuracy_score(labels, raw)
        assert result.metric(name, "accuracy_norm") == accuracy_score(labels, norm)
        # ASCII words: a character is a byte, so lm-eval's acc_bytes is acc_norm here
        assert result.metric(name, "accuracy_bytes") == accuracy_score(labels, norm)
    assert differs > 0  # normalizing by length changed some answers: the two metrics differ
    (test,) = result.statistics.tests
    assert test.test == "mcnemar_exact" and test.n == 30


def test_label_out_of_range_is_one_clear_line(lms, questions, tmp_path):
    path = questions[0]
    bad = tmp_path / "bad.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[3]["label"] = len(rows[3]["choices"])
    bad.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.raises(DataError, match=r"Row 3's label \d is not a choice index"):
        whichmodel.compare(
            [lms[0].ref], bad, task="multiple-choice", store=str(tmp_path / "s.db"), **OPTIONS
        )


def test_missing_choices_column_names_the_columns(lms, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('context,answers,label\n"the cat","[""a"", ""b""]",0\n', encoding="utf-8")
    with pytest.raises(DataError, match="reads the columns 'context' and 'choices'"):
        whichmodel.compare(
            [lms[0].ref], path, task="multiple-choice", store=str(tmp_path / "s.db"), **OPTIONS
        )


def test_csv_choices_as_json_lists(lms, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(
        'context,choices,label\n"the cat","[""sat"", ""ran far away""]",0\n'
        '"a dog","[""slept"", ""flew"", ""ran""]",2\n',
        encoding="utf-8",
    )
    result = whichmodel.compare(
        [lms[0].ref], path, task="multiple-choice", store=str(tmp_path / "s.db"), **OPTIONS
    )
    assert result.models[0].predictions.score("n_choices").tolist() == [2.0, 3.0]
