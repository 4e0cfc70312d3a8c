"""Embeddings and retrieval: queries against a corpus, ranked by cosine similarity.

Data: the queries file has a ``query`` text column (``--input-cols query`` if it has others) and
a label column with the ids of the relevant documents: a list (JSONL, Parquet) or ``id1|id2``
text (CSV). The corpus is a second file (CSV, JSONL, Parquet) with ``id`` and ``text`` columns,
given as an option: ``--task "retrieval?corpus=docs.jsonl&k=1,5,10"``.

Each model embeds the corpus once per run and every query; per query the task keeps the top-K
document indices and similarities (K = the largest cutoff). Metrics, each the mean over queries:

- ``recall@k``: the share of a query's relevant documents among its top k;
- ``mrr``: 1 / rank of the first relevant document within the top K (0 if none), the mean
  reciprocal rank of TREC QA (Voorhees 1999);
- ``ndcg@k``: scikit-learn's ``ndcg_score`` with binary relevance (Järvelin & Kekäläinen 2002);
  relevant documents outside the top K count in the ideal ranking.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np

from whichmodel.data.tables import text_list
from whichmodel.errors import DataError, TaskError
from whichmodel.sources.base import Inputs, Model, RawOutput
from whichmodel.sources.capabilities import as_embedder
from whichmodel.tasks.base import Metric, Predictions, Task
from whichmodel.tasks.options import TaskOptions
from whichmodel.tasks.scoring import mean_metric

SEPARATOR = "|"
_EMBED_BATCH = 64


class RetrievalTask(Task):
    outcome_kind = "continuous"  # per query 1 - reciprocal rank: paired Wilcoxon test
    requires = "embed"
    keeps_scores = True
    takes_options = True

    def __init__(self, options: TaskOptions | None = None) -> None:
        options = options or TaskOptions("retrieval", {})
        corpus = options.text("corpus", "")
        self.cutoffs = options.integers("k", (1, 5, 10))
        self.name = options.finish()
        if not corpus:
            raise TaskError(
                "The retrieval task needs a corpus: --task 'retrieval?corpus=docs.jsonl' (a file "
                "with 'id' and 'text' columns)."
            )
        self.corpus_path = Path(corpus)
        self._corpus: tuple[np.ndarray, list[str]] | None = None  # (ids, texts), read once
        # (the model, its (D, d) unit corpus embeddings): one model at a time, embedded once.
        self._embedded: tuple[weakref.ref[Model], np.ndarray] | None = None

    def data_files(self) -> tuple[str, ...]:
        return (str(self.corpus_path),)

    @property
    def depth(self) -> int:
        return min(max(self.cutoffs), len(self.corpus()[0]))

    def corpus(self) -> tuple[np.ndarray, list[str]]:
        """(ids (D,) str, texts) of the corpus file."""
        if self._corpus is None:
            from whichmodel.data.tables import read_table

            frame = read_table(self.corpus_path)
            missing = [c for c in ("id", "text") if c not in frame.columns]
            if missing:
                raise DataError(
                    f"The corpus {self.corpus_path.name} has no column "
                    f"{', '.join(repr(m) for m in missing)}; it needs 'id' and 'text'."
                )
            ids = frame["id"].astype(str).to_numpy()
            if len(set(ids.tolist())) != len(ids):
                raise DataError(f"The corpus {self.corpus_path.name} repeats document ids.")
            self._corpus = (ids, frame["text"].astype(str).tolist())
        return self._corpus

    def read_labels(self, labels: np.ndarray) -> np.ndarray:
        """(n,) str: each query's relevant document ids joined by ``|``."""
        known = set(self.corpus()[0].tolist())
        out = []
        for i, value in enumerate(labels):
            ids = _id_list(value)
            if not ids:
                raise DataError(f"Query {i} has no relevant document ids in its label column.")
            unknown = [d for d in ids if d not in known]
            if unknown:
                raise DataError(
                    f"Query {i}'s relevant document {unknown[0]!r} is not in the corpus "
                    f"{self.corpus_path.name}."
                )
            out.append(SEPARATOR.join(ids))
        return np.asarray(out, dtype=str)

    def __getstate__(self) -> dict[str, object]:
        """Pickled (a predict job sent to another process) without its memos: the corpus is
        read, and embedded, again where the job runs."""
        return {**self.__dict__, "_corpus": None, "_embedded": None}

    def run(self, model: Model, inputs: Inputs) -> RawOutput:
        embedder = as_embedder(model, "retrieval")
        if inputs.kind != "text":
            raise DataError(
                "Retrieval reads one text column of queries; name it with --input-cols."
            )
        embedded = self._embedded  # read once: another thread may embed another model's
        if embedded is None or embedded[0]() is not model:
            texts = self.corpus()[1]
            chunks = [
                embedder.embed(texts[i : i + _EMBED_BATCH])
                for i in range(0, len(texts), _EMBED_BATCH)
            ]
            embedded = (weakref.ref(model), _unit(np.concatenate(chunks)))
            self._embedded = embedded
        queries = _unit(embedder.embed([str(q) for q in inputs.data]))  # (n, d)
        similarity = queries @ embedded[1].T  # (n, D) cosine
        top = np.argsort(-similarity, axis=1, kind="stable")[:, : self.depth]  # (n, K)
        sims = np.take_along_axis(similarity, top, axis=1)
        return RawOutput("scores", np.hstack([top, sims]).astype(np.float64))

    def interpret(
        self, raw: RawOutput, classes: tuple[str, ...] | None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...] | None]:
        scores = np.asarray(raw.array, dtype=np.float64)
        k = scores.shape[1] // 2
        names = tuple(f"doc_{i}" for i in range(k)) + tuple(f"sim_{i}" for i in range(k))
        return scores[:, 0], scores, names  # pred: the top document's index in the corpus

    def metrics(self, y_true: np.ndarray, preds: Predictions) -> list[Metric]:
        metrics = [_recall_metric(self, k) for k in self.cutoffs]
        metrics.append(mean_metric("mrr", True, self.reciprocal_rank))
        metrics += [_ndcg_metric(self, k) for k in self.cutoffs]
        return metrics

    def metric_names(self) -> tuple[str, ...]:
        return (*(f"recall@{k}" for k in self.cutoffs), "mrr", *(f"ndcg@{k}" for k in self.cutoffs))

    def outcome(self, y_true: np.ndarray, preds: Predictions) -> np.ndarray:
        return 1.0 - self.reciprocal_rank(y_true, preds)

    # -- per-query values ---------------------------------------------------------------------
    def hits(self, y: np.ndarray, p: Predictions) -> tuple[np.ndarray, np.ndarray]:
        """((n, K) bool: the i-th retrieved document is relevant, (n,) relevant counts)."""
        ids = self.corpus()[0]
        k = len([n for n in p.score_names or () if n.startswith("doc_")])
        top = np.stack([p.score(f"doc_{i}") for i in range(k)], axis=1).astype(np.int64)
        relevant = [set(v.split(SEPARATOR)) for v in y]
        hit = np.array([[ids[j] in r for j in row] for row, r in zip(top, relevant, strict=True)])
        return hit.reshape(len(y), k), np.array([len(r) for r in relevant], dtype=np.float64)

    def recall(self, y: np.ndarray, p: Predictions, k: int) -> np.ndarray:
        hit, n_relevant = self.hits(y, p)
        return np.asarray(hit[:, :k].sum(axis=1) / n_relevant)

    def reciprocal_rank(self, y: np.ndarray, p: Predictions) -> np.ndarray:
        hit, _ = self.hits(y, p)
        first = hit.argmax(axis=1)  # (n,) index of the first relevant document
        return np.where(hit.any(axis=1), 1.0 / (first + 1), 0.0)

    def relevance_matrix(self, y: np.ndarray, p: Predictions) -> tuple[np.ndarray, np.ndarray]:
        """(relevance (n, m), scores (n, m)) for ndcg_score: the top K with their similarities,
        then the relevant documents not retrieved, scored below every retrieved one, then
        padding (relevance 0, lowest score) so that rows have one width."""
        hit, n_relevant = self.hits(y, p)
        k = hit.shape[1]
        sims = np.stack([p.score(f"sim_{i}") for i in range(k)], axis=1)
        missing = (n_relevant - hit.sum(axis=1)).astype(np.int64)  # (n,)
        width = k + int(missing.max(initial=0))
        relevance = np.zeros((len(y), width))
        relevance[:, :k] = hit
        scores = np.full((len(y), width), -4.0)  # cosine similarities are >= -1
        scores[:, :k] = sims
        extra = np.arange(width - k)[None, :] < missing[:, None]  # (n, width - k)
        relevance[:, k:][extra] = 1.0
        scores[:, k:][extra] = -2.0
        return relevance, scores


def _recall_metric(task: RetrievalTask, k: int) -> Metric:
    return mean_metric(f"recall@{k}", True, lambda y, p: task.recall(y, p, k))


def _ndcg_metric(task: RetrievalTask, k: int) -> Metric:
    def score(y: np.ndarray, p: Predictions, w: np.ndarray | None) -> float:
        from sklearn.metrics import ndcg_score

        relevance, scores = task.relevance_matrix(y, p)
        return float(ndcg_score(relevance, scores, k=k, sample_weight=w))

    def replicates(y: np.ndarray, p: Predictions, weights: np.ndarray) -> np.ndarray:
        # Per-query nDCG from the function ndcg_score averages (scikit-learn's own).
        from sklearn.metrics._ranking import _ndcg_sample_scores

        relevance, scores = task.relevance_matrix(y, p)
        per_query = _ndcg_sample_scores(relevance, scores, k=k, ignore_ties=False)  # (n,)
        return np.asarray((weights @ per_query) / weights.sum(axis=1))

    return Metric(f"ndcg@{k}", True, score, replicates)


def _unit(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float64)
    return np.asarray(v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12))


def _id_list(value: object) -> list[str]:
    ids = text_list(value, SEPARATOR)
    if ids is not None:
        return ids
    return [str(value)]
