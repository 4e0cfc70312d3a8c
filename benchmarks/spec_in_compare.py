"""What keeping a spec sheet per model adds to ``compare`` on the demo (figures, not pass/fail).

Method. The six demo models are prepared with :func:`whichmodel.demo.prepare_demo` (trained once
into ``--workdir``). For each model, the spec step that a cold ``compare`` runs is timed with
``time.perf_counter``: ``model_spec`` given the model compare has already loaded for its
predictions (torch modules and estimators are read from it; hf/onnx would read their config), and
the store lookup an unchanged rerun does instead. One untimed pass warms imports (FlopCounterMode,
transformers are not imported for the demo's models); then ``--repeats`` passes, median reported.
For scale, one cold ``run`` of the whole demo comparison against a fresh store is timed once.

Timings on a shared machine are noisy; read the ratios, not the last digit.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from whichmodel.api import run
from whichmodel.demo import prepare_demo
from whichmodel.refs import parse_ref
from whichmodel.sources import load
from whichmodel.sources.base import LoadOptions
from whichmodel.spec.compact import model_spec
from whichmodel.store import Store, key_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default=".whichmodel/demo")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = prepare_demo(Path(args.workdir))
    options = LoadOptions()
    spec_s: dict[str, list[float]] = {}
    lookup_s: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "s.db")
        for i in range(args.repeats + 1):  # pass 0 warms up
            for raw in config.refs:
                ref = parse_ref(raw)
                model = load(ref, options)  # compare has it loaded already
                t0 = time.perf_counter()
                spec = model_spec(ref, lambda m=model: m, input_shape=(8, 8), options=options)
                t1 = time.perf_counter()
                key = key_of("spec", raw, i)
                store.put_cached("spec", key, {"spec": spec, "error": None})
                t2 = time.perf_counter()
                store.get_cached("spec", key)
                t3 = time.perf_counter()
                if i:
                    spec_s.setdefault(ref.name, []).append(t1 - t0)
                    lookup_s.setdefault(ref.name, []).append(t3 - t2)
        total_spec = 0.0
        print(f"{'model':8} {'spec sheet (cold)':>18} {'store lookup (rerun)':>21}")
        for name, times in spec_s.items():
            cold, warm = statistics.median(times), statistics.median(lookup_s[name])
            total_spec += cold
            print(f"{name:8} {cold * 1e3:15.1f} ms {warm * 1e3:18.2f} ms")
        print(f"{'all six':8} {total_spec * 1e3:15.1f} ms")
        store_path = Path(tmp) / "cold.db"
        t0 = time.perf_counter()
        run(replace(config, store=str(store_path)))
        cold_run = time.perf_counter() - t0
    print(
        f"one cold demo compare (with cost probes): {cold_run:.1f} s; the spec sheets are "
        f"{total_spec / cold_run:.1%} of it"
    )


if __name__ == "__main__":
    main()
