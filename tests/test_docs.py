"""Docs stay true: CI runs the README's two commands verbatim, and every CLI command has help with an example and
appears in the README (sqlite-utils test_docs.py style)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.main import get_command

from cli.main import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", README)[:2]


def _commands(group: typer.main.TyperGroup | None = None, prefix: str = "") -> list[tuple[str, object]]:
    group = group or get_command(app)
    out = []
    for name, cmd in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            out.extend(_commands(cmd, path + " "))
        else:
            out.append((path, cmd))
    return out


def test_readme_opens_with_install_and_test_commands() -> None:
    demo, tests = _readme_commands()
    assert "installer/install.sh" in demo and "tanaban demo" in demo
    assert "installer/install.sh --dev" in tests and "pytest" in tests


def test_ci_runs_the_readme_commands_verbatim() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in _readme_commands():
        assert command in ci_lines, f"{command!r} is not a line of .ci/run"


@pytest.mark.parametrize(("path", "command"), _commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_has_help_with_an_example(path: str, command: object) -> None:
    assert command.help and "Example:" in command.help, f"`tanaban {path}` help lacks an Example"
    assert f"tanaban {path.split()[0]}" in command.help


@pytest.mark.parametrize("path", sorted({p.split()[0] for p, _ in _commands()}))
def test_every_command_group_is_in_the_readme(path: str) -> None:
    assert f"`tanaban {path}" in README
