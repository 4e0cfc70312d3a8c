"""What do ranking's query-level statistics cost as the queries grow?

Method. ``--queries`` queries of 8-40 items (long format, graded relevance 0-3) get scores from
two synthetic "models" (the relevance plus Gaussian noise of two sizes; no model runs: this
times the statistics, not prediction). Then, ``--repeats`` times after one untimed warm-up,
``time.perf_counter`` times:

- stats:  ``compute_statistics`` (bootstrap CIs of nDCG/recall/hit rate at k = 5, 10 and the
          paired Wilcoxon test by query), with ``--resamples`` query-level resamples;
- tests:  ``paired_metric_tests`` (a paired bootstrap per metric, the same resamples).

We report the median and the min in seconds. The machine is shared: figures are noisy, and the
1-minute load is printed.

    python benchmarks/ranking_scale.py --queries 1000 10000
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from functools import partial

import numpy as np

from whichmodel.analysis.paired import paired_metric_tests
from whichmodel.analysis.stats import compute_statistics
from whichmodel.tasks import get_task
from whichmodel.tasks.base import Predictions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")
    for n_queries in args.queries:
        measure(n_queries, args.resamples, args.repeats)


def measure(n_queries: int, resamples: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    sizes = rng.integers(8, 41, n_queries)
    queries = np.repeat(np.arange(n_queries), sizes).astype(str)
    relevance = rng.integers(0, 4, len(queries)).astype(np.float64)
    relevance[np.cumsum(sizes) - 1] = 3.0  # every query has a relevant item
    task = get_task("ranking?k=5,10")
    y = task.read_labels(relevance)
    units = np.unique(queries, return_inverse=True)[1]
    rows = np.arange(len(y))
    preds = {
        name: Predictions(rows, relevance + rng.normal(0, noise, len(y)))
        for name, noise in (("a", 1.0), ("b", 1.5))
    }
    for label, fn in (
        ("stats", partial(compute_statistics, task, y, preds, units=units, n_resamples=resamples)),
        ("tests", partial(paired_metric_tests, task, y, preds, units=units, n_resamples=resamples)),
    ):
        fn()  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(
            f"{n_queries:>6} queries, {len(y):>7} rows  {label:<5}  "
            f"median {statistics.median(times):.2f} s  min {min(times):.2f} s"
        )

if __name__ == "__main__":
    main()
