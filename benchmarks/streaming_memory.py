"""Peak memory of compare on Parquet files of growing size, read whole vs streamed.

The files are written in row groups of 64k rows, as writers of large files do (pyarrow's
default is one row group per 1Mi rows; a streamed read decodes one row group at a time).
Each run is a fresh subprocess (so peak RSS is its own): a logistic regression over 64 float
columns, no cost probe, 100 bootstrap resamples. Figures, not pass/fail; they vary with the
machine. Run: .venv/bin/python benchmarks/streaming_memory.py
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
from whichmodel.tasks import streaming
streaming.STREAM_BYTES = int(sys.argv[3])
start = time.perf_counter()
whichmodel.compare([sys.argv[1]], sys.argv[2], measure_cost=False, n_resamples=100,
                   batch_size=1024, store=sys.argv[4])
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
status = open("/proc/self/status").read()
peak_mib = int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) / 1024
print(f"{peak_mib:.0f} {time.perf_counter() - start:.1f}")
"""


def main() -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        x = rng.normal(size=(2000, 64))
        y = (x[:, 0] + x[:, 1] > 0).astype(int)
        sio.dump(LogisticRegression().fit(x, y), root / "lr.skops")
        print("rows      file MiB   whole: peak MiB, s   streamed: peak MiB, s")
        for n in (100_000, 400_000):
            x = rng.normal(size=(n, 64))
            frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(64)])
            frame["label"] = (x[:, 0] + x[:, 1] > 0).astype(int)
            path = root / f"d{n}.parquet"
            # 64k-row row groups (~32 MiB here): a streamed read holds at most one decoded.
            frame.to_parquet(path, row_group_size=65_536)
            del frame, x
            figures = []
            for threshold in (2**62, 0):  # whole, streamed
                proc = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        CHILD,
                        f"sklearn:{root / 'lr.skops'}",
                        str(path),
                        str(threshold),
                        str(root / f"s{n}-{threshold}.db"),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                figures.append(proc.stdout.split())
            size = path.stat().st_size / 2**20
            (whole_mib, whole_s), (stream_mib, stream_s) = figures
            print(
                f"{n:>7,}   {size:8.0f}   {whole_mib:>9} {whole_s:>6}   "
                f"{stream_mib:>12} {stream_s:>6}"
            )


if __name__ == "__main__":
    main()
