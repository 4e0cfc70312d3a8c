"""The decision in words, from measured facts only.

Every number a sentence prints goes through :class:`Figures`, which stores the exact text under a
named key; the figures are saved with the decision in results.json, so each number a reader sees
can be traced to what it was computed from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whichmodel.choose.decision import Decision
from whichmodel.choose.evidence import ALPHA, Verdict, verdict
from whichmodel.choose.facts import SAME, ModelFacts, contradicted, secondary_metric
from whichmodel.choose.tradeoffs import sig

if TYPE_CHECKING:
    from whichmodel.bench.paired import Ratio
    from whichmodel.results import Results

# Metrics on a 0..1 scale that people read in percentage points.
POINT_METRICS = {
    "accuracy",
    "macro_f1",
    "balanced_accuracy",
    "f1",
    "precision",
    "recall",
    "roc_auc",
}
MAX_COMPARISONS = 3


class Figures:
    """Formats numbers and records each printed text under a key."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def __call__(self, key: str, text: str) -> str:
        self.values[key] = text
        return text


def explain(
    d: Decision, results: Results, facts: dict[str, ModelFacts]
) -> tuple[list[str], dict[str, str]]:
    """(sentences, figures) for a decision."""
    fig = Figures()
    out: list[str] = []
    out.append(_headline(d, fig))
    if d.pick is not None:
        # late: spec_clauses reads spec sheets, and importing spec imports NumPy
        from whichmodel.choose.spec_clauses import spec_sentence

        for other in _alternatives(d):
            out.append(_versus(d, results, facts[d.pick], facts[other], fig))
            spec = spec_sentence(results, d.pick, other, fig)
            out += [spec] if spec else []
    second = secondary_metric(results, d.metric)
    if d.ties:
        names = ", ".join(d.ties)
        also = f" and on {second}" if second is not None and "quality" in d.ranked_on else ""
        out.append(
            f"{d.pick} ties with {names} on {', '.join(d.ranked_on)}{also}; "
            f"{d.pick} is listed first, so it is picked."
        )
    out += _tie_breaks(d, facts, second, fig)
    out += _check_sentences(d, fig)
    out += _front_sentences(d)
    out += _unreliable_sentence(results)
    return out, fig.values


def _tie_breaks(
    d: Decision, facts: dict[str, ModelFacts], second: str | None, fig: Figures
) -> list[str]:
    """ "whisper ties with ctc-masked on wer (1.0000); lower cer breaks the tie (0.9660 vs
    12.9184)": one sentence per model ranked after the pick only by the task's next metric."""
    if d.pick is None or second is None or "quality" not in d.ranked_on:
        return []
    p = facts[d.pick]
    before = d.ranked_on[: d.ranked_on.index("quality")]  # dimensions ranked ahead of quality
    out = []
    for n in d.ranking[1:]:
        o = facts[n]
        if n in d.ties or d.metric not in p.metrics or d.metric not in o.metrics:
            continue
        same = p.metrics[d.metric][0] == o.metrics[d.metric][0]
        same = same and all(_point(p, x) == _point(o, x) for x in before)
        if not same or d.scores.get(n) != d.scores.get(d.pick):
            continue
        value = fig(f"{d.metric}[{d.pick}]", f"{p.metrics[d.metric][0]:.4f}")
        lead = f"{d.pick} ties with {n} on {d.metric} ({value} each)"
        if second not in o.metrics:
            out.append(f"{lead}; {n} has no {second}, so {d.pick}'s {second} breaks the tie.")
            continue
        better = "higher" if p.metrics[second][0] > o.metrics[second][0] else "lower"
        vp = fig(f"{second}[{d.pick}]", f"{p.metrics[second][0]:.4f}")
        vo = fig(f"{second}[{n}]", f"{o.metrics[second][0]:.4f}")
        out.append(f"{lead}; its {better} {second} breaks the tie ({vp} vs {vo}).")
    return out


def _point(f: ModelFacts, dimension: str) -> float | None:
    return f.latency_s if dimension == "latency" else f.memory_mb


def _unreliable_sentence(results: Results) -> list[str]:
    """Sentences naming the models whose latency no figure above rests on (measured while the
    machine was busy, or contradicted by the interleaved rounds), and the fix."""
    from whichmodel.bench.conditions import FIX

    out = []
    names = [m.name for m in results.models if m.cost is not None and not m.cost.reliable]
    if names:
        which, verb = _names(names), "was" if len(names) == 1 else "were"
        out.append(
            f"The latency of {which} {verb} measured unreliably, so nothing here rests on it: "
            f"{FIX}."
        )
    torn = contradicted(results)
    if torn:
        out.append(
            f"The latency of {_names(torn)} measured one model at a time and in interleaved "
            f"rounds disagree on which is faster, so nothing here rests on it: {FIX}."
        )
    return out


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _headline(d: Decision, fig: Figures) -> str:
    n_models = len(d.tradeoffs.rows)
    if d.pick is None:
        if not d.constraints.any:
            return "No model could be ranked."
        return "No model meets every constraint."
    how = f"best {d.objective.prefer}"
    if d.objective.weights:
        how = "weighted " + ", ".join(
            f"{dim} {fig(f'weight[{dim}]', f'{w:g}')}" for dim, w in d.objective.weights
        )
    if d.constraints.any:
        if len(d.eligible) == 1:
            return f"Pick {d.pick}: it is the only model that meets every constraint."
        n = fig("n_eligible", str(len(d.eligible)))
        return (
            f"Pick {d.pick}: of the {n} models that meet every constraint, it ranks first "
            f"on {how} (ranked on {', '.join(d.ranked_on)})."
        )
    if n_models == 1:
        return f"Pick {d.pick}: it is the only model compared."
    n = fig("n_models", str(n_models))
    return (
        f"Pick {d.pick}: of {n} models, it ranks first on {how} (ranked on "
        f"{', '.join(d.ranked_on)})."
    )


def _alternatives(d: Decision) -> list[str]:
    """The models worth comparing the pick with: the rest of the front, those that dominate
    the pick, else the runner-up."""
    others = [m for m in d.front.members if m != d.pick]
    others += [m for m in d.front.dominated_by.get(d.pick or "", ()) if m not in others]
    if not others and len(d.ranking) > 1:
        others = [d.ranking[1]]
    return others[:MAX_COMPARISONS]


def _versus(d: Decision, results: Results, p: ModelFacts, o: ModelFacts, fig: Figures) -> str:
    """ "P vs O: P is 3.2× faster at batch 1 ... and needs 41% less memory ...; it loses 0.8
    points of accuracy, within the 95% CI of P − O [-1.9, +0.3]." """
    key = f"{p.name} vs {o.name}"
    speed = _speed(d, results, p, o, fig, key)
    parts = [x for x in (speed, _memory(p, o, fig, key)) if x]
    quality = _quality(d, results, p, o, fig, key)
    if not parts:
        return f"{key}: the cost of {o.name} or {p.name} is unknown; {quality}."
    return f"{key}: {p.name} {' and '.join(parts)}; {quality}."


def _speed(
    d: Decision, results: Results, p: ModelFacts, o: ModelFacts, fig: Figures, key: str
) -> str | None:
    if p.latency_ms is None or o.latency_ms is None:
        return None
    b = fig("latency_batch_size", str(d.constraints.latency_batch_size))
    pct = d.constraints.latency_percentile
    lp = fig(f"latency_ms[{p.name}]", sig(p.latency_ms))
    lo = fig(f"latency_ms[{o.name}]", sig(o.latency_ms))
    times = f"({lp} vs {lo} ms, {pct})"
    paired = _paired_ratio(d, results, p.name, o.name)
    if paired is not None:
        return _paired_speed(paired, o.name, b, times, fig, key)
    ratio = o.latency_ms / p.latency_ms if p.latency_ms > 0 else float("inf")
    if ratio >= SAME:
        return f"is {fig(f'{key} speedup', f'{ratio:.1f}')}× faster at batch {b} {times}"
    if ratio <= 1 / SAME:
        return f"is {fig(f'{key} slowdown', f'{1 / ratio:.1f}')}× slower at batch {b} {times}"
    return f"is about as fast at batch {b} {times}"


def _paired_ratio(d: Decision, results: Results, p: str, o: str) -> Ratio | None:
    """``p`` against ``o`` from the interleaved rounds, when they are reliable, hold both and
    timed the batch size and percentile (the median) the decision reads latency at."""
    rounds = results.paired_latency
    c = d.constraints
    if rounds is None or not rounds.reliable or rounds.batch_size != c.latency_batch_size:
        return None
    if c.latency_percentile != "p50":  # the rounds compare medians
        return None
    if p not in rounds.medians_s or o not in rounds.medians_s:
        return None
    return rounds.ratio(p, o)


def _paired_speed(r: Ratio, o: str, b: str, times: str, fig: Figures, key: str) -> str:
    """ "is 2.5× faster at batch 1 [2.20, 2.83] over 10 interleaved rounds (...)"; "about as
    fast" when the interval holds 1 or the speedup is under :data:`SAME`."""
    n = fig("interleaved_rounds", str(r.rounds))
    value, low, high = r.factor()
    same = not r.decided or value < SAME
    if same:  # the latency ratio of p over o, as measured
        value, low, high = 1 / r.speedup, 1 / r.ci_high, 1 / r.ci_low
    interval = (
        f"[{fig(f'{key} ratio ci_low', f'{low:.2f}')}, "
        f"{fig(f'{key} ratio ci_high', f'{high:.2f}')}]"
    )
    if same:
        ratio = fig(f"{key} latency ratio", f"{value:.2f}")
        return (
            f"is about as fast at batch {b} {times}: over {n} interleaved rounds its latency "
            f"is {ratio}× {o} {interval}"
        )
    slower = r.speedup < 1
    word = "slower" if slower else "faster"
    shown = fig(f"{key} {'slowdown' if slower else 'speedup'}", f"{value:.1f}")
    return f"is {shown}× {word} at batch {b} {interval} over {n} interleaved rounds {times}"


def _memory(p: ModelFacts, o: ModelFacts, fig: Figures, key: str) -> str | None:
    if p.memory_mb is None or o.memory_mb is None or o.memory_mb <= 0 or p.memory_mb <= 0:
        return None
    mp = fig(f"memory_mb[{p.name}]", f"{p.memory_mb:.1f}")
    mo = fig(f"memory_mb[{o.name}]", f"{o.memory_mb:.1f}")
    sizes = f"({mp} vs {mo} MB)"
    ratio = p.memory_mb / o.memory_mb
    if ratio <= 1 / SAME:
        return (
            f"needs {fig(f'{key} memory saved %', f'{(1 - ratio) * 100:.0f}')}% less memory {sizes}"
        )
    if ratio >= 2:  # "2175% more" reads worse than "22.8× the memory"
        return f"needs {fig(f'{key} memory ratio', f'{ratio:.1f}')}× the memory {sizes}"
    if ratio >= SAME:
        return (
            f"needs {fig(f'{key} memory extra %', f'{(ratio - 1) * 100:.0f}')}% more memory {sizes}"
        )
    return f"needs about the same memory {sizes}"


def _quality(
    d: Decision, results: Results, p: ModelFacts, o: ModelFacts, fig: Figures, key: str
) -> str:
    m = d.metric
    if m not in p.metrics or m not in o.metrics:
        return f"{m} is unknown for one of them"
    diff, ci = results.difference(m, p.name, o.name) or (None, None)
    if diff is None:
        diff = p.metrics[m][0] - o.metrics[m][0]
    scale, unit = (100.0, f"points of {m}") if m in POINT_METRICS else (1.0, m)
    digits = 1 if scale == 100 else 4
    gain = diff if d.higher_is_better else -diff
    size = fig(f"{key} {m} change", f"{abs(gain) * scale:.{digits}f}")
    if float(size) == 0:
        verb = f"it matches {o.name} on {m}"
    else:
        verb = f"it {'gains' if gain > 0 else 'loses'} {size} {unit}"
        if not d.higher_is_better:
            verb += (
                f" ({'lower' if gain > 0 else 'higher'} {m} is {'better' if gain > 0 else 'worse'})"
            )
    if ci is None:
        return f"{verb}; no paired interval was computed"
    pct = fig("confidence_pct", f"{round(results.statistics.confidence * 100)}")
    lo = fig(f"{key} ci_low", _signed(ci[0] * scale, digits))
    hi = fig(f"{key} ci_high", _signed(ci[1] * scale, digits))
    interval = f"the {pct}% CI of {p.name} − {o.name} [{lo}, {hi}]"
    v = verdict(results, m, p.name, o.name)
    if v is not None:  # the verdict is the adjusted test's, the one the tables show
        return f"{verb} ({interval.removeprefix('the ')}); {_verdict_words(v, fig, key)}"
    if ci[0] <= 0 <= ci[1]:
        return f"{verb}, within {interval}, so the data cannot tell them apart on {m}"
    pairs = len(results.models) * (len(results.models) - 1) // 2
    caveat = f" (not adjusted for the {fig('n_pairs', str(pairs))} pairs)" if pairs > 1 else ""
    return f"{verb}, and {interval} excludes 0{caveat}"


def _verdict_words(v: Verdict, fig: Figures, key: str) -> str:
    """ "Holm-adjusted McNemar p = 0.28 over 15 pairs: not significant at 5%, so the data
    cannot tell them apart on accuracy"."""
    number = fig(f"{key} p", v.p_number)
    p = f"p {number}" if number.startswith("<") else f"p = {number}"
    over = f" over {fig('n_pairs', str(v.pairs))} pairs" if v.pairs > 1 else ""
    alpha = fig("alpha_pct", f"{ALPHA * 100:g}")
    if v.significant:
        return f"{v.name()} {p}{over}: significant at {alpha}%"
    return (
        f"{v.name()} {p}{over}: not significant at {alpha}%, so the data cannot tell them "
        f"apart on {v.metric}"
    )


def _signed(x: float, digits: int) -> str:
    rounded = round(x, digits)
    return f"{rounded if rounded != 0 else 0.0:+.{digits}f}"


def _check_sentences(d: Decision, fig: Figures) -> list[str]:
    out = []
    for c in d.checks:
        if c.status == "meets":
            continue
        if c.kind == "latency":  # the label names the batch size
            fig("latency_batch_size", str(d.constraints.latency_batch_size))
        what = f"{c.kind} {c.label}" if c.kind in ("min", "max") else f"the {c.label} limit"
        limit = fig(f"limit[{c.kind} {c.label}]", _fmt(c.limit, c.kind))
        if c.status == "unknown":
            out.append(
                f"{c.model} cannot be shown to meet {what} ({limit} {c.unit}".rstrip()
                + f"): {c.reason}; it is treated as not meeting it."
            )
            continue
        assert c.measured is not None and c.excess is not None
        value = fig(f"{c.kind} {c.label}[{c.model}]", _fmt(c.measured, c.kind))
        excess = fig(f"{c.kind} {c.label} excess[{c.model}]", _fmt(c.excess, c.kind))
        unit = f" {c.unit}" if c.unit else ""
        side = "below" if c.kind == "min" else "over"
        out.append(
            f"{c.model} breaks {what}: {value}{unit} against {limit}{unit}, {excess}{unit} {side}."
        )
    return out


def _fmt(x: float, kind: str) -> str:
    if kind in ("min", "max"):
        return f"{x:.4f}"
    if kind == "memory":
        return f"{x:.1f}"
    return sig(x)


def _front_sentences(d: Decision) -> list[str]:
    f = d.front
    out = []
    if len(d.tradeoffs.rows) > 1 and f.dimensions:
        out.append(f"Pareto front over {' × '.join(f.dimensions)}: {', '.join(f.members)}.")
    if f.dropped:
        out.append(
            f"No model has {' or '.join(f.dropped)} measured, so the front and the "
            "ranking leave it out."
        )
    for model, missing in f.unplaced.items():
        rank = " and ranks after the models whose value is known" if model in d.eligible else ""
        out.append(
            f"{model} has no {' or '.join(missing)} measurement "
            f"({_why(d, model, missing)}): it is not placed on the front{rank}; "
            "the missing value is not guessed."
        )
    dims = ", ".join(d.metric if x == "quality" else x for x in f.dimensions)
    for group in f.ties:
        out.append(f"{' and '.join(group)} are equal on {dims}.")
    return out


def _why(d: Decision, model: str, missing: tuple[str, ...]) -> str:
    cell = d.tradeoffs.rows[model].get(missing[0])
    return cell.note if cell is not None and cell.note else "not measured"
