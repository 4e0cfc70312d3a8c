"""Spec sheets and spec diffs as text rows (for the terminal) and as JSON-ready data.

A sheet's rows and its HTML table are :mod:`whichmodel.spec.display`'s (a notebook asks the sheet
itself for them), re-exported here for the renderers.
"""

from __future__ import annotations

from typing import Any

from whichmodel.spec.base import Fact
from whichmodel.spec.diff import SpecDiff
from whichmodel.spec.display import context_line, fmt, render_sheet_html, sheet_rows


def diff_rows(d: SpecDiff) -> list[tuple[str, str, str, str]]:
    """(key, A text, B text, consequence) for each difference, consequential ones first."""
    return [(x.key, fmt(x.key, x.a), fmt(x.key, x.b), x.consequence) for x in d.differences]


def diff_to_dict(d: SpecDiff) -> dict[str, Any]:
    """JSON-ready diff: both sheets and the differences."""
    return {
        "a": d.a.to_dict(),
        "b": d.b.to_dict(),
        "differences": [{"key": x.key, "a": x.a, "b": x.b, "consequence": x.consequence}
                        for x in d.differences],
        "same": list(d.same),
    }


__all__ = ["Fact", "context_line", "diff_rows", "diff_to_dict", "fmt", "render_sheet_html",
           "sheet_rows"]
