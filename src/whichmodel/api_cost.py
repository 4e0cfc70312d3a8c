"""The cost step of a comparison (:func:`whichmodel.api.run`): each model's latency and memory
in a probe subprocess, each cost against this machine's limits (the roofline), and the models'
latencies in interleaved rounds (:mod:`whichmodel.bench.paired`), and a served model's tokens
per example, priced (:func:`token_cost`). Each is cached in the store by what it depends on, and
never when the measurement is unreliable: the next run measures again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from whichmodel.errors import WhichModelError
from whichmodel.provenance import hardware
from whichmodel.sources.base import Inputs, LoadOptions
from whichmodel.store.cache import Codec, cached

if TYPE_CHECKING:
    from whichmodel.api import _Run as Run
    from whichmodel.bench.cost import CostProfile
    from whichmodel.bench.paired import PairedLatency
    from whichmodel.bench.tokens import TokenCost
    from whichmodel.comparison import ModelResult
    from whichmodel.refs import ModelRef
    from whichmodel.tasks import Predictions


def measured_cost(
    run_: Run, ref: ModelRef, model_fp: str, options: LoadOptions
) -> tuple[CostProfile | None, str | None]:
    """The model's latency and memory at batch size 1 and the run's, measured in a subprocess
    at the run's thread count; cached by its fingerprint and the machine, unless the measurement
    is unreliable (the next run measures again). A model that cannot be measured is its error."""
    from whichmodel.bench.cost import CostProfile, measure_cost
    from whichmodel.sources.objects import IN_PROCESS_NOTE, is_live

    inputs: Inputs = run_.dataset.inputs
    batch_sizes = sorted({1, run_.config.batch_size})
    shape, capability = _timed_call(run_)
    # (predict keeps the costs cached before: the capability joins the key only when detect)
    detect = ("detect",) if capability == "detect" else ()

    def compute() -> CostProfile:
        cost = measure_cost(
            ref, inputs.take(slice(0, max(batch_sizes))), batch_sizes=batch_sizes,
            options=options, capability=capability, threads=run_.config.threads,
            in_process=is_live(ref),  # a live object exists only in this process
        )
        return replace(cost, notes=(*cost.notes, IN_PROCESS_NOTE)) if is_live(ref) else cost

    parts = (model_fp, batch_sizes, hardware(), inputs.kind, shape, run_.config.threads, *detect)
    codec = Codec(CostProfile.to_dict, CostProfile.from_dict)
    try:
        label = f"cost {ref.name}"
        cost = cached(
            run_.store, "cost", parts, compute, codec, progress=run_.progress, label=label,
            final=lambda c: c.reliable, refresh=run_.config.refresh_cost,
        )
    except WhichModelError as exc:
        return None, str(exc)
    return cost, None


def token_cost(
    run_: Run, ref: ModelRef, key: str, preds: Predictions, options: LoadOptions
) -> TokenCost | None:
    """A served model's (``openai:``) tokens on each example it answered, read back from the
    responses its predictions got (nothing is sent again), and their cost at its price; None
    for any other model. The tokens are cached by the predictions' key once every example's
    were read; the price is applied after, so a new price or price table applies at once."""
    if ref.kind != "openai":
        return None
    from whichmodel.bench.tokens import priced
    from whichmodel.sources.endpoint.settings import read_settings

    settings = read_settings(ref)

    def compute() -> dict[str, Any]:
        return _tokens_read_back(run_, ref, preds, options)

    same: Codec[dict[str, Any]] = Codec(dict, dict)
    try:
        read = cached(
            run_.store, "tokens", (key,), compute, same, progress=run_.progress,
            label=f"tokens {ref.name}", final=lambda d: d["unread"] == 0,
        )  # fmt: skip
        tokens = {int(r): (a, b, c) for r, a, b, c in read["per_example"]}
        unread, why = int(read["unread"]), None
    except WhichModelError as exc:  # the server is gone, say, and nothing was stored
        tokens, unread, why = {}, len(preds.rows), f"its responses could not be read back: {exc}"
    cost = priced(
        tokens, unread=unread, model=settings.model, loopback=settings.loopback,
        price_in=settings.price_in_per_1m, price_out=settings.price_out_per_1m,
    )  # fmt: skip
    return cost if why is None else replace(cost, cost_per_1k=None, unknown=why)


def _tokens_read_back(
    run_: Run, ref: ModelRef, preds: Predictions, options: LoadOptions
) -> dict[str, Any]:
    """Each answered example's (requests, prompt tokens, generated tokens), from the ``usage``
    of the stored responses the task's requests for it read back, one example at a time."""
    from whichmodel.sources.endpoint.model import EndpointModel

    model = run_.worker.model(ref, options)
    assert isinstance(model, EndpointModel)
    inputs = run_.dataset.inputs
    rows: list[list[int]] = []
    unread = 0
    with model.endpoint.reading_back() as read:
        for row in (int(r) for r in preds.rows):
            read.clear()
            try:
                run_.task.run(model, inputs.take(slice(row, row + 1)))
            except Exception:  # a response not stored (or stored for its usage only) misses
                unread += 1
                continue
            usage = [r.get("usage") or {} for r in read]
            rows.append([row, len(read), *(sum(int(u.get(k) or 0) for u in usage)
                                           for k in ("prompt_tokens", "completion_tokens"))])
    return {"per_example": rows, "unread": unread}


def with_rooflines(run_: Run, results: list[ModelResult]) -> list[ModelResult]:
    """Each measured cost against this machine's limits, measured once per run at the run's
    threads (cached in the store after), only when some cost was measured."""
    from whichmodel.bench.roofline import rooflines_for

    measured = [r for r in results if r.cost is not None]
    if not measured:
        return results
    config = run_.config
    pairs = [(r.cost, r.spec) for r in measured if r.cost is not None]
    roofs = dict(zip([r.name for r in measured], rooflines_for(
        pairs, threads=config.threads, store=config.store, progress=run_.progress,
        spec_errors=[r.spec_error for r in measured]), strict=True))
    return [replace(r, roofline=roofs.get(r.name)) for r in results]


def interleaved_rounds(run_: Run, results: list[ModelResult]) -> PairedLatency | None:
    """The measured models' latencies at batch 1 in interleaved rounds, when two or more costs
    were measured; cached by the models and the machine, unless unreliable or skipped."""
    from whichmodel.bench.paired import PairedLatency, interleaved
    from whichmodel.sources.objects import is_live

    # A live object cannot be loaded by a probe process: its cost was measured in this one.
    costs = {r.name: (r, r.cost) for r in results if r.cost is not None and not is_live(r.ref)}
    if len(costs) < 2:
        return None
    config, inputs = run_.config, run_.dataset.inputs
    shape, capability = _timed_call(run_)
    parts = (sorted((k, r.fingerprint) for k, (r, _) in costs.items()), hardware(),
             inputs.kind, shape, config.threads, capability)  # fmt: skip

    def compute() -> PairedLatency:
        return interleaved(
            {k: (r.ref, c) for k, (r, c) in costs.items()}, inputs.take(slice(0, 1)),
            batch_size=1, threads=config.threads, capability=capability,
            options=LoadOptions(config.allow_pickle, config.trust_remote_code),
        )  # fmt: skip

    codec = Codec(PairedLatency.to_dict, PairedLatency.from_dict)
    return cached(
        run_.store, "rounds", parts, compute, codec, progress=run_.progress,
        label="interleaved latency", final=lambda p: p.reliable, refresh=config.refresh_cost,
    )  # fmt: skip


def _timed_call(run_: Run) -> tuple[tuple[int, ...], str]:
    """(one example's shape, read from one row so streamed inputs stay unread; the call timed:
    ``detect`` for a detector, on its images as the task runs it, else ``predict``)."""
    shape = tuple(run_.dataset.inputs.take(slice(0, 1)).data.shape[1:])
    return shape, "detect" if run_.task.requires == "detect" else "predict"
