"""How much does ``whichmodel.api.run`` cost over a hand-written evaluation loop?

Method. The six demo models (2 skops sklearn, 4 torch factory + safetensors) are evaluated on the
digits test split (540 rows) and on the same split tiled to ``--rows`` rows, so that prediction
work dominates fixed costs. Three things are timed with ``time.perf_counter``, end to end:

- bare:  what a user writes by hand: read the parquet with pandas, load each model with its native
         API, predict in batches, ``accuracy_score``. No store, no CIs, no tests.
- cold:  ``run(config)`` against a fresh, empty store, so every prediction is computed and written.
         It also computes bootstrap CIs (``n_resamples``) and paired tests for all 15 model pairs.
- rerun: the same ``run`` against the store the latest cold run filled: every batch is reused.

One untimed pass of each warms up imports, torch's thread pool and the page cache. Then each of
``--repeats`` repeats runs all three, forward then backward on alternate repeats so that slow drift
(another process, thermal state) does not favour one of them. We report the median and the min.

Reading the figures: cold/bare is the price of using whichmodel instead of a loop (goal <= 1.05);
rerun/cold is what an unchanged rerun costs (goal <= 0.05). ``stats`` is a separate timed call of
``compute_statistics`` on the cold run's predictions: the share of cold time that is bootstrap and
paired tests, and ``findings`` one of ``compute_findings`` (permutation tests, disagreements,
calibration, error clusters): work the bare loop does not do at all. ``cold - bare - stats -
findings`` is then what the evaluation path itself adds (loading through the sources, batching,
the store), reported as ``path/bare``. The script raises if whichmodel's accuracy differs from
the bare loop's for any model, so it never reports timings of a wrong result.
"""

from __future__ import annotations

import argparse
import gc
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
from whichmodel.comparison import CompareConfig, Comparison
from whichmodel.demo import SKLEARN_MODELS, TORCH_MODELS, prepare_demo

TIMED = ("bare", "cold", "rerun", "stats", "findings")  # the last two: see analysis_seconds


def read_images(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The parquet as float32 images (n, 8, 8) and int labels (n,)."""
    frame = pd.read_parquet(path)
    x = np.stack([np.stack(img) for img in frame["image"]]).astype(np.float32)
    return x, frame["label"].to_numpy()


def bare(models: Path, data: Path, batch_size: int) -> dict[str, float]:
    """The hand-written loop; returns accuracy per model."""
    import skops.io as sio
    import torch
    from safetensors.torch import load_file
    from sklearn.metrics import accuracy_score

    from whichmodel.demo import zoo

    x, y = read_images(data)
    acc, steps = {}, range(0, len(x), batch_size)
    for name in SKLEARN_MODELS:
        path = models / f"{name}.skops"
        est = sio.load(path, trusted=sio.get_untrusted_types(file=path))
        flat = x.reshape(len(x), -1)  # (n, 64)
        proba = np.concatenate([est.predict_proba(flat[i : i + batch_size]) for i in steps])
        acc[name] = float(accuracy_score(y, est.classes_[proba.argmax(axis=1)]))
    for name in TORCH_MODELS:
        module = getattr(zoo, name)()
        module.load_state_dict(load_file(str(models / f"{name}.safetensors")))
        module.eval()
        with torch.inference_mode():
            batches = [torch.from_numpy(x[i : i + batch_size]) for i in steps]
            probs = torch.cat([torch.softmax(module(b), dim=1) for b in batches])  # (n, 10)
        acc[name] = float(accuracy_score(y, probs.argmax(dim=1).numpy()))
    return acc


def analysis_seconds(config: CompareConfig, comparison: Comparison) -> tuple[float, float]:
    """Separate, timed calls of compute_statistics and compute_findings on a run's predictions.
    Timing them apart (not cProfile) keeps profiler overhead out of the cold figure."""
    from whichmodel.analysis.findings import compute_findings
    from whichmodel.analysis.stats import compute_statistics
    from whichmodel.data.dataset import read_dataset
    from whichmodel.tasks import get_task

    task = get_task(config.task)
    dataset = read_dataset(config.data)
    y_true = task.read_labels(dataset.labels)
    preds = {m.name: m.predictions for m in comparison.models}
    c = config
    start = time.perf_counter()
    stats = compute_statistics(
        task, y_true, preds, n_resamples=c.n_resamples, confidence=c.confidence, seed=c.seed
    )
    middle = time.perf_counter()
    compute_findings(
        task,
        y_true,
        preds,
        dataset.inputs,
        pd.DataFrame(index=range(len(dataset))),
        n_resamples=c.n_resamples,
        confidence=c.confidence,
        seed=c.seed,
        scores={(m.model, m.name): m.value for m in stats.metrics},
    )
    return middle - start, time.perf_counter() - middle


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def check(name: str, got: dict[str, float], want: dict[str, float]) -> None:
    """Exact equality: the same predictions give the same correct count over the same n."""
    if got != want:
        raise AssertionError(f"{name}: whichmodel accuracy {got} != bare loop {want}")


def measure(config: CompareConfig, models: Path, stores: Path, repeats: int) -> dict[str, Any]:
    """Warm up, then time bare / cold / rerun ``repeats`` times in alternating order."""
    data = Path(config.data)
    times: dict[str, list[float]] = {k: [] for k in TIMED}
    state: dict[str, Any] = {"n": 0}
    bare_acc = bare(models, data, config.batch_size)

    def step(kind: str) -> float:
        if kind == "bare":
            seconds, acc = timed(lambda: bare(models, data, config.batch_size))
            check("bare", acc, bare_acc)
            return seconds
        if kind == "cold":
            state["n"] += 1
            store = stores / f"cold-{state['n']}" / "store.db"
            shutil.rmtree(store.parent, ignore_errors=True)
            seconds, comp = timed(lambda: run(replace(config, store=str(store))))
            if "store" in state:  # keep only the latest filled store on disk
                shutil.rmtree(Path(state["store"]).parent, ignore_errors=True)
            state["store"], state["comparison"] = str(store), comp
        else:
            seconds, comp = timed(lambda: run(replace(config, store=state["store"])))
            assert all(m.computed_batches == 0 for m in comp.models), "rerun recomputed"
        check(kind, {m.name: comp.metric(m.name, "accuracy") for m in comp.models}, bare_acc)
        return seconds

    for kind in ("cold", "rerun"):  # warm-up; bare already ran once above
        step(kind)
    for i in range(repeats):
        for kind in ("bare", "cold", "rerun")[:: 1 if i % 2 == 0 else -1]:
            times[kind].append(step(kind))
        stats_s, findings_s = analysis_seconds(config, state["comparison"])
        times["stats"].append(stats_s)
        times["findings"].append(findings_s)
    shutil.rmtree(stores, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "rows": state["comparison"].n_examples,
        **{f"{k}_median_s": round(v, 4) for k, v in med.items()},
        **{f"{k}_min_s": round(min(v), 4) for k, v in times.items()},
        "cold_over_bare": round(med["cold"] / med["bare"], 3),
        "rerun_over_cold": round(med["rerun"] / med["cold"], 3),
        # Ratios of the runs of one repeat, which ran next to each other: slow drift of the
        # machine (the bare loop varied by 30% between repeats here) cancels out of these.
        "cold_over_bare_per_repeat": [
            round(c / b, 3) for c, b in zip(times["cold"], times["bare"], strict=True)
        ],
        "rerun_over_cold_per_repeat": [
            round(r / c, 3) for r, c in zip(times["rerun"], times["cold"], strict=True)
        ],
        "stats_share_of_cold": round(med["stats"] / med["cold"], 3),
        "findings_share_of_cold": round(med["findings"] / med["cold"], 3),
        "path_over_bare": round((med["cold"] - med["stats"] - med["findings"]) / med["bare"], 3),
        # What whichmodel adds per prediction, independent of how slow the models are.
        "overhead_us_per_prediction": round(
            1e6 * (med["cold"] - med["bare"]) / (state["comparison"].n_examples * len(bare_acc)), 1
        ),
        "accuracy": bare_acc,
    }


def tile(src: Path, rows: int, out: Path) -> Path:
    """``src`` repeated to ``rows`` rows, same schema (pyarrow take keeps the nested list types)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not out.is_file() or pq.read_metadata(out).num_rows != rows:
        table = pq.read_table(src)
        pq.write_table(table.take(pa.array(np.resize(np.arange(table.num_rows), rows))), out)
    return out


def report(results: list[dict[str, Any]], repeats: int, batch_size: int) -> None:
    print(f"\nseconds, median (min) of {repeats} repeats, batch size {batch_size}")
    print(
        f"{'rows':>6} {'bare':>15} {'cold':>15} {'cold/bare':>9} {'rerun':>15} "
        f"{'rerun/cold':>10} {'stats':>15} {'findings':>15} {'path/bare':>9} {'µs/pred':>8}"
    )
    for r in results:
        cell = {k: f"{r[k + '_median_s']:.3f} ({r[k + '_min_s']:.3f})" for k in TIMED}
        print(
            f"{r['rows']:>6} {cell['bare']:>15} {cell['cold']:>15} {r['cold_over_bare']:>9.3f} "
            f"{cell['rerun']:>15} {r['rerun_over_cold']:>10.3f} {cell['stats']:>15} "
            f"{cell['findings']:>15} {r['path_over_bare']:>9.3f} "
            f"{r['overhead_us_per_prediction']:>8.1f}"
        )
    print("goals: cold/bare <= 1.05, rerun/cold <= 0.05")
    for r in results:
        cold, rerun = r["cold_over_bare_per_repeat"], r["rerun_over_cold_per_repeat"]
        print(
            f"per repeat, {r['rows']} rows: cold/bare {min(cold):.3f}-{max(cold):.3f}, "
            f"rerun/cold {min(rerun):.3f}-{max(rerun):.3f}"
        )
    print("path/bare: (cold - stats - findings) / bare, the evaluation path without the analysis")
    print("µs/pred: (cold - bare) per example per model; cold/bare <= 1.05 holds for any model")
    print("         slower than 20x this per example.")
    print("\naccuracy per model (bare loop == whichmodel, asserted on every timed run)")
    for name in results[0]["accuracy"]:
        row = "  ".join(f"{r['rows']} rows: {r['accuracy'][name]:.6f}" for r in results)
        print(f"  {name:<8} {row}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(".whichmodel/bench"))
    parser.add_argument("--rows", type=int, default=20000, help="rows of the tiled dataset")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import torch

    from whichmodel.provenance import hardware, library_versions

    hw, load_before = hardware(), os.getloadavg()[0]
    info = {"cpu": hw["cpu"], "cpus": hw["cpus"], "torch_threads": torch.get_num_threads()}
    info["versions"] = library_versions()
    print(f"cpu: {info['cpu']} | cpus: {info['cpus']} | torch threads: {info['torch_threads']}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    config = replace(prepare_demo(args.workdir), batch_size=args.batch_size, measure_cost=False)
    small = Path(config.data)
    big = tile(small, args.rows, args.workdir / f"digits_tiled_{args.rows}.parquet")
    models = args.workdir / "models"
    results = [
        measure(replace(config, data=str(d)), models, args.workdir / "bench-stores", args.repeats)
        for d in (small, big)
    ]

    report(results, args.repeats, args.batch_size)
    # bare and whichmodel suffer alike from other load, but HistGradientBoosting (gboost) opens
    # ~1000 OpenMP regions per batch and slows several-fold when a core is taken: check this.
    load = {"before": load_before, "after": os.getloadavg()[0]}
    print(f"\n1-minute load average: {load['before']:.2f} before, {load['after']:.2f} after")
    summary = {"machine": info, "load_1m": load, "batch_size": args.batch_size}
    print(json.dumps({**summary, "repeats": args.repeats, "results": results}))


if __name__ == "__main__":
    main()
