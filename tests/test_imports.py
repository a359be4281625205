"""Import-direction rules, checked in a fresh interpreter (sigstore test_imports.py style), and no import cycles.

- anonymize/ imports nothing from appliance/ (detection and transformation meet through its own Finding type).
- The core (config, store, keys, ingest, evaluation, audit, egress, CLI start-up) imports no torch, transformers or
  optimum, so serve-only installs work and `tanaban --help` starts fast.
- No import cycles among the modules of appliance/, anonymize/, export/ and cli/ (STYLE.md rule 11), counting the
  imports inside functions too: read statically from the source (ast), so a cycle that only one code path would
  trip over is found anyway.
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("appliance", "anonymize", "export", "cli")
HEAVY = ("torch", "transformers", "optimum")
# Modules that may import the training stack (training, export); everything else must not.
TRAINING_MODULES = ("appliance.models.bpr", "appliance.models.intent_losses", "appliance.models.irllrec",
                    "appliance.models.lightgcn", "appliance.models.sasrec", "appliance.generative.model",
                    "appliance.generative.pipeline", "appliance.generative.rqvae", "appliance.generative.train",
                    "appliance.text.encoder", "export.", "appliance.models.distributed")

# The serving runtime, which a serve-only install (`installer/install.sh --serve-only`) must be able to import:
# every module of the serve package, and the bundle verification it reads signed bundles with.
SERVING_PACKAGE = "appliance.serve"
SERVING_EXTRA = ("export.bundle",)


def _module_files(packages: Iterable[str], root: Path = ROOT) -> dict[str, Path]:
    """Module name -> file for every module of the packages, subpackages included, named from the files (nothing is
    imported); a package is named by its __init__.py."""
    files = sorted(f for package in packages for f in root.joinpath(*package.split(".")).rglob("*.py"))
    return {".".join(f.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): f for f in files}


def _modules(package: str) -> list[str]:
    return list(_module_files([package]))


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print('\\n'.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_anonymize_imports_nothing_from_appliance() -> None:
    loaded = _loaded_after_import(_modules("anonymize"))
    assert not {m for m in loaded if m == "appliance" or m.startswith("appliance.")}


@pytest.mark.parametrize("package", ["appliance", "anonymize", "cli"])
def test_core_imports_no_training_stack(package: str) -> None:
    modules = [m for m in _modules(package) if not m.startswith(TRAINING_MODULES)]
    loaded = _loaded_after_import(modules)
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"importing {package} core pulled in {heavy[:5]}"


def test_serving_modules_import_no_training_stack() -> None:
    """A serve-only install can import every module of appliance.serve (none is left out by name) plus the bundle
    verification, and doing so loads no torch, transformers or optimum."""
    modules = [*_modules(SERVING_PACKAGE), *SERVING_EXTRA]
    loaded = _loaded_after_import(modules)
    assert len(modules) > 10, f"only {len(modules)} serving modules found: is {SERVING_PACKAGE} still a package?"
    assert set(modules) <= loaded, f"not imported: {sorted(set(modules) - loaded)}"
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"the serving modules pulled in {heavy[:5]}"


# --- no import cycles -----------------------------------------------------------------------------------------------


def _is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:` (the body never runs)."""
    return getattr(test, "id", getattr(test, "attr", None)) == "TYPE_CHECKING"


def _run_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree that can run: all of them (function bodies included) except `if TYPE_CHECKING:` bodies."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module a `from ... import` names, relative imports resolved against the importer's package."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[:len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _imports(tree: ast.AST, package: str) -> Iterator[tuple[str, tuple[str, ...], int]]:
    """(module, names taken from it or () for a plain import, line) for every import that can run, at any depth;
    `importlib.import_module("constant")` counts as a plain import."""
    for node in _run_nodes(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, (), node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield _absolute(node, package), tuple(alias.name for alias in node.names), node.lineno
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and \
                getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module":
            yield str(node.args[0].value), (), node.lineno


def _packages_of(module: str) -> set[str]:
    """The packages Python initialises before a module: a.b.c -> {a, a.b}."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _runs(module: str, names: tuple[str, ...], importer: str, modules: set[str]) -> set[str]:
    """The project modules one import statement makes Python run: the imported modules and their parent packages.

    The importer's own packages are left out (Python started them before the importer, so reaching them again is
    no cycle), unless the statement reads a name from one: `from own.package import NAME` inside that package reads
    a half-initialised module.
    """
    submodules = {f"{module}.{name}" for name in names} & modules
    reads_module = len(submodules) < len(names)  # some name is an attribute of `module` itself
    ran = {module, *submodules}
    ran |= {package for m in ran for package in _packages_of(m)}
    own = _packages_of(importer)
    return {m for m in ran & modules if m != importer and (m not in own or (reads_module and m == module))}


def _import_graph(packages: Iterable[str], root: Path = ROOT) -> dict[str, dict[str, str]]:
    """importer -> {project module it runs: "file:line" of the first import that does}, for every module."""
    files = _module_files(packages, root)
    modules = set(files)
    graph: dict[str, dict[str, str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        edges = graph[name] = {}
        for module, names, line in sorted(_imports(tree, package), key=lambda found: found[2]):
            for target in _runs(module, names, name, modules):
                edges.setdefault(target, f"{rel}:{line}")
    return graph


def _cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan 1972), each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _loop(graph: dict[str, dict[str, str]], component: list[str], start: str) -> list[str]:
    """A shortest import loop from `start` back to itself inside the component (breadth-first)."""
    inside = set(component)
    paths, queue = {start: [start]}, deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph[v]):
            if w == start:
                return [*paths[v], start]
            if w in inside and w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    raise AssertionError(f"{component} is not strongly connected")


def _cycle_report(graph: dict[str, dict[str, str]], cycles: list[list[str]]) -> str:
    """Per cycle: its modules, then its shortest loop, one import a line with the file and line that makes it."""
    lines = [f"{len(cycles)} import cycle(s); STYLE.md rule 11: imports one-way, inside functions too"]
    for component in cycles:
        loop = min((_loop(graph, component, start) for start in component), key=len)
        lines.append("  " + ", ".join(component))
        lines += [f"    {a} -> {b} ({graph[a][b]})" for a, b in itertools.pairwise(loop)]
    return "\n".join(lines)


def test_no_import_cycles_even_through_imports_inside_functions() -> None:
    graph = _import_graph(PACKAGES)
    assert len(graph) > 100, f"only {len(graph)} modules found under {PACKAGES}"
    cycles = _cycles(graph)
    assert not cycles, _cycle_report(graph, cycles)


# A tiny package with three cycles (through a function-level relative import, through a parent package's
# __init__.py, and through a name read from a half-initialised package) and imports that are no cycle: typing-only
# ones, and a submodule reaching its own package.
SYNTHETIC = {
    "pkg/__init__.py": "",
    "pkg/a.py": "from pkg.b import B\n",
    "pkg/b.py": "B = 1\n\n\ndef later():\n    from .a import A\n",
    "pkg/hints.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from pkg.typed import T\n",
    "pkg/typed.py": "import pkg.hints\n\nT = 1\n",
    "pkg/c.py": "import pkg.sub.util\n",
    "pkg/sub/__init__.py": "from pkg.sub.impl import run\n",
    "pkg/sub/impl.py": "from pkg.sub.util import helper\n\n\ndef run():\n    import pkg.c\n",
    "pkg/sub/util.py": "def helper():\n    pass\n",
    "pkg/own/__init__.py": "from pkg.own.base import Base\nfrom pkg.own.reader import read\n\nNAME = 1\n",
    "pkg/own/base.py": "import pkg.own.helpers\nfrom pkg.own import helpers\n\nBase = 1\n",
    "pkg/own/helpers.py": "",
    "pkg/own/reader.py": "from pkg.own import NAME\n",
}


def test_the_cycle_check_finds_cycles_and_says_where(tmp_path: Path) -> None:
    for name, text in SYNTHETIC.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    graph = _import_graph(["pkg"], root=tmp_path)
    cycles = _cycles(graph)
    assert cycles == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.sub", "pkg.sub.impl"], ["pkg.own", "pkg.own.reader"]]
    report = _cycle_report(graph, cycles)
    assert "  pkg.a, pkg.b\n    pkg.a -> pkg.b (pkg/a.py:1)\n    pkg.b -> pkg.a (pkg/b.py:5)\n" in report
    assert "pkg.c -> pkg.sub (pkg/c.py:1)" in report and "pkg.own.reader -> pkg.own (pkg/own/reader.py:1)" in report
