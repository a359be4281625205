"""Test layout rules (STYLE.md "Test layout"), read statically from every file under tests/ (ast):

- No test module imports another one, conftest included, nor loads one from its path or through sys.path: shared
  builders live in a conftest.py and reach tests as fixtures (a builder called with arguments is handed out as a
  fixture returning it, like `tiny_themes` or `serve_sample`).
- No `pytest.importorskip` of the project's own packages: a broken import of our own code must fail, not skip.
  Third-party extras (torch) may still be skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PROJECT_PACKAGES = ("appliance", "anonymize", "export", "cli")
FILE_LOADERS = {"spec_from_file_location", "SourceFileLoader", "run_path"}


def _is_test_module(name: str) -> bool:
    """A module name that can only be a file under tests/: tests.*, conftest, test_*."""
    top = name.split(".")[0]
    return top in ("tests", "conftest") or top.startswith("test_")


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _first_string(node: ast.Call) -> str | None:
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def _touches_sys_path(node: ast.AST) -> bool:
    """`sys.path.insert(...)`, `sys.path.append(...)`, `sys.path = ...`, `sys.path += ...`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        target = node.func.value
    elif isinstance(node, ast.Assign):
        target = node.targets[0]
    elif isinstance(node, ast.AugAssign):
        target = node.target
    else:
        return False
    return ast.unparse(target) == "sys.path"


def _violations(tree: ast.AST) -> list[str]:
    """What in one file breaks the rules above, one line each (with the line number)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if _is_test_module(a.name)]
        elif isinstance(node, ast.ImportFrom) and (node.level or _is_test_module(node.module or "")):
            found.append(f"line {node.lineno}: from {'.' * node.level}{node.module or ''} import ...")
        elif isinstance(node, ast.Call):
            called, name = _called(node), _first_string(node)
            if called == "importorskip" and name and name.split(".")[0] in PROJECT_PACKAGES:
                found.append(f"line {node.lineno}: importorskip({name!r}) of the project's own code")
            elif called == "import_module" and name and _is_test_module(name):
                found.append(f"line {node.lineno}: import_module({name!r})")
            elif called in FILE_LOADERS:
                found.append(f"line {node.lineno}: {called}(...) loads a file as a module")
        if _touches_sys_path(node):
            found.append(f"line {node.lineno}: changes sys.path")
    return found


@pytest.mark.parametrize("snippet", [
    "from tests.conftest import TinyThemes", "import conftest", "from .test_intents import make_tiny_home",
    "from . import conftest", "from test_intents import make_tiny_home", "import tests.appliance.test_cf as cf",
    "ingest = pytest.importorskip('appliance.data.ingest')", "importorskip('export.cf')",
    "importlib.import_module('tests.serve.conftest')", "sys.path.insert(0, str(HERE))", "sys.path = ['tests']",
    "sys.path += ['tests']",
    "spec = importlib.util.spec_from_file_location('m', Path(__file__).with_name('test_intents.py'))",
    "runpy.run_path('tests/appliance/text/test_intents.py')",
])
def test_the_scan_finds_each_kind_of_violation(snippet: str) -> None:
    assert _violations(ast.parse(snippet))


@pytest.mark.parametrize("snippet", [
    "torch = pytest.importorskip('torch')", "from appliance.data.home import Home", "import pytest",
    "from typing import TYPE_CHECKING", "sys.exit(0)", "path = Path('tests') / 'golden'",
])
def test_the_scan_lets_ordinary_imports_through(snippet: str) -> None:
    assert not _violations(ast.parse(snippet))


def test_no_test_module_imports_another_or_skips_on_project_code() -> None:
    files = sorted(TESTS.rglob("*.py"))
    assert len(files) > 40 and TESTS / "conftest.py" in files
    offenders = {}
    for path in files:
        rel = path.relative_to(TESTS.parent).as_posix()
        found = _violations(ast.parse(path.read_text(encoding="utf-8"), filename=rel))
        if found:
            offenders[rel] = found
    assert not offenders, f"share test code through conftest fixtures, not imports: {offenders}"
