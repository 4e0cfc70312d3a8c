"""``whichmodel compare-samples`` on lm-evaluation-harness's own ``--log_samples`` files: the
McNemar p is SciPy's exact binomial test on the same per-document correctness, the values are
lm-eval's, and bad inputs are one line with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import binomtest

import whichmodel
from helpers.bad_input import refuse
from helpers.lm_eval_ref import LmEvalRun, run_lm_eval, task_yaml
from helpers.tiny_lm import build, sentences

USES_TORCH = True
N_DOCS = 60


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[LmEvalRun, LmEvalRun]:
    """lm-eval on two tiny LMs over one multiple-choice task of 60 documents."""
    root = tmp_path_factory.mktemp("samples")
    rng = np.random.default_rng(7)
    docs = []
    for i, question in enumerate(sentences(N_DOCS, seed=21)):
        opts = sentences(4, seed=300 + i, min_words=1, max_words=3)
        docs.append({"q": question, "opts": opts, "answer": int(rng.integers(0, 4))})
    data = root / "mc.jsonl"
    data.write_text("\n".join(json.dumps(d) for d in docs) + "\n", encoding="utf-8")
    yaml = task_yaml("tinymc", data, "multiple_choice", ["acc", "acc_norm"],
                     doc_to_text="{{q}}?", doc_to_choice="opts", doc_to_target="answer")
    return tuple(  # type: ignore[return-value]
        run_lm_eval(build(root / name, seed=seed).folder, {"tinymc": yaml}, root / f"run-{name}")
        for name, seed in (("lm-a", 0), ("lm-b", 2))
    )


def _correct(run: LmEvalRun, metric: str) -> np.ndarray:
    return np.array([row[metric] == 1.0 for row in run.sample_rows("tinymc")])


def test_mcnemar_p_is_scipys_on_the_same_correctness(runs) -> None:
    a, b = runs
    result = whichmodel.compare_samples(a.samples["tinymc"], b.samples["tinymc"])
    assert result.models == ("lm-a", "lm-b") and result.n_documents == N_DOCS
    assert [m.name for m in result.metrics] == ["acc", "acc_norm"]
    discordant = 0
    for m in result.metrics:
        ca, cb = _correct(a, m.name), _correct(b, m.name)
        k, n = int(np.sum(ca & ~cb)), int(np.sum(ca != cb))
        discordant += n
        assert m.test.test == "mcnemar_exact" and (m.test.a_only, m.test.b_only) == (k, n - k)
        assert m.test.p_value == pytest.approx(binomtest(k, n, 0.5).pvalue, abs=1e-12)
        assert m.a.value == pytest.approx(a.results["tinymc"][m.name], abs=1e-12)
        assert m.b.value == pytest.approx(b.results["tinymc"][m.name], abs=1e-12)
        assert m.a.ci_low <= m.a.value <= m.a.ci_high
    assert discordant > 0  # the two models disagree somewhere: the test is not vacuous
    ps = sorted(m.test.p_value for m in result.metrics)  # Holm over the two metrics
    assert sorted(m.p_holm for m in result.metrics) == pytest.approx(
        [min(1.0, 2 * ps[0]), min(1.0, max(2 * ps[0], ps[1]))]
    )
    shown = {d.doc_id for d in result.disagreements}
    assert len(shown) == min(10, result.n_disagreements)
    assert result.n_disagreements == int(np.sum(_correct(a, "acc") != _correct(b, "acc")))


def test_cli_json_and_table(runs, tmp_path) -> None:
    import subprocess
    import sys

    a, b = (str(r.samples["tinymc"]) for r in runs)
    done = subprocess.run(
        [sys.executable, "-m", "whichmodel", "compare-samples", a, b, "--json",
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )
    printed = json.loads(done.stdout)
    assert printed == json.loads((tmp_path / "out" / "samples.json").read_text())
    assert printed["metrics"][0]["test"]["test"] == "mcnemar_exact"
    table = subprocess.run(
        [sys.executable, "-m", "whichmodel", "compare-samples", a, b, "--name", "A",
         "--name", "B"], capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout
    assert "tinymc, n=60" in table and "mcnemar" in table and "acc_norm" in table


def test_bad_inputs_are_one_line(runs, tmp_path) -> None:
    a = runs[0].samples["tinymc"]
    rows = [json.loads(line) for line in a.read_text().splitlines()]
    other = tmp_path / "samples_othertask_2026-01-01T00-00-00.000000.jsonl"
    other.write_text(a.read_text(), encoding="utf-8")
    refuse(tmp_path, "compare-samples", str(a), str(other), says="of the task 'tinymc'")
    refuse(tmp_path, "compare-samples", str(a), "{tmp}/missing.jsonl",
           says="No lm-eval samples file at")
    (tmp_path / "notjson.jsonl").write_text("a,b\n1,2\n", encoding="utf-8")
    refuse(tmp_path, "compare-samples", str(a), "{tmp}/notjson.jsonl",
           says="is not an lm-eval samples file")
    rows[3]["doc_hash"] = "0" * 64
    changed = tmp_path / "changed" / a.name
    changed.parent.mkdir()
    changed.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    refuse(tmp_path, "compare-samples", str(a), str(changed), says="Document 3 differs")
    refuse(tmp_path, "compare-samples", str(a), str(a), "--metric", "f1",
           says="must log the metric 'f1'")
