"""`tanaban doctor` (appliance.doctor): a fresh home passes; each broken part (config, permissions, keys, store schema,
audit chain, bundle, port) is one failing or warning check with a fix, and the rest still run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from appliance.config import ApplianceConfig, ConfigError, load_config
from appliance.data.home import Home
from appliance.doctor import FAIL, OK, WARN, build_info, listening_ports, run_doctor
from appliance.privacy.audit.admin import open_audit_log
from appliance.privacy.audit.log import AuditEvent

# /proc/net/tcp layout (proc(5)): sl, local_address, rem_address, st, ...; 0x1F90 = 8080, 0A = LISTEN, 01 = ESTABLISHED
PROC_TCP = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
            "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1\n"
            "   1: 0100007F:0016 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2\n")


def _statuses(cfg: ApplianceConfig, proc_net: Path | None = None) -> dict[str, str]:
    report = run_doctor(lambda: cfg, **({"proc_net": proc_net} if proc_net else {}))
    return {check.name: check.status for check in report.checks}


def _fixes(cfg: ApplianceConfig) -> dict[str, str]:
    return {check.name: check.fix for check in run_doctor(lambda: cfg).checks if check.status != OK}


def test_a_fresh_home_passes_with_one_warning_for_the_missing_bundle(home: Home) -> None:
    with open_audit_log(home) as log:
        log.append(AuditEvent("log.verify", "ok"))
    report = run_doctor(lambda: home.config)
    statuses = {c.name: c.status for c in report.checks}
    assert report.ok and statuses["bundles"] == WARN and "export cf" in _fixes(home.config)["bundles"]
    assert {statuses[n] for n in ("config", "data_dir", "keys_dir", "keys", "store", "audit", "disk")} == {OK}
    assert report.to_dict()["build"]["tanaban"] == build_info()["tanaban"]


def test_before_init_every_missing_part_says_run_init(tmp_config: ApplianceConfig) -> None:
    report = run_doctor(lambda: tmp_config)
    assert not report.ok
    failing = {c.name: c.fix for c in report.checks if c.status == FAIL}
    assert {"data_dir", "keys", "store"} <= set(failing) and "tanaban init" in failing["store"]
    assert not tmp_config.data_dir.exists()  # the doctor writes nothing


def test_a_config_that_does_not_load_is_the_one_finding() -> None:
    def load() -> ApplianceConfig:
        raise ConfigError("unknown config key 'serve.workrs'")

    report = run_doctor(load)
    assert [(c.name, c.status) for c in report.checks] == [("config", FAIL)] and "workrs" in report.checks[0].detail


@pytest.mark.parametrize(("target", "mode", "check", "status"), [
    ("data_dir", 0o755, "data_dir", FAIL), ("data_dir", 0o750, "data_dir", WARN), ("keys_dir", 0o750, "keys_dir", FAIL),
])
def test_permissions(home: Home, target: str, mode: int, check: str, status: str) -> None:
    path = getattr(home.config, target)
    path.chmod(mode)
    assert _statuses(home.config)[check] == status and f"chmod 700 {path}" == _fixes(home.config)[check]


def test_a_world_readable_key_and_an_old_schema_fail_with_their_fix(home: Home) -> None:
    (home.config.keys_dir / "pseudonym.key").chmod(0o644)
    with home.engine.begin() as conn:  # either backend
        conn.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    statuses, fixes = _statuses(home.config), _fixes(home.config)
    assert statuses["keys"] == FAIL and statuses["store"] == FAIL and "migrate" in fixes["store"]
    with home.engine.connect() as conn:  # the doctor did not migrate it
        assert conn.scalar(text("SELECT value FROM meta WHERE key = 'schema_version'")) == "1"


def test_a_tampered_audit_log_fails(home: Home, audit_sql) -> None:
    with open_audit_log(home) as log:
        for i in range(3):
            log.append(AuditEvent("log.verify", "ok", reason=f"entry {i}"))
    audit_sql(home.config, "UPDATE entries SET body = replace(body, 'entry 1', 'entry X') WHERE seq = 2")
    assert _statuses(home.config)["audit"] == FAIL and "audit verify" in _fixes(home.config)["audit"]


def test_port_in_use_is_read_from_the_socket_table(home: Home, tmp_path: Path) -> None:
    proc = tmp_path / "net"
    proc.mkdir()
    (proc / "tcp").write_text(PROC_TCP)
    assert listening_ports(proc) == {8080}  # the established connection's port 22 is not listening
    assert _statuses(home.config, proc)["port"] == WARN
    other = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(home.config.data_dir), "TANABAN_SERVE__PORT": "9090"})
    assert _statuses(other, proc)["port"] == OK
    assert _statuses(home.config, tmp_path / "no-proc")["port"] == WARN
