"""results.json is read into typed values and written back unchanged: the only JSON edges of the
choose and report stages (:mod:`whichmodel.results`, :class:`whichmodel.comparison.Outcome`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from whichmodel.bench.base import CostProfile, GenerationCost, KVCacheGrowth, cost_to_dict
from whichmodel.bench.timing import Latency
from whichmodel.comparison import Outcome
from whichmodel.report.schema import results_error

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.json"))


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _golden(path: Path) -> dict[str, Any]:
    """A golden results.json with the keys the recorder drops put back, where they belong."""
    golden = json.loads(path.read_text(encoding="utf-8"))
    recorded = golden["results"]
    recorded["provenance"] = {"versions": golden["versions"], "hardware": {"cpus": 2},
                              "threads": 1, "command": "whichmodel compare"}  # fmt: skip
    schema, rest = recorded.pop("schema"), recorded
    models = [
        {k: v for k, v in m.items() if k != "ref"} | {"ref": m["ref"], "fingerprint": "f" * 16}
        for m in rest.pop("models")
    ]
    order = ("name", "ref", "fingerprint")
    models = [{k: m[k] for k in order} | {k: v for k, v in m.items() if k not in order}
              for m in models]  # fmt: skip
    head = {"schema": schema, "run_id": "0" * 32, "task": rest.pop("task"),
            "config": rest.pop("config"), "data": rest.pop("data"), "models": models}  # fmt: skip
    return head | rest


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_every_golden_results_file_reads_and_writes_back_unchanged(path: Path) -> None:
    results = _golden(path)
    assert results_error(results) is None
    outcome = Outcome.from_dict(results)
    assert outcome.decision is not None and outcome.results.models
    assert json.dumps(outcome.to_dict()) == json.dumps(results)  # key order included
    # The comparison's own summary and the one read back hold the same values.
    again = Outcome.from_dict(_as_json(outcome.to_dict()))
    assert again.results.statistics == outcome.results.statistics
    assert again.results.model_names == tuple(m["name"] for m in results["models"])


def _latency(start: float) -> Latency:
    return Latency.from_samples([start * (1 + i / 50) for i in range(12)])


def _profile(variant: str = "original", *, variants: tuple[CostProfile, ...] = ()) -> CostProfile:
    total = _latency(0.02)
    return CostProfile(
        framework="torch",
        architecture="GPT2LMHeadModel",
        parameters=123_456,
        size_on_disk_bytes=500_000,
        load_time_s=0.25,
        first_call_s=0.01,
        latency={1: _latency(0.001), 8: _latency(0.004)},
        peak_rss_bytes=300 * 2**20,
        model_memory_bytes=2**20,
        threads=1,
        variant=variant,
        activation_bytes={1: 1024, 8: 8192},
        tokens={1: 32, 8: 256},
        generation=(
            GenerationCost(32, 16, 1, True, _latency(0.003), _latency(0.001), total, 800.0),
        ),
        kv_cache=KVCacheGrowth(64, 1, 4096.0, 5000.0, 4),
        notes=("a note",),
        variants=variants,
        skipped_variants={"int8": "no quantized kernels here"},
        hardware={"cpu": "test", "cpus": 2},
    )


def test_a_cost_profile_in_results_json_reads_back_without_its_samples() -> None:
    profile = _profile(variants=(_profile("bf16"),))
    written = _as_json(cost_to_dict(profile))
    assert "samples_s" not in json.dumps(written)  # the samples stay in the store
    assert written["latency"]["1"]["n"] == 12 and written["generation"][0]["total"]["n"] == 12
    read = CostProfile.from_dict(written)
    assert read.latency[8].n == 12 and read.latency[8].samples_s == ()
    assert read.latency[8].p50_s == profile.latency[8].p50_s
    assert _as_json(cost_to_dict(read)) == written  # throughput and tokens/s come back equal
    assert read.variant_named("bf16").generation[0].tokens_per_s == 800.0


def test_a_latency_cached_before_its_count_was_kept_counts_its_samples() -> None:
    from whichmodel.bench.base import latency_from_dict

    stored = _as_json(cost_to_dict(_profile()))["latency"]["1"]
    del stored["n"]
    assert latency_from_dict({**stored, "samples_s": [0.1, 0.2, 0.3]}).n == 3
