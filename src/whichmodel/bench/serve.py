"""A probe that stays: ``python -m whichmodel.bench.serve REQUEST.json`` loads one model once,
then times slices of calls on request, for the interleaved rounds of :mod:`whichmodel.bench.paired`.

The process is prepared as the one-shot probe prepares its own (:func:`~whichmodel.bench.probe.
prepare_process`: framework imports, threads, runtime warm-up), loads the model, and warms the
timed call up until its timings settle. Then it speaks one JSON object per line:

- it prints ``{"ready": true}`` once warm (or ``{"error": "..."}`` and exits);
- for each line ``{"calls": n}`` on stdin it makes one untimed call (the caches the other
  models' slices evicted are refilled for every model alike), times ``n`` calls and prints
  ``{"samples": [seconds, ...]}``;
- it exits at the end of stdin.

The request's first batch size is the one timed; its variant is always the original model.
"""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path

from whichmodel.bench.base import ProbeRequest
from whichmodel.bench.device import synchronizer
from whichmodel.bench.probe import Calls, prepare_process
from whichmodel.bench.timing import timed_call, warm_up
from whichmodel.refs import parse_ref
from whichmodel.sources import load_timed
from whichmodel.sources.base import LoadOptions


def _say(message: dict[str, object]) -> None:
    print(json.dumps(message), flush=True)


def serve(request: ProbeRequest) -> None:
    """Load, warm up, then answer slice requests on stdin until it closes (see the module)."""
    ref = parse_ref(request.ref)
    prepare_process(ref.kind, request.threads, request.device)
    model = load_timed(ref, LoadOptions(request.allow_pickle, request.trust_remote_code)).model
    model.to(request.device)
    calls = Calls(model, request)
    call, sync = partial(calls.run, request.batch_sizes[0]), synchronizer(request.device)
    warm_up(call, sync=sync, budget_s=request.budget_s)
    _say({"ready": True})
    for line in sys.stdin:
        n = int(json.loads(line)["calls"])
        timed_call(call, sync)  # untimed: refills what the other models' slices evicted
        _say({"samples": [timed_call(call, sync) for _ in range(n)]})


def main() -> None:
    from whichmodel.errors import WhichModelError

    request = ProbeRequest.from_dict(json.loads(Path(sys.argv[1]).read_text()))
    try:
        serve(request)
    except WhichModelError as exc:  # the parent shows this line to the user
        _say({"error": str(exc)})


if __name__ == "__main__":
    main()
