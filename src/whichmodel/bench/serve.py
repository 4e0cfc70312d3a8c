"""A probe that stays: ``python -m whichmodel.bench.serve REQUEST.json`` loads one model once,
then times slices of calls on request, for the interleaved rounds of :mod:`whichmodel.bench.paired`.

The process is prepared as the one-shot probe prepares its own (:func:`~whichmodel.bench.probe.
prepare_process`: framework imports, threads, runtime warm-up) and loads the model. Then it
speaks one JSON object per line:

- it prints ``{"loaded": true}`` once loaded, or ``{"error": "..."}`` and exits;
- for a line ``{"warm": seconds}`` it warms the timed call up until its timings settle, for at
  most that long, and prints ``{"settled": bool}`` (the parent warms the probes one at a time,
  so no probe warms up while another loads);
- for a line ``{"calls": n}`` it makes one untimed call (the caches the other models' slices
  evicted are refilled for every model alike), times ``n`` calls and prints
  ``{"samples": [seconds, ...]}``;
- it exits at the end of stdin.

The request's first batch size is the one timed; its variant is always the original model.
The protocol has the process's stdout to itself: anything else printed there (a factory file
run on import, a print in a model's forward) goes to stderr instead.
"""

from __future__ import annotations

import json
import os
import sys
from functools import partial
from pathlib import Path
from typing import TextIO

from whichmodel.bench.base import ProbeRequest
from whichmodel.bench.device import synchronizer
from whichmodel.bench.probe import Calls, prepare_process
from whichmodel.bench.timing import timed_call, warm_up
from whichmodel.refs import parse_ref
from whichmodel.sources import load_timed
from whichmodel.sources.base import LoadOptions


def serve(request: ProbeRequest, protocol: TextIO) -> None:
    """Load, warm up, then answer slice requests on stdin until it closes (see the module)."""
    ref = parse_ref(request.ref)
    prepare_process(ref.kind, request.threads, request.device)
    model = load_timed(ref, LoadOptions(request.allow_pickle, request.trust_remote_code)).model
    model.to(request.device)
    calls = Calls(model, request)
    call, sync = partial(calls.run, request.batch_sizes[0]), synchronizer(request.device)
    _say(protocol, {"loaded": True})
    for line in sys.stdin:
        asked = json.loads(line)
        if "warm" in asked:
            _, settled = warm_up(call, sync=sync, budget_s=float(asked["warm"]))
            _say(protocol, {"settled": settled})
            continue
        timed_call(call, sync)  # untimed: refills what the other models' slices evicted
        _say(protocol, {"samples": [timed_call(call, sync) for _ in range(int(asked["calls"]))]})


def _say(protocol: TextIO, message: dict[str, object]) -> None:
    protocol.write(json.dumps(message) + "\n")
    protocol.flush()


def main() -> None:
    from whichmodel.errors import WhichModelError

    protocol = os.fdopen(os.dup(1), "w")  # the protocol's own copy of stdout
    os.dup2(2, 1)  # everything else written to stdout lands in stderr
    sys.stdout = sys.stderr
    request = ProbeRequest.from_dict(json.loads(Path(sys.argv[1]).read_text()))
    try:
        serve(request, protocol)
    except WhichModelError as exc:  # the parent shows this line to the user
        _say(protocol, {"error": str(exc)})


if __name__ == "__main__":
    main()
