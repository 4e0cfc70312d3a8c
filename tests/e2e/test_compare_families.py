"""compare() end to end on text (a TF-IDF pipeline, a tiny BERT) and images (a tiny ViT).

Every metric is checked against scikit-learn on predictions computed here, independently of
whichmodel: the pipeline's own predict/predict_proba, and the torch models run by hand in the same
batches compare uses (padding depends on which sentences share a batch).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.metrics import accuracy_score, f1_score, log_loss

import whichmodel
from whichmodel.comparison import Comparison

SEED = 0
BATCH_SIZE = 16  # 60 sentences -> batches of 16, 16, 16, 12: padding differs between them
# Not sorted ("neg" < "neu" < "pos"), on purpose: the model's column order is not sklearn's.
BERT_ID2LABEL = {0: "pos", 1: "neg", 2: "neu"}
SUBJECTS = ("the movie", "this film", "the plot", "the acting", "the music", "the ending")
ADVERBS = ("very", "quite", "really", "so")
SENTIMENT = {
    "pos": ("good", "great", "fun", "funny", "lovely"),
    "neg": ("bad", "awful", "boring", "slow", "sad"),
    "neu": ("fine", "okay", "average", "plain"),
}
VOCAB = sorted(
    {w for s in SUBJECTS for w in s.split()}
    | set(ADVERBS)
    | {w for words in SENTIMENT.values() for w in words}
    | {"was", "but"}
)
COMPARE = {"measure_cost": False, "n_resamples": 100, "batch_size": BATCH_SIZE}


@dataclass(frozen=True)
class TextData:
    path: Path
    texts: list[str]
    labels: np.ndarray  # (n,) str


@dataclass(frozen=True)
class TinyBert:
    folder: Path
    model: Any  # BertForSequenceClassification, eval mode
    tokenizer: Any  # BertTokenizerFast


def _sentences(n: int) -> tuple[list[str], list[str]]:
    """n short reviews, half "pos", a third "neg", a sixth "neu" (unbalanced, so that a label
    mix-up changes accuracy); a quarter add a clause of another sentiment, so no model is perfect.
    """
    rng = np.random.default_rng(SEED)
    classes = sorted(SENTIMENT)
    cycle = ("pos", "neg", "pos", "neu", "pos", "neg")
    texts, labels = [], []
    for i in range(n):
        label = cycle[i % len(cycle)]
        text = f"{rng.choice(SUBJECTS)} was {rng.choice(ADVERBS)} {rng.choice(SENTIMENT[label])}"
        if rng.random() < 0.25:
            other = rng.choice([c for c in classes if c != label])
            text += f" but {rng.choice(SENTIMENT[other])}"
        texts.append(text)
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def text_data(tmp_path_factory: pytest.TempPathFactory) -> TextData:
    texts, labels = _sentences(60)
    path = tmp_path_factory.mktemp("text") / "reviews.jsonl"
    lines = [json.dumps({"text": t, "label": y}) for t, y in zip(texts, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return TextData(path, texts, np.asarray(labels))


@pytest.fixture(scope="module")
def text_pipeline(text_data: TextData, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """TF-IDF + logistic regression fitted on the first half of the rows, saved with skops."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression(C=3.0, random_state=SEED))
    half = len(text_data.texts) // 2
    pipeline.fit(text_data.texts[:half], text_data.labels[:half])
    path = tmp_path_factory.mktemp("tfidf") / "tfidf.skops"
    sio.dump(pipeline, path)
    return path, pipeline


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> TinyBert:
    """A random, seeded BertForSequenceClassification + WordPiece tokenizer, built offline.

    The tokenizer is read from a folder holding only vocab.txt: transformers 5 silently ignores
    ``BertTokenizerFast(vocab_file=...)`` and keeps just the special tokens, so every word would
    be [UNK]. Weights are drawn with std 0.5 (not BERT's 0.02, which gives every sentence the same
    near-uniform probabilities): predictions then depend on the text and are confident, so a
    mix-up of the label columns changes every metric.
    """
    from helpers.tiny_hf import build_tiny_bert

    folder = tmp_path_factory.mktemp("bert") / "tiny-bert"
    model, tokenizer = build_tiny_bert(
        folder, VOCAB, BERT_ID2LABEL, seed=SEED, initializer_range=0.5
    )
    return TinyBert(folder, model, tokenizer)


@pytest.fixture(scope="module")
def text_comparison(
    text_data: TextData,
    text_pipeline: Any,
    tiny_bert: TinyBert,
    tmp_path_factory: pytest.TempPathFactory,
) -> Comparison:
    path, _ = text_pipeline
    refs = [f"sklearn:{path}?name=tfidf", f"hf:{tiny_bert.folder}?name=bert"]
    store = tmp_path_factory.mktemp("store") / "s.db"
    return whichmodel.compare(refs, text_data.path, store=str(store), **COMPARE)


def _bert_proba(bert: TinyBert, texts: list[str]) -> np.ndarray:
    """(n, 3) float64 probabilities in id2label order, from batches of BATCH_SIZE."""
    import torch

    chunks = []
    for start in range(0, len(texts), BATCH_SIZE):
        batch = bert.tokenizer(
            texts[start : start + BATCH_SIZE],
            padding=True,
            truncation=True,
            max_length=64,
            return_tensors="pt",
        )
        with torch.inference_mode():
            chunks.append(bert.model(**batch).logits.double().softmax(dim=-1).numpy())
    return np.concatenate(chunks)


def test_tfidf_pipeline_metrics_equal_sklearn(text_data, text_pipeline, text_comparison):
    _, pipeline = text_pipeline
    y, pred = text_data.labels, pipeline.predict(text_data.texts)
    assert text_comparison.input_kind == "text"
    assert text_comparison.metric("tfidf", "accuracy") == accuracy_score(y, pred)
    assert text_comparison.metric("tfidf", "macro_f1") == f1_score(y, pred, average="macro")
    expected = log_loss(y, pipeline.predict_proba(text_data.texts), labels=pipeline.classes_)
    assert text_comparison.metric("tfidf", "log_loss") == pytest.approx(expected, rel=1e-9)
    assert 0.5 < accuracy_score(y, pred) < 1  # the check means something either way


def test_text_models_have_spec_sheets(tiny_bert, text_comparison):
    specs = {m.name: m.spec for m in text_comparison.models}
    assert [m.spec_error for m in text_comparison.models] == [None, None]
    bert, tfidf = specs["bert"], specs["tfidf"]
    assert bert is not None and tfidf is not None
    assert bert.facts["identity.family"].value == "encoder-only transformer"
    assert bert.facts["design.layers"].value == tiny_bert.model.config.num_hidden_layers
    assert bert.facts["tokenizer.algorithm"].value == "WordPiece"
    assert tfidf.facts["identity.family"].value == "linear"  # the pipeline's end


def test_bert_with_unsorted_id2label_metrics_equal_sklearn(text_data, tiny_bert, text_comparison):
    names = [BERT_ID2LABEL[i] for i in range(len(BERT_ID2LABEL))]
    proba = _bert_proba(tiny_bert, text_data.texts)  # (n, 3), columns in id2label order
    y, pred = text_data.labels, np.asarray(names)[proba.argmax(axis=1)]
    assert text_comparison.metric("bert", "accuracy") == accuracy_score(y, pred)
    assert text_comparison.metric("bert", "macro_f1") == f1_score(y, pred, average="macro")
    # sklearn's log_loss reads the columns in sorted label order: reorder them by name.
    sorted_names = sorted(names)
    by_name = proba[:, [names.index(c) for c in sorted_names]]
    expected = log_loss(y, by_name, labels=sorted_names)
    assert text_comparison.metric("bert", "log_loss") == pytest.approx(expected, rel=1e-6)
    # Reading the columns in sorted order instead gives other numbers, so the checks above would
    # catch that mix-up.
    mixed_up = np.asarray(sorted_names)[proba.argmax(axis=1)]
    assert accuracy_score(y, mixed_up) != accuracy_score(y, pred)
    assert f1_score(y, mixed_up, average="macro") != f1_score(y, pred, average="macro")
    assert log_loss(y, proba, labels=sorted_names) != pytest.approx(expected, rel=1e-2)


def test_paired_test_counts_the_discordant_examples(
    text_data, text_pipeline, tiny_bert, text_comparison
):
    _, pipeline = text_pipeline
    names = np.asarray([BERT_ID2LABEL[i] for i in range(len(BERT_ID2LABEL))])
    right_tfidf = pipeline.predict(text_data.texts) == text_data.labels
    right_bert = names[_bert_proba(tiny_bert, text_data.texts).argmax(axis=1)] == text_data.labels
    (test,) = text_comparison.statistics.tests
    assert (test.model_a, test.model_b, test.test) == ("tfidf", "bert", "mcnemar_exact")
    assert test.a_only == int(np.sum(right_tfidf & ~right_bert))
    assert test.b_only == int(np.sum(~right_tfidf & right_bert))
    assert test.n == len(text_data.texts)
    assert 0 <= test.p_value <= 1


@pytest.fixture(scope="module")
def digit_images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    """The first 120 digits as a Parquet file: 'image' (8, 8) nested lists in [0, 1], 'label'."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images[:120] / 16.0).astype(np.float32)  # (120, 8, 8)
    y = digits.target[:120]
    path = tmp_path_factory.mktemp("digits") / "digits.parquet"
    frame = pd.DataFrame({"image": [img.tolist() for img in x], "label": y})
    frame.to_parquet(path, index=False)
    return path, x, y


@pytest.fixture(scope="module")
def tiny_vit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A random, seeded one-channel 8x8 ViT with 10 classes; no image processor. Weights have
    std 0.5, as for the BERT above: with 0.02 every digit gets the same class."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification

    config = ViTConfig(
        image_size=8,
        patch_size=2,
        num_channels=1,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        initializer_range=0.5,
        num_labels=10,
    )
    torch.manual_seed(SEED)
    model = ViTForImageClassification(config).eval()
    folder = tmp_path_factory.mktemp("vit") / "tiny-vit"
    model.save_pretrained(folder, safe_serialization=True)
    return folder, model


def test_hf_image_classifier_on_parquet_arrays(digit_images, tiny_vit, tmp_path):
    import torch

    path, x, y = digit_images
    folder, model = tiny_vit
    result = whichmodel.compare(
        [f"hf:{folder}?name=vit"], path, store=str(tmp_path / "s.db"), **COMPARE
    )
    with torch.inference_mode():
        logits = model(pixel_values=torch.from_numpy(x[:, None])).logits  # (120, 10)
    proba = logits.double().softmax(dim=-1).numpy()
    pred = proba.argmax(axis=1)
    assert len(np.unique(pred)) > 1  # the model looks at the pixels
    assert result.input_kind == "array"
    assert result.models[0].spec_error is None
    spec = result.models[0].spec
    assert spec is not None
    family = spec.facts["identity.family"].value
    assert family == "vision transformer (encoder-only)"
    assert result.models[0].predictions.classes == tuple(str(i) for i in range(10))
    assert result.metric("vit", "accuracy") == accuracy_score(y, pred)
    assert result.metric("vit", "macro_f1") == pytest.approx(
        f1_score(y, pred, labels=np.unique(y), average="macro"), rel=1e-12
    )
    assert result.metric("vit", "log_loss") == pytest.approx(
        log_loss(y, proba, labels=np.arange(10)), rel=1e-6
    )


def test_cost_of_a_text_pipeline(text_data, text_pipeline, tmp_path):
    path, pipeline = text_pipeline
    result = whichmodel.compare(
        [f"sklearn:{path}"],
        text_data.path,
        store=str(tmp_path / "s.db"),
        **{**COMPARE, "measure_cost": True},
    )
    model = result.models[0]
    assert model.cost_error is None, model.cost_error
    cost = model.cost
    assert cost is not None
    assert set(cost.latency) == {1, BATCH_SIZE}
    assert all(lat.p50_s > 0 for lat in cost.latency.values())
    n_weights = pipeline[-1].coef_.size + pipeline[-1].intercept_.size
    assert cost.parameters == n_weights > 0
    assert cost.model_memory_bytes > 0
    assert cost.architecture == "TfidfVectorizer → LogisticRegression"
