"""Interleaved latency: the models take turns in rounds, and two models compare by a paired ratio.

Timed one after the other, a slow spell of the machine lands on whichever model ran during it
(one demo CNN read 32.9 ms where a quiet run read 0.08 ms). Here every model's probe process
stays loaded (:mod:`whichmodel.bench.serve`) and the models take turns: in each of
:data:`ROUNDS` rounds, each model times a slice of calls lasting about :data:`SLICE_S`, and the
order rotates every round (A B C, B C A, C A B, ...) so no model always follows the same one.
A slow spell then hits the models of the rounds it spans alike, and the ratio of two models'
medians *within* a round cancels most of it.

Two models compare by the geometric mean of their per-round ratios, with a 95% interval over
rounds (Student's t on the log ratios, ``scipy.stats.ttest_1samp``): "cnn is 2.5× faster
at batch 1 [2.20, 2.83] over 10 interleaved rounds" (the demo's cnn against its logreg).

The probes load together, then warm up one at a time (until their timings settle, at most
:data:`WARMUP_S` each). The rounds are **unreliable**, with the reason, when other processes
kept more CPUs busy than were free during the rounds (the criterion every cost is held to,
:mod:`whichmodel.bench.conditions`; the probes' own CPU time is not "other"), when a probe's
warm-up never settled, or when a pair's rounds disagree: its interval spans more than a factor
:data:`MAX_SPREAD`.

They are not run (``skipped`` says why) when a model's call takes over :data:`MAX_CALL_S` (ten
rounds would take minutes), when all the models would not fit in memory together, or when a
model's probe fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import combinations
from pathlib import Path
from typing import IO, Any

import numpy as np

from whichmodel.bench.base import CostProfile, ProbeRequest
from whichmodel.bench.conditions import Conditions, busy_reason, measured
from whichmodel.bench.inputs import write_inputs
from whichmodel.sources.base import Inputs, LoadOptions

#: Rounds of turns (each gives every pair one ratio).
ROUNDS = 10

#: Seconds of calls each model times per turn (at least one call).
SLICE_S = 0.05

#: Models whose call takes longer are not interleaved: ten rounds would take minutes.
MAX_CALL_S = 1.0

#: A pair's 95% interval may span this factor (high / low) before its rounds disagree. Not
#: tighter: on a quiet machine the demo's sub-millisecond models vary 10-20% from round to round,
#: so 10 rounds pin a ratio to about ±15% ("2.14 [1.89, 2.43]"), which tells a decision plenty;
#: at 1.25, 18 of 20 rounds of benchmarks/cost_reliability.py were marked unreliable.
MAX_SPREAD = 2.0

#: Seconds each probe may warm its call up for (until its timings settle), one probe at a time,
#: once all are loaded.
WARMUP_S = 1.0

#: All the probes together, loading included, before they are stopped.
TIMEOUT_S = 600

_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class Ratio:
    """How much faster model ``a`` is than ``b``: ``speedup`` = b's latency / a's (below 1:
    ``a`` is slower), with its 95% interval over ``rounds`` rounds."""

    a: str
    b: str
    speedup: float
    ci_low: float
    ci_high: float
    rounds: int

    @property
    def decided(self) -> bool:
        """Whether the interval excludes 1: the rounds tell which model is faster."""
        return self.ci_low > 1 or self.ci_high < 1

    def factor(self) -> tuple[float, float, float]:
        """(factor, low, high) as a reader says it: the speedup, or for a speedup below 1 the
        slowdown ``1 / speedup`` with its interval flipped; always at least 1."""
        if self.speedup >= 1:
            return self.speedup, self.ci_low, self.ci_high
        return 1 / self.speedup, 1 / self.ci_high, 1 / self.ci_low


@dataclass(frozen=True)
class PairedLatency:
    """The interleaved rounds of one comparison's models at one batch size.

    Args:
        batch_size: the batch size every slice timed.
        medians_s: per model, the median seconds per call of its slice in each round.
        calls: per model, the timed calls in each of its slices.
        conditions: what the machine was doing meanwhile (loading the models included).
        unreliable: why the rounds cannot be trusted, one sentence each (empty: they can).
        skipped: why no rounds were run (then ``medians_s`` is empty).
    """

    batch_size: int
    medians_s: dict[str, tuple[float, ...]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    conditions: Conditions | None = None
    unreliable: tuple[str, ...] = ()
    skipped: str | None = None

    @property
    def reliable(self) -> bool:
        return self.skipped is None and not self.unreliable

    def ratio(self, a: str, b: str) -> Ratio:
        """``a`` against ``b`` (see :class:`Ratio`); KeyError for a model not in the rounds."""
        from scipy.stats import ttest_1samp

        logs = np.log(np.asarray(self.medians_s[b]) / np.asarray(self.medians_s[a]))
        mean = float(logs.mean())
        # No spread (to rounding: SciPy warns of catastrophic cancellation): the interval is the
        # point
        if len(logs) < 2 or np.ptp(logs) <= 1e-12 * max(1.0, float(np.abs(logs).max())):
            low = high = mean
        else:
            ci = ttest_1samp(logs, 0.0).confidence_interval(0.95)
            low, high = float(ci.low), float(ci.high)
        return Ratio(a, b, float(np.exp(mean)), float(np.exp(low)), float(np.exp(high)), len(logs))

    def ratios(self) -> list[Ratio]:
        """Every pair, in the order of the models."""
        return [self.ratio(a, b) for a, b in combinations(self.medians_s, 2)]

    def to_dict(self) -> dict[str, Any]:
        """For results.json; ``ratios`` are written for readers and recomputed on reading."""
        return {
            "batch_size": self.batch_size,
            "rounds": len(next(iter(self.medians_s.values()), ())),
            "medians_s": {k: list(v) for k, v in self.medians_s.items()},
            "calls": dict(self.calls),
            "conditions": None if self.conditions is None else vars(self.conditions).copy(),
            "unreliable": list(self.unreliable),
            "skipped": self.skipped,
            "ratios": [vars(r).copy() for r in self.ratios()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PairedLatency:
        conditions = data.get("conditions")
        return cls(
            batch_size=data["batch_size"],
            medians_s={k: tuple(v) for k, v in data["medians_s"].items()},
            calls=dict(data["calls"]),
            conditions=None if conditions is None else Conditions.from_dict(conditions),
            unreliable=tuple(data.get("unreliable", ())),
            skipped=data.get("skipped"),
        )


def why_not(latency_s: dict[str, float], memory_bytes: dict[str, int]) -> str | None:
    """Why these models (name -> seconds per call at the batch size, name -> memory they take)
    should not be interleaved, or None."""
    slow = {k: v for k, v in latency_s.items() if v > MAX_CALL_S}
    if slow:
        name, s = max(slow.items(), key=lambda kv: kv[1])
        return f"{name} takes {s:.1f} s per call; {ROUNDS} rounds would take too long"
    need, free = sum(memory_bytes.values()), _available_memory()
    if free is not None and need > 0.8 * free:
        return (
            f"the models need {need / 2**30:.1f} GiB together, {free / 2**30:.1f} GiB is free"
        )
    return None


def interleaved(
    models: dict[str, tuple[str, CostProfile]],
    sample: Inputs,
    *,
    batch_size: int,
    threads: int,
    options: LoadOptions,
    capability: str = "predict",
) -> PairedLatency:
    """``models`` (name -> (its reference, its measured cost)) timed in interleaved rounds at
    ``batch_size`` on the first examples of ``sample`` (see the module docstring); each cost's
    median at that batch size sizes the model's slices."""
    latency = {k: c.latency[batch_size].p50_s for k, (_, c) in models.items()}
    why = why_not(latency, {k: c.peak_rss_bytes or 0 for k, (_, c) in models.items()})
    if why is not None:
        return PairedLatency(batch_size, skipped=why)
    with tempfile.TemporaryDirectory(prefix="whichmodel-rounds-") as tmp:
        folder = Path(tmp)
        request = ProbeRequest(
            ref="", variant="original", inputs=str(write_inputs(folder, sample, batch_size)),
            kind=sample.kind, columns=tuple(sample.columns), batch_sizes=(batch_size,),
            threads=threads, allow_pickle=options.allow_pickle,
            trust_remote_code=options.trust_remote_code, activations=False,
            workdir=str(folder), capability=capability,
        )  # fmt: skip
        requests = {k: replace(request, ref=ref) for k, (ref, _) in models.items()}
        return interleave(requests, latency, folder=folder)


def interleave(
    requests: dict[str, ProbeRequest], latency_s: dict[str, float], *, folder: Path
) -> PairedLatency:
    """Time the models of ``requests`` (name -> its probe request; the first batch size is
    timed) in interleaved rounds. ``latency_s`` (name -> an earlier measure of seconds per
    call) sizes each slice. The conditions cover the rounds only, once every probe is loaded
    and warm (the probes' CPU time counts as this process's)."""
    calls = {k: max(1, round(SLICE_S / max(v, 1e-9))) for k, v in latency_s.items()}
    first = next(iter(requests.values()))
    try:
        with _started(requests, folder) as servers:
            for server in servers.values():
                server.read()  # loaded (they load together)
            unsettled = [s.name for s in servers.values() if not s.warm(WARMUP_S)]
            medians, conditions = measured(
                first.threads, partial(_take_turns, servers, calls),
                children_cpu=lambda: sum(s.cpu_s() for s in servers.values()),
            )  # fmt: skip
    except _ProbeFailed as exc:
        return PairedLatency(first.batch_sizes[0], skipped=str(exc))
    paired = PairedLatency(first.batch_sizes[0], medians, calls, conditions)
    return replace(paired, unreliable=tuple(_unreliable(paired, unsettled)))


class _ProbeFailed(Exception):
    pass


@contextlib.contextmanager
def _started(requests: dict[str, ProbeRequest], folder: Path) -> Iterator[dict[str, _Server]]:
    """Every model's probe process, stopped on the way out (killed at once after a failure or
    after :data:`TIMEOUT_S`: a hung probe must not hang the comparison)."""
    servers: dict[str, _Server] = {}
    timer = threading.Timer(TIMEOUT_S, _kill_all, (servers,))
    timer.start()
    failed = True
    try:
        for i, (name, request) in enumerate(requests.items()):
            servers[name] = _Server(name, request, folder / f"serve-{i}.json")  # not user names
        yield servers
        failed = False
    finally:
        timer.cancel()
        for server in servers.values():
            server.close(kill=failed)


def _take_turns(servers: dict[str, _Server], calls: dict[str, int]) -> dict[str, tuple[float, ...]]:
    """The rounds: each model's slice median per round, the order rotating every round."""
    names = list(servers)
    medians: dict[str, list[float]] = {k: [] for k in names}
    for r in range(ROUNDS):
        for name in names[r % len(names):] + names[: r % len(names)]:
            medians[name].append(servers[name].slice(calls[name]))
    return {k: tuple(v) for k, v in medians.items()}


def _kill_all(servers: dict[str, _Server]) -> None:
    for server in list(servers.values()):
        server.kill()


class _Server:
    """One model's :mod:`~whichmodel.bench.serve` process (stderr to a file: a chatty library
    cannot fill a pipe and stall it)."""

    def __init__(self, name: str, request: ProbeRequest, path: Path) -> None:
        self.name = name
        self.killed = False
        path.write_text(json.dumps(request.to_dict()))
        self.stderr: IO[str] = tempfile.TemporaryFile("w+", dir=path.parent)  # noqa: SIM115 (closed by close())
        env = {**os.environ, **{k: str(request.threads) for k in _THREAD_ENV}}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "whichmodel.bench.serve", str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            env=env,
        )  # fmt: skip

    def warm(self, seconds: float) -> bool:
        """Warm the probe's call up for at most ``seconds``; whether its timings settled."""
        self._ask({"warm": seconds})
        return bool(self.read().get("settled", False))

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        try:
            message: dict[str, Any] = json.loads(line) if line.strip() else {}
        except ValueError:
            message = {"error": f"it answered {line.strip()[:80]!r}, not the probe's protocol"}
        if "error" in message or not isinstance(message, dict) or not message:
            raise _ProbeFailed(f"{self.name}'s probe failed: {message.get('error') or self._why()}")
        return message

    def slice(self, n: int) -> float:
        """The median seconds per call of ``n`` timed calls."""
        self._ask({"calls": n})
        samples = self.read().get("samples")
        if not isinstance(samples, list) or len(samples) != n:
            raise _ProbeFailed(f"{self.name}'s probe failed: it answered no {n} samples")
        return float(np.median(samples))

    def _ask(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise _ProbeFailed(f"{self.name}'s probe failed: {self._why()}") from None

    def cpu_s(self) -> float:
        """CPU seconds the probe has used so far (0 once it has exited)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def _why(self) -> str:
        if self.killed:
            return f"stopped after {TIMEOUT_S} s"
        self.stderr.seek(0)
        lines = [ln for ln in self.stderr.read().splitlines() if ln.strip()]
        return lines[-1] if lines else f"it stopped (exit {self.proc.poll()})"

    def kill(self) -> None:
        self.killed = True
        self.proc.kill()

    def close(self, *, kill: bool = False) -> None:
        """Stop the probe: end its input and wait for it, or kill it."""
        if kill:
            self.proc.kill()
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):  # the probe stopped already
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr.close()


def _unreliable(paired: PairedLatency, unsettled: list[str]) -> list[str]:
    """Why ``paired``'s rounds cannot be trusted (see the module docstring); ``unsettled``:
    the models whose warm-up never settled."""
    busy = None if paired.conditions is None else busy_reason(paired.conditions)
    reasons = [] if busy is None else [busy]
    reasons += [f"{name}: the warm-up never settled" for name in unsettled]
    for r in paired.ratios():
        if r.ci_high / r.ci_low > MAX_SPREAD:
            reasons.append(
                f"{r.a} vs {r.b}: the rounds disagree (speedup {r.speedup:.2f}, 95% interval "
                f"[{r.ci_low:.2f}, {r.ci_high:.2f}])"
            )
    return reasons


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
