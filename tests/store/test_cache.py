"""The store's one cache helper: computed once per key, read back after, nothing stored when the
computation fails, and a format bump makes the old copy unreachable."""

from __future__ import annotations

import pytest

from whichmodel.store import Store, key_of
from whichmodel.store.cache import FORMATS, Codec, cache_key, cached

AS_IS: Codec[dict[str, int]] = Codec(lambda v: v, lambda d: d)


def test_computed_once_then_read_back(tmp_path):
    store, calls = Store.open(tmp_path / "s.db"), []

    def compute():
        calls.append(1)
        return {"value": len(calls)}

    events = []
    progress = lambda *event: events.append(event)  # noqa: E731
    assert cached(store, "analysis", ("a",), compute, AS_IS, progress=progress) == {"value": 1}
    assert cached(store, "analysis", ("a",), compute, AS_IS, progress=progress) == {"value": 1}
    assert cached(store, "analysis", ("b",), compute, AS_IS) == {"value": 2}
    assert len(calls) == 2
    assert events == [("analysis", 0, 1), ("analysis", 1, 1)]  # only the computation reports


def test_a_failing_computation_stores_nothing(tmp_path):
    store = Store.open(tmp_path / "s.db")

    def broken():
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cached(store, "cost", ("m",), broken, AS_IS)
    assert store.get_cached("cost", cache_key("cost", "m")) is None
    assert cached(store, "cost", ("m",), lambda: {"value": 3}, AS_IS) == {"value": 3}


def test_keys_carry_the_kind_and_its_format_version(tmp_path, monkeypatch):
    # The same layout as the hand-made keys before the helper, so existing stores stay valid.
    assert cache_key("spec", "fp", None) == key_of("spec", FORMATS["spec"], "fp", None)
    store = Store.open(tmp_path / "s.db")
    cached(store, "spec", ("fp",), lambda: {"value": 1}, AS_IS)
    monkeypatch.setitem(FORMATS, "spec", FORMATS["spec"] + 1)
    assert cached(store, "spec", ("fp",), lambda: {"value": 2}, AS_IS) == {"value": 2}


def test_a_value_that_is_not_final_is_returned_but_not_kept(tmp_path):
    """An unreliable measurement: this run uses it, the next measures again."""
    store, calls = Store.open(tmp_path / "s.db"), []

    def measure():
        calls.append(1)
        return {"value": len(calls), "final": len(calls) >= 2}

    final = lambda v: v["final"]  # noqa: E731
    assert cached(store, "cost", ("m",), measure, AS_IS, final=final)["value"] == 1
    assert cached(store, "cost", ("m",), measure, AS_IS, final=final)["value"] == 2
    assert cached(store, "cost", ("m",), measure, AS_IS, final=final)["value"] == 2  # kept now
    assert len(calls) == 2


def test_refresh_computes_again_and_replaces_only_with_a_final_value(tmp_path):
    store = Store.open(tmp_path / "s.db")
    final = lambda v: v["final"]  # noqa: E731
    cached(store, "cost", ("m",), lambda: {"value": 1, "final": True}, AS_IS, final=final)
    fresh = cached(store, "cost", ("m",), lambda: {"value": 2, "final": False}, AS_IS,
                   final=final, refresh=True)  # fmt: skip
    assert fresh["value"] == 2
    kept = cached(store, "cost", ("m",), lambda: {"value": 3, "final": True}, AS_IS, final=final)
    assert kept["value"] == 1  # the unreliable refresh did not replace the final value
    again = cached(store, "cost", ("m",), lambda: {"value": 4, "final": True}, AS_IS,
                   final=final, refresh=True)  # fmt: skip
    assert again["value"] == 4
    assert cached(store, "cost", ("m",), lambda: {"value": 5, "final": True}, AS_IS)["value"] == 4
