"""Do ``whichmodel machine``'s figures agree with independent measurements of the same work?

Method, on one machine, at one thread count (``--threads``, set for both methods the way the
probes set it, :mod:`whichmodel.bench.threads`):

- A, whichmodel: :func:`whichmodel.bench.machine.measure` (never the store): each dtype's peak
  matmul rate, 2·n³ FLOPs over the harness's median call; copy bandwidth, 2 words per element
  over the median call (torch's ``copy_`` on NumPy float64 arrays).
- B, independent: the same ``torch.matmul(a, b, out=c)`` at the n A chose, timed by
  ``torch.utils.benchmark.Timer.blocked_autorange`` (its ``median``); and a plain NumPy copy,
  ``np.copyto(a, b)`` on arrays of the same size, timed by ``timeit`` (``autorange`` picks the
  calls per repeat; the median over repeats of the time per call).

A and B alternate, A B A B ... for ``--rounds`` rounds; each figure is the median over rounds,
and the ratio is whichmodel / independent (goal: matmul within 10%, bandwidth within 15%). The
1-minute load average before and after is printed: on a shared machine the figures move from run
to run, so rerun on a quiet one before quoting them. A figure, not a pass/fail test.

    python benchmarks/machine_check.py [--threads 1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import timeit
from typing import Any

import numpy as np
import torch
from torch.utils.benchmark import Timer

from whichmodel.bench.machine import MachineLimits, matmul_call, measure, stream_arrays
from whichmodel.bench.threads import threads_set
from whichmodel.provenance import cpu_model

GOALS = {"matmul": 0.10, "copy": 0.15}


def whichmodel_round(threads: int) -> MachineLimits:
    return measure(threads=threads)


def independent_round(limits: MachineLimits, threads: int, min_run_s: float) -> dict[str, float]:
    """Per figure of ``limits``: the independent rate (FLOP/s or bytes/s)."""
    out = {}
    with threads_set(threads), torch.inference_mode():
        for dtype, peak in limits.peak_flops.items():
            if peak.flops_per_s is None:
                continue
            timer = Timer(stmt="fn()", globals={"fn": matmul_call(dtype, peak.matmul_n)},
                          num_threads=threads)
            out[f"{dtype} matmul"] = peak.flops_per_call / timer.blocked_autorange(
                min_run_time=min_run_s).median
        a, b, _ = stream_arrays(limits.sizes.stream_bytes)
        copy = timeit.Timer(lambda: np.copyto(a, b))
        number, _ = copy.autorange()
        per_call = statistics.median(t / number for t in copy.repeat(repeat=7, number=number))
        out["copy"] = 2 * a.nbytes / per_call
    return out


def ours(limits: MachineLimits) -> dict[str, float]:
    rates = {f"{d} matmul": p.flops_per_s for d, p in limits.peak_flops.items()}
    return {k: v for k, v in rates.items() if v is not None} | {"copy": limits.copy.bytes_per_s}


def run(threads: int, rounds: int, min_run_s: float) -> dict[str, Any]:
    load_before = os.getloadavg()
    a_rates: dict[str, list[float]] = {}
    b_rates: dict[str, list[float]] = {}
    stops: dict[str, list[str]] = {}
    for _ in range(rounds):
        limits = whichmodel_round(threads)
        for key, value in ours(limits).items():
            a_rates.setdefault(key, []).append(value)
        for dtype, peak in limits.peak_flops.items():
            if peak.latency is not None and peak.unknown is None:
                stops.setdefault(f"{dtype} matmul", []).append(
                    f"{peak.latency.stop_reason}/{peak.latency.n} n={peak.matmul_n}")
        stops.setdefault("copy", []).append(
            f"{limits.copy.latency.stop_reason}/{limits.copy.latency.n}")
        for key, value in independent_round(limits, threads, min_run_s).items():
            b_rates.setdefault(key, []).append(value)
    return {
        "cpu": cpu_model(), "threads": threads, "rounds": rounds,
        "load_before": load_before, "load_after": os.getloadavg(),
        "figures": {k: (statistics.median(a_rates[k]), statistics.median(b_rates[k]), stops[k])
                    for k in a_rates if k in b_rates},
        "unknown": {d: p.unknown for d, p in limits.peak_flops.items() if p.unknown},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-run-s", type=float, default=1.0, help="Timer's min_run_time")
    args = parser.parse_args()
    result = run(args.threads, args.rounds, args.min_run_s)
    print(f"{result['cpu']}, {args.threads} thread(s), {args.rounds} rounds A B A B ...")
    print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}".format(*result["load_before"]))
    print(f"{'figure':<12} {'whichmodel':>16} {'independent':>16} {'ratio':>6}  goal       "
          "whichmodel stops per round")
    for key, (a, b, stop) in result["figures"].items():
        unit, scale = ("GB/s", 1e9) if key == "copy" else ("GFLOP/s", 1e9)
        goal = GOALS["copy" if key == "copy" else "matmul"]
        verdict = "ok" if abs(a / b - 1) <= goal else "off"
        print(f"{key:<12} {a / scale:>8.1f} {unit:<7} {b / scale:>8.1f} {unit:<7} {a / b:>6.3f}  "
              f"±{goal:.0%} {verdict:<4}  {', '.join(stop)}")
    for dtype, why in result["unknown"].items():
        print(f"{dtype}: unknown ({why})")
    print("load average (1, 5, 15 min) after:  {:.2f} {:.2f} {:.2f}".format(*result["load_after"]))


if __name__ == "__main__":
    main()
