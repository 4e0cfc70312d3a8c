"""Interleaved latency rounds (bench/paired.py): the paired ratio against SciPy, the round trip
through results.json, real probe processes taking turns, and what the decision says from them.
Nothing here passes or fails on how fast a machine is: the timed models sleep, and only the
direction of a 5× difference is asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from helpers.results import cost, results
from whichmodel.bench.base import ProbeRequest
from whichmodel.bench.inputs import write_inputs
from whichmodel.bench.paired import MAX_CALL_S, ROUNDS, PairedLatency, interleave, why_not
from whichmodel.choose.decide import decide
from whichmodel.report.rounds import rounds_lines
from whichmodel.report.schema import results_error
from whichmodel.results import Results
from whichmodel.sources.base import Inputs

HELPERS = Path(__file__).resolve().parents[1] / "helpers"

A = (1.0e-3, 1.1e-3, 0.9e-3, 1.3e-3, 1.0e-3, 1.2e-3)
B = (2.1e-3, 2.0e-3, 1.9e-3, 2.9e-3, 2.2e-3, 2.5e-3)


def test_ratio_is_the_geometric_mean_with_a_t_interval_on_log_ratios() -> None:
    paired = PairedLatency(1, {"a": A, "b": B}, {"a": 5, "b": 3})
    r = paired.ratio("a", "b")
    logs = np.log(np.array(B) / np.array(A))
    half = stats.t.ppf(0.975, len(logs) - 1) * logs.std(ddof=1) / np.sqrt(len(logs))
    assert r.speedup == pytest.approx(np.exp(logs.mean()), rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx(
        (np.exp(logs.mean() - half), np.exp(logs.mean() + half)), rel=1e-12
    )
    assert r.rounds == 6 and r.decided
    back = paired.ratio("b", "a")  # the other way round: the reciprocal, interval flipped
    assert back.speedup == pytest.approx(1 / r.speedup, rel=1e-12)
    assert back.ci_low == pytest.approx(1 / r.ci_high, rel=1e-12)
    assert back.factor() == pytest.approx((r.speedup, r.ci_low, r.ci_high), rel=1e-12)


def test_identical_rounds_give_a_point_interval_without_warnings() -> None:
    r = PairedLatency(1, {"a": (1e-3,) * 4, "b": (2e-3,) * 4}).ratio("a", "b")
    assert r.speedup == pytest.approx(2.0) and r.ci_low == pytest.approx(2.0)


def _results_with(paired: PairedLatency | None, **costs: float) -> Results:
    data = results([(n, {"accuracy": 0.9}, cost(ms, 10.0)) for n, ms in costs.items()])
    if paired is not None:
        data["paired_latency"] = paired.to_dict()
    assert results_error(json.loads(json.dumps(data))) is None
    return Results.from_dict(json.loads(json.dumps(data)))


def test_results_json_round_trip_keeps_the_rounds() -> None:
    paired = PairedLatency(1, {"a": A, "b": B}, {"a": 5, "b": 3}, unreliable=("why",))
    typed = _results_with(paired, a=1.0, b=2.0)
    assert typed.paired_latency == paired
    text = json.dumps(typed.to_dict())
    assert json.dumps(Results.from_dict(json.loads(text)).to_dict()) == text
    written = typed.to_dict()["paired_latency"]["ratios"][0]
    assert written["speedup"] == pytest.approx(paired.ratio("a", "b").speedup)
    skipped = _results_with(PairedLatency(1, skipped="too slow"), a=1.0, b=2.0)
    assert rounds_lines(skipped) == [
        "Latency was not measured in interleaved rounds: too slow."
    ]


def _speed_sentence(typed: Results) -> str:
    (sentence,) = [s for s in decide(typed).sentences if s.startswith(("a vs b", "b vs a"))]
    return sentence


def test_the_decision_quotes_reliable_rounds_and_ignores_unreliable_ones() -> None:
    # The per-model medians say 1 vs 2 ms; the rounds say b is about 2.0x slower than a.
    paired = PairedLatency(1, {"a": A, "b": B}, {"a": 5, "b": 3})
    r = paired.ratio("a", "b")
    said = _speed_sentence(_results_with(paired, a=1.0, b=2.0))
    assert f"{r.speedup:.1f}× faster at batch 1 [{r.ci_low:.2f}, {r.ci_high:.2f}]" in said
    assert f"over {len(A)} interleaved rounds (1.00 vs 2.00 ms, p50)" in said
    shaky = PairedLatency(1, {"a": A, "b": B}, {"a": 5, "b": 3}, unreliable=("busy",))
    said = _speed_sentence(_results_with(shaky, a=1.0, b=2.0))
    assert "interleaved" not in said and "2.0× faster at batch 1 (1.00 vs 2.00 ms" in said
    lines = rounds_lines(_results_with(shaky, a=1.0, b=2.0))
    assert lines[-1].startswith("The rounds are unreliable (busy)")


def test_rounds_that_cannot_tell_the_models_apart_say_about_as_fast() -> None:
    noisy = (1.0e-3, 2.0e-3, 1.0e-3, 2.0e-3)
    paired = PairedLatency(1, {"a": (1.5e-3,) * 4, "b": noisy}, {"a": 1, "b": 1})
    r = paired.ratio("a", "b")
    assert not r.decided
    said = _speed_sentence(_results_with(paired, a=1.0, b=2.0))
    assert "is about as fast at batch 1 (1.00 vs 2.00 ms, p50): over 4 interleaved rounds" in said
    assert f"[{1 / r.ci_high:.2f}, {1 / r.ci_low:.2f}]" in said
    line = rounds_lines(_results_with(paired, a=1.0, b=2.0))[1]
    assert f"about as fast as b (latency ratio {1 / r.speedup:.2f} [{1 / r.ci_high:.2f}," in line


def test_why_not_names_the_slow_model_and_the_memory() -> None:
    assert why_not({"a": 0.001, "b": MAX_CALL_S * 3}, {}) == (
        f"b takes {MAX_CALL_S * 3:.1f} s per call; {ROUNDS} rounds would take too long"
    )
    assert "GiB together" in (why_not({"a": 0.001}, {"a": 2**60}) or "")
    assert why_not({"a": 0.001, "b": 0.002}, {"a": 2**20, "b": 2**20}) is None


def _requests(folder: Path, delays: dict[str, float], ref: str | None = None) -> dict[str, Any]:
    x = Inputs("array", np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32))
    inputs = str(write_inputs(folder, x, 1))
    return {
        name: ProbeRequest(
            ref=ref or f"torch:{HELPERS / 'slow_torch.py'}:slow?delay_s={d}&classes=x,y,z",
            variant="original", inputs=inputs, kind="array", columns=(), batch_sizes=(1,),
            threads=1, activations=False, workdir=str(folder),
        )
        for name, d in delays.items()
    }


def _no_probe_left() -> bool:
    """No child process of this one is still a :mod:`whichmodel.bench.serve` probe."""
    children = [
        pid for task in Path("/proc/self/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]  # fmt: skip
    cmdlines = []
    for pid in children:
        try:
            cmdlines.append(Path(f"/proc/{pid}/cmdline").read_bytes())
        except FileNotFoundError:  # exited meanwhile
            continue
    return not any(b"whichmodel.bench.serve" in c for c in cmdlines)


def test_real_probes_take_turns_and_are_all_stopped(tmp_path: Path) -> None:
    delays = {"fast": 0.001, "slow": 0.005}
    paired = interleave(_requests(tmp_path, delays), delays, folder=tmp_path)
    assert paired.skipped is None
    assert {k: len(v) for k, v in paired.medians_s.items()} == {"fast": ROUNDS, "slow": ROUNDS}
    assert paired.calls == {"fast": 50, "slow": 10}  # about SLICE_S of calls per turn
    assert all(m >= d for k, d in delays.items() for m in paired.medians_s[k])  # sleeps
    assert paired.ratio("fast", "slow").speedup > 2  # a 5x difference, with a wide margin
    assert paired.conditions is not None and paired.conditions.threads == 1
    assert _no_probe_left()


CHATTY = """
import torch
print("training epoch 1")  # a factory file that talks on stdout


class Chatty(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x):
        print("forward", tuple(x.shape))
        return self.linear(x)


def chatty():
    return Chatty()
"""


def test_a_model_that_prints_on_stdout_cannot_break_the_protocol(tmp_path: Path) -> None:
    (tmp_path / "chatty.py").write_text(CHATTY)
    requests = _requests(tmp_path, {"quiet": 0.0})
    requests |= _requests(tmp_path, {"chatty": 0.0}, ref=f"torch:{tmp_path / 'chatty.py'}:chatty")
    paired = interleave(requests, {"quiet": 1e-4, "chatty": 1e-4}, folder=tmp_path)
    assert paired.skipped is None, paired.skipped
    assert {k: len(v) for k, v in paired.medians_s.items()} == {"quiet": ROUNDS, "chatty": ROUNDS}
    assert _no_probe_left()


def test_a_probe_that_fails_skips_the_rounds_with_its_reason(tmp_path: Path) -> None:
    requests = _requests(tmp_path, {"ok": 0.001})
    requests |= _requests(tmp_path, {"broken": 0.001}, ref=f"torch:{HELPERS / 'nope.py'}:f")
    paired = interleave(requests, {"ok": 0.001, "broken": 0.001}, folder=tmp_path)
    assert paired.skipped is not None and paired.skipped.startswith("broken's probe failed: ")
    assert "nope.py" in paired.skipped and not paired.reliable
    assert _no_probe_left()


def test_rounds_that_order_a_pair_against_its_one_at_a_time_medians_decide_nothing() -> None:
    from whichmodel.choose.constraints import Constraints

    # One at a time a took 1 ms and b 2 ms; in the rounds a is the slower (B vs A).
    swapped = PairedLatency(1, {"a": B, "b": A}, {"a": 3, "b": 5})
    typed = _results_with(swapped, a=1.0, b=2.0)
    decision = decide(typed)
    assert "interleaved" not in _speed_sentence(typed) and "faster" not in _speed_sentence(typed)
    assert decision.sentences[-1].startswith(
        "The latency of a and b measured one model at a time and in interleaved rounds disagree"
    )
    limited = decide(typed, Constraints(max_latency_ms=10.0))
    assert limited.pick is None  # no latency limit is met on a contradicted latency
    # At p99 the rounds (medians) are not quoted: the sentence is the one-at-a-time figures'.
    agreeing = _results_with(PairedLatency(1, {"a": A, "b": B}, {"a": 5, "b": 3}), a=1.0, b=2.0)
    said = decide(agreeing, Constraints(latency_percentile="p99")).sentences
    assert not any("interleaved" in s for s in said)


def test_beyond_three_models_each_is_set_against_the_fastest() -> None:
    # Six models: 15 pairs. The lines keep 5, each model against the fastest ("m2", the lowest
    # geometric mean of its per-round medians), and point at results.json for the rest.
    scale = {"m0": 3.0, "m1": 2.0, "m2": 1.0, "m3": 4.0, "m4": 5.0, "m5": 6.0}
    medians = {m: tuple(s * x for x in A) for m, s in scale.items()}
    paired = PairedLatency(1, medians, dict.fromkeys(medians, 3))
    lines = rounds_lines(_results_with(paired, a=1.0, b=2.0))
    assert lines[0].endswith("each model against the fastest:")
    pairs = lines[1:-1]
    assert len(pairs) == 5
    assert [line.split()[0] for line in pairs] == ["m0", "m1", "m3", "m4", "m5"]
    assert all(" slower than m2 " in line for line in pairs)
    assert pairs[0].startswith("m0 is 3.00× slower than m2")
    assert lines[-1] == "Every other pair is in results.json (paired_latency.ratios)."
    assert len(_results_with(paired, a=1.0, b=2.0).to_dict()["paired_latency"]["ratios"]) == 15
    first = ("m0", "m1", "m2")
    three = PairedLatency(1, {m: medians[m] for m in first}, dict.fromkeys(first, 1))
    assert len(rounds_lines(_results_with(three, a=1.0, b=2.0))) == 1 + 3
