"""The architecture DESIGN.md promises, checked on the source (no module is imported).

- **No import cycles** between whichmodel modules.
- **Stages import only to their left** in the pipeline (:data:`LAYERS`): spec never imports
  report, tasks never import choose, nothing imports cli.
- **Size budget**: no module over 500 lines, no function over 50, except the offenders listed in
  :data:`KNOWN_OVER_BUDGET`, a list that may only shrink.

Every import counts, wherever it is written: at module level, inside a function (the lazy imports
that keep ``whichmodel --help`` fast run too, only later), and ``importlib.import_module`` with a
literal name. Imports under ``if TYPE_CHECKING:`` never run, so they cannot make an import cycle
fail and are left out of the cycle check; they still count for the layers, because a type named
in an annotation is a dependency all the same: a stage whose signature names a type of a stage to
its right cannot be read, tested or changed without it. A typed result two stages share lives in
the left one (or lower).
"""

from __future__ import annotations

import ast
import itertools
from dataclasses import dataclass
from pathlib import Path

import whichmodel

PACKAGE = Path(whichmodel.__file__).parent

#: The pipeline, left to right (DESIGN.md, "The pipeline" and "Layout"). A module may import its
#: own layer and the layers before it. A module belongs to the layer of the longest prefix that
#: names it (``whichmodel.store`` names ``whichmodel.store.sqlite``); see :data:`FACES` for the
#: two package ``__init__`` modules that are API faces. Where this order differs from the order
#: of DESIGN.md's layout listing, the comment says why.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Leaves every stage uses: errors and exit codes, model references, the plugin registry,
    # provenance, crash reports, number formatting.
    ("core", (
        "whichmodel.errors", "whichmodel.refs", "whichmodel.registry", "whichmodel.provenance",
        "whichmodel.crash", "whichmodel.units", "whichmodel.display",
    )),
    # DESIGN draws the store as "everything <-> Store": every stage may cache in it (bench its
    # cost profiles, compare its predictions), so it sits under them all and knows no stage.
    ("store", ("whichmodel.store",)),
    # The sources stage in two layers. First what every stage knows of a model, with no model
    # library: the Model contract and the values that cross it (sources.base: Inputs, RawOutput,
    # LoadOptions, Model, ModelInfo), the capabilities a model declares, the audio clip (an input
    # value), and the model files read before anything loads them (safetensors headers, HF
    # configs and the folder-code check): data reads examples into Inputs, and spec reads the
    # files, so this layer sits left of both. Importing one runs ``whichmodel/sources/__init__``
    # first (the sources layer); it imports only refs, sources.base and sources.contract at
    # module level, and spec only inside its functions, so no stage runs one to its right.
    ("models", (
        "whichmodel.sources.base", "whichmodel.sources.capabilities", "whichmodel.sources.audio",
        "whichmodel.sources.weights", "whichmodel.sources.hf.config",
    )),
    ("data", ("whichmodel.data",)),  # data -read-> Dataset of sources.base.Inputs
    ("spec", ("whichmodel.spec",)),  # Model -spec-> SpecSheet, from the files and live objects
    # Then the Source adapters (files, load, inspect: DESIGN's Source contract, in
    # sources.contract), the loaders they pick, and ``whichmodel.sources`` (load, inspect, the
    # files a fingerprint covers): a source makes its spec sheet with spec, so right of it.
    ("sources", ("whichmodel.sources",)),  # ModelRef -load-> Model, -inspect-> SpecSheet
    ("tasks", ("whichmodel.tasks",)),  # predict and score; read through data/
    # After tasks, not before as in the layout listing: a variant's quality delta (int8 vs fp32)
    # is scored with the task's metrics, and the bench reads its examples as the task does.
    ("bench", ("whichmodel.bench",)),
    ("execute", ("whichmodel.execute",)),  # runs predict and bench jobs: after both
    ("analysis", ("whichmodel.analysis",)),  # several models' predictions -> findings
    # The typed results every later stage reads (CompareConfig, Results: what results.json
    # holds, with no per-example rows): choose decides from them, report renders them.
    ("results", ("whichmodel.results",)),
    ("choose", ("whichmodel.choose.",)),  # the submodules; the package is a face (FACES)
    # What a run ended with (results, decision, gate verdict): right of choose; reports render
    # an Outcome.
    ("outcome", ("whichmodel.outcome",)),
    ("report", ("whichmodel.report",)),
    # The whole comparison (ModelResult, Comparison with its predictions and decision): right of
    # report, as it saves itself as the report ``compare --out`` writes (Comparison.save).
    ("comparison", ("whichmodel.comparison",)),
    # The top-level flow and the public API: the Python faces' models, data and keywords too.
    ("api", (
        "whichmodel.api", "whichmodel.api_baseline", "whichmodel.api_cost",
        "whichmodel.api_inputs", "whichmodel.api_options",
    )),
    ("demo", ("whichmodel.demo",)),  # the bundled example runs compare
    ("cli", ("whichmodel.cli", "whichmodel.config", "whichmodel.__main__")),
)

#: Package ``__init__`` modules that are the public API's faces, so they sit in the api layer
#: while their submodules sit in their stage: ``whichmodel`` (the lazy public API), and
#: ``whichmodel.choose``, which is also the function ``whichmodel.choose(results)``: it reads a
#: results.json (whose schema is report's) or a run in the store, then calls ``decide``.
FACES = {"whichmodel": "api", "whichmodel.choose": "api"}

#: Right-to-left imports the ongoing refactor (issue 13) has still to remove, as (importer,
#: imported); each entry must still be found, so the list only shrinks. Empty: keep it so.
REFACTOR_IMPORTS: set[tuple[str, str]] = set()

#: Import cycles the refactor has still to remove, each as its set of modules; each must still
#: be found. Empty: keep it so.
REFACTOR_CYCLES: set[frozenset[str]] = set()

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 50

#: Today's offenders: modules (path under src/whichmodel) and functions ("path:qualname"). An
#: entry that is now within budget fails the test: delete it, so the list only shrinks. Empty:
#: keep it so.
KNOWN_OVER_BUDGET: set[str] = set()


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    type_only: bool  # under ``if TYPE_CHECKING:``


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package ``__init__``)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The whichmodel module an import of ``name`` runs: the longest prefix that is a module."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in MODULES:
            return ".".join(parts)
        parts.pop()
    return None


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.type_only = False
        self.found: list[Import] = []

    def _add(self, names: list[str], line: int) -> None:
        for name in names:
            target = _resolve(name) if name.split(".")[0] == "whichmodel" else None
            if target is not None and target != self.module:
                self.found.append(Import(self.module, target, line, self.type_only))

    def visit_If(self, node: ast.If) -> None:
        test = ast.unparse(node.test)
        if test not in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            self.generic_visit(node)
            return
        before, self.type_only = self.type_only, True
        for child in node.body:
            self.visit(child)
        self.type_only = before
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        self._add([a.name for a in node.names], node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            up = self.package.split(".")[: len(self.package.split(".")) - (node.level - 1)]
            base = ".".join([*up, *([node.module] if node.module else [])])
        # ``from pkg import mod`` imports the submodule; ``from pkg import name``, the package
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        self._add(names, node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        func = ast.unparse(node.func)
        if func in ("importlib.import_module", "import_module") and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                self._add([arg.value], node.lineno)
        self.generic_visit(node)


def _imports() -> list[Import]:
    out: list[Import] = []
    for module, (path, is_package) in MODULES.items():
        visitor = _Imports(module, is_package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        out += visitor.found
    return out


IMPORTS = _imports()


def _layer(module: str) -> int:
    if module in FACES:
        return [name for name, _ in LAYERS].index(FACES[module])
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            hit = module.startswith(p) if p.endswith(".") else module == p or module.startswith(
                p + "."
            )
            if hit and (best is None or len(p) > best[0]):
                best = (len(p), i)
    assert best is not None, f"{module} is in no layer: add it to LAYERS in {__file__}"
    return best[1]


def _cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(frozenset(component))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    return out


def _loop(cycle: frozenset[str], edges: dict[str, set[str]]) -> str:
    """The modules of ``cycle`` and one loop through some of them, with the lines that import."""
    path = [min(cycle)]
    while path.count(path[-1]) < 2:
        after = sorted(w for w in edges[path[-1]] if w in cycle)
        path.append(next((w for w in after if w not in path), after[0]))
    path = path[path.index(path[-1]) :]
    lines = {(i.importer, i.imported): i.line for i in IMPORTS if not i.type_only}
    steps = [f"{a} (line {lines[a, b]})" for a, b in itertools.pairwise(path)]
    return f"{sorted(cycle)}: " + " -> ".join([*steps, path[-1]])


def test_modules_are_found() -> None:
    assert {"whichmodel.errors", "whichmodel.data.dataset", "whichmodel.choose"} <= set(MODULES)
    pairs = {(i.importer, i.imported) for i in IMPORTS}
    assert ("whichmodel.data.dataset", "whichmodel.data.streaming") in pairs  # a lazy import
    assert ("whichmodel.spec.display", "whichmodel.spec.base") in pairs  # a TYPE_CHECKING one


def test_no_import_cycles() -> None:
    edges: dict[str, set[str]] = {}
    for i in IMPORTS:
        if not i.type_only:
            edges.setdefault(i.importer, set()).add(i.imported)
    cycles = set(_cycles(edges))
    new = [_loop(c, edges) for c in cycles - REFACTOR_CYCLES]
    assert not new, "Import cycles:\n" + "\n".join(new)
    stale = [sorted(c) for c in REFACTOR_CYCLES - cycles]
    assert not stale, f"No longer cycles; delete them from REFACTOR_CYCLES: {stale}"


def test_stages_import_only_to_their_left() -> None:
    names = [name for name, _ in LAYERS]
    wrong = {
        (i.importer, i.imported): i
        for i in IMPORTS
        if _layer(i.imported) > _layer(i.importer)
    }
    new = [
        f"{i.importer} ({names[_layer(i.importer)]}, line {i.line}) imports {i.imported} "
        f"({names[_layer(i.imported)]})" + (" under TYPE_CHECKING" if i.type_only else "")
        for key, i in sorted(wrong.items())
        if key not in REFACTOR_IMPORTS
    ]
    assert not new, "Imports to the right:\n" + "\n".join(new)
    stale = sorted(REFACTOR_IMPORTS - set(wrong))
    assert not stale, f"No longer right-to-left; delete them from REFACTOR_IMPORTS: {stale}"


def _over_budget() -> set[str]:
    out = set()
    for path, _ in MODULES.values():
        rel = path.relative_to(PACKAGE).as_posix()
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            out.add(rel)

        def walk(node: ast.AST, prefix: str, rel: str = rel) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    name = f"{prefix}{child.name}"
                    size = (child.end_lineno or child.lineno) - child.lineno + 1
                    if not isinstance(child, ast.ClassDef) and size > MAX_FUNCTION_LINES:
                        out.add(f"{rel}:{name}")
                    walk(child, f"{name}.")
                else:
                    walk(child, prefix)

        walk(ast.parse(text), "")
    return out


def test_size_budget() -> None:
    over = _over_budget()
    new = sorted(over - KNOWN_OVER_BUDGET)
    assert not new, (
        f"Over budget ({MAX_MODULE_LINES} lines a module, {MAX_FUNCTION_LINES} a function, "
        f"def line to last line): {new}"
    )
    stale = sorted(KNOWN_OVER_BUDGET - over)
    assert not stale, f"Within budget now (or gone); delete them from KNOWN_OVER_BUDGET: {stale}"
