"""The package's shape: layers, no import cycles, naming rules (read from source with ast).

``idn_core`` is a stack of subpackages; a module may import from its own subpackage and
from any layer below, never from above. Every import counts, including the ones inside
functions and under ``TYPE_CHECKING``: a lazy import does not make an upward dependency
go away. ``views`` (figures and widgets) is imported only by views, the book build and
notebooks.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "idn_core"

#: Subpackage -> layer. A module may import a subpackage of a lower layer, its own
#: subpackage, or a sibling of the same layer listed in SIBLINGS.
LAYERS = {
    "_util": 0,
    "learning": 1,
    "network": 2,
    "delivery": 3,
    "placement": 3,
    "ensembles": 3,
    "federated": 3,
    "views": 4,
    "headlines": 4,
    "book": 5,
    "sweep": 5,
}
#: Same-layer imports that follow a natural arrow (importer -> imported).
SIBLINGS = {("ensembles", "delivery"), ("federated", "delivery"), ("sweep", "book")}
#: ``headlines`` (every chapter's headline per scenario) sits beside ``views`` in layer 4:
#: neither imports the other (same layer, not in SIBLINGS), and both sit below book/sweep.
#: Packages that may import ``views``.
VIEW_USERS = {"views", "book", "sweep"}
#: The top-level ``idn_core/__init__`` re-exports headline names from these only.
ROOT_MAY_IMPORT = {"learning", "network", "delivery", "placement", "ensembles", "federated"}


@dataclass(frozen=True)
class Module:
    """One module of the package: dotted name, file, and whether it is an ``__init__``."""

    name: str
    path: Path

    @property
    def is_init(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def package(self) -> str:
        """Dotted name of the package this module belongs to."""
        return self.name if self.is_init else self.name.rpartition(".")[0]

    @property
    def layer_package(self) -> str:
        """The top subpackage below ``idn_core`` (``""`` for ``idn_core/__init__``)."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else ""


def discover() -> dict[str, Module]:
    """Every module of ``idn_core`` by dotted name."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = Module(".".join(parts), path)
    return out


MODULES = discover()


@dataclass(frozen=True)
class ImportEdge:
    """``source`` imports ``target`` (a module of idn_core), binding ``names``."""

    source: str
    target: str
    names: tuple[str, ...]
    line: int


def resolve(module: Module, node: ast.ImportFrom) -> str:
    """Absolute dotted name of an ``ImportFrom`` (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = module.package.split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def longest_known(dotted: str) -> str | None:
    """The longest prefix of ``dotted`` that is a module of idn_core."""
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def imports_of(module: Module) -> list[ImportEdge]:
    """Every import of idn_core made anywhere in ``module`` (top level or not)."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"))
    edges = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if target := longest_known(alias.name):
                    edges.append(ImportEdge(module.name, target, (), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, node)
            for alias in node.names:
                target = longest_known(f"{base}.{alias.name}") or longest_known(base)
                if target:
                    edges.append(ImportEdge(module.name, target, (alias.name,), node.lineno))
    return [e for e in edges if e.target != module.name]


EDGES = [edge for module in MODULES.values() for edge in imports_of(module)]


def module_graph() -> dict[str, set[str]]:
    """Import graph without the harmless edges: a package's ``__init__`` importing its own
    children, and a child importing one of its parent packages."""
    graph: dict[str, set[str]] = defaultdict(set)
    for edge in EDGES:
        source = MODULES[edge.source]
        if source.is_init and edge.target.startswith(source.name + "."):
            continue
        if edge.source.startswith(edge.target + "."):
            continue
        graph[edge.source].add(edge.target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(MODULES):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def layer_violation(edge: ImportEdge) -> str | None:
    """Why ``edge`` breaks the layer order, or ``None`` if it is allowed."""
    source, target = MODULES[edge.source], MODULES[edge.target]
    src, dst = source.layer_package, target.layer_package
    where = f"{source.path.relative_to(PACKAGE.parent)}:{edge.line} imports {edge.target}"
    if src == "":
        return None if dst in ROOT_MAY_IMPORT else f"{where}: the root re-exports layers 1-3 only"
    if src not in LAYERS or dst not in LAYERS and dst != "":
        return f"{where}: {src or dst!r} is not in the layer table of tests/test_layers.py"
    if dst == "":
        return f"{where}: import from a subpackage, not from the top-level idn_core"
    if dst == "views" and src not in VIEW_USERS:
        return f"{where}: only views, the book build and notebooks import views"
    if src == dst:
        return None
    if LAYERS[dst] < LAYERS[src] or (src, dst) in SIBLINGS:
        return None
    return f"{where}: layer {LAYERS[src]} ({src}) may not import layer {LAYERS[dst]} ({dst})"


def test_every_subpackage_has_a_layer() -> None:
    tops = {m.layer_package for m in MODULES.values() if m.layer_package}
    assert tops <= set(LAYERS), f"add {sorted(tops - set(LAYERS))} to LAYERS"


def test_no_module_left_flat_at_the_root() -> None:
    flat = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert not flat, f"put {flat} into the subpackage of its layer"


def test_no_import_cycles() -> None:
    found = cycles(module_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_imports_follow_the_layer_order() -> None:
    problems = sorted({msg for edge in EDGES if (msg := layer_violation(edge))})
    assert not problems, "\n".join(problems)


def test_no_private_name_imported_across_modules() -> None:
    private = [
        f"{e.source} imports {e.names[0]} from {e.target}"
        for e in EDGES
        if e.names and e.names[0].startswith("_") and not e.names[0].startswith("__")
    ]
    assert not private, "make these public or keep them in one module: " + "; ".join(private)


@functools.cache
def defined_names(module: Module) -> set[str]:
    """Names a module binds at its top level by def, class or assignment."""
    names = set()
    for node in ast.parse(module.path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


@functools.cache
def declared_all(module: Module) -> list[str] | None:
    """The module's ``__all__`` list, if it declares one."""
    for node in ast.parse(module.path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    return None


def test_reexports_only_in_package_faces() -> None:
    leftovers = {
        m.name: sorted(set(names) - defined_names(m))
        for m in MODULES.values()
        if not m.is_init and (names := declared_all(m))
    }
    leftovers = {k: v for k, v in leftovers.items() if v}
    assert not leftovers, f"modules re-exporting names they do not define: {leftovers}"


def test_each_public_name_defined_once() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for m in MODULES.values():
        if not m.is_init:
            for name in defined_names(m):
                if not name.startswith("_") and len(name) > 1:
                    where[name].append(m.name)
    twice = {n: ms for n, ms in where.items() if len(ms) > 1}
    assert not twice, f"one definition per public name; rename one of: {twice}"


def test_names_say_what_not_where() -> None:
    problems = []
    for m in MODULES.values():
        stem = m.name.rpartition(".")[2]
        parent = m.package.rpartition(".")[2] if not m.is_init else ""
        if not m.is_init and parent and (stem == parent or stem.startswith(parent + "_")):
            problems.append(f"{m.name}: a module name repeats its package's")
        for name in defined_names(m) | {stem}:
            if re.search(r"chapter_?\d|(^|_)ch\d", name):
                problems.append(f"{m.name}.{name}: chapter numbers belong to the book")
    assert not problems, "\n".join(problems)


def test_faces_export_what_they_import() -> None:
    """Every subpackage ``__init__`` declares ``__all__``, and every name in it exists."""
    import importlib

    for m in MODULES.values():
        if m.is_init and m.layer_package not in ("", "_util"):
            names = declared_all(m)
            assert names, f"{m.name} needs an __all__ (its public face)"
            module = importlib.import_module(m.name)
            missing = [n for n in names if not hasattr(module, n)]
            assert not missing, f"{m.name}.__all__ lists missing names {missing}"


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("idn_core.learning.data", "idn_core.network.topology", False),
        ("idn_core.network.topology", "idn_core.learning.data", True),
        ("idn_core.delivery.policies", "idn_core.views.delivery", False),
        ("idn_core.ensembles.paths", "idn_core.delivery.policies", True),
        ("idn_core.delivery.policies", "idn_core.ensembles.paths", False),
        ("idn_core.placement.infida", "idn_core.federated.fedavg", False),
        ("idn_core.headlines.table", "idn_core.delivery.experiments", True),
        ("idn_core.headlines.table", "idn_core.views.suite", False),
        ("idn_core.views.suite", "idn_core.headlines.table", False),
        ("idn_core.headlines.table", "idn_core.book.build", False),
        ("idn_core.book.build", "idn_core.headlines.table", True),
    ],
)
def test_the_rule_itself(source: str, target: str, allowed: bool) -> None:
    """The checker refuses an upward or sideways import that the table does not allow."""
    edge = ImportEdge(source, target, (), 1)
    assert (layer_violation(edge) is None) is allowed


def test_the_cycle_finder_finds_a_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    graph = {"idn_core.learning.data": {"idn_core.learning.models"}}
    graph["idn_core.learning.models"] = {"idn_core.learning.data"}
    assert cycles(graph) == [["idn_core.learning.data", "idn_core.learning.models"]]


def names_tests_import() -> set[str]:
    """Modules of idn_core that some test imports, directly or through a package face
    (a name imported from a face counts for the module that defines it)."""
    definers: dict[str, str] = {}
    for m in MODULES.values():
        if not m.is_init:
            for name in defined_names(m):
                definers.setdefault(f"{m.package}:{name}", m.name)
    reached = set()
    tests = Path(__file__).resolve().parent
    for path in tests.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    target = longest_known(f"{node.module}.{alias.name}") or longest_known(
                        node.module
                    )
                    if target:
                        reached.add(target)
                    for package in (node.module, *_faces_below(node.module)):
                        if module := definers.get(f"{package}:{alias.name}"):
                            reached.add(module)
            elif isinstance(node, ast.Import):
                reached |= {t for a in node.names if (t := longest_known(a.name))}
        reached |= attributes_used(path)
    return reached


def attributes_used(path: Path) -> set[str]:
    """Modules reached as ``alias.module`` or ``alias.name`` after ``from idn_core import pkg``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if target in MODULES:
                    aliases[alias.asname or alias.name] = target
    reached = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            base = aliases.get(node.value.id)
            if base is None:
                continue
            if f"{base}.{node.attr}" in MODULES:
                reached.add(f"{base}.{node.attr}")
            reached |= {
                m.name
                for m in MODULES.values()
                if not m.is_init and m.package == base and node.attr in defined_names(m)
            }
    return reached


def _faces_below(package: str) -> list[str]:
    """Subpackages whose names a package face may re-export (e.g. federated.early_exit)."""
    return [m for m in MODULES if m.startswith(package + ".") and MODULES[m].is_init]


#: Modules that run only behind a dispatcher, and the test that runs them there.
REACHED_THROUGH = {
    "idn_core.federated.fedavg_flower": "run_fedavg(backend='flower'), tests/federated/test_flower.py",
    "idn_core.federated.early_exit.flower": "run_early_exit(backend='flower'), same file",
}


def test_every_module_is_imported_by_a_test() -> None:
    reached = names_tests_import()
    untested = sorted(
        m.name
        for m in MODULES.values()
        if not m.is_init
        and m.name not in reached
        and m.name not in REACHED_THROUGH
        and not m.name.endswith(".__main__")
        and m.layer_package != "_util"
    )
    assert not untested, f"modules no test imports: {untested}"
