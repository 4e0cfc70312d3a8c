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


def short_number(x: float, digits: int = 4) -> str:
    """A data value in a rule or a bin edge: ``digits`` significant digits as ``:g`` writes them,
    but thousands and up as ``56.1k``/``2.3M``/``1.2B`` (3 significant digits) where ``:g``
    would switch to an exponent; tiny values keep theirs (``1.2e-05`` reads better than zeros).

    >>> short_number(56110.0), short_number(0.05416), short_number(2_300_000), short_number(9999)
    ('56.1k', '0.05416', '2.3M', '9999')
    >>> short_number(-123456.0), short_number(999_600), short_number(1.234e-05)
    ('-123k', '1M', '1.234e-05')
    """
    text = f"{x:.{digits}g}"
    if "e+" not in text:
        return text
    for unit, size in (("k", 1e3), ("M", 1e6), ("B", 1e9), ("T", 1e12)):
        scaled = f"{x / size:.3g}"
        if "e" not in scaled:  # 999.6k rounds to "1e+03": that is 1M
            return scaled + unit
    return text


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
