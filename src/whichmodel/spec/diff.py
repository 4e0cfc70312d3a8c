"""Two spec sheets side by side: the differences first, each with a consequence computed from
the numbers ("B: GQA with 8 K/V heads → KV cache 4.0× smaller than A at the same context")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from whichmodel.spec.base import Fact, SpecSheet

# Facts whose ratio has a consequence worth a sentence: key -> what the number is.
_RATIOS: dict[str, str] = {
    "size.total": "parameters",
    "size.active": "active parameters per token",
    "compute.forward_flops": "forward FLOPs",
    "memory.weights_bytes": "weight memory",
    "memory.kv_cache_bytes_per_token": "KV cache",
    "memory.kv_cache_bytes_at_context": "KV cache at full context",
    "design.context_length": "context length",
    "design.vocab_size": "vocabulary",
    "tokenizer.chars_per_token": "characters per token",
}


@dataclass(frozen=True)
class Difference:
    """One fact that differs: both values and, when numbers allow, what it means."""

    key: str
    a: Any
    b: Any
    consequence: str


@dataclass(frozen=True)
class SpecDiff:
    """Two sheets and their differences (consequential ones first)."""

    a: SpecSheet
    b: SpecSheet
    differences: tuple[Difference, ...]
    same: tuple[str, ...]


def diff(a: SpecSheet, b: SpecSheet) -> SpecDiff:
    """Compare every fact of two sheets (facts unknown in both are skipped)."""
    names = (a.identity.name, b.identity.name)
    b_context = b.memory.context if b.memory else None
    dtypes = (a.memory.dtype, b.memory.dtype) if a.memory and b.memory else None
    found, same = diff_facts(a.facts(), b.facts(), names, b_context=b_context,
                             kv_dtypes=dtypes)
    return SpecDiff(a, b, found, same)


def diff_facts(
    fa: dict[str, Fact[Any]],
    fb: dict[str, Fact[Any]],
    names: tuple[str, str],
    *,
    b_context: int | None = None,
    kv_dtypes: tuple[str, str] | None = None,
) -> tuple[tuple[Difference, ...], tuple[str, ...]]:
    """(differences, consequential ones first; keys equal in both) of two ``section.field`` ->
    :class:`Fact` maps. Facts unknown in both are skipped. ``b_context`` is the context the
    second model's memory figures assume (it names a sliding window's effect); ``kv_dtypes``
    the dtypes each side's KV cache is counted at (it names a different cache dtype)."""
    if names[0] == names[1]:
        names = ("A", "B")
    found: list[Difference] = []
    same: list[str] = []
    for key in [*fa, *[k for k in fb if k not in fa]]:
        va = fa[key].value if key in fa else None
        vb = fb[key].value if key in fb else None
        if va is None and vb is None:
            continue
        if va == vb:
            same.append(key)
            continue
        found.append(Difference(key, va, vb, _consequence(key, va, vb, names, (fa, fb),
                                                          (b_context, kv_dtypes))))
    ranked = sorted(found, key=lambda d: (d.key not in _RATIOS, not d.consequence))
    return tuple(ranked), tuple(same)


def _ratio(r: float) -> str:
    """How many times larger or smaller: 4.0 -> '4.0× larger', 0.25 -> '4.0× smaller', and
    'the same' for a ratio that rounds to 1.00."""
    x, word = (r, "larger") if r >= 1 else (1 / r, "smaller")
    digits = 2 if x < 2 else 1  # 1.03× is worth saying; 4.0× is enough
    if f"{x:.{digits}f}" == "1.00":  # equal within rounding: "1.00× smaller" says nothing
        return "the same"
    return f"{x:.{digits}f}× {word}" if x < 100 else f"{x:,.0f}× {word}"


def _consequence(
    key: str,
    va: Any,
    vb: Any,
    names: tuple[str, str],
    facts: tuple[dict[str, Fact[Any]], dict[str, Fact[Any]]],
    memory: tuple[int | None, tuple[str, str] | None],
) -> str:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (va, vb))
    if key not in _RATIOS or not numbers or not va or not vb:
        return ""
    a_name, b_name = names
    fb = facts[1]
    b_context, kv_dtypes = memory
    r = vb / va
    what = _RATIOS[key]
    if key == "memory.weights_bytes" and any(_stored_bits(f) for f in facts):
        return _bits_consequence((va, vb), names, facts)
    if key == "size.active":
        if not any(_value(f, "size.experts") for f in facts):
            return ""  # without experts every parameter is active: the total's row says it
        if _ratio(r).startswith("the same"):
            return f"{b_name}: the same {what} as {a_name} (within rounding)"
        return f"{b_name}: {what} {_ratio(r)} than {a_name} → ~{r:.2f}× the FLOPs per token"
    attention = fb.get("design.attention")
    if key.startswith("memory.kv_cache") and attention is not None:
        kv_heads, window = (fb.get(k, Fact(None, "unknown")).value
                            for k in ("design.kv_heads", "design.sliding_window"))
        why = f"{attention.value} with {kv_heads} K/V heads"
        if key.endswith("at_context") and window and b_context and window < b_context:
            why += f", {window}-token window"
        if kv_dtypes and kv_dtypes[0] != kv_dtypes[1]:
            why += f", {kv_dtypes[1]} cache against {kv_dtypes[0]}"
        if _ratio(r) == "the same":
            return f"{b_name}: {why} → the same {what} as {a_name} at the same context"
        return f"{b_name}: {why} → {what} {_ratio(r)} than {a_name} at the same context"
    if _ratio(r).startswith("the same"):  # an ONNX export of the same model: 1.00× is noise
        return f"{b_name}: the same {what} as {a_name} (within rounding)"
    return f"{b_name}: {what} {_ratio(r)} than {a_name}"


def _value(facts: dict[str, Fact[Any]], key: str) -> Any:
    fact = facts.get(key)
    return None if fact is None else fact.value


def _stored_bits(facts: dict[str, Fact[Any]]) -> float | None:
    fact = facts.get("storage.bits_per_weight")
    return None if fact is None or not fact.value else float(fact.value)


def _bits_consequence(weights: tuple[float, float], names: tuple[str, str],
                      facts: tuple[dict[str, Fact[Any]], dict[str, Fact[Any]]]) -> str:
    """'q4: 4.6 bits per weight, weight memory 3.5× smaller than base (16.0 bits per weight)',
    said of the smaller side, when one sheet's storage mixes types (a quantized GGUF file); the
    other side's bits per weight are its weight memory over its parameters."""
    bits = []
    for side, fact_map in enumerate(facts):
        stored, total = _stored_bits(fact_map), fact_map.get("size.total")
        if stored is None and total is not None and total.value:
            stored = weights[side] * 8 / total.value
        bits.append(stored)
    small = 0 if weights[0] <= weights[1] else 1
    large = 1 - small
    ratio = _ratio(weights[small] / weights[large])
    if ratio == "the same":
        ratio = "about equal to"
    mine = f"{bits[small]:.1f} bits per weight, " if bits[small] is not None else ""
    theirs = f" ({bits[large]:.1f} bits per weight)" if bits[large] is not None else ""
    than = "" if ratio == "about equal to" else " than"
    return f"{names[small]}: {mine}weight memory {ratio}{than} {names[large]}{theirs}"
