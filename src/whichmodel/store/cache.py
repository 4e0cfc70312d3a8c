"""One cache for every derived result a run keeps: computed once per content key, then read back.

A cached value is keyed by its kind, the kind's format version and the fingerprints of everything
it depends on (:func:`whichmodel.store.fingerprint.key_of`). The versions live here, in one table:
bump a kind's version when the same inputs would now give another value, and every stored copy of
that kind is computed again instead of being read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from whichmodel.store.fingerprint import key_of

if TYPE_CHECKING:
    from whichmodel.store.sqlite import Store

T = TypeVar("T")

# kind -> format version. Bump one when its stored layout or meaning changes for the same inputs.
FORMATS: dict[str, int] = {
    # the stored per-example layout (store/sqlite.py); 3: a classifier's label is its own
    # predict, no longer the argmax of predict_proba (sources/sklearn.py); 4: the LM tasks score
    # with lm-evaluation-harness's conventions and keep more score columns
    # (tasks/multiple_choice.py, tasks/language_modeling.py)
    "predictions": 4,
    "analysis": 1,  # statistics and per-model tables (analysis/stats.py, Task.tables)
    # the paired analysis (analysis/findings.py); 2: the permutation draws; 3: tests chosen by
    # what each metric declares (multilabel macro-F1), fairness gaps for classification?options
    "findings": 3,
    "spec": 1,  # the compact spec sheet a comparison keeps (spec/compact.py)
    # a CostProfile's meaning (bench/cost.py); 2: the bench harness; 3: its conditions and
    # reliability (bench/conditions.py): costs stored before may be unreliable ones
    "cost": 3,
    "machine": 1,  # the machine's peak FLOP/s and memory bandwidth (bench/machine.py)
    "rounds": 1,  # the models' latencies in interleaved rounds (bench/paired.py)
    "endpoint": 1,  # an OpenAI-compatible server's responses (sources/endpoint/client.py)
    "tokens": 1,  # a served model's tokens per example, read back from them (api_cost.py)
}


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How a value of one kind becomes JSON for the store, and back."""

    encode: Callable[[T], Any]
    decode: Callable[[Any], T]


def cache_key(kind: str, *parts: Any) -> str:
    """The store key of a ``kind`` value that depends on ``parts`` (its format version included).

    >>> cache_key("analysis", "a") == key_of("analysis", FORMATS["analysis"], "a")
    True
    """
    return key_of(kind, FORMATS[kind], *parts)


def cached(
    store: Store,
    kind: str,
    parts: tuple[Any, ...],
    compute: Callable[[], T],
    codec: Codec[T],
    *,
    progress: Callable[[str, int, int], None] | None = None,
    label: str | None = None,
    final: Callable[[T], bool] | None = None,
    refresh: bool = False,
) -> T:
    """The ``kind`` value for ``parts``: read from ``store`` when it holds it, else computed by
    ``compute()`` and stored. A ``compute`` that raises stores nothing, so the next run tries
    again; so does a value that ``final(value)`` says is not final (an unreliable measurement).
    ``refresh`` computes it again even when stored (and replaces what is stored when the new
    value is final). ``progress(label, 0, 1)`` and ``(label, 1, 1)`` bracket a computation.
    """
    key = cache_key(kind, *parts)
    stored = None if refresh else store.get_cached(kind, key)
    if stored is not None:
        return codec.decode(stored)
    if progress:
        progress(label or kind, 0, 1)
    value = compute()
    if final is None or final(value):
        store.put_cached(kind, key, codec.encode(value))
    if progress:
        progress(label or kind, 1, 1)
    return value
