"""What every task kind must do through compare, checked on the new kinds with tiny models:
the same metrics whatever the batch size (batch boundaries and padding change nothing), bootstrap
replicates equal to the metric under each resample's weights, and an example the model fails on
recorded while the run goes on."""

from __future__ import annotations

import json

import numpy as np
import pytest

import whichmodel
from helpers.tiny_lm import TinyLM, build, sentences
from whichmodel.analysis.stats import bootstrap_weights
from whichmodel.tasks import get_task

USES_TORCH = True
OPTIONS = {"measure_cost": False, "n_resamples": 50}


@pytest.fixture(scope="module")
def lm(tmp_path_factory: pytest.TempPathFactory) -> TinyLM:
    return build(tmp_path_factory.mktemp("conf") / "lm", seed=4)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("conf-data")
    rng = np.random.default_rng(1)
    texts, refs = sentences(11, seed=11), sentences(11, seed=12)
    choices = [sentences(3, seed=20 + i, min_words=1, max_words=3) for i in range(11)]
    rows = {
        "language-modeling": [{"text": t} for t in texts],
        "multiple-choice": [
            {"context": t, "choices": c, "label": int(rng.integers(0, 3))}
            for t, c in zip(texts, choices, strict=True)
        ],
        "generation?max_new_tokens=4": [
            {"prompt": t, "label": r} for t, r in zip(texts, refs, strict=True)
        ],
    }
    out = {}
    for task, records in rows.items():
        path = root / f"{task.split('?')[0]}.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
        out[task] = path
    return out


TASKS = ["language-modeling", "multiple-choice", "generation?max_new_tokens=4"]


@pytest.mark.parametrize("task", TASKS)
def test_batch_size_changes_nothing_and_replicates_match_weights(lm, files, task, tmp_path):
    results = [
        whichmodel.compare(
            [lm.ref],
            files[task],
            task=task,
            batch_size=b,
            store=str(tmp_path / "s.db"),
            **OPTIONS,
        )
        for b in (3, 11)
    ]
    small, whole = ({m.name: m.value for m in r.statistics.metrics} for r in results)
    assert small.keys() == whole.keys() and small
    for name in small:
        assert small[name] == pytest.approx(whole[name], rel=1e-6), name
    preds, definition = results[0].models[0].predictions, get_task(task)
    labels = [json.loads(line).get("label") for line in files[task].read_text().splitlines()]
    y = definition.read_labels(
        np.array(labels, dtype=object if task != "multiple-choice" else None)
    )
    weights = bootstrap_weights(11, 6, seed=5)
    for metric in definition.metrics(y, preds):
        expected = [metric.score(y, preds, w) for w in weights]
        np.testing.assert_allclose(metric.replicate(y, preds, weights), expected, rtol=1e-9)
        # Language-model metrics are losses (lower is better); the others are scores.
        assert metric.higher_is_better == (task != "language-modeling"), metric.name


def test_a_failing_example_is_recorded_and_the_run_goes_on(lm, tmp_path):
    texts = sentences(6, seed=30)
    texts[2] = ""
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps({"text": t}) for t in texts), encoding="utf-8")
    result = whichmodel.compare(
        [lm.ref],
        path,
        task="language-modeling",
        batch_size=4,
        store=str(tmp_path / "s.db"),
        **OPTIONS,
    )
    preds = result.models[0].predictions
    assert preds.failed_rows == (
        (2, "ValueError: the text is empty, so it has no tokens to score"),
    )
    assert preds.rows.tolist() == [0, 1, 3, 4, 5]
    assert result.statistics.n_examples == 5
