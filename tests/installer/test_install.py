"""installer/install.sh: options, the staged system layout (--system --root DIR --no-pip), idempotency, and the
shipped config and unit. The real pip install is what `.ci/run` does with the README's commands."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from appliance.config import load_config

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "installer" / "install.sh"


def _run(*args: str, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_help_lists_every_mode() -> None:
    out = _run("--help")
    assert out.returncode == 0
    for option in ("--dev", "--serve-only", "--wheelhouse", "--system", "--root", "--no-pip"):
        assert option in out.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--bogus",), "unknown option '--bogus'"),
    (("--root", "/tmp/x"), "--root only makes sense with --system"),
    (("--wheelhouse", "/nonexistent/wheels"), "is not a directory"),
    (("--root",), "--root needs a directory"),
])
def test_bad_options_fail_with_a_reason(args: tuple[str, ...], message: str) -> None:
    out = _run(*args)
    assert out.returncode == 2
    assert message in out.stderr


def test_system_layout_staged_under_root(tmp_path: Path) -> None:
    out = _run("--system", "--root", str(tmp_path), "--no-pip")
    assert out.returncode == 0, out.stderr
    config = tmp_path / "etc/tanaban/config.toml"
    assert _mode(config) == 0o640 and _mode(config.parent) == 0o750
    assert _mode(tmp_path / "var/lib/tanaban") == 0o700
    unit = (tmp_path / "etc/systemd/system/tanaban.service").read_text()
    assert os.readlink(tmp_path / "usr/local/bin/tanaban") == "/opt/tanaban/venv/bin/tanaban"
    for directive in ("NoNewPrivileges=true", "ProtectSystem=strict", "PrivateTmp=true", "IPAddressDeny=any",
                      "User=tanaban", "ReadWritePaths=/var/lib/tanaban"):
        assert directive in unit.splitlines()
    assert "sudo -u tanaban tanaban init" in out.stdout


def test_rerun_keeps_edited_config_keys_and_data(tmp_path: Path) -> None:
    assert _run("--system", "--root", str(tmp_path), "--no-pip").returncode == 0
    config = tmp_path / "etc/tanaban/config.toml"
    config.write_text('[paths]\ndata_dir = "/srv/tanaban"\n')
    keys = tmp_path / "var/lib/tanaban/keys"
    keys.mkdir()
    (keys / "pseudonym.key").write_text("existing")
    (tmp_path / "var/lib/tanaban/tanaban.db").write_text("data")

    out = _run("--system", "--root", str(tmp_path), "--no-pip")
    assert out.returncode == 0, out.stderr
    assert "keeping the existing" in out.stdout
    assert config.read_text() == '[paths]\ndata_dir = "/srv/tanaban"\n'
    assert (keys / "pseudonym.key").read_text() == "existing"
    assert (tmp_path / "var/lib/tanaban/tanaban.db").read_text() == "data"


def test_shipped_config_loads_and_keeps_egress_off() -> None:
    cfg = load_config(ROOT / "installer" / "config.toml", env={})
    assert cfg.egress.enabled is False
    assert str(cfg.data_dir) == "/var/lib/tanaban"


def test_model_packages_are_hash_pinned() -> None:
    lines = [ln for ln in (ROOT / "installer/models.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == 2
    assert all("==" in ln and "--hash=sha256:" in ln for ln in lines)


def test_wheelhouse_builder_is_valid_bash() -> None:
    for script in ("install.sh", "build-wheelhouse.sh"):
        assert subprocess.run(["bash", "-n", str(ROOT / "installer" / script)]).returncode == 0


@pytest.mark.slow
def test_serve_only_install_has_no_torch(tmp_path: Path) -> None:
    """A real serve-only install (network or wheelhouse needed): the serving stack without the training stack."""
    venv = tmp_path / "venv"
    out = _run("--serve-only", "--venv", str(venv), timeout=1200)
    assert out.returncode == 0, out.stderr[-2000:]
    freeze = subprocess.run([str(venv / "bin/python"), "-m", "pip", "freeze"], capture_output=True, text=True).stdout
    names = {line.split("==")[0].lower() for line in freeze.splitlines()}
    assert "onnxruntime" in names
    assert not names & {"torch", "transformers", "optimum", "optimum-onnx"}
    listed = subprocess.run([str(venv / "bin/tanaban"), "--help"], capture_output=True, text=True)
    assert listed.returncode == 0 and "│ serve " in listed.stdout and "│ demo " not in listed.stdout
    assert 'mode = "serve-only"' in (venv / "tanaban-install.toml").read_text()
    demo = subprocess.run([str(venv / "bin/tanaban"), "demo"], capture_output=True, text=True)  # the usual first try
    assert demo.returncode == 2 and "Traceback" not in demo.stderr
    assert "this serve-only install lacks: run installer/install.sh without --serve-only" in demo.stderr
