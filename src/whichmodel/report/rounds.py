"""The interleaved latency rounds (:mod:`whichmodel.bench.paired`) in words, the same lines for
the terminal, Markdown and HTML: how many rounds, then the pairs' latency ratios with their
intervals, then why the rounds are unreliable or were not run.

Up to :data:`EVERY_PAIR` models every pair gets a line; beyond, each model is set against the
fastest (k - 1 lines, not k(k - 1)/2: six models would print 15), and results.json keeps every
pair (``paired_latency.ratios``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from whichmodel.bench.conditions import FIX
from whichmodel.choose.facts import SAME

if TYPE_CHECKING:
    from whichmodel.bench.paired import PairedLatency, Ratio
    from whichmodel.results import Results

EVERY_PAIR = 3  # models up to which every pair is listed (3 models: 3 pairs)


def rounds_lines(results: Results) -> list[str]:
    """The lines (empty when the comparison ran no rounds: fewer than two costs)."""
    rounds = results.paired_latency
    if rounds is None:
        return []
    if rounds.skipped is not None:
        return [f"Latency was not measured in interleaved rounds: {rounds.skipped}."]
    lines = [_header(rounds), *(f"{pair_text(r)}." for r in _shown(rounds))]
    if len(rounds.medians_s) > EVERY_PAIR:
        lines.append("Every other pair is in results.json (paired_latency.ratios).")
    if rounds.unreliable:
        lines.append(
            f"The rounds are unreliable ({'; '.join(rounds.unreliable)}), so no decision rests "
            f"on them: {FIX}."
        )
    return lines


def _shown(rounds: PairedLatency) -> list[Ratio]:
    """Every pair, or beyond :data:`EVERY_PAIR` models each other model against the fastest
    (the lowest geometric mean of its per-round medians)."""
    if len(rounds.medians_s) <= EVERY_PAIR:
        return rounds.ratios()
    fastest = min(rounds.medians_s, key=lambda m: float(np.mean(np.log(rounds.medians_s[m]))))
    return [rounds.ratio(m, fastest) for m in rounds.medians_s if m != fastest]


def _header(rounds: PairedLatency) -> str:
    n = len(next(iter(rounds.medians_s.values()), ()))
    calls = ", ".join(f"{k} {v}" for k, v in rounds.calls.items())
    return (
        f"Latency in {n} interleaved rounds at batch {rounds.batch_size} (calls per turn: "
        f"{calls}); each ratio is the geometric mean over rounds with its 95% interval"
        + (":" if len(rounds.medians_s) <= EVERY_PAIR else ", each model against the fastest:")
    )


def pair_text(r: Ratio) -> str:
    """ "a is 2.50× faster than b [2.20, 2.83]", "slower", or "about as fast as" when the interval
    holds 1 or the ratio is under :data:`~whichmodel.choose.facts.SAME`."""
    value, low, high = r.factor()
    if not r.decided or value < SAME:  # a's latency over b's, as the decision says it
        return (
            f"{r.a} is about as fast as {r.b} (latency ratio {1 / r.speedup:.2f} "
            f"[{1 / r.ci_high:.2f}, {1 / r.ci_low:.2f}])"
        )
    word = "slower" if r.speedup < 1 else "faster"
    return f"{r.a} is {value:.2f}× {word} than {r.b} [{low:.2f}, {high:.2f}]"
