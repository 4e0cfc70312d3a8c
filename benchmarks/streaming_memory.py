"""Peak memory of compare on Parquet, CSV and JSONL files of 1x, 4x and 16x a base size, read
whole vs streamed.

Parquet files are written in row groups of 64k rows, as writers of large files do (pyarrow's
default is one row group per 1Mi rows; a streamed read decodes one row group at a time). CSV
streams in 1 MiB blocks (pyarrow's ``open_csv``), JSONL in chunks of 1024 lines (pandas).
Each run is a fresh subprocess (so peak RSS is its own): a logistic regression over 64 float
columns, no cost probe, 100 bootstrap resamples. Figures, not pass/fail; they vary with the
machine and its load. Run: .venv/bin/python benchmarks/streaming_memory.py [base_rows]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

CHILD = """
import re, sys, time
import whichmodel
from whichmodel.data import streaming
streaming.STREAM_BYTES = int(sys.argv[3])
start = time.perf_counter()
whichmodel.compare([sys.argv[1]], sys.argv[2], measure_cost=False, n_resamples=100,
                   batch_size=1024, store=sys.argv[4])
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
status = open("/proc/self/status").read()
peak_mib = int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) / 1024
print(f"{peak_mib:.0f} {time.perf_counter() - start:.1f}")
"""
COLUMNS = 64
SCALES = (1, 4, 16)


def write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        # 64k-row row groups: a streamed read holds at most one decoded.
        frame.to_parquet(path, row_group_size=65_536)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)


def measure(model: Path, path: Path, threshold: int, store: Path) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, f"sklearn:{model}", str(path), str(threshold), str(store)],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.split()


def main(base_rows: int) -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        x = rng.normal(size=(2000, COLUMNS))
        y = (x[:, 0] + x[:, 1] > 0).astype(int)
        sio.dump(LogisticRegression().fit(x, y), root / "lr.skops")
        print("format    scale      rows   file MiB   whole: peak MiB, s   streamed: peak MiB, s")
        for suffix in (".parquet", ".csv", ".jsonl"):
            for scale in SCALES:
                n = base_rows * scale
                x = rng.normal(size=(n, COLUMNS))
                frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(COLUMNS)])
                frame["label"] = (x[:, 0] + x[:, 1] > 0).astype(int)
                path = root / f"d{n}{suffix}"
                write(frame, path)
                del frame, x
                (whole_mib, whole_s), (stream_mib, stream_s) = (
                    measure(root / "lr.skops", path, threshold, root / f"s{n}-{threshold}.db")
                    for threshold in (2**62, 0)  # whole, streamed
                )
                size = path.stat().st_size / 2**20
                print(
                    f"{suffix[1:]:<8} {scale:>4}x {n:>9,}   {size:8.0f}   {whole_mib:>9} "
                    f"{whole_s:>6}   {stream_mib:>12} {stream_s:>6}"
                )
                path.unlink()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12_500)
