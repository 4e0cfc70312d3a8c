"""Benchmark results as table rows (terminal and HTML say the same), and as JSON-ready data.

The rows are read from a :class:`~whichmodel.bench.base.CostProfile` and its variants;
:func:`cost_to_dict` is its JSON form (raw samples stay in the store: each latency keeps its run
count ``n`` instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from whichmodel.bench.base import cost_to_dict
from whichmodel.units import human_bytes

if TYPE_CHECKING:
    from whichmodel.bench.base import CostProfile
    from whichmodel.bench.load import LoadProfile, Spread
    from whichmodel.bench.roofline import ModelRoofline

__all__ = [
    "cost_to_dict", "generation_rows", "latency_rows", "load_tables", "memory_rows", "notes"
]


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1e3:.3f} ms"


def latency_rows(
    cost: CostProfile, roofline: ModelRoofline | None = None
) -> list[dict[str, str]]:
    """One row per variant × batch size; with ``roofline``, its % of peak FLOP/s, % of
    bandwidth and bound next to the latency."""
    from whichmodel.report.roofline import COLUMNS, cells

    rows = []
    for profile in (cost, *cost.variants):
        for b, lat in sorted(profile.latency.items()):
            half = (lat.ci_high_s - lat.ci_low_s) / 2 / lat.p50_s if lat.p50_s else None
            tokens = profile.tokens_per_s(b)
            rows.append(
                {
                    "variant": profile.variant,
                    "batch": str(b),
                    "p50": _ms(lat.p50_s),
                    "p90": _ms(lat.p90_s),
                    "p99": _ms(lat.p99_s),
                    "mean": _ms(lat.mean_s),
                    "ci": "—" if half is None or half != half else f"±{half:.1%}",
                    "runs": f"{lat.n} ({lat.stop_reason})",
                    "items/s": f"{profile.throughput(b):,.0f}",
                    "tokens/s": "—" if tokens is None else f"{tokens:,.0f}",
                }
            )
            if roofline is not None:
                roof = cells(roofline.call(profile.variant, b))
                rows[-1] |= {c: roof.get(c, "—") for c in COLUMNS}
    return rows


def load_tables(profile: LoadProfile) -> list[tuple[str, list[dict[str, str]]]]:
    """The two (caption, rows) tables of a served model's load sweep, a row per concurrency
    level: the per-request p50 / p90 / p99 of TTFT, inter-token latency and tokens/s; the
    level's requests sent and failed, and its throughput."""

    def three(s: Spread | None, scale: float = 1.0) -> str:
        return "—" if s is None else " / ".join(f"{v * scale:.3g}" for v in (s.p50, s.p90, s.p99))

    per_request = [
        {
            "concurrency": str(level.concurrency),
            "TTFT ms": three(level.ttft_s, 1e3),
            "ITL ms": three(level.itl_s, 1e3),
            "tokens/s": three(level.tokens_per_s),
        }
        for level in profile.levels
    ]
    throughput = [
        {
            "concurrency": str(level.concurrency),
            "sent": str(level.sent) + ("" if level.stopped == "requests" else " (deadline)"),
            "failed": str(level.failed),
            "error rate": f"{level.error_rate:.1%}",
            "requests/s": f"{level.requests_per_s:.3g}",
            "output tokens/s": f"{level.output_tokens_per_s:.3g}",
        }
        for level in profile.levels
    ]
    config = profile.config
    title = f"{profile.model} ({profile.api} API, streamed, {config.max_tokens} new tokens)"
    bounds = f"at most {config.requests} requests and {config.deadline_s:g} s per level"
    return [(f"{title}: per request, p50 / p90 / p99", per_request),
            (f"throughput ({bounds})", throughput)]  # fmt: skip


def memory_rows(cost: CostProfile) -> list[dict[str, str]]:
    """One row per variant: weights, buffers, activations at the largest batch, memory, times."""
    rows = []
    for p in (cost, *cost.variants):
        acts = p.activation_bytes
        largest = max(acts) if acts else None
        quality = p.quality
        rows.append(
            {
                "variant": p.variant,
                "runtime": p.framework,
                "weights": "—" if p.weight_bytes is None else f"{p.weight_bytes:,} B",
                "buffers": "—" if p.buffer_bytes is None else human_bytes(p.buffer_bytes),
                "activations": "—"
                if largest is None
                else f"{human_bytes(acts[largest])} (b={largest})",
                "model memory": human_bytes(p.model_memory_bytes),
                "peak RSS": human_bytes(p.peak_rss_bytes),
                "load": _ms(p.load_time_s),
                "variant time": _ms(p.variant_time_s),
                "first call": _ms(p.first_call_s),
                "agreement": "—" if quality is None else f"{quality.agreement:.4f}",
                "metric deltas": "—"
                if quality is None
                else ", ".join(f"{k} {v:+.4f}" for k, v in quality.deltas.items()),
                **_device_cells(p),
            }
        )
    return rows


def _device_cells(p: CostProfile) -> dict[str, str]:
    """On a GPU, the device's peak memory (allocated, and reserved by the caching allocator)."""
    memory = p.device_memory
    if not memory:
        return {}
    return {
        f"{p.device} allocated": human_bytes(memory["peak_allocated_bytes"]),
        f"{p.device} reserved": human_bytes(memory["peak_reserved_bytes"]),
    }


def generation_rows(cost: CostProfile) -> list[dict[str, str]]:
    """One row per variant × generation grid point."""
    rows = []
    for p in (cost, *cost.variants):
        for g in p.generation:
            rows.append(
                {
                    "variant": p.variant,
                    "prompt": str(g.prompt_tokens),
                    "new": str(g.new_tokens),
                    "batch": str(g.batch_size),
                    "kv cache": "yes" if g.kv_cache else "no",
                    "TTFT p50": _ms(g.ttft.p50_s),
                    "inter-token p50": _ms(g.inter_token.p50_s),
                    "inter-token p90": _ms(g.inter_token.p90_s),
                    "tokens/s": f"{g.tokens_per_s:,.1f}",
                    "runs": str(g.total.n),
                }
            )
    return rows


def notes(cost: CostProfile, roofline: ModelRoofline | None = None) -> list[str]:
    """Notes, unreliable timings, skipped variants, KV-cache growth and, with ``roofline``, why
    a roofline figure is unknown and each decode point against its bound, as sentences."""
    from whichmodel.bench.conditions import FIX

    out: list[str] = []
    for p in (cost, *cost.variants):
        out += list(p.notes)
        out += [f"{p.variant}: UNRELIABLE: {why}." for why in p.unreliable]
        kv = p.kv_cache
        if kv is not None:
            out.append(
                f"{p.variant}: KV cache grows {kv.bytes_per_token:,.0f} B per generated "
                f"token per sequence (cache tensors; process RSS: "
                f"{kv.rss_bytes_per_token:,.0f} B/token over {kv.tokens} tokens)."
            )
    out += [f"{v}: not measured ({why})" for v, why in cost.skipped_variants.items()]
    if cost.timer_overhead_s is not None:
        out.append(
            f"Timer overhead: {cost.timer_overhead_s * 1e6:.2f} µs per sample (not subtracted); "
            f"threads: {cost.threads}."
        )
    if cost.energy_j_per_example:
        per = ", ".join(
            f"batch {b}: {j:.3g} J" for b, j in sorted(cost.energy_j_per_example.items())
        )
        out.append(f"Energy per example: {per} ({cost.energy_note}).")
    elif cost.energy_note:
        out.append(f"Energy: unknown ({cost.energy_note}).")
    c = cost.conditions
    if c is not None:
        other = (
            "" if c.other_busy_cpus is None
            else f"; other processes kept {c.other_busy_cpus:.1f} CPUs busy"
        )  # fmt: skip
        out.append(
            f"Machine while measured: {c.cpus} usable CPUs, load {c.load_before:.1f} before and "
            f"{c.load_after:.1f} after{other}."
        )
    if any(p.unreliable for p in (cost, *cost.variants)):
        out.append(f"Unreliable timings decide nothing: {FIX}.")
    return out + ([] if roofline is None else roofline_notes(roofline))


def roofline_notes(roofline: ModelRoofline) -> list[str]:
    """Why a roofline figure is unknown (each reason once), each decode point against its
    bound, and the machine's roof the percentages are of."""
    from whichmodel.report.roofline import call_notes, decode_line

    out = call_notes((f"{r.variant} b={r.batch_size}", r) for r in roofline.calls)
    out += [decode_line(None, d) for d in roofline.decode]
    peaks = ", ".join(f"{d} {p / 1e9:.1f}" if p else f"{d} unknown"
                      for d, p in roofline.peak_flops_per_s.items())
    out.append(f"Roofline against this machine at {roofline.threads} thread(s): peak GFLOP/s "
               f"{peaks}; {roofline.bandwidth_kernel} bandwidth "
               f"{roofline.bandwidth_bytes_per_s / 1e9:.1f} GB/s (whichmodel machine).")
    return list(dict.fromkeys(out))
