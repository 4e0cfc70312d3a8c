"""Bad data, configs, model outputs, saved results and stores: one line, exit 2, never a hang.

Each case writes its files into the case's folder, runs the real command there with the default
store (``.whichmodel/``), and checks it with :func:`helpers.bad_input.refuse`.
"""

from __future__ import annotations

import copy
import json
import resource
import signal
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from helpers.bad_input import refuse

IRIS = "{iris}"  # replaced by the iris fixture's folder
BAD = "{bad}"  # replaced by the bad_models fixture's folder
LR, TREE, DATA = f"sklearn:{IRIS}/lr.skops", f"sklearn:{IRIS}/tree.skops", f"{IRIS}/iris.csv"
ON_IRIS = ("--label-col", "target", "--no-cost")
TEN = f"{BAD}/ten.csv"  # 40 rows, features a-d, labels 0-9


def torch_ref(factory: str, params: str = "") -> str:
    return f"torch:{BAD}/outputs.py:{factory}" + (f"?{params}" if params else "")


def on_ten(*refs: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    return ("compare", *refs, "--data", TEN, "--no-cost", *extra)


# Torch modules whose outputs do not fit the data: (n, C) scores of the wrong width, a 3-D
# output, more or fewer rows than examples, a width that changes with the batch, one number.
OUTPUTS_PY = '''
import torch
from torch import nn


class Shaped(nn.Module):
    """A linear score of each input row, broadcast to (rows, *shape)."""

    def __init__(self, shape, rows=None, width=None):
        super().__init__()
        torch.manual_seed(0)
        self.lin = nn.Linear(4, 1)
        self.shape, self.rows, self.width = tuple(shape), rows, width

    def forward(self, x):
        n = len(x) if self.rows is None else self.rows(len(x))
        x = x.repeat(2, 1)[:n]
        shape = self.shape if self.width is None else (self.width(len(x)),)
        score = self.lin(x).reshape(n, *[1] * len(shape))
        return score * torch.arange(1.0, 1.0 + torch.Size(shape).numel()).reshape(shape)


def seven():
    return Shaped((7,))


def ten():
    return Shaped((10,))


def cube():
    return Shaped((10, 3))


def short():
    return Shaped((10,), rows=lambda n: n - 1)


def long():
    return Shaped((10,), rows=lambda n: n + 1)


def ragged():
    return Shaped((10,), width=lambda n: 10 if n > 8 else 12)


class Broken(nn.Module):
    def forward(self, x):
        raise ValueError("bad input;\\n  see the log above")


def broken():
    return Broken()


class Total(nn.Module):
    def forward(self, x):
        return x.sum()


def total():
    return Total()
'''


def _bomb() -> str:
    """A YAML "billion laughs": nine levels of nine aliases, 9^9 strings once expanded."""
    levels = ['&a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"&{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "[" + ", ".join(levels) + "]"


BOMB = _bomb()
YAML_HEAD = f"models: [{LR}]\ndata: {DATA}\nlabel_col: target\nmeasure_cost: false\n"


@dataclass(frozen=True)
class FileCase:
    """A bad input made of files: they are written into the case's folder (``{iris}`` and
    ``{bad}`` in their text replaced), then ``args`` run there."""

    id: str
    files: dict[str, str | bytes | Callable[[Path], None]]
    args: tuple[str, ...]
    says: str
    exit_code: int = 2
    tags: tuple[str, ...] = field(default=())


def _parquet_with_duplicate_names(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [pa.array([1.0, 2.0, 3.0]), pa.array([4.0, 5.0, 6.0]), pa.array([0, 1, 0])]
    pq.write_table(pa.Table.from_arrays(columns, names=["x", "x", "label"]), path)


def _store_of_version(version: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, layout_of_the_future BLOB)")
            db.execute(f"PRAGMA user_version = {version}")
        db.close()

    return write


DEFAULT_STORE = ".whichmodel/store.db"
CSV_TWO_P = "p,p,label\n1,2,0\n3,4,1\n5,6,0\n"

CASES = [
    # whichmodel.yaml: alias bombs, values that hold themselves, sizes no config has.
    FileCase("yaml-bomb-task", {"w.yaml": YAML_HEAD + f"task: {BOMB}\n"}, ("compare", "w.yaml"),
             "YAML aliases"),
    FileCase("yaml-bomb-slice-by", {"w.yaml": YAML_HEAD + f"slice_by: {{x: {BOMB}}}\n"},
             ("compare", "w.yaml"), "YAML aliases"),
    FileCase("yaml-bomb-choose-min",
             {"w.yaml": YAML_HEAD + f"choose:\n  min: {{accuracy: {BOMB}}}\n"},
             ("compare", "w.yaml"), "YAML aliases"),
    FileCase("yaml-bomb-model-ref", {"w.yaml": f"models: [{{ref: {BOMB}}}]\ndata: {DATA}\n"},
             ("compare", "w.yaml"), "YAML aliases"),
    FileCase("yaml-recursive-alias", {"w.yaml": YAML_HEAD + "task: &t [*t]\n"},
             ("compare", "w.yaml"), "contains itself"),
    FileCase("yaml-nested-too-deep", {"w.yaml": YAML_HEAD + "task: " + "[" * 20000 + "]" * 20000},
             ("compare", "w.yaml"), "nested too deeply"),
    FileCase("yaml-over-a-mebibyte", {"w.yaml": YAML_HEAD + "# " + "x" * 2**20 + "\n"},
             ("compare", "w.yaml"), "at most 1 MiB"),
    FileCase("yaml-task-a-list", {"w.yaml": YAML_HEAD + "task: [classification]\n"},
             ("compare", "w.yaml"), "The 'task' option must be str"),
    FileCase("yaml-prefer-a-list", {"w.yaml": YAML_HEAD + "choose: {prefer: [latency]}\n"},
             ("compare", "w.yaml"), "'choose.prefer'"),
    FileCase("yaml-model-ref-a-number", {"w.yaml": f"models: [{{ref: 5}}]\ndata: {DATA}\n"},
             ("compare", "w.yaml"), "'ref' and 'name'"),
    # Data whose columns cannot be told apart, or options that read it wrong.
    FileCase("csv-duplicate-header", {"d.csv": CSV_TWO_P},
             ("compare", LR, "--data", "d.csv", "--no-cost"), "two columns named 'p'"),
    FileCase("csv-duplicate-label-header", {"d.csv": "x,label,label\n1,0,1\n2,1,0\n"},
             ("compare", LR, "--data", "d.csv", "--no-cost"), "two columns named 'label'"),
    FileCase("csv-duplicate-column-not-read", {"d.csv": "p,q,p,label\n1,2,3,0\n4,5,6,1\n"},
             ("compare", LR, "--data", "d.csv", "--input-cols", "q", "--no-cost"),
             "two columns named 'p'"),
    FileCase("jsonl-duplicate-key", {"d.jsonl": '{"a": 1, "a": 2, "label": 0}\n' * 3},
             ("compare", LR, "--data", "d.jsonl", "--no-cost"), "the key 'a' twice"),
    FileCase("parquet-duplicate-columns", {"d.parquet": _parquet_with_duplicate_names},
             ("compare", LR, "--data", "d.parquet", "--no-cost"), "two columns named 'x'"),
    FileCase("input-cols-twice", {}, ("compare", LR, "--data", DATA, "--input-cols",
             "petal length (cm),petal length (cm)", *ON_IRIS), "name 'petal length (cm)' twice"),
    FileCase("label-among-inputs", {}, ("compare", LR, "--data", DATA, "--input-cols",
             "petal length (cm),target", *ON_IRIS), "is also an input column"),
    FileCase("model-error-over-several-lines", {}, on_ten(torch_ref("broken")),
             "broken failed on each of its first 40 examples: ValueError: bad input; see the "
             "log above"),
    FileCase("data-path-too-long", {}, ("compare", LR, "--data", "d" * 5000 + ".csv", *ON_IRIS),
             "File name too long"),
    # Model outputs that do not fit the data: one line naming the model and the shapes.
    FileCase("seven-scores-for-ten-classes", {}, on_ten(torch_ref("seven")),
             "seven returns 7 class scores (classes 0 to 6), but the data has labels up to 9"),
    FileCase("scores-of-shape-n-10-3", {}, on_ten(torch_ref("cube")),
             "cube: The model returned logits of shape (40, 10, 3)"),
    FileCase("probabilities-of-shape-n-10-3", {}, on_ten(torch_ref("cube", "output=proba")),
             "cube: The model returned proba of shape (40, 10, 3)"),
    FileCase("regression-on-shape-n-10-3", {}, on_ten(torch_ref("cube"), extra=("--task",
             "regression")), "cube: The model returned logits of shape (40, 10, 3)"),
    FileCase("one-row-short", {}, on_ten(torch_ref("short")),
             "short: For a batch of 40 examples the model returned output of shape (39, 10)"),
    FileCase("one-row-too-many", {}, on_ten(torch_ref("long")),
             "long: For a batch of 40 examples the model returned output of shape (41, 10)"),
    FileCase("rows-short-next-to-a-good-model", {}, on_ten(torch_ref("ten"), torch_ref("short")),
             "short: For a batch of 40"),
    FileCase("width-changes-between-batches", {},
             on_ten(torch_ref("ragged"), extra=("--batch-size", "16")),
             "ragged returned 12 class scores for batch 3 and 10 for an earlier one"),
    FileCase("one-number-for-the-batch", {}, on_ten(torch_ref("total")),
             "total: For a batch of 40 examples the model returned output a single value"),
    # Stores that cannot be used: named with the version, or what is in the way.
    FileCase("store-from-the-future", {DEFAULT_STORE: _store_of_version(7)},
             ("compare", LR, "--data", DATA, *ON_IRIS),
             "made by a newer whichmodel (store version 7; this one reads version 1): upgrade"),
    FileCase("choose-on-a-store-from-the-future", {DEFAULT_STORE: _store_of_version(2)},
             ("choose",), "made by a newer whichmodel (store version 2"),
    FileCase("store-is-not-sqlite", {DEFAULT_STORE: "these are my notes\n" * 100},
             ("compare", LR, "--data", DATA, *ON_IRIS), "Is it a whichmodel store?"),
    FileCase("store-path-is-a-folder", {"box/keep.txt": "x"},
             ("compare", LR, "--data", DATA, *ON_IRIS, "--store", "box"), "is a folder"),
    FileCase("store-under-a-file", {"taken.txt": "x"},
             ("compare", LR, "--data", DATA, *ON_IRIS, "--store", "taken.txt/store.db"),
             "taken.txt is a file, not a folder"),
    FileCase("store-where-nothing-can-be-made", {},
             ("compare", LR, "--data", DATA, *ON_IRIS, "--store", "/proc/whichmodel/store.db"),
             "Cannot open the store at /proc/whichmodel/store.db"),
]  # fmt: skip


def _write(folder: Path, files: dict[str, Any], replace: dict[str, str]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            for key, value in replace.items():
                content = content.replace(key, value)
            path.write_text(content)


@pytest.fixture(scope="session")
def bad_models(tmp_path_factory) -> Path:
    """outputs.py (the torch factories above) and ten.csv: 40 rows, features a-d, labels 0-9."""
    import numpy as np
    import pandas as pd

    folder = tmp_path_factory.mktemp("bad_models")
    (folder / "outputs.py").write_text(OUTPUTS_PY)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 4)), columns=list("abcd"))
    frame["label"] = np.arange(40) % 10
    frame.to_csv(folder / "ten.csv", index=False)
    return folder


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line(case: FileCase, iris, bad_models, tmp_path) -> None:
    replace = {IRIS: str(iris), BAD: str(bad_models)}
    _write(tmp_path, case.files, replace)
    args = list(case.args)
    for key, value in replace.items():
        args = [a.replace(key, value) for a in args]
    proc = refuse(tmp_path, *args, says=case.says, exit_code=case.exit_code,
                  watch=(iris, bad_models))  # fmt: skip
    assert len(proc.stderr) < 1000, "the line prints a value it should have cut short"


# -- results.json that choose cannot use ------------------------------------------------------


@pytest.fixture(scope="session")
def results(iris, tmp_path_factory) -> dict[str, Any]:
    """A real results.json of lr and tree on iris, as a dictionary."""
    import whichmodel

    store = tmp_path_factory.mktemp("results") / "store.db"
    comparison = whichmodel.compare(
        [f"sklearn:{iris}/lr.skops", f"sklearn:{iris}/tree.skops"],
        iris / "iris.csv",
        label_col="target",
        measure_cost=False,
        store=str(store),
    )
    return comparison.results().to_dict()


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(results: dict[str, Any]) -> None:
        target = results
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


RESULTS_CASES = [
    ("metric-value-is-text", _set(("metrics", 0, "value"), "0.97"),
     "results.metrics[0].value must be a number; got '0.97'"),
    ("models-not-a-list", _set(("models",), {"lr": {}}), "results.models must be a list"),
    ("model-without-name", _set(("models", 0, "name"), KeyError),
     "results.models[0] has no 'name'"),
    ("metric-without-direction", _set(("metrics", 1, "higher_is_better"), KeyError),
     "results.metrics[1] has no 'higher_is_better'"),
    ("metric-is-a-number", _set(("metrics", 0), 0.97), "results.metrics[0] must be an object"),
    ("p-value-above-one", _set(("tests", 0, "p_value"), 1.5),
     "results.tests[0].p_value must be <= 1; got 1.5"),
    ("cost-is-text", _set(("models", 0, "cost"), "fast"), "results.models[0].cost"),
    ("no-data-section", _set(("data",), KeyError), "results has no 'data'"),
    ("calibration-ece-is-text", _set(("calibration", 0, "ece"), "low"),
     "results.calibration[0].ece must be a number"),
    ("disagreements-not-a-list", _set(("disagreements",), "many"),
     "results.disagreements must be a list"),
    ("findings-section-missing", _set(("slices",), KeyError),
     "results has some findings sections but no 'slices'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "says"), [c[1:] for c in RESULTS_CASES], ids=[c[0] for c in RESULTS_CASES]
)
def test_choose_on_broken_results_is_one_line(edit, says, results, tmp_path) -> None:
    broken = copy.deepcopy(results)
    edit(broken)
    (tmp_path / "results.json").write_text(json.dumps(broken))
    says = f"is not a valid whichmodel results.json: {says}"
    refuse(tmp_path, "choose", "results.json", says=says)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("this is not json", "results.json is not JSON"),
        ("[1, 2, 3]", "is not a whichmodel results.json"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"schema": 1, "models": [], "metrics": []}', "results has no 'run_id'"),
    ],
    ids=["not-json", "a-json-array", "nested-too-deep", "almost-empty"],
)
def test_choose_on_what_is_not_results_is_one_line(text: str, says: str, tmp_path) -> None:
    (tmp_path / "results.json").write_text(text)
    refuse(tmp_path, "choose", "results.json", says=says)


# -- a full disk while the store is written ----------------------------------------------------


def _file_size_limit(limit: int) -> Callable[[], None]:
    """A child process in which writing past ``limit`` bytes of any file fails (EFBIG), as on a
    full disk: SIGXFSZ, which would kill it instead, is ignored."""

    def limit_writes() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_writes


@pytest.mark.parametrize("limit", [20_000, 90_000], ids=["creating-it", "writing-results"])
def test_a_full_disk_is_one_line_and_leaves_the_store_readable(limit, iris, tmp_path) -> None:
    args = ("compare", f"sklearn:{iris}/lr.skops", f"sklearn:{iris}/tree.skops", "--data",
            f"{iris}/iris.csv", "--label-col", "target", "--no-cost")  # fmt: skip
    refuse(tmp_path, *args, says="store", preexec_fn=_file_size_limit(limit), watch=(iris,))
    store = tmp_path / DEFAULT_STORE
    assert not [p for p in store.parent.rglob("*.tmp")], "a half-written file was left behind"
    with sqlite3.connect(store) as db:  # what the failed transaction wrote was rolled back
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert "runs" not in tables or db.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)
    db.close()
    from conftest import run_cli

    again = run_cli(*args, "--json", cwd=tmp_path)  # with room to write, the same store works
    assert again.returncode == 0, again.stderr
    assert [m["name"] for m in json.loads(again.stdout)["models"]] == ["lr", "tree"]
