"""Does whichmodel's timing harness agree with ``torch.utils.benchmark.Timer``, and what does it
cost per sample?

Method. For each callable (a no-op, a 256×256 matmul, a 1024×1024 matmul, the demo's CNN on a
batch of 32 digits), in one process with ``--threads`` torch threads:

- whichmodel: :func:`whichmodel.bench.timing.time_calls` (warm-up until settled, then samples until
  the 95% CI of the median is within ±2% or the budget runs out); we report its p50.
- torch: ``Timer(stmt="fn()").blocked_autorange(min_run_time=...)``; we report its ``median``
  (the median over blocks of the mean time per call within a block).
- "(blocked)": Timer's statistic computed on whichmodel's own samples (blocks of Timer's size).
  When the machine preempts the process, block means absorb the stalls and the per-call median
  does not: p50 then sits below Timer's median while "(blocked)" still agrees with it, which
  says the two measure the same calls and differ only in the statistic.

The two run alternately, ``--rounds`` times, and we report the median of each and the ratio
whichmodel/torch (goal: within 5%). ``timer_overhead_s`` is the harness's own cost per sample
(a no-op timed through the same path, goal < 5 µs). These are figures, not pass/fail: on a shared
machine they move from run to run, so rerun on a quiet one before quoting them.

    python benchmarks/bench_harness.py [--threads 1] [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.benchmark import Timer

from whichmodel.bench.timing import time_calls, timer_overhead_s


def callables() -> dict[str, Callable[[], object]]:
    from whichmodel.demo import zoo

    torch.manual_seed(0)
    a, b = torch.randn(256, 256), torch.randn(256, 256)
    c, d = torch.randn(1024, 1024), torch.randn(1024, 1024)
    cnn = zoo.cnn().eval()
    images = torch.randn(32, 8, 8)

    def run_cnn() -> object:
        with torch.inference_mode():
            return cnn(images)

    return {
        "no-op": lambda: None,
        "matmul 256": lambda: a @ b,
        "matmul 1024": lambda: c @ d,
        "demo cnn b=32": run_cnn,
    }


def blocked_median(samples: tuple[float, ...], block: int) -> float:
    """Timer's statistic on our samples: the median over blocks of ``block`` consecutive calls
    of the mean time per call."""
    means = [
        statistics.fmean(samples[i : i + block]) for i in range(0, len(samples) - block + 1, block)
    ]
    return statistics.median(means) if means else float("nan")


def measure(fn: Callable[[], object], rounds: int, budget_s: float) -> dict[str, Any]:
    ours, blocked, theirs, stops = [], [], [], []
    for _ in range(rounds):
        lat = time_calls(fn, sync=torch.cpu.synchronize, budget_s=budget_s)
        timer = Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
        m = timer.blocked_autorange(min_run_time=budget_s)
        ours.append(lat.p50_s)
        blocked.append(blocked_median(lat.samples_s, m.number_per_run))
        theirs.append(m.median)
        stops.append(f"{lat.stop_reason}/{lat.n}")
    p50, median = statistics.median(ours), statistics.median(theirs)
    return {
        "whichmodel_p50_s": p50,
        "whichmodel_blocked_median_s": statistics.median(blocked),
        "torch_timer_median_s": median,
        "ratio": p50 / median,
        "stops": stops,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per measurement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {name: measure(fn, args.rounds, args.budget) for name, fn in callables().items()}
    overhead = [timer_overhead_s(sync=torch.cpu.synchronize) for _ in range(args.rounds)]
    report = {
        "threads": args.threads,
        "rounds": args.rounds,
        "callables": results,
        "timer_overhead_s": statistics.median(overhead),
        "timer_overhead_range_s": [min(overhead), max(overhead)],
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"threads={args.threads}, {args.rounds} alternating rounds, medians over rounds")
    print(
        f"{'callable':<16}{'whichmodel p50':>16}{'(blocked)':>14}{'Timer median':>16}"
        f"{'ratio':>8}  stops (reason/samples per round)"
    )
    for name, r in results.items():
        us = [r[k] * 1e6 for k in ("whichmodel_p50_s", "whichmodel_blocked_median_s")]
        print(
            f"{name:<16}{us[0]:>13.2f} µs{us[1]:>11.2f} µs"
            f"{r['torch_timer_median_s'] * 1e6:>13.2f} µs{r['ratio']:>8.3f}  "
            + ", ".join(r["stops"])
        )
    low, high = report["timer_overhead_range_s"]
    print(
        f"harness overhead per sample: {report['timer_overhead_s'] * 1e6:.3f} µs "
        f"(range over rounds {low * 1e6:.3f}-{high * 1e6:.3f} µs)"
    )


if __name__ == "__main__":
    main()
