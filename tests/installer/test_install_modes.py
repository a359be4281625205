"""Install modes: what installer/install.sh records and prints per mode, the docs and unit it installs, and how the
CLI of a serve-only install (no torch) hides and refuses the training commands with one line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.install_mode import MODE_FILE, TRAINING_COMMANDS, has_training_stack, recorded_mode
from cli.main import app

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "installer" / "install.sh"


def _stage(root: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(["bash", str(INSTALL), "--system", "--root", str(root), "--no-pip", *flags],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """This process as a serve-only venv: torch and transformers not importable, sys.prefix a fresh directory."""
    for name in ("torch", "transformers"):
        monkeypatch.setitem(sys.modules, name, None)  # find_spec -> None and `import` -> ModuleNotFoundError
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(("flags", "mode", "extras"), [
    ((), "full", "train"), (("--dev",), "dev", "train,dev"), (("--serve-only",), "serve-only", "serve"),
    (("--serve-only", "--dev"), "serve-only", "serve,dev"),
])
def test_installer_records_its_mode(tmp_path: Path, flags: tuple[str, ...], mode: str, extras: str) -> None:
    out = _stage(tmp_path, *flags)
    venv = tmp_path / "opt/tanaban/venv"
    assert recorded_mode(venv) == mode and f'extras = "{extras}"' in (venv / MODE_FILE).read_text()
    assert f"({mode} install)" in out.stdout


def test_serve_only_next_steps_need_no_training_command(tmp_path: Path) -> None:
    steps = _stage(tmp_path, "--serve-only").stdout.split("Next", 1)[1]
    commands = [line.split("#")[0].split() for line in steps.splitlines() if "sudo -u tanaban tanaban" in line]
    assert [c[4] for c in commands] == ["init", "apikey"]  # then copy a bundle and start the unit
    assert "keys directory" in steps and "CURRENT" in steps and "systemctl enable --now tanaban" in steps
    assert not {c[4] for c in commands} & TRAINING_COMMANDS


def test_full_system_next_steps_create_an_api_key_and_explain_readyz(tmp_path: Path) -> None:
    steps = _stage(tmp_path).stdout.split("Next", 1)[1]
    assert "tanaban init" in steps and "apikey create" in steps and "/readyz answers 503" in steps


def test_unit_documentation_points_at_installed_docs(tmp_path: Path) -> None:
    _stage(tmp_path)
    unit = (tmp_path / "etc/systemd/system/tanaban.service").read_text().splitlines()
    docs = [url for line in unit if line.startswith("Documentation=") for url in line.split("=", 1)[1].split()]
    assert docs and all(url.startswith("file:///usr/share/doc/tanaban/") for url in docs)
    for url in docs:
        installed = tmp_path / url.removeprefix("file:///")
        assert installed.read_text() == (ROOT / "docs" / installed.name).read_text()
    for directive in ("ExecReload=/bin/kill -HUP $MAINPID", "ProtectProc=invisible", "ProcSubset=pid",
                      "PrivateUsers=true", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                      "SystemCallFilter=~@privileged @resources", "MemoryDenyWriteExecute=true"):
        assert directive in unit


def test_this_dev_venv_has_the_training_stack_and_lists_everything(cli_runner: CliRunner) -> None:
    assert has_training_stack()
    listed = cli_runner.invoke(app, ["--help"]).output
    assert all(f" {name} " in listed for name in TRAINING_COMMANDS)


def test_serve_only_help_hides_the_training_commands(no_torch: Path, cli_runner: CliRunner) -> None:
    listed = cli_runner.invoke(app, ["--help"]).output
    assert not any(f"│ {name} " in listed for name in TRAINING_COMMANDS)
    assert all(f"│ {name} " in listed for name in ("serve", "init", "apikey", "recommend"))


@pytest.mark.parametrize("args", [["demo"], ["train", "cf"], ["embed"], ["export", "cf"], ["evaluate"],
                                  ["tokenize", "build"], ["intents", "build"], ["demo", "--help"]])
@pytest.mark.parametrize("recorded", ["serve-only", None, "full"])
def test_serve_only_refuses_training_commands_in_one_line(no_torch: Path, cli_runner: CliRunner, args: list[str],
                                                          recorded: str | None) -> None:
    if recorded:
        (no_torch / MODE_FILE).write_text(f'mode = "{recorded}"\n')
    result = cli_runner.invoke(app, args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: `tanaban {args[0]}` needs the training stack (torch, transformers)")
    if recorded == "full":
        assert "missing from this full install: run installer/install.sh again" in line
    else:
        assert line.endswith("run installer/install.sh without --serve-only, or pip install 'tanaban[train]'")
        assert ("serve-only install" in line) == (recorded == "serve-only")


def test_a_torch_import_deep_in_another_command_is_one_line_too(no_torch: Path, cli_runner: CliRunner,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def needs_torch(*_: object, **__: object) -> None:
        import torch  # noqa: F401  (None in sys.modules: ModuleNotFoundError, as in a serve-only venv)

    monkeypatch.setattr("appliance.serve.server.run_server", needs_torch)
    result = cli_runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: `tanaban serve` needs the training stack (torch, transformers), which is not installed here: "
        "run installer/install.sh without --serve-only, or pip install 'tanaban[train]'"]


def test_a_real_serve_only_process_says_which_install_it_needs(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(  # the interpreter of a venv without torch and transformers
        "import sys\nfor name in ('torch', 'transformers'):\n    sys.modules[name] = None\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([str(Path(sys.executable).parent / "tanaban"), "demo"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("error: `tanaban demo` needs the training stack") and out.stderr.count("\n") == 1
