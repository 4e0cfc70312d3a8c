"""``whichmodel machine``: this machine's peak FLOP/s and memory bandwidth (the roofline)."""

from __future__ import annotations

from typing import Annotated

import typer

from whichmodel.cli import render
from whichmodel.cli.options import StoreOpt, parse_format


def machine_command(
    threads: Annotated[int, typer.Option(metavar="N", help="Intra-op threads to measure at.")] = 1,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Measure again, whatever the store holds.")
    ] = False,
    store: StoreOpt = ".whichmodel/store.db",
    output_format: Annotated[
        str | None, typer.Option("--format", metavar="FORMAT", help="text or json.")
    ] = None,
    device: Annotated[
        str, typer.Option(metavar="DEVICE", help="cpu, or a GPU: cuda / cuda:N.")
    ] = "cpu",
) -> None:
    """Peak matmul FLOP/s per dtype and memory bandwidth (copy, triad) of this machine."""
    from whichmodel.bench.machine import machine

    fmt = parse_format(output_format, ("text", "json"))
    limits = render.with_progress(
        lambda progress: machine(
            threads=threads, store=store, refresh=refresh, progress=progress, device=device
        )
    )
    if fmt == "json":
        render.print_json(limits.to_dict(samples=False))
    else:
        render.print_machine(limits)
