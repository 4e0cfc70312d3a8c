"""Ranking with a real LGBMRanker and a logistic-regression pointwise model, both trained here on
a synthetic learning-to-rank set: nDCG@k, recall@k and hit rate@k equal ir-measures' (trec_eval)
and scikit-learn's, the bootstrap draws whole queries, and bad data is one clear line."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import whichmodel
from helpers.tiny_ranking import FEATURES, group_sizes, ranking_frame
from whichmodel.analysis.stats import iter_resample_weights
from whichmodel.errors import DataError, TaskError
from whichmodel.tasks import get_task
from whichmodel.tasks.base import Predictions

TASK = "ranking?k=1,3,10"
OPTIONS = {"measure_cost": False, "n_resamples": 200}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    import skops.io as sio
    from lightgbm import LGBMRanker
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("ranking")
    train, test = ranking_frame(60, seed=1), ranking_frame(40, seed=2)
    x = train[list(FEATURES)].to_numpy()
    ranker = LGBMRanker(
        n_estimators=30, num_leaves=7, min_child_samples=5, random_state=0, n_jobs=1, verbose=-1
    )
    sio.dump(ranker.fit(x, train["label"], group=group_sizes(train)), root / "lgbm.skops")
    pointwise = LogisticRegression().fit(x, train["label"] > 0)  # P(relevant) as the score
    sio.dump(pointwise, root / "logreg.skops")
    test.to_csv(root / "test.csv", index=False)
    refs = [f"sklearn:{root / 'lgbm.skops'}", f"sklearn:{root / 'logreg.skops'}"]
    return SimpleNamespace(root=root, test=test, refs=refs, data=root / "test.csv")


@pytest.fixture(scope="module")
def comparison(setup: SimpleNamespace) -> whichmodel.Comparison:
    return whichmodel.compare(
        setup.refs, setup.data, task=TASK, store=str(setup.root / "s.db"), **OPTIONS
    )


def _ir_measures(test: pd.DataFrame, scores: np.ndarray) -> dict[str, float]:
    import ir_measures
    from ir_measures import R, Success, nDCG

    # trec_eval breaks score ties by document id, descending: ids that fall with the row number
    # give the tie order of recall@k and hit rate@k (row order).
    docs = [f"d{len(test) - i:06d}" for i in range(len(test))]
    qrels = pd.DataFrame(
        {"query_id": test["query_id"], "doc_id": docs, "relevance": test["label"].astype(int)}
    )
    run = pd.DataFrame({"query_id": test["query_id"], "doc_id": docs, "score": scores})
    out = {}
    for k in (1, 3, 10):
        values = ir_measures.calc_aggregate([nDCG @ k, R @ k, Success @ k], qrels, run)
        out |= {
            f"ndcg@{k}": values[nDCG @ k],
            f"recall@{k}": values[R @ k],
            f"hit_rate@{k}": values[Success @ k],
        }
    return out


def _sklearn_ndcg(test: pd.DataFrame, scores: np.ndarray, k: int) -> float:
    """Mean over queries of scikit-learn's ndcg_score on each query alone."""
    from sklearn.metrics import ndcg_score

    return float(
        np.mean(
            [
                ndcg_score([g["label"].to_numpy()], [scores[g.index.to_numpy()]], k=k)
                for _, g in test.groupby("query_id")
            ]
        )
    )


def test_metrics_equal_ir_measures_and_lightgbm_ranks_better(setup, comparison):
    test = setup.test
    assert comparison.n_examples == len(test)
    for model in comparison.models:
        scores = model.predictions.pred
        # A tree ensemble ties items that share every leaf; scikit-learn's nDCG averages over
        # the orders of tied items, trec_eval takes one order. Without ties both agree.
        ties = pd.DataFrame({"q": test["query_id"], "s": scores}).duplicated().any()
        for name, value in _ir_measures(test, scores).items():
            if ties and name.startswith("ndcg"):
                value = _sklearn_ndcg(test, scores, int(name.split("@")[1]))
            assert comparison.metric(model.name, name) == pytest.approx(value, abs=1e-9), name
    assert (
        pd.DataFrame({"q": test["query_id"], "s": comparison.model("logreg").predictions.pred})
        .duplicated()
        .sum()
        == 0
    )  # ir-measures checks its nDCG
    # The ranker learned the interaction a linear pointwise model cannot.
    assert comparison.metric("lgbm", "ndcg@10") > comparison.metric("logreg", "ndcg@10")
    test_stat = comparison.statistics.tests[0]
    assert test_stat.test == "wilcoxon" and test_stat.n == 40  # paired by query, not by row


def test_query_bootstrap_equals_metrics_on_resampled_queries(setup, comparison):
    """Replicate b of each metric equals the metric on the data set that draws the queries of
    resample b (a query drawn twice appears twice)."""
    task = get_task(TASK)
    y = task.read_labels(setup.test["label"].to_numpy())
    queries = np.unique(setup.test["query_id"].to_numpy(), return_inverse=True)[1]
    preds = comparison.model("lgbm").predictions
    units = queries[preds.rows]
    preds = preds.with_units(units)
    weights = next(iter_resample_weights(len(y), 4, seed=7, units=units))  # (4, n)
    assert all(len(set(w[units == q])) == 1 for w in weights for q in np.unique(units))
    for w in weights:
        counts = w.astype(int)
        rows = np.repeat(np.arange(len(y)), counts)  # a row drawn c times appears c times
        # Each row of a query drawn c times is in copies 0..c-1 of it: one query per copy.
        copies = np.concatenate([np.arange(c) for c in counts])
        drawn = np.unique(
            [f"{q}#{c}" for q, c in zip(units[rows], copies, strict=True)], return_inverse=True
        )[1]
        resampled = Predictions(np.arange(len(rows)), preds.pred[rows], units=drawn)
        pairs = zip(task.metrics(y, preds), task.metrics(y[rows], resampled), strict=True)
        for metric, again in pairs:
            expected = again.score(y[rows], resampled, None)
            assert metric.replicate(y, preds, w[None, :])[0] == pytest.approx(expected, abs=1e-12)
            assert metric.score(y, preds, w) == pytest.approx(expected, abs=1e-12)


def test_batches_that_split_queries_change_nothing(setup, comparison, tmp_path):
    small = whichmodel.compare(
        setup.refs, setup.data, task=TASK, batch_size=7, store=str(tmp_path / "s.db"), **OPTIONS
    )
    assert small.models[0].computed_batches == -(-len(setup.test) // 7)
    for m in comparison.statistics.metrics:
        again = small.metric(m.model, m.name)
        assert again == pytest.approx(m.value, abs=1e-12), (m.model, m.name)


def test_slices_by_a_query_column_score_their_queries(setup, tmp_path):
    test = setup.test.assign(
        segment=np.where(
            setup.test["f3"].groupby(setup.test["query_id"]).transform("first") > 0, "up", "down"
        )
    )
    test.to_csv(tmp_path / "test.csv", index=False)
    result = whichmodel.compare(
        setup.refs[:1],
        tmp_path / "test.csv",
        task=TASK,
        input_cols=list(FEATURES),
        slice_by=["segment"],
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    scores = result.model("lgbm").predictions.pred
    (report,) = result.findings.slices
    for piece in report.slices:
        rows = test.index[test["segment"] == piece.value]
        expected = _sklearn_ndcg(test.loc[rows], scores, 3)
        (value,) = [m for m in piece.metrics if m.metric == "ndcg@3"]
        assert value.value == pytest.approx(expected, abs=1e-12)
        assert value.ci_low <= value.value <= value.ci_high


def test_tie_free_shortcut_equals_tie_averaged_ndcg():
    """Without ties, the vectorized path (scikit-learn's ignore_ties) is taken and equals the
    tie-averaged one; a tie is detected only between items of one query."""
    from sklearn.metrics._ranking import _ndcg_sample_scores

    from whichmodel.tasks.ranking import QueryMatrix, _ndcg_per_query

    rng = np.random.default_rng(3)
    queries = np.repeat(np.arange(30), rng.integers(1, 12, 30))
    relevance = rng.integers(0, 4, len(queries)).astype(float)
    matrix = QueryMatrix.build(queries, relevance, rng.normal(size=len(queries)))
    assert not matrix.has_ties
    slow = _ndcg_sample_scores(matrix.relevance, matrix.scores, k=5, ignore_ties=False)
    np.testing.assert_allclose(_ndcg_per_query(matrix, 5), slow, rtol=1e-12)
    # 0, 1, 2, ... within each query: equal scores only across queries
    position = np.concatenate([np.arange(c) for c in np.bincount(queries)]).astype(float)
    assert not QueryMatrix.build(queries, relevance, position).has_ties
    assert QueryMatrix.build(queries, relevance, np.round(rng.normal(size=len(queries)))).has_ties


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (
            lambda f: f.assign(label=np.where(f["query_id"] == f["query_id"][0], 0, f["label"])),
            DataError,
            r"Query 'q2-0' has no relevant item .* 1 of 40 queries",
        ),
        (
            lambda f: f.drop(columns="query_id"),
            DataError,
            r"test.csv has no column 'query_id' to group its rows by",
        ),
        (lambda f: f.assign(label=-f["label"]), DataError, r"relevance must be a number >= 0"),
        (lambda f: f.assign(label="high"), DataError, r"needs numeric relevance labels"),
    ],
    ids=["no-relevant", "no-query-column", "negative", "text"],
)
def test_bad_data_is_one_clear_error(setup, tmp_path, edit, error, message):
    bad = edit(setup.test.copy())
    bad.to_csv(tmp_path / "test.csv", index=False)
    with pytest.raises(error, match=message):
        whichmodel.compare(
            setup.refs[:1],
            tmp_path / "test.csv",
            task=TASK,
            input_cols=list(FEATURES),
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )


def test_a_multiclass_model_is_refused(setup, tmp_path):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    x = setup.test[list(FEATURES)].to_numpy()
    sio.dump(LogisticRegression(max_iter=500).fit(x, setup.test["label"]), tmp_path / "mc.skops")
    with pytest.raises(TaskError, match=r"ranking needs one score per row"):
        whichmodel.compare(
            [f"sklearn:{tmp_path / 'mc.skops'}"],
            setup.data,
            task=TASK,
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )


@pytest.mark.slow
def test_cli_ranking_and_a_query_without_relevant_items_exit_2(setup, tmp_path, cli):
    out = cli(
        "compare",
        *setup.refs,
        "--data",
        str(setup.data),
        "--task",
        "ranking?k=5",
        "--no-cost",
        "--store",
        str(tmp_path / "s.db"),
        "--bootstrap",
        "50",
    )
    assert out.returncode == 0, out.stderr
    assert "ndcg@5" in out.stdout and "lgbm" in out.stdout
    bad = setup.test.assign(label=0)
    bad.to_csv(tmp_path / "bad.csv", index=False)
    fail = cli(
        "compare",
        setup.refs[0],
        "--data",
        str(tmp_path / "bad.csv"),
        "--task",
        "ranking",
        "--no-cost",
        "--store",
        str(tmp_path / "s.db"),
    )
    assert fail.returncode == 2
    assert fail.stderr.strip().count("\n") == 0 and "Traceback" not in fail.stderr
    assert "has no relevant item" in fail.stderr


def test_disagreements_count_and_list_queries_not_rows(setup, comparison):
    # Every row of a query shares its outcome (1 - nDCG@10 of the query): each query is counted
    # once and listed once, by its first row, ranked by the nDCG difference.
    from sklearn.metrics import ndcg_score

    (pair,) = comparison.findings.disagreements
    test = setup.test
    queries = test["query_id"].to_numpy()
    first_rows = {int(i) for i in np.unique(queries, return_index=True)[1]}
    listed = [d.row for d in (*pair.a_wins, *pair.b_wins)]
    assert pair.n == 40 and len(listed) == len(set(listed)) and set(listed) <= first_rows
    ndcg = {
        name: {
            q: ndcg_score([test["label"][queries == q]], [m.predictions.pred[queries == q]], k=10)
            for q in np.unique(queries)
        }
        for name, m in ((m.name, m) for m in comparison.models)
    }
    a, b = pair.model_a, pair.model_b
    assert pair.a_only == sum(ndcg[a][q] > ndcg[b][q] for q in ndcg[a])
    assert pair.b_only == sum(ndcg[b][q] > ndcg[a][q] for q in ndcg[a])
    assert pair.a_only + pair.b_only + pair.both_right == 40


def test_no_error_clusters_for_outcomes_per_query(comparison):
    assert comparison.findings.error_clusters == ()


@pytest.mark.slow
def test_bench_scores_a_ranker_per_query_like_compare(setup, comparison, tmp_path):
    # bench --data with a ranking task keeps the query column out of the inputs and scores
    # the variant's quality per query: on the whole file, compare's values.
    def bench(quality_examples: int) -> whichmodel.CostProfile:
        return whichmodel.bench(
            setup.refs[0],
            data=str(setup.data),
            task=TASK,
            batch_sizes=(1,),
            budget_s=0.2,
            quality_examples=quality_examples,
            store=str(tmp_path / "b.db"),
        )

    profile = bench(len(setup.test))
    assert profile.quality is not None
    for name in ("ndcg@10", "recall@3", "hit_rate@1"):
        assert profile.quality.metrics[name] == pytest.approx(comparison.metric("lgbm", name))
    # Fewer quality examples than rows: whole queries only, the first ones in the file.
    from whichmodel.bench.run import BenchConfig, _read_data

    _, quality, _ = _read_data(
        BenchConfig(refs=("m",), data=str(setup.data), task=TASK, quality_examples=50)
    )
    test = setup.test
    first = list(dict.fromkeys(test["query_id"]))
    sizes = test.groupby("query_id").size()
    kept = [q for i, q in enumerate(first) if sizes[first[: i + 1]].sum() <= 50]
    subset = test[test["query_id"].isin(kept)]
    assert len(quality.inputs) == len(subset) <= 50 and len(kept) >= 1
    scores = comparison.model("lgbm").predictions.pred[subset.index.to_numpy()]
    small = bench(50)
    expected = _sklearn_ndcg(subset.reset_index(drop=True), scores, 10)
    assert small.quality.metrics["ndcg@10"] == pytest.approx(expected)
