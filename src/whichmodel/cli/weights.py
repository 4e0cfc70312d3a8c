"""``whichmodel diff A B --weights``: the weight diff of two checkpoints
(:mod:`whichmodel.analysis.weights`), printed as a table of the changed groups, the largest
change first; ``--json`` prints the whole diff, ``--out DIR`` writes it as JSON, Markdown and
HTML (:mod:`whichmodel.report.weights`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.markup import escape
from rich.table import Table

from whichmodel.cli import render

if TYPE_CHECKING:
    from whichmodel.analysis.weights import WeightDiff

#: Changed groups the terminal lists; --json and --out have them all.
TERMINAL_ROWS = 30


def weight_diff_command(
    a: str,
    b: str,
    *,
    weights: bool,
    base: str | None,
    allow_pickle: bool,
    as_json: bool,
    out_dir: str | None,
    spec_only: bool,
) -> None:
    """Run the weight diff and print it (a table, or JSON), writing the report when asked.
    ``weights``: --weights was given; ``spec_only``: an option of the spec diff was.

    Raises:
        ConfigError: --base or --out without --weights, or --weights with a spec option.
    """
    from whichmodel.analysis.weights import weight_diff
    from whichmodel.errors import ConfigError
    from whichmodel.report.files import check_report_folder

    if not weights:
        raise ConfigError("--base and --out belong to the weight diff; add --weights.")
    if spec_only:
        raise ConfigError("--context, --dtype and --trust-remote-code are for spec diffs; a "
                          "weight diff reads only the weights.")

    folder = Path(out_dir) if out_dir is not None else None
    if folder is not None:
        check_report_folder(folder)
    result = render.with_progress(
        lambda progress: weight_diff(a, b, base=base, allow_pickle=allow_pickle,
                                     progress=progress)
    )
    if folder is not None:
        from whichmodel.report.weights_html import write_weight_report

        paths = write_weight_report(result, folder)
        if not as_json:
            render.plain(f"wrote {', '.join(str(p) for p in paths)}")
    if as_json:
        render.print_json(result.to_dict())
        return
    _print(result)


def _print(result: WeightDiff) -> None:
    from whichmodel.report.weights import GROUP_HEADER, group_rows

    render.plain(f"{result.a} vs {result.b}: {result.verdict}")
    for note in result.notes:
        render.indented("  • ", note)
    changed = result.changed
    if changed:
        table = Table(box=box.SIMPLE_HEAD)
        for i, column in enumerate(GROUP_HEADER):
            table.add_column(column, justify="left" if i < 2 else "right",
                             overflow="fold" if i == 0 else "ellipsis")
        for row in group_rows(result, changed[:TERMINAL_ROWS]):
            table.add_row(*(escape(c) for c in row))
        render.out.print(table)
        if len(changed) > TERMINAL_ROWS:
            render.plain(f"{len(changed) - TERMINAL_ROWS} more changed groups: see --json or "
                         "--out.")
    render.plain(f"{len(result.tensors)} tensors in {len(result.groups)} groups compared; "
                 f"{len(result.groups) - len(changed)} groups unchanged.")
