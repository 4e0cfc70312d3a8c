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


def test_a_value_not_kept_is_returned_and_computed_again(tmp_path):
    store, calls = Store.open(tmp_path / "s.db"), []

    def compute():
        calls.append(1)
        return {"value": len(calls)}

    def reliable(value):
        return value["value"] >= 2

    assert cached(store, "machine", ("m",), compute, AS_IS, keep=reliable) == {"value": 1}
    assert store.get_cached("machine", cache_key("machine", "m")) is None
    assert cached(store, "machine", ("m",), compute, AS_IS, keep=reliable) == {"value": 2}
    assert cached(store, "machine", ("m",), compute, AS_IS, keep=reliable) == {"value": 2}
    assert len(calls) == 2  # the kept value is read back


def test_refresh_computes_again_and_replaces_the_stored_value(tmp_path):
    store = Store.open(tmp_path / "s.db")
    cached(store, "machine", ("m",), lambda: {"value": 1}, AS_IS)
    assert cached(store, "machine", ("m",), lambda: {"value": 2}, AS_IS, refresh=True) == {
        "value": 2
    }
    assert cached(store, "machine", ("m",), lambda: {"value": 3}, AS_IS) == {"value": 2}
