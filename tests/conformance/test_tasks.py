"""The conformance suite every task passes: every task ``whichmodel.tasks.TASKS`` names (the 12
kinds and the hidden ``fake``), each on its golden recipe of tiny models and data.

For each task: ``interpret`` gives one row per example; the metrics of a comparison are finite;
each metric's direction agrees with its name and with behaviour (perfect predictions beat a
corrupted copy); bootstrap replicates are the metric under each resample's weights; the same
seed gives the same metrics and intervals; neither the order of the data's rows nor the batch
size changes a metric; a bad column or option is one line. A task registered without a case
fails here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import whichmodel
from conformance.task_cases import CASES, TaskCase, shuffled_copy
from golden.cases import COMPARE, Recipe
from whichmodel.analysis.stats import iter_resample_weights
from whichmodel.comparison import Comparison
from whichmodel.data.dataset import Dataset
from whichmodel.errors import WhichModelError
from whichmodel.sources import load
from whichmodel.tasks import TASKS, Task

USES_TORCH = True
NAMES = (*TASKS.names(), "fake")  # the listed tasks, and the hidden one the tests use
# The lower-is-better names (scikit-learn's convention: *_loss, *_error; and the usual error
# rates and losses); every other metric is a score, higher is better.
LOWER_IS_BETTER = re.compile(r"(_loss|_error)$|^(mae|mse|rmse|mase|smape|wer|cer"
                             r"|(word_|byte_)?perplexity|bits_per_byte)$")  # fmt: skip


@dataclass(frozen=True)
class Built:
    """A case's recipe, built in ``root``, and its first comparison (a fresh store)."""

    case: TaskCase
    root: Path
    recipe: Recipe
    first: Comparison

    def compare(self, store: str, **overrides: Any) -> Comparison:
        """The recipe compared again with the store ``root/store`` and ``overrides``."""
        return _compare(self.recipe, self.root / store, **overrides)

    def read(self, data: Path | None = None) -> tuple[Task, Dataset, np.ndarray]:
        """(task, dataset, labels) read the way compare reads them (one fresh task)."""
        from whichmodel.api_options import compare_config as _config
        from whichmodel.tasks import get_task

        config = _config(self.recipe.refs, data or self.recipe.data, self.recipe.options)
        task = get_task(config.task)
        dataset, y = task.read(
            config.data, input_cols=config.input_cols, label_col=config.label_col
        )
        return task, dataset, y


def _compare(recipe: Recipe, store: Path, **overrides: Any) -> Comparison:
    """``whichmodel.compare`` of the recipe, as the golden case runs it, with ``overrides``
    (``data``: another data file)."""
    options = {**COMPARE, **recipe.options, **overrides}
    data = options.pop("data", recipe.data)
    return whichmodel.compare(recipe.refs, data, store=str(store), **options)


@pytest.fixture(scope="module")
def built_cases() -> dict[str, Built]:
    return {}


@pytest.fixture(params=[pytest.param(name, id=name) for name in NAMES])
def built(
    request: pytest.FixtureRequest,
    built_cases: dict[str, Built],
    tmp_path_factory: pytest.TempPathFactory,
) -> Built:
    name = request.param
    if name not in CASES:
        pytest.fail(
            f"The task {name!r} is registered in whichmodel.tasks.TASKS but has no conformance "
            "case: add one to CASES in tests/conformance/task_cases.py."
        )
    if name not in built_cases:
        root = tmp_path_factory.mktemp(f"task-{name}")
        recipe = CASES[name].build(root)
        first = _compare(recipe, root / "first.db")
        built_cases[name] = Built(CASES[name], root, recipe, first)
    return built_cases[name]


def _values(result: Comparison) -> dict[tuple[str, str], float]:
    return {(m.model, m.name): m.value for m in result.statistics.metrics}


def _assert_one_line(error: BaseException) -> None:
    message = str(error)
    assert message.strip() == message and message and "\n" not in message, message


def test_every_registered_task_has_a_case() -> None:
    assert "fake" in TASKS and "fake" not in TASKS.names()
    assert set(CASES) == set(NAMES), "a task registered without a case, or a case of no task"


def test_interpret_gives_one_row_per_example(built: Built) -> None:
    task, dataset, _ = built.read()
    model = load(built.recipe.refs[0])
    batch = dataset.inputs.take(slice(0, 5))
    pred, second, names = task.interpret(task.run(model, batch), model.classes)
    assert len(pred) == len(batch) == 5
    if second is not None:  # probabilities (n, C) or scores (n, S)
        assert second.ndim == 2 and len(second) == len(batch)
        if names is not None:
            assert second.shape[1] == len(names)


def test_metrics_are_finite(built: Built) -> None:
    task, _, y = built.read()
    metrics = built.first.statistics.metrics
    assert metrics and {m.model for m in metrics} == {r.name for r in built.first.models}
    for m in metrics:
        assert np.isfinite([m.value, m.ci_low, m.ci_high]).all(), m
    for result in built.first.models:
        declared = {d.name: d.higher_is_better for d in task.metrics(y, result.predictions)}
        recorded = {m.name: m.higher_is_better for m in metrics if m.model == result.name}
        assert recorded == declared


def test_the_metrics_reported_are_the_ones_declared_before_any_data(built: Built) -> None:
    """A limit's metric name is checked against ``metric_names()`` before models run: every
    metric the task reports must be declared there, in the same order."""
    task, _, y = built.read()
    declared = task.metric_names()
    assert declared, f"{task.name} declares no metric names"
    for result in built.first.models:
        reported = [m.name for m in task.metrics(y, result.predictions)]
        assert set(reported) <= set(declared), (reported, declared)
        assert reported == [n for n in declared if n in reported]  # the declared order


def test_metric_direction_agrees_with_its_name_and_with_behaviour(built: Built) -> None:
    task, dataset, y = built.read()
    preds = built.first.models[0].predictions.with_units(dataset.units)  # ranking scores them
    assert preds.rows.tolist() == list(range(len(y)))  # no example failed
    perfect, corrupted = built.case.oracle(task, y, preds)
    metrics = task.metrics(y, perfect)
    assert [m.name for m in metrics] == [m.name for m in task.metrics(y, preds)]
    for metric in metrics:
        assert metric.higher_is_better == (not LOWER_IS_BETTER.search(metric.name)), metric.name
        good, bad = metric.score(y, perfect, None), metric.score(y, corrupted, None)
        sign = 1.0 if metric.higher_is_better else -1.0
        if metric.name in built.case.ties:
            assert sign * (good - bad) >= 0, (metric.name, good, bad)
        else:
            assert sign * (good - bad) > 0, (metric.name, good, bad)


def test_replicates_are_the_metric_under_each_resample_weights(built: Built) -> None:
    task, dataset, y = built.read()
    preds = built.first.models[0].predictions
    # ranking's queries, forecasting's series: drawn whole (and ranking's metrics score them)
    units = None if dataset.units is None else dataset.units[preds.rows]
    preds = preds.with_units(units)
    weights = np.concatenate(list(iter_resample_weights(len(y), 6, seed=5, units=units)))  # (6, n)
    for metric in task.metrics(y, preds):
        expected = [metric.score(y, preds, w) for w in weights]
        np.testing.assert_allclose(
            metric.replicate(y, preds, weights), expected, rtol=1e-9, err_msg=metric.name
        )


def test_the_same_seed_gives_the_same_metrics_and_intervals(built: Built) -> None:
    again = built.compare("again.db")  # a fresh store: everything computed anew
    assert repr(again.statistics) == repr(built.first.statistics)
    # Another seed (predictions from the first store) draws other resamples: the intervals
    # move, the values do not, so the comparison above could have failed.
    other = built.compare("first.db", seed=1)
    assert _values(other) == _values(built.first)
    bounds = [(m.ci_low, m.ci_high) for m in built.first.statistics.metrics]
    assert [(m.ci_low, m.ci_high) for m in other.statistics.metrics] != bounds


def test_the_order_of_the_rows_changes_no_metric(built: Built) -> None:
    _, dataset, _ = built.read()
    order = np.random.default_rng(7).permutation(len(dataset))
    copy = shuffled_copy(built.recipe.data, order)
    shuffled = built.compare("shuffled.db", data=copy)
    first = _values(built.first)
    assert _values(shuffled).keys() == first.keys()
    for key, value in _values(shuffled).items():
        rtol = built.case.order_rtol
        np.testing.assert_allclose(value, first[key], rtol=rtol, atol=1e-12, err_msg=str(key))
    units = dataset.units
    if units is not None:  # resampling units (queries, series): the same groups of rows
        moved = built.read(copy)[1].units
        assert moved is not None
        pairs = np.unique(np.column_stack([units[order], moved]), axis=0)
        assert len(pairs) == len(np.unique(units)) == len(np.unique(moved))


def test_the_batch_size_changes_no_metric(built: Built) -> None:
    small = built.compare("small-batches.db", batch_size=3)
    first = _values(built.first)
    assert _values(small).keys() == first.keys()
    for key, value in _values(small).items():
        assert value == pytest.approx(first[key], rel=1e-6), key


def test_a_bad_column_is_one_line(built: Built) -> None:
    with pytest.raises(WhichModelError) as refused:
        built.compare("bad.db", **dict(built.case.bad_data))
    _assert_one_line(refused.value)
    assert "no_such_column" in str(refused.value)


def test_a_bad_option_is_one_line(built: Built) -> None:
    task = str(built.recipe.options.get("task", "classification"))
    task += ("&" if "?" in task else "?") + "no_such_option=1"
    with pytest.raises(WhichModelError) as refused:
        built.compare("bad.db", task=task)
    _assert_one_line(refused.value)
    assert "no_such_option" in str(refused.value)


def test_a_failing_example_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    from helpers.tiny_lm import build, sentences

    lm = build(tmp_path / "lm", seed=4)
    texts = sentences(6, seed=30)
    texts[2] = ""
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps({"text": t}) for t in texts), encoding="utf-8")
    result = whichmodel.compare(
        [lm.ref], path, task="language-modeling", batch_size=4, store=str(tmp_path / "s.db"),
        **COMPARE,
    )  # fmt: skip
    preds = result.models[0].predictions
    assert preds.failed_rows == (
        (2, "ValueError: the text is empty, so it has no tokens to score"),
    )
    assert preds.rows.tolist() == [0, 1, 3, 4, 5]
    assert result.statistics.n_examples == 5
