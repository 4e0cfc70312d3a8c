"""The conformance cases of the tasks: for every task the registry names (and the hidden
``fake``), the golden recipe of its models and data (``tests/golden/cases.py``), and its oracle:
the predictions a perfect model would make and a corrupted copy of them, which every metric must
rank the right way round.

:data:`CASES` maps a task name to its case; ``test_tasks.py`` fails for a registered task without
one.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from golden.cases import RECIPES, Recipe
from whichmodel.tasks import Predictions, Task

# (task as compare read it, labels y (N,), a model's predictions of every row) ->
# (perfect predictions, corrupted predictions)
Oracle = Callable[[Task, np.ndarray, Predictions], tuple[Predictions, Predictions]]


@dataclass(frozen=True)
class TaskCase:
    """A task's recipe and oracle.

    Args:
        task: the task the recipe runs under when not its own (a variant of a kind, such as
            ``regression-huber`` on the regression recipe).
        options: task options added to the recipe's (``forecasting``: its series column, so
            that the bootstrap draws whole series).
        bad_data: compare options naming a column the data lacks.
        ties: metrics the corrupted copy may tie with the perfect predictions (with why).
        order_rtol: how far a metric may move when the rows come in another order: a float32
            model that scores rows batched with other rows rounds differently (~1e-8).
    """

    recipe: Callable[[Path], Recipe]
    oracle: Oracle
    task: str = ""
    options: str = ""
    bad_data: tuple[tuple[str, object], ...] = (("label_col", "no_such_column"),)
    ties: tuple[str, ...] = ()
    order_rtol: float = 1e-12

    def build(self, root: Path) -> Recipe:
        built = self.recipe(root)
        task = self.task or str(built.options.get("task", "classification"))
        if self.options:
            task += ("&" if "?" in task else "?") + self.options
        return replace(built, options={**built.options, "task": task})


def _roll(values: np.ndarray) -> np.ndarray:
    """Every example gets the next one's answer (examples differ, so most answers are wrong)."""
    return np.roll(values, 1, axis=0)


def _labels_as_predictions(task: Task, y: np.ndarray, p: Predictions) -> tuple[Predictions, ...]:
    """Generation, speech to text, token classification, fake: predict the label itself."""
    corrupt = _roll(y)
    if task.name == "token-classification":  # the same words, every tag "O": no entity found
        corrupt = np.array([" ".join("O" for _ in t.split()) for t in y], dtype=y.dtype)
    return replace(p, pred=y.copy()), replace(p, pred=corrupt)


def _indicator(y: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """(n, C) bool: which of ``classes`` each label is (multilabel: which it holds, ``a|b``)."""
    return np.array([np.isin(np.asarray(classes), str(v).split("|")) for v in y], dtype=bool)


def _classification(task: Task, y: np.ndarray, p: Predictions) -> tuple[Predictions, ...]:
    """The label with probability 0.9, the rest spread evenly (a finite log loss)."""
    assert p.classes is not None
    spread = 0.1 / (len(p.classes) - 1)
    return tuple(
        replace(p, pred=labels.copy(), proba=np.where(_indicator(labels, p.classes), 0.9, spread))
        for labels in (y, _roll(y))
    )


def _multilabel(task: Task, y: np.ndarray, p: Predictions) -> tuple[Predictions, ...]:
    """Each label the example holds with probability 0.95, each other 0.05."""
    assert p.classes is not None
    proba = np.where(_indicator(y, p.classes), 0.95, 0.05)
    return replace(p, pred=y.copy(), proba=proba), replace(p, pred=_roll(y), proba=_roll(proba))


def _regression(task: Task, y: np.ndarray, p: Predictions) -> tuple[Predictions, ...]:
    return replace(p, pred=y.astype(np.float64)), replace(p, pred=_roll(y).astype(np.float64))


def _with_scores(p: Predictions, scores: np.ndarray, pred_column: int = 0) -> Predictions:
    return replace(p, pred=scores[:, pred_column].copy(), scores=scores)


def _language_modeling(task: Task, y: np.ndarray, p: Predictions) -> tuple[Predictions, ...]:
    """Perfect: every token certain (NLL 0); corrupted: twice the model's NLL."""
    assert p.scores is not None
    perfect, worse = p.scores.copy(), p.scores.copy()
    perfect[:, 0], worse[:, 0] = 0.0, 2 * p.score("nll_sum")
    return (
        replace(p, pred=perfect[:, 0] / perfect[:, 1], scores=perfect),
        replace(p, pred=worse[:, 0] / worse[:, 1], scores=worse),
    )


def _multiple_choice(task: Task, y: np.ndarray, p: Predictions) -> tuple[Predictions, ...]:
    """Columns (choice, choice_norm, choice_bytes, n_choices): the right choice, or the next."""
    assert p.scores is not None
    n_choices = p.score("n_choices")
    out = []
    for chosen in (y.astype(np.float64), (y + 1) % n_choices):
        scores = np.column_stack([chosen, chosen, chosen, n_choices])
        out.append(replace(p, pred=chosen.astype(np.int64).astype(str), scores=scores))
    return tuple(out)


def _retrieval(task: Task, y: np.ndarray, p: Predictions) -> tuple[Predictions, ...]:
    """Columns doc_0..doc_K-1 (corpus indices, best first), then sim_0..sim_K-1: the relevant
    documents first, in the label's order, then the rest of the corpus."""
    ids = list(task.corpus()[0])  # type: ignore[attr-defined]
    k = len([n for n in p.score_names or () if n.startswith("doc_")])
    rows = []
    for label in y:
        relevant = [ids.index(d) for d in str(label).split("|")]
        ranked = relevant + [i for i in range(len(ids)) if i not in relevant]
        rows.append(np.concatenate([ranked[:k], np.linspace(1.0, 0.0, k)]))
    perfect = np.asarray(rows, dtype=np.float64)  # (n, 2K)
    return _with_scores(p, perfect), _with_scores(p, _roll(perfect))


def _detection(task: Task, y: np.ndarray, p: Predictions) -> tuple[Predictions, ...]:
    """One row per image: the count, then (x1, y1, x2, y2, score, class code) per detection,
    zero-padded: the true boxes, each with score 1."""
    from whichmodel.data.detection import Objects

    assert p.scores is not None
    classes = list(task.classes or ())  # type: ignore[attr-defined]
    perfect = np.zeros_like(p.scores)
    for i, text in enumerate(y):
        truth = Objects.from_json(str(text))
        codes = [classes.index(label) for label in truth.labels]
        block = np.column_stack([truth.boxes, np.ones(len(codes)), codes])  # (m, 6)
        perfect[i, 0] = len(codes)
        perfect[i, 1 : 1 + block.size] = block.ravel()
    return _with_scores(p, perfect), _with_scores(p, _roll(perfect))


def _forecasting(task: Task, y: np.ndarray, p: Predictions) -> tuple[Predictions, ...]:
    """Columns forecast_1..forecast_H, then the history's scale: the targets themselves."""
    assert p.scores is not None
    scale = p.scores[:, -1:]
    return tuple(_with_scores(p, np.hstack([f, scale])) for f in (y, _roll(y)))


def _ranking(task: Task, y: np.ndarray, p: Predictions) -> tuple[Predictions, ...]:
    """The relevance itself as the score; corrupted: the order reversed."""
    return replace(p, pred=y.astype(np.float64)), replace(p, pred=-y.astype(np.float64))


def fake_recipe(root: Path) -> Recipe:
    """The fake task on two fake classifiers, 40 rows of 3 numbers and 3 labels."""
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["x1", "x2", "x3"])
    frame["label"] = rng.integers(0, 3, len(frame))
    frame.to_csv(root / "fake.csv", index=False)
    refs = [f"fake:classifier?classes=3&seed={s}&name=fake-{s}" for s in (0, 1)]
    return Recipe.of(refs, root / "fake.csv", task="fake")


#: task name -> its case: every task of ``whichmodel.tasks.TASKS`` (listed or hidden).
CASES: dict[str, TaskCase] = {
    "classification": TaskCase(RECIPES["classification"], _classification),
    "regression": TaskCase(RECIPES["regression"], _regression),
    "regression-huber": TaskCase(RECIPES["regression"], _regression, task="regression-huber"),
    "language-modeling": TaskCase(
        RECIPES["language-modeling"], _language_modeling,
        bad_data=(("input_cols", ["no_such_column"]),),  # it reads no label column
        order_rtol=1e-6,  # texts are scored in padded batches: which texts share one moves
    ),
    "multiple-choice": TaskCase(RECIPES["multiple-choice"], _multiple_choice),
    "multilabel": TaskCase(RECIPES["multilabel"], _multilabel),
    "retrieval": TaskCase(RECIPES["retrieval"], _retrieval),
    "generation": TaskCase(RECIPES["generation"], _labels_as_predictions),
    "token-classification": TaskCase(RECIPES["token-classification"], _labels_as_predictions),
    "detection": TaskCase(RECIPES["detection"], _detection),
    "speech-to-text": TaskCase(RECIPES["speech-to-text"], _labels_as_predictions),
    "forecasting": TaskCase(RECIPES["forecasting"], _forecasting, options="series=series"),
    "ranking": TaskCase(RECIPES["ranking"], _ranking),
    "fake": TaskCase(fake_recipe, _labels_as_predictions),
}


def shuffled_copy(data: Path, order: np.ndarray) -> Path:
    """A copy of the data with its rows in ``order`` (row i of the copy is row ``order[i]``),
    each row's text as it was: a CSV or JSONL file beside the original (relative paths in it
    still resolve), or an audio folder with its ``metadata.csv`` reordered."""
    if data.is_dir():
        copy = data.with_name(f"{data.name}-shuffled")
        shutil.copytree(data, copy)
        _shuffle_csv(copy / "metadata.csv", copy / "metadata.csv", order)
        return copy
    copy = data.with_name(f"shuffled-{data.name}")
    if data.suffix == ".csv":
        _shuffle_csv(data, copy, order)
    else:
        lines = data.read_text(encoding="utf-8").splitlines()
        assert all(json.loads(line) for line in lines)  # one JSON object per row
        copy.write_text("".join(lines[i] + "\n" for i in order), encoding="utf-8")
    return copy


def _shuffle_csv(source: Path, target: Path, order: np.ndarray) -> None:
    """The rows reordered as text: a float read and written again by pandas can come back a
    bit off (its default parser is not round-trip exact), which would change the data."""
    with source.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    with target.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *(rows[i] for i in order)])
