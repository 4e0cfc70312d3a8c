"""What does the paired analysis (``whichmodel.analysis.findings``) add to a comparison?

Method. The six demo models predict the digits test split tiled to ``--rows`` rows (once, through
``run``; predictions are then read from the store). Two slice columns the models never see are
added: ``site`` (4 values) and ``ink`` (numeric, binned into quantiles). Then, ``--repeats`` times
after one untimed warm-up, ``time.perf_counter`` times:

- stats:    ``compute_statistics`` (the foundation's bootstrap CIs and paired tests), for scale;
- findings: ``compute_findings`` without slices, and each of its parts on its own: paired tests
            per metric with Holm, disagreements, calibration, error clusters;
- slices:   ``analyze_slices`` over the two slice columns (metrics with CIs per slice, fairness);
- cold:     with ``--cold``, a whole ``run`` against an empty store with ``slice_by``
            (predictions computed), to give the analysis' share of a comparison.

We report the median and the min; ``findings/cold`` is the share of a cold comparison that the
analysis takes. The machine is shared: figures are noisy, and the 1-minute load is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from whichmodel.api import run
from whichmodel.demo import prepare_demo


def tiled_with_slices(src: Path, rows: int, out: Path) -> Path:
    """``src`` repeated to ``rows`` rows, plus a categorical and a numeric slice column."""
    if not out.is_file() or len(pd.read_parquet(out, columns=["label"])) != rows:
        frame = pd.read_parquet(src)
        frame = frame.iloc[np.resize(np.arange(len(frame)), rows)].reset_index(drop=True)
        rng = np.random.default_rng(0)
        frame["site"] = rng.choice(["north", "south", "east", "west"], rows)
        frame["ink"] = [float(np.mean(img.tolist())) for img in frame["image"]]
        frame.to_parquet(out, index=False)
    return out


def timings(fn: Callable[[], Any], repeats: int) -> list[float]:
    fn()  # warm-up: imports, caches
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    from whichmodel.analysis.calibration import calibrate
    from whichmodel.analysis.clusters import error_clusters
    from whichmodel.analysis.disagreements import find_disagreements
    from whichmodel.analysis.findings import compute_findings
    from whichmodel.analysis.paired import paired_metric_tests
    from whichmodel.analysis.slices import analyze_slices, read_slice_columns
    from whichmodel.analysis.stats import compute_statistics
    from whichmodel.data.dataset import read_dataset
    from whichmodel.tasks import get_task

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(".whichmodel/bench"))
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--cold", action="store_true", help="also time whole cold runs (minutes at 20k rows)"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    config = replace(prepare_demo(args.workdir), measure_cost=False)
    data = tiled_with_slices(
        Path(config.data), args.rows, args.workdir / f"digits_slices_{args.rows}.parquet"
    )
    config = replace(config, data=str(data), input_cols=("image",), slice_by=("site", "ink"))
    stores = args.workdir / "analysis-stores"  # warm.db keeps the predictions between runs
    comparison = run(replace(config, store=str(stores / "warm.db")))
    task = get_task(config.task)
    dataset = read_dataset(data, input_cols=["image"], label_col="label")
    y_true = task.read_labels(dataset.labels)
    preds = {m.name: m.predictions for m in comparison.models}
    y = y_true  # every demo model predicts every row
    columns = read_slice_columns(data, ["site", "ink"])
    b, seed = config.n_resamples, config.seed
    parts: dict[str, Callable[[], Any]] = {
        "stats": lambda: compute_statistics(task, y_true, preds, n_resamples=b, seed=seed),
        "findings (no slices)": lambda: compute_findings(
            task, y_true, preds, dataset.inputs, pd.DataFrame(), n_resamples=b, seed=seed
        ),
        "  paired tests + Holm": lambda: paired_metric_tests(task, y, preds, n_resamples=b),
        "  disagreements": lambda: find_disagreements(task, y, preds, dataset.inputs),
        "  calibration": lambda: calibrate(task, y, preds),
        "  error clusters": lambda: error_clusters(task, y, preds, dataset.inputs),
        "slices (site, ink)": lambda: analyze_slices(task, y, preds, columns, n_resamples=b),
    }
    times = {}
    for name, fn in parts.items():
        times[name] = timings(fn, args.repeats)
        print(f"  {name:<26} {statistics.median(times[name]):8.3f}", flush=True)
    counter = iter(range(10**6))

    def cold() -> None:
        store = stores / f"cold-{next(counter)}"
        run(replace(config, store=str(store / "store.db")))
        shutil.rmtree(store)

    if args.cold:
        times["cold run with slice_by"] = timings(cold, args.repeats)
    med = {k: statistics.median(v) for k, v in times.items()}
    n_models = len(preds)
    print(
        f"{args.rows} rows, {n_models} models ({n_models * (n_models - 1) // 2} pairs), "
        f"{b} resamples; seconds, median (min) of {args.repeats}"
    )
    for name, values in times.items():
        print(f"  {name:<26} {med[name]:8.3f} ({min(values):.3f})")
    analysis = med["findings (no slices)"] + med["slices (site, ink)"]
    if args.cold:
        share = analysis / med["cold run with slice_by"]
        print(f"findings + slices as a share of the cold run: {share:.3f}")
    load = {"before": load_before, "after": os.getloadavg()[0]}
    print(f"1-minute load average: {load['before']:.2f} before, {load['after']:.2f} after")
    print(json.dumps({"rows": args.rows, "median_s": med, "load_1m": load}))


if __name__ == "__main__":
    main()
