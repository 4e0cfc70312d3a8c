"""Where a setting comes from: a flag given, else whichmodel.yaml, else the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from whichmodel.cli.config import FileConfig, Overrides, read_file, resolve, resolve_choice
from whichmodel.cli.options import ChoiceFlags, LimitFlags
from whichmodel.comparison import CompareConfig
from whichmodel.errors import ConfigError

FILE = FileConfig(
    CompareConfig(refs=("sklearn:a.skops", "sklearn:b.skops"), data="d.csv", label_col="y",
                  seed=3, measure_cost=False, allow_pickle=True),
    out="file-out",
    choose={"max_latency_ms": 5, "min": {"accuracy": 0.9, "macro_f1": 0.8}, "prefer": "memory"},
    path="w.yaml",
)  # fmt: skip


def test_a_flag_given_beats_the_file_which_beats_the_default() -> None:
    resolved = resolve(FILE, Overrides(compare={"seed": 7}, out="flag-out"))
    assert resolved.compare.seed == 7  # flag over file
    assert resolved.compare.label_col == "y"  # file over default
    assert resolved.compare.batch_size == 64  # default
    assert resolved.out == "flag-out"
    assert resolve(FILE, Overrides()).out == "file-out"
    assert resolve(FILE, Overrides(refs=("sklearn:c.skops",))).compare.refs == FILE.compare.refs


def test_flags_not_given_never_undo_the_file() -> None:
    resolved = resolve(FILE, Overrides())
    assert resolved.compare == FILE.compare
    assert resolved.constraints.max_latency_ms == 5
    assert resolved.constraints.min_metrics == (("accuracy", 0.9), ("macro_f1", 0.8))
    assert resolved.objective.prefer == "memory"


def test_the_choose_flags_beat_the_files_choose_block() -> None:
    flags = ChoiceFlags(max_latency_ms=2.5, min_metric=["accuracy=0.95"], prefer="speed",
                        weights="accuracy=2,latency=1", latency_batch=8)  # fmt: skip
    resolved = resolve(FILE, Overrides(choice=flags, metric="macro_f1"))
    assert resolved.constraints.max_latency_ms == 2.5
    # --min replaces the file's whole min mapping: macro_f1's floor is gone too
    assert resolved.constraints.min_metrics == (("accuracy", 0.95),)
    assert resolved.constraints.latency_batch_size == 8
    assert resolved.objective.prefer == "latency"
    assert resolved.objective.weights == (("quality", 2.0), ("latency", 1.0))
    assert resolved.objective.metric == "macro_f1"


def test_without_a_file_the_flags_make_the_comparison() -> None:
    resolved = resolve(None, Overrides(refs=("sklearn:a.skops",), compare={"data": "d.csv"}))
    assert resolved.compare == CompareConfig(refs=("sklearn:a.skops",), data="d.csv")
    assert resolved.out is None
    assert resolved.constraints == resolve_choice()[0]
    with pytest.raises(ConfigError, match=r"Missing --data: the file to evaluate the models on\."):
        resolve(None, Overrides(refs=("sklearn:a.skops",), compare={"seed": 1}))


def test_bad_flags_and_blocks_raise_before_any_work() -> None:
    with pytest.raises(ConfigError, match="--max takes NAME=NUMBER"):
        resolve_choice(ChoiceFlags(max_metric=["rmse"]))
    with pytest.raises(ConfigError, match="'max_memory_mb' limit must be a positive number"):
        resolve_choice(ChoiceFlags(max_memory_mb=-1.0))
    with pytest.raises(ConfigError, match=r"Unknown key under 'choose' in w\.yaml"):
        resolve(FileConfig(FILE.compare, choose={"prefr": "memory"}, path="w.yaml"), Overrides())


def test_limit_flags_have_no_objective() -> None:
    constraints, objective = resolve_choice(LimitFlags(max_memory_mb=100.0))
    assert constraints.max_memory_mb == 100.0 and objective.prefer == "quality"


def test_read_file_only_reads_one_yaml(tmp_path: Path) -> None:
    assert read_file(["sklearn:a.skops"]) is None
    assert read_file(["a.yaml", "b.yaml"]) is None
    path = tmp_path / "w.yml"
    path.write_text("models: [sklearn:a.skops]\ndata: d.csv\nout: r\nchoose: {prefer: memory}\n")
    file = read_file([str(path)])
    assert file == FileConfig(CompareConfig(refs=("sklearn:a.skops",), data="d.csv"), out="r",
                              choose={"prefer": "memory"}, path=str(path))  # fmt: skip
