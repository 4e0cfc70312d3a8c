"""Token classification / NER with a tiny BertForTokenClassification: entity F1, precision,
recall and token accuracy equal seqeval's on tags computed here by running the model on each
sentence alone; bootstrap replicates equal seqeval on the resampled corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest
from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score

import whichmodel
from whichmodel.analysis.stats import bootstrap_weights
from whichmodel.errors import DataError
from whichmodel.tasks import Predictions, get_task

USES_TORCH = True
OPTIONS = {"measure_cost": False, "n_resamples": 100, "batch_size": 8}
TAGS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
WORDS = ("anna", "bob", "paris", "rome", "lives", "in", "visits", "and", "the", "city", "of")


@pytest.fixture(scope="module")
def tagger(tmp_path_factory: pytest.TempPathFactory):
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    from helpers.tiny_hf import SPECIAL_TOKENS

    root = tmp_path_factory.mktemp("ner")
    vocab = root / "vocab"
    vocab.mkdir()
    (vocab / "vocab.txt").write_text("\n".join([*SPECIAL_TOKENS, *WORDS]) + "\n")
    tokenizer = BertTokenizerFast.from_pretrained(vocab, local_files_only=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        num_labels=len(TAGS),
        id2label=TAGS,
        label2id={v: k for k, v in TAGS.items()},
        initializer_range=0.5,
    )
    torch.manual_seed(0)
    model = BertForTokenClassification(config).eval()
    model.save_pretrained(root / "bert-ner", safe_serialization=True)
    tokenizer.save_pretrained(root / "bert-ner")
    return root / "bert-ner", model, tokenizer


def _tags_alone(model, tokenizer, words: list[str]) -> list[str]:
    import torch

    ids = tokenizer(words, is_split_into_words=True, return_tensors="pt")
    with torch.inference_mode():
        best = model(**ids).logits[0].argmax(-1).tolist()
    return [TAGS[b] for b in best[1 : 1 + len(words)]]  # one token per word, after [CLS]


def test_entity_metrics_equal_seqeval(tagger, tmp_path):
    folder, model, tokenizer = tagger
    rng = np.random.default_rng(0)
    sentences = [list(rng.choice(list(WORDS), size=int(rng.integers(3, 9)))) for _ in range(24)]
    predicted = [_tags_alone(model, tokenizer, s) for s in sentences]
    # Gold: the model's own tags on half the sentences, random tags on the rest: a model that
    # is partly right, so every metric is strictly between 0 and 1.
    gold = [
        p if i % 2 else [TAGS[int(t)] for t in rng.integers(0, 5, len(p))]
        for i, p in enumerate(predicted)
    ]
    path = tmp_path / "ner.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"tokens": s, "tags": g}) for s, g in zip(sentences, gold, strict=True)
        ),
        encoding="utf-8",
    )
    result = whichmodel.compare(
        [f"hf:{folder}"],
        path,
        task="token-classification",
        label_col="tags",
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    expected = {
        "entity_f1": f1_score(gold, predicted),
        "entity_precision": precision_score(gold, predicted),
        "entity_recall": recall_score(gold, predicted),
        "token_accuracy": accuracy_score(gold, predicted),
    }
    for name, value in expected.items():
        assert 0 < value < 1, name
        assert result.metric("bert-ner", name) == pytest.approx(value), name


def test_replicates_equal_seqeval_on_resamples():
    gold = ["B-PER I-PER O B-LOC", "O O B-LOC I-LOC", "B-PER O", "O B-LOC O", "B-PER I-PER"]
    pred = ["B-PER I-PER O O", "O O B-LOC I-LOC", "B-LOC O", "O B-LOC O", "B-PER O"]
    task = get_task("token-classification")
    y, preds = np.asarray(gold), Predictions(np.arange(5), np.asarray(pred))
    weights = bootstrap_weights(5, 8, seed=0)
    references = {
        "entity_f1": f1_score,
        "entity_precision": precision_score,
        "entity_recall": recall_score,
        "token_accuracy": accuracy_score,
    }
    for metric in task.metrics(y, preds):
        for w, value in zip(weights, metric.replicate(y, preds, weights), strict=True):
            drawn = np.repeat(np.arange(5), w.astype(int))
            expected = references[metric.name](
                [gold[i].split() for i in drawn], [pred[i].split() for i in drawn]
            )
            assert value == pytest.approx(expected), metric.name


def test_mismatched_lengths_are_a_data_error(tagger, tmp_path):
    folder, _, _ = tagger
    path = tmp_path / "bad.csv"
    path.write_text("tokens,tags\nanna lives in rome,B-PER O O\n", encoding="utf-8")
    with pytest.raises(DataError, match="Sentence 0 has 4 words but 3 tags"):
        whichmodel.compare(
            [f"hf:{folder}"],
            path,
            task="token-classification",
            label_col="tags",
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )
