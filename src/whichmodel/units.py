"""Numbers as short text for people: sizes and counts (every renderer uses the same units)."""

from __future__ import annotations


def human_bytes(n: float) -> str:
    """Bytes in binary units: ``1536`` -> ``"1.5 KB"``."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def human_count(n: float) -> str:
    """A count in decimal units: ``2_300_000`` -> ``"2.30M"``."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n:.0f}"


#: The smallest p-value printed as a number: below it, "p < 0.001".
P_FLOOR = 0.001


def p_number(p: float, *, floor: float = P_FLOOR) -> str:
    """A p-value as people read it, without the "p": two significant digits, or "< floor".

    >>> p_number(0.0123), p_number(0.00004), p_number(1.0), p_number(0.0, floor=0.01)
    ('0.012', '< 0.001', '1', '< 0.01')
    """
    floor = max(floor, P_FLOOR)
    return f"< {floor:g}" if p < floor else f"{p:.2g}"


def p_text(p: float, *, floor: float = P_FLOOR) -> str:
    """``"p = 0.012"`` or ``"p < 0.001"`` (see :func:`p_number`); never ``"p=0"``."""
    number = p_number(p, floor=floor)
    return f"p {number}" if number.startswith("<") else f"p = {number}"


def resampled_p_floor(n_resamples: int, pairs: int = 1) -> float:
    """What a resampled p-value of 0 means: at most ``pairs / (n_resamples + 1)`` (one resample
    in B + 1 could have crossed; Holm multiplies by at most the number of pairs), rounded up to
    one significant digit, and never below :data:`P_FLOOR`.

    >>> resampled_p_floor(1000), resampled_p_floor(100), resampled_p_floor(1000, pairs=15)
    (0.001, 0.01, 0.02)
    """
    import math

    bound = min(1.0, pairs / (max(n_resamples, 0) + 1))
    scale = 10.0 ** math.floor(math.log10(bound))
    return max(P_FLOOR, min(1.0, math.ceil(round(bound / scale, 9)) * scale))
