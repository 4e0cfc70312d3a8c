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
- **paired flips**: the same, for the interleaved rounds ``compare`` runs after the cost step
  (all six models' probes loaded, taking turns at batch 1: ``bench/paired.py``): pairs whose
  paired ratio the decision would quote (the rounds reliable, the interval excluding 1, the
  ratio at least 5%) in the order against the reference.

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
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from whichmodel.bench.paired import PairedLatency

SPIN = "import time\nt = time.time()\nwhile time.time() - t < {s}: pass\n"


Round = dict[str, tuple[float, tuple[str, ...]]]


def measure_round(refs: list[str], sample: Any) -> tuple[Round, PairedLatency]:
    """(model name -> (p50 at batch 1 in seconds, its unreliable reasons), the interleaved
    rounds of all the models at batch 1), as ``compare`` measures them."""
    from whichmodel.bench.cost import measure_cost
    from whichmodel.bench.paired import interleaved
    from whichmodel.refs import parse_ref
    from whichmodel.sources.base import LoadOptions

    out, costs = {}, {}
    for raw in refs:
        ref = parse_ref(raw)
        cost = measure_cost(ref, sample, batch_sizes=[1, 64], threads=1)
        out[ref.name] = (cost.latency[1].p50_s, cost.unreliable)
        costs[ref.name] = (raw, cost)
    paired = interleaved(
        costs, sample.take(slice(0, 1)), batch_size=1, threads=1, options=LoadOptions()
    )
    return out, paired


def paired_flips(paired: PairedLatency, reference: dict[str, float]) -> list[str] | None:
    """Pairs the decision would quote from the rounds in the order against the reference (>10%
    apart there); None when the rounds are unreliable or skipped (nothing is quoted)."""
    from whichmodel.choose.facts import SAME

    if not paired.reliable:
        return None
    out = []
    for a, b in itertools.combinations(reference, 2):
        if max(reference[a], reference[b]) / min(reference[a], reference[b]) <= 1.10:
            continue
        r = paired.ratio(a, b)
        if not r.decided or r.factor()[0] < SAME:
            continue
        if (reference[a] < reference[b]) != (r.speedup > 1):
            out.append(f"{a}/{b}")
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
    rounds: list[tuple[str, Round, PairedLatency]] = []
    for i in range(2 * args.rounds):
        kind = "quiet" if i % 2 == 0 else "disturbed"
        spinner = None
        if kind == "disturbed":  # one core kept busy for longer than the round takes
            spinner = subprocess.Popen([sys.executable, "-c", SPIN.format(s=600)])
            time.sleep(0.5)
        try:
            rounds.append((kind, *measure_round(list(config.refs), sample)))
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()
        print(f"round {i + 1}/{2 * args.rounds} ({kind}) done", file=sys.stderr)

    names = list(rounds[0][1])
    quiet = [r for k, r, _ in rounds if k == "quiet"]
    reference = {n: float(np.median([r[n][0] for r in quiet])) for n in names}
    order = ranking(reference)
    print("reference (median of quiet rounds, p50 at batch 1): "
          + ", ".join(f"{n} {reference[n] * 1e3:.3f} ms" for n in order))  # fmt: skip
    print(f"{'round':>5} {'kind':<9} {'same ranking':<12} {'unreliable':<40} {'flips':<12} "
          "paired flips")  # fmt: skip
    totals = {k: [0, 0, 0, 0, 0] for k in ("quiet", "disturbed")}
    for i, (kind, r, paired) in enumerate(rounds, 1):
        same = ranking({n: r[n][0] for n in names}) == order
        bad = [n for n in names if r[n][1]]
        wrong, pwrong = flips(r, reference), paired_flips(paired, reference)
        t = totals[kind]  # changed, any unreliable, flips, rounds unreliable, paired flips
        t[0] += not same
        t[1] += bool(bad)
        t[2] += len(wrong)
        t[3] += pwrong is None
        t[4] += len(pwrong or ())
        shown = "unreliable" if pwrong is None else ", ".join(pwrong) or "-"
        print(f"{i:>5} {kind:<9} {'yes' if same else 'no':<12} {', '.join(bad) or '-':<40} "
              f"{', '.join(wrong) or '-':<12} {shown}")  # fmt: skip
    for kind, (changed, unreliable, flipped, p_unreliable, p_flipped) in totals.items():
        print(f"{kind}: ranking changed in {changed}/{args.rounds} rounds; a model marked "
              f"unreliable in {unreliable}/{args.rounds}; reliable flips: {flipped}; "
              f"interleaved rounds unreliable in {p_unreliable}/{args.rounds}, "
              f"paired flips: {p_flipped}")  # fmt: skip
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
