"""Numbers as text for people (whichmodel/units.py)."""

from __future__ import annotations

from whichmodel.units import short_number


def test_short_numbers_for_large_values():
    assert [short_number(v) for v in (56_110.0, 9999.0, 0.05416, 2.3e6, 999_600, -123_456)] == [
        "56.1k", "9999", "0.05416", "2.3M", "1M", "-123k",
    ]  # fmt: skip
    assert short_number(1.234e-5) == "1.234e-05"  # tiny values keep their exponent
