"""Does a disturbed machine flip a latency decision? The demo's cost probe, quiet and disturbed.

Runs the cost step of the demo's ``compare`` (each of its six models measured in a fresh probe
process at batch 1 and 64, one thread, the 1 s budget ``compare`` uses) in alternating rounds:
a *quiet* round, then a *disturbed* round with a background process that keeps one core busy,
and so on (Q D Q D ...). The reference ranking is by the median over the quiet rounds of each
model's p50 latency at batch 1. For every round it reports:

- whether the ranking by latency (all six) equals the reference;
- which models the round marked unreliable;
- **flips**: pairs of models whose order contradicts the reference although both were marked
  reliable, among pairs whose quiet medians differ by more than 10% (closer pairs are "about the
  same" to the decision, which cites no ratio within 5%). The goal is zero: a disturbed
  measurement either keeps the quiet order or says unreliable, and a decision never rests on it.

Usage: ``python benchmarks/cost_reliability.py [--rounds 10] [--workdir .whichmodel/demo]``.
Timing is never a test: this prints what it saw, with the load before and after.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SPIN = "import time\nt = time.time()\nwhile time.time() - t < {s}: pass\n"


def measure_round(refs: list[str], sample: object) -> dict[str, tuple[float, tuple[str, ...]]]:
    """model name -> (p50 at batch 1 in seconds, its unreliable reasons)."""
    from whichmodel.bench.cost import measure_cost
    from whichmodel.refs import parse_ref

    out = {}
    for raw in refs:
        ref = parse_ref(raw)
        cost = measure_cost(ref, sample, batch_sizes=[1, 64], threads=1)  # type: ignore[arg-type]
        out[ref.name] = (cost.latency[1].p50_s, cost.unreliable)
    return out


def ranking(p50: dict[str, float]) -> list[str]:
    return sorted(p50, key=p50.__getitem__)


def flips(
    round_: dict[str, tuple[float, tuple[str, ...]]], reference: dict[str, float]
) -> list[str]:
    """Pairs ordered against the reference though both are reliable and >10% apart."""
    out = []
    for a, b in itertools.combinations(reference, 2):
        if max(reference[a], reference[b]) / min(reference[a], reference[b]) <= 1.10:
            continue
        (pa, ua), (pb, ub) = round_[a], round_[b]
        if ua or ub:
            continue
        if (reference[a] < reference[b]) != (pa < pb):
            out.append(f"{a}/{b}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="Rounds of each kind.")
    parser.add_argument("--workdir", default=".whichmodel/demo")
    args = parser.parse_args()

    from whichmodel.data.dataset import read_dataset
    from whichmodel.demo import prepare_demo

    config = prepare_demo(Path(args.workdir))
    dataset = read_dataset(config.data, input_cols=None, label_col="label")
    sample = dataset.inputs.take(slice(0, 64))
    print(f"{os.cpu_count()} CPUs; load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rounds: list[tuple[str, dict[str, tuple[float, tuple[str, ...]]]]] = []
    for i in range(2 * args.rounds):
        kind = "quiet" if i % 2 == 0 else "disturbed"
        spinner = None
        if kind == "disturbed":  # one core kept busy for longer than the round takes
            spinner = subprocess.Popen([sys.executable, "-c", SPIN.format(s=600)])
            time.sleep(0.5)
        try:
            rounds.append((kind, measure_round(list(config.refs), sample)))
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
        print(f"round {i + 1}/{2 * args.rounds} ({kind}) done", file=sys.stderr)

    names = list(rounds[0][1])
    quiet = [r for k, r in rounds if k == "quiet"]
    reference = {n: float(np.median([r[n][0] for r in quiet])) for n in names}
    order = ranking(reference)
    print("reference (median of quiet rounds, p50 at batch 1): "
          + ", ".join(f"{n} {reference[n] * 1e3:.3f} ms" for n in order))  # fmt: skip
    print(f"{'round':>5} {'kind':<9} {'same ranking':<12} {'unreliable':<40} flips")
    totals = {"quiet": [0, 0, 0], "disturbed": [0, 0, 0]}  # changed, any unreliable, flips
    for i, (kind, r) in enumerate(rounds, 1):
        same = ranking({n: r[n][0] for n in names}) == order
        bad = [n for n in names if r[n][1]]
        wrong = flips(r, reference)
        totals[kind][0] += not same
        totals[kind][1] += bool(bad)
        totals[kind][2] += len(wrong)
        print(f"{i:>5} {kind:<9} {'yes' if same else 'no':<12} {', '.join(bad) or '-':<40} "
              f"{', '.join(wrong) or '-'}")  # fmt: skip
    for kind, (changed, unreliable, flipped) in totals.items():
        print(f"{kind}: ranking changed in {changed}/{args.rounds} rounds; a model marked "
              f"unreliable in {unreliable}/{args.rounds}; reliable flips: {flipped}")
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
