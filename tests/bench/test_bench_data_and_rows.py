"""Reading --data for bench (timed examples + quality data), and the rows every rendering shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from whichmodel.bench.base import CostProfile, QualityDelta
from whichmodel.bench.run import BenchConfig, _read_data
from whichmodel.bench.timing import Latency
from whichmodel.errors import DataError
from whichmodel.report.bench import cost_to_dict, latency_rows, memory_rows, notes


def test_classification_data_gives_examples_labels_and_the_task(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.5], "y": ["x", "z", "x"]}).to_csv(
        path, index=False
    )
    config = BenchConfig(refs=("m",), data=str(path), label_col="y", quality_examples=2)
    sample, quality, key = _read_data(config)
    assert sample is not None and sample.kind == "tabular" and len(sample) == 3
    assert quality is not None and len(quality.inputs) == 2
    assert quality.task.name == "classification"
    assert list(quality.y_true) == ["x", "z"]
    assert isinstance(key, str) and len(key) == 64  # the file's SHA-256: part of the cache key


def test_lm_data_is_the_text_column_without_labels(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    pd.DataFrame({"id": [1, 2], "text": ["a cat", "a dog"]}).to_csv(path, index=False)
    sample, quality, _ = _read_data(BenchConfig(refs=("m",), data=str(path), task="lm"))
    assert sample is not None and sample.kind == "text" and list(sample.data) == ["a cat", "a dog"]
    assert quality is not None and quality.y_true is None and quality.task is None
    numbers = tmp_path / "n.csv"
    pd.DataFrame({"x": [1, 2]}).to_csv(numbers, index=False)
    with pytest.raises(DataError, match="no text column"):
        _read_data(BenchConfig(refs=("m",), data=str(numbers), task="lm"))


def test_rows_show_every_variant_and_the_quality_change() -> None:
    lat = Latency.from_samples([0.002, 0.0021, 0.0019, 0.002, 0.0022, 0.002, 0.0018])
    base = {
        "framework": "torch", "architecture": "CNN", "parameters": 10, "size_on_disk_bytes": 40,
        "load_time_s": 0.1, "first_call_s": 0.01, "latency": {1: lat, 8: lat},
        "peak_rss_bytes": 2**20, "model_memory_bytes": 2**19, "threads": 1,
    }
    q = QualityDelta("fp32", 100, 0.98, {"accuracy": 0.9}, {"accuracy": -0.01})
    int8 = CostProfile(**base, variant="int8", weight_bytes=10, quality=q, notes=("int8: x",))
    profile = CostProfile(**base, variant="fp32", weight_bytes=40, variants=(int8,),
                          skipped_variants={"fp16": "no kernel"}, timer_overhead_s=1e-7)
    data = cost_to_dict(profile, name="cnn")
    assert "samples_s" not in data["variants"][0]["latency"]["8"]
    rows = latency_rows(profile)
    assert [(r["variant"], r["batch"]) for r in rows] == [
        ("fp32", "1"), ("fp32", "8"), ("int8", "1"), ("int8", "8")
    ]
    assert rows[1]["items/s"] == f"{8 / lat.p50_s:,.0f}"
    memory = memory_rows(profile)
    assert memory[1]["agreement"] == "0.9800" and memory[1]["metric deltas"] == "accuracy -0.0100"
    assert memory[0]["weights"] == "40 B"
    text = notes(profile)
    assert "int8: x" in text and "fp16: not measured (no kernel)" in text
    assert any("0.10 µs per sample" in line for line in text)
    assert np.isfinite(data["throughput"]["8"])


def test_bench_reads_data_as_compare_does_word_lists_included(tmp_path: Path) -> None:
    # A token-classification file: each row a list of words and a list of tags. The bench reads
    # it through the task, as compare does (it once read the lists as plain objects).
    import json

    from whichmodel.tasks import get_task

    rows = [{"tokens": ["Ada", "lives", "in", "Paris"], "tags": ["B-PER", "O", "O", "B-LOC"]},
            {"tokens": ["Bob", "works"], "tags": ["B-PER", "O"]}]
    path = tmp_path / "ner.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = BenchConfig(refs=("m",), data=str(path), task="token-classification",
                         input_cols=("tokens",), label_col="tags", quality_examples=5)
    sample, quality, _ = _read_data(config)
    dataset, y_true = get_task("token-classification").read(
        str(path), input_cols=("tokens",), label_col="tags"
    )
    assert sample is not None and quality is not None
    assert sample.kind == dataset.inputs.kind
    assert [list(x) for x in sample.data] == [list(x) for x in dataset.inputs.data]
    assert list(quality.y_true) == list(y_true) and len(y_true) == 2  # the task's label type
