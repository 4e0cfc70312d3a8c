"""Peak memory of ``whichmodel.weight_diff`` on two ~1 GB safetensors checkpoints.

Method. Two checkpoints of ``--tensors`` square tensors each (float32 by default, ``--dtype
bf16`` for 16-bit ones) are written to a temporary folder under /tmp (deleted afterwards):
B is A with a rank-8 update of its first tensor and float32 noise on its second, the rest
bit-identical. Each measurement is a fresh process, so its peak RSS (``VmHWM`` from
/proc/self/status, the whole process: anonymous memory and the mapped file pages) is its own:

- idle: the process after importing what the diff imports (torch, safetensors, whichmodel);
- diff: the same process after ``weight_diff(A, B)``.

The bound the issue sets is idle + 2 × the largest tensor (as stored). Figures, not pass/fail:
they vary with the machine; its load is printed before and after.
Run: .venv/bin/python benchmarks/weight_diff_memory.py [--tensors 4] [--side 8192] [--dtype fp32]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import re, sys, time
import safetensors, torch
from whichmodel.analysis.weights import weight_diff

def peak_mib():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
    status = open("/proc/self/status").read()
    return int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) / 1024

idle = peak_mib()
if sys.argv[1] == "diff":
    start = time.perf_counter()
    diff = weight_diff(sys.argv[2], sys.argv[3])
    print(f"{idle:.0f} {peak_mib():.0f} {time.perf_counter() - start:.1f} {diff.verdict}")
else:
    print(f"{idle:.0f}")
"""


def build(folder: Path, n: int, side: int, dtype: str) -> tuple[Path, Path, int]:
    """Write A and B; returns their paths and the largest tensor's bytes."""
    import torch
    from safetensors.torch import save_file

    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    g = torch.Generator().manual_seed(0)
    a = {f"model.layers.{i}.mlp.proj.weight": torch.randn(side, side, generator=g)
         .mul_(0.02).to(torch_dtype) for i in range(n)}
    save_file(a, str(folder / "a.safetensors"))
    first, second = sorted(a)[:2]
    update = torch.randn(side, 8, generator=g) @ torch.randn(8, side, generator=g)
    a[first] = (a[first].float() + 1e-3 * update).to(torch_dtype)
    a[second] = (a[second].float() + 1e-4 * torch.randn(side, side, generator=g)).to(torch_dtype)
    save_file(a, str(folder / "b.safetensors"))
    largest = max(t.numel() * t.element_size() for t in a.values())
    return folder / "a.safetensors", folder / "b.safetensors", largest


def child(*args: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True,
                          check=True)
    return proc.stdout.split(maxsplit=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tensors", type=int, default=4)
    parser.add_argument("--side", type=int, default=8192)
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        a, b, largest = build(Path(tmp), args.tensors, args.side, args.dtype)
        size = a.stat().st_size / 2**20
        print(f"checkpoints: 2 × {size:.0f} MiB ({args.tensors} tensors of {args.side}² "
              f"{args.dtype}; largest {largest / 2**20:.0f} MiB); load average before "
              f"{os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
        (idle,) = child("idle")
        _, peak, seconds, verdict = child("diff", str(a), str(b))
        bound = float(idle) + 2 * largest / 2**20
        print(f"idle process {idle} MiB; diff peak {peak} MiB in {seconds} s; bound idle + 2 × "
              f"largest = {bound:.0f} MiB: {'within' if float(peak) <= bound else 'OVER'}")
        print(f"verdict: {verdict.strip()}")
        print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"({time.perf_counter() - t0:.0f} s in all)")
