"""Benchmark results as JSON-ready data and as table rows (terminal and HTML say the same).

Raw samples stay in the store: the JSON keeps each latency's run count ``n`` instead.
"""

from __future__ import annotations

from typing import Any

from whichmodel.bench.base import cost_to_dict
from whichmodel.units import human_bytes

__all__ = ["cost_to_dict", "generation_rows", "latency_rows", "memory_rows", "notes"]


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.3f} ms"


def latency_rows(cost: dict[str, Any]) -> list[dict[str, str]]:
    """One row per variant × batch size, from :func:`cost_to_dict` output."""
    rows = []
    for profile in (cost, *cost.get("variants", ())):
        for b, lat in sorted(profile["latency"].items(), key=lambda kv: int(kv[0])):
            half = (lat["ci_high_s"] - lat["ci_low_s"]) / 2 / lat["p50_s"] if lat["p50_s"] else None
            tokens = profile.get("tokens_per_s", {}).get(b)
            rows.append(
                {
                    "variant": profile["variant"],
                    "batch": str(b),
                    "p50": _ms(lat["p50_s"]),
                    "p90": _ms(lat["p90_s"]),
                    "p99": _ms(lat["p99_s"]),
                    "mean": _ms(lat["mean_s"]),
                    "ci": "—" if half is None or half != half else f"±{half:.1%}",
                    "runs": f"{lat['n']} ({lat['stop_reason']})",
                    "items/s": f"{profile['throughput'][b]:,.0f}",
                    "tokens/s": "—" if tokens is None else f"{tokens:,.0f}",
                }
            )
    return rows


def memory_rows(cost: dict[str, Any]) -> list[dict[str, str]]:
    """One row per variant: weights, buffers, activations at the largest batch, memory, times."""
    rows = []
    for p in (cost, *cost.get("variants", ())):
        acts = p.get("activation_bytes") or {}
        largest = max(acts, key=int) if acts else None
        quality = p.get("quality")
        rows.append(
            {
                "variant": p["variant"],
                "runtime": p["framework"],
                "weights": "—" if p.get("weight_bytes") is None else f"{p['weight_bytes']:,} B",
                "buffers": "—" if p.get("buffer_bytes") is None else human_bytes(p["buffer_bytes"]),
                "activations": "—"
                if largest is None
                else f"{human_bytes(acts[largest])} (b={largest})",
                "model memory": human_bytes(p["model_memory_bytes"]),
                "peak RSS": human_bytes(p["peak_rss_bytes"]),
                "load": _ms(p["load_time_s"]),
                "variant time": _ms(p.get("variant_time_s")),
                "first call": _ms(p["first_call_s"]),
                "agreement": "—" if not quality else f"{quality['agreement']:.4f}",
                "metric deltas": "—"
                if not quality
                else ", ".join(f"{k} {v:+.4f}" for k, v in quality["deltas"].items()),
            }
        )
    return rows


def generation_rows(cost: dict[str, Any]) -> list[dict[str, str]]:
    """One row per variant × generation grid point."""
    rows = []
    for p in (cost, *cost.get("variants", ())):
        for g in p.get("generation", ()):
            rows.append(
                {
                    "variant": p["variant"],
                    "prompt": str(g["prompt_tokens"]),
                    "new": str(g["new_tokens"]),
                    "batch": str(g["batch_size"]),
                    "kv cache": "yes" if g["kv_cache"] else "no",
                    "TTFT p50": _ms(g["ttft"]["p50_s"]),
                    "inter-token p50": _ms(g["inter_token"]["p50_s"]),
                    "inter-token p90": _ms(g["inter_token"]["p90_s"]),
                    "tokens/s": f"{g['tokens_per_s']:,.1f}",
                    "runs": str(g["total"]["n"]),
                }
            )
    return rows


def notes(cost: dict[str, Any]) -> list[str]:
    """Notes, skipped variants and KV-cache growth, as sentences."""
    out: list[str] = []
    for p in (cost, *cost.get("variants", ())):
        out += list(p.get("notes", ()))
        kv = p.get("kv_cache")
        if kv:
            out.append(
                f"{p['variant']}: KV cache grows {kv['bytes_per_token']:,.0f} B per generated "
                f"token per sequence (cache tensors; process RSS: "
                f"{kv['rss_bytes_per_token']:,.0f} B/token over {kv['tokens']} tokens)."
            )
    out += [f"{v}: not measured ({why})" for v, why in cost.get("skipped_variants", {}).items()]
    if cost.get("timer_overhead_s") is not None:
        out.append(
            f"Timer overhead: {cost['timer_overhead_s'] * 1e6:.2f} µs per sample (not subtracted); "
            f"threads: {cost['threads']}."
        )
    return out
