"""The compact spec a comparison keeps per model (``models[].spec`` in results.json), and the
differences between two of them.

A compact spec is the handful of sheet facts a decision or a reviewer cites — family, parameters,
FLOPs, attention variant and K/V heads, positional encoding, norm, MoE, dtype, context length,
trees — each still tagged with its source. Every key in :data:`SPEC_KEYS` is present for every
model: a fact the sheet does not have (no transformer design for a random forest, no FLOPs for an
estimator) is stored as ``unknown`` with a note saying why, so readers see it is unknown instead
of missing.

    >>> spec = compact(whichmodel.inspect("hf:./tiny-llama"))  # doctest: +SKIP
    >>> spec.facts["design.attention"]                          # doctest: +SKIP
    Fact(value='GQA', source='config', note='')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from whichmodel.spec.base import Fact, SpecSheet
from whichmodel.spec.diff import Difference, diff_facts

#: Bump when the compact layout or the facts it keeps change (it is a cache key part).
COMPACT_FORMAT = 1

#: The facts a comparison keeps, in the order reports show them, with a short label each.
SPEC_KEYS: dict[str, str] = {
    "identity.family": "family",
    "identity.architecture": "architecture",
    "identity.framework": "framework",
    "size.total": "parameters",
    "size.active": "active parameters per token",
    "size.experts": "experts (MoE)",
    "size.experts_per_token": "experts per token",
    "size.stored_dtype": "stored dtype",
    "compute.forward_flops": "forward FLOPs",
    "memory.weights_bytes": "weight memory",
    "memory.kv_cache_bytes_per_token": "KV cache per token",
    "design.layers": "layers",
    "design.hidden_size": "hidden size",
    "design.attention": "attention",
    "design.heads": "attention heads",
    "design.kv_heads": "K/V heads",
    "design.head_dim": "head dim",
    "design.position": "positional encoding",
    "design.norm": "norm",
    "design.norm_placement": "norm placement",
    "design.activation": "activation",
    "design.gating": "FFN gating",
    "design.sliding_window": "sliding window",
    "design.context_length": "context length",
    "design.vocab_size": "vocabulary",
    "design.tied_embeddings": "tied embeddings",
    "tokenizer.algorithm": "tokenizer",
    "storage.quantization": "quantization",
    "estimator.kind": "estimator kind",
    "estimator.trees": "trees",
    "estimator.max_depth": "max tree depth",
    "estimator.n_features": "input features",
}

#: Why a whole section is missing, by section, for the ``unknown`` note.
_ABSENT = {
    "compute": "FLOPs are not counted for this kind of model",
    "memory": "no inference-memory figures for this kind of model",
    "design": "no transformer design fields: the model is not a transformer LM or encoder",
    "tokenizer": "no tokenizer files with the model",
    "storage": "no weight files read",
    "estimator": "not a scikit-learn / gradient-boosting estimator",
}


@dataclass(frozen=True)
class CompactSpec:
    """The compact spec of one model.

    Args:
        format: :data:`COMPACT_FORMAT` when it was made.
        flops_per: what ``compute.forward_flops`` counts per: ``"token"``, ``"example"``, or
            None when FLOPs are not counted.
        context / input_shape: the context length or input shape the FLOPs were counted at.
        memory_dtype: the dtype the memory facts assume.
        facts: every key of :data:`SPEC_KEYS`, in that order.
    """

    format: int
    flops_per: str | None
    context: int | None
    input_shape: tuple[int, ...] | None
    memory_dtype: str | None
    facts: dict[str, Fact[Any]]

    def to_dict(self) -> dict[str, Any]:
        """The ``spec`` object of a results.json model; each fact is ``{"value", "source"[,
        "note"]}`` as :meth:`SpecSheet.to_dict` writes it."""
        return {
            "format": self.format,
            "flops_per": self.flops_per,
            "context": self.context,
            "input_shape": None if self.input_shape is None else list(self.input_shape),
            "memory_dtype": self.memory_dtype,
            "facts": {key: _fact_dict(fact) for key, fact in self.facts.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompactSpec:
        """The inverse of :meth:`to_dict`."""
        shape = data.get("input_shape")
        return cls(
            data["format"],
            data.get("flops_per"),
            data.get("context"),
            None if shape is None else tuple(shape),
            data.get("memory_dtype"),
            {
                key: Fact(f.get("value"), f.get("source", "unknown"), f.get("note", ""))
                for key, f in (data.get("facts") or {}).items()
            },
        )


def compact(sheet: SpecSheet) -> CompactSpec:
    """The compact spec of a sheet (the ``spec`` object of a results.json model)."""
    facts = sheet.facts()
    out: dict[str, Fact[Any]] = {}
    for key in SPEC_KEYS:
        fact = facts.get(key)
        if fact is None:
            section = key.split(".", 1)[0]
            fact = Fact(None, "unknown", _ABSENT.get(section, "not on the spec sheet"))
        elif fact.value is None and fact.source != "unknown":
            fact = Fact(None, "unknown", fact.note)
        out[key] = fact
    c, m = sheet.compute, sheet.memory
    return CompactSpec(
        COMPACT_FORMAT,
        c.unit if c is not None and c.forward_flops.value is not None else None,
        c.context if c is not None else None,
        tuple(c.input_shape) if c is not None and c.input_shape else None,
        m.dtype if m is not None else None,
        out,
    )


def _fact_dict(fact: Fact[Any]) -> dict[str, Any]:
    value = dict(fact.value) if isinstance(fact.value, dict) else fact.value
    out = {"value": value, "source": fact.source}
    return {**out, "note": fact.note} if fact.note else out


def compact_diff(
    a: CompactSpec, b: CompactSpec, names: tuple[str, str]
) -> tuple[tuple[Difference, ...], tuple[str, ...]]:
    """(differences, consequential first; keys equal in both) of two compact specs.

    FLOPs are compared only when both count them per the same unit at the same context or input
    shape; otherwise the difference is listed with no consequence (the numbers measure different
    things).
    """
    found, same = diff_facts(a.facts, b.facts, names, b_context=b.context)
    if not comparable_flops(a, b):
        found = tuple(
            Difference(d.key, d.a, d.b, "") if d.key == "compute.forward_flops" else d
            for d in found
        )
    return found, same


def comparable_flops(a: CompactSpec, b: CompactSpec) -> bool:
    """Both specs count forward FLOPs per the same unit, context and input shape."""
    return a.flops_per is not None and (a.flops_per, a.context, a.input_shape) == (
        b.flops_per,
        b.context,
        b.input_shape,
    )
