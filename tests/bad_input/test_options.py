"""Bad options and arguments of every command: one line, exit 2, nothing written."""

from __future__ import annotations

import pytest

from helpers.bad_input import Case, refuse

IRIS = "{iris}"  # replaced by the iris fixture's folder
LR, TREE, DATA = f"sklearn:{IRIS}/lr.skops", f"sklearn:{IRIS}/tree.skops", f"{IRIS}/iris.csv"
COMPARE = ("compare", LR, TREE, "--data", DATA, "--label-col", "target", "--no-cost")
GATE = ("gate", LR, TREE, "--data", DATA, "--label-col", "target", "--no-cost")

CASES = [
    # Typer's usage errors, as one line naming the help to read.
    Case("no-such-command", ("comapre",), "No such command 'comapre'"),
    # click words it "No such option: --bogus" or "No such option '--bogus'." by version.
    Case("no-such-option", ("compare", LR, "--bogus", "1"), ("No such option", "--bogus")),
    Case("missing-refs", ("compare",), "Missing argument"),
    Case("bench-batch-not-int", ("bench", LR, "--batch", "one"), "comma-separated integers"),
    Case("inspect-context-not-int", ("inspect", LR, "--context", "abc"), "'--context'"),
    Case("windows-history-zero", ("windows", DATA, "--out", "w.jsonl", "--history", "0",
                                  "--horizon", "1"), "'--history'"),
    # Numbers that are not numbers.
    Case("seed-negative", (*COMPARE, "--seed", "-1"), "The seed must be an integer in [0, 2**32)"),
    Case("seed-huge", (*COMPARE, "--seed", str(2**70)), "The seed must be an integer"),
    Case("bootstrap-zero", (*COMPARE, "--bootstrap", "0"), "Bootstrap resamples must be at least"),
    Case("batch-size-zero", (*COMPARE, "--batch-size", "0"), "batch size must be at least 1"),
    Case("threads-zero", (*COMPARE, "--threads", "0"), "Threads must be at least 1. Got 0"),
    Case("bench-threads-zero", ("bench", LR, "--threads", "0"), "Threads must be at least 1"),
    Case("min-nan", (*COMPARE, "--min", "accuracy=nan"), "--min takes NAME=NUMBER"),
    Case("min-inf", (*COMPARE, "--min", "accuracy=inf"), "--min takes NAME=NUMBER"),
    # A metric the task never reports fails before any model runs, with the close name.
    Case("min-unknown-metric", (*COMPARE, "--min", "acc=0.9"), "Did you mean 'accuracy'?"),
    Case("max-unknown-metric", (*COMPARE, "--max", "rmse=1"), "'rmse', which the classification"),
    Case("gate-metric-unknown", (*GATE, "--metric", "acuracy"), "Did you mean 'accuracy'?"),
    Case("max-latency-negative", (*COMPARE, "--max-latency-ms", "-5"), "latency"),
    Case("format-unknown", (*COMPARE, "--format", "yaml"), "--format must be text"),
    Case("prefer-unknown", (*COMPARE, "--prefer", "banana"), "--prefer"),
    Case("input-shape-text", ("inspect", LR, "--input-shape", "a,b"), "--input-shape"),
    # The gate fails closed: a threshold it cannot read never passes.
    Case("gate-min-delta-nan", (*GATE, "--min-delta", "nan"), "--min-delta takes a number"),
    Case("gate-min-delta-negative", (*GATE, "--min-delta", "-0.1"), "--min-delta takes a number"),
    Case("gate-min-delta-metric-nan", (*GATE, "--min-delta", "accuracy=nan"), "--min-delta"),
    Case("gate-min-delta-text", (*GATE, "--min-delta", "lots"), "--min-delta takes a number"),
    # Output paths are checked before any model runs.
    Case("out-is-a-file", (*COMPARE, "--out", "{tmp}/taken.txt"), "taken.txt"),
    Case("out-under-a-file", (*COMPARE, "--out", "{tmp}/taken.txt/report"), "taken.txt"),
    # choose reads saved results: a missing or broken one is one line.
    Case("choose-missing-results", ("choose", "{tmp}/nothing.json"), "nothing.json"),
    Case("choose-no-store", ("choose",), "store"),
    # machine measures at a thread count it can set, and prints text or JSON only.
    Case("machine-threads-zero", ("machine", "--threads", "0"), "Threads must be at least 1"),
    Case("machine-threads-negative", ("machine", "--threads", "-2"), "Got -2 instead"),
    Case("machine-format-markdown", ("machine", "--format", "markdown"),
         "--format must be text or json"),
    # Reference options a kind does not read fail before any model runs, never ignored.
    Case("ref-option-unknown", ("compare", f"{LR}?foo=bar", TREE, "--data", DATA,
                                "--label-col", "target", "--no-cost"),
         ("The option 'foo' of sklearn:", "lr.skops is not one whichmodel knows for sklearn "
          "models.", "Options: name.")),
    Case("ref-option-classes-on-sklearn", (*COMPARE[:2], f"{TREE}?classes=no,yes",
                                           *COMPARE[3:]),
         ("The option 'classes' of sklearn:", "Options: name.")),
    Case("ref-option-typo", ("inspect", f"{LR}?nmae=lr"), "Did you mean 'name'?"),
    Case("ref-option-bench", ("bench", f"{LR}?foo=1"), "The option 'foo' of sklearn:"),
    Case("ref-option-torch-file", ("inspect", "torch:{tmp}/m.pt?wieghts=w.safetensors"),
         ("The option 'wieghts' of torch:", "Did you mean 'weights'?",
          "Options: classes, input_shape, name, output, weights.")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_option_is_one_line(case: Case, iris, tmp_path) -> None:
    (tmp_path / "taken.txt").write_text("a file the user keeps\n")
    args = tuple(a.replace(IRIS, str(iris)) for a in case.args)
    refuse(tmp_path, *args, says=case.says, exit_code=case.exit_code, watch=(iris,))


def test_a_path_too_long_for_the_file_system_is_one_line(tmp_path) -> None:
    refuse(tmp_path, "compare", f"sklearn:{'x' * 5000}.skops", "--data", "d.csv",
           says="File name too long")
