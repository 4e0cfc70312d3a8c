"""What the spec sheets say about two models, in words, for the decision.

"b vs a, from the spec sheets: b uses grouped-query attention with 2 K/V heads where a uses
multi-head attention with 8, has 2 layers vs 4 and has 2.2× fewer parameters (19.0k vs 42.7k)."
Only differences both sheets know are cited: a fact unknown for either model is never compared,
and a ratio closer to 1 than :data:`~whichmodel.choose.facts.SAME` (as for measured ratios) is
not worth a clause. Every number goes through the decision's figures, like every other number a
decision prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from whichmodel.choose.facts import SAME  # ratios closer to 1 than this are not cited
from whichmodel.spec.compact import comparable_flops

if TYPE_CHECKING:
    from whichmodel.results import Results
    from whichmodel.spec.compact import CompactSpec

Fig = Callable[[str, str], str]

#: At most this many clauses per sentence: the ones most likely to explain cost come first.
MAX_CLAUSES = 4

_ATTENTION = {
    "MHA": "multi-head attention",
    "MQA": "multi-query attention",
    "GQA": "grouped-query attention",
    "MLA": "multi-head latent attention",
}


def spec_sentence(results: Results, p: str, o: str, fig: Fig) -> str | None:
    """The spec differences of ``p`` against ``o`` as one sentence, or None when the results
    keep no spec for either or the sheets show no difference worth citing."""
    sp, so = results.model(p).spec, results.model(o).spec
    if sp is None or so is None:
        return None
    a, b = _values(sp), _values(so)
    key = f"{p} vs {o}"
    clauses = [
        c
        for c in (
            _family(a, b, p, o, fig),
            _attention(a, b, p, o, fig),
            _layers(a, b, p, o, fig),
            _parameters(a, b, p, o, fig, key),
            _flops(sp, so, p, o, fig, key),
            _dtype(a, b, p, o, fig),
        )
        if c
    ][:MAX_CLAUSES]
    if not clauses:
        return None
    listed = clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]
    return f"{key}, from the spec sheets: {p} {listed}."


def _values(spec: CompactSpec) -> dict[str, Any]:
    """key -> value for the facts a sheet knows (unknown facts are left out: never compared)."""
    return {
        k: f.value for k, f in spec.facts.items() if f.source != "unknown" and f.value is not None
    }


def _both(a: dict[str, Any], b: dict[str, Any], key: str) -> tuple[Any, Any] | None:
    if key not in a or key not in b or a[key] == b[key]:
        return None
    return a[key], b[key]


def _family(a: dict[str, Any], b: dict[str, Any], p: str, o: str, fig: Fig) -> str | None:
    pair = _both(a, b, "identity.family")
    if pair is None:
        return None
    fp, fo = fig(f"family[{p}]", str(pair[0])), fig(f"family[{o}]", str(pair[1]))
    return f"is a different family ({fp}; {o}: {fo})"


def _attention(a: dict[str, Any], b: dict[str, Any], p: str, o: str, fig: Fig) -> str | None:
    """ "uses grouped-query attention with 2 K/V heads where o uses multi-head attention with 8"
    (or "has 2 K/V heads vs 8" when the variant is the same)."""
    kind, heads = _both(a, b, "design.attention"), _both(a, b, "design.kv_heads")
    if kind is None and heads is None:
        return None
    hp = ho = ""
    if "design.kv_heads" in a and "design.kv_heads" in b:
        hp = fig(f"kv_heads[{p}]", str(a["design.kv_heads"]))
        ho = fig(f"kv_heads[{o}]", str(b["design.kv_heads"]))
    if kind is None:  # the same variant, a different number of K/V heads
        return f"has {hp} K/V heads vs {ho}"
    mine, theirs = (_ATTENTION.get(str(k), str(k)) for k in kind)
    if not hp:
        return f"uses {mine} where {o} uses {theirs}"
    return f"uses {mine} with {_heads(hp)} where {o} uses {theirs} with {ho}"


def _heads(text: str) -> str:
    return f"{text} K/V head" + ("" if text == "1" else "s")


def _layers(a: dict[str, Any], b: dict[str, Any], p: str, o: str, fig: Fig) -> str | None:
    pair = _both(a, b, "design.layers")
    if pair is None:
        return None
    return f"has {fig(f'layers[{p}]', str(pair[0]))} layers vs {fig(f'layers[{o}]', str(pair[1]))}"


def _parameters(
    a: dict[str, Any], b: dict[str, Any], p: str, o: str, fig: Fig, key: str
) -> str | None:
    """Total parameters; active ones per token when either model is a mixture of experts."""
    moe = bool(a.get("size.experts")) or bool(b.get("size.experts"))
    field, what = ("size.active", "active parameters per token") if moe else ("size.total", "")
    pair = _both(a, b, field)
    if pair is None:
        return None
    cited = _ratio(pair, fig, f"{key} parameter ratio")
    if cited is None:
        return None
    times, word = cited
    np_, no = fig(f"parameters[{p}]", count(pair[0])), fig(f"parameters[{o}]", count(pair[1]))
    return f"has {times}× {word} {what or 'parameters'} ({np_} vs {no})"


def _flops(sp: CompactSpec, so: CompactSpec, p: str, o: str, fig: Fig, key: str) -> str | None:
    """Forward FLOPs, only when both count them per the same unit at the same context/shape."""
    pair = _both(_values(sp), _values(so), "compute.forward_flops")
    if pair is None or not comparable_flops(sp, so):
        return None
    cited = _ratio(pair, fig, f"{key} FLOP ratio")
    if cited is None:
        return None
    times, word = cited
    fp, fo = fig(f"flops[{p}]", count(pair[0])), fig(f"flops[{o}]", count(pair[1]))
    per = "token" if sp.flops_per == "token" else "example"
    at = ""
    if per == "token" and sp.context:
        context = fig("flops context", f"{sp.context:,}")
        at = f" at {context} tokens of context"
    return f"needs {times}× {word} forward FLOPs per {per}{at} ({fp} vs {fo})"


def _ratio(pair: tuple[Any, Any], fig: Fig, label: str) -> tuple[str, str] | None:
    """(the pick's ratio as a figure, "fewer" or "more") of the other's count over the pick's,
    or None when either is zero or the ratio is closer to 1 than ``SAME``."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
    if not numbers or not pair[0] or not pair[1]:  # a hand-edited sheet: nothing to compare
        return None
    ratio = pair[1] / pair[0]
    if 1 / SAME < ratio < SAME:
        return None
    return fig(label, f"{max(ratio, 1 / ratio):.1f}"), "fewer" if ratio > 1 else "more"


def _dtype(a: dict[str, Any], b: dict[str, Any], p: str, o: str, fig: Fig) -> str | None:
    pair = _both(a, b, "size.stored_dtype")
    if pair is None:
        return None
    dp, do = fig(f"dtype[{p}]", str(pair[0])), fig(f"dtype[{o}]", str(pair[1]))
    return f"stores its weights in {dp} ({o}: {do})"


def count(n: float) -> str:
    """A count with a k/M/B suffix and 3 significant digits: 46240 -> '46.2k'."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            scaled = n / size
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f"{scaled:.{digits}f}{unit}"
    return f"{n:.0f}"
