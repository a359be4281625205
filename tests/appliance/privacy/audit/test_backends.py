"""The audit log on both engines (SQLite file, PostgreSQL schema tanaban_audit): the same rows and export bytes,
append-only enforced by the database, tamper detection when a superuser gets past the triggers, concurrent writers
from two processes, the INSERT/SELECT-only role, the CLI, and the SQLite -> PostgreSQL copy (`migrate.copy_audit`)."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from appliance.config import AuditConfig
from appliance.data.keys import SigningKey, public_key_id, public_key_pem
from appliance.privacy.audit import AuditEvent, AuditLog, AuditVerificationError, AuditWriteError
from appliance.privacy.audit.admin import export_log, verify_home
from appliance.privacy.audit.backends import AuditBackendError, libpq_url, postgres_setup_sql
from appliance.privacy.audit.log import SigningRefusedError
from appliance.privacy.audit.migrate import AuditMigrateError, copy_audit
from appliance.privacy.audit.verify import verify_export

T0 = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
ENGINES = ["sqlite", "postgresql"]


def _key() -> SigningKey:
    private = Ed25519PrivateKey.from_private_bytes(b"\x11" * 32)
    return SigningKey(public_key_id(private.public_key()), private)


def _event(i: int, host: str = "llm.example") -> AuditEvent:
    return AuditEvent("egress.request", "ok", destination={"host": host, "port": 443}, categories={"PERSON": i},
                      origin={"host": "node-1", "pid": "1", "command": "tanaban egress chat"},
                      actor="svc", payload=f"hello <PERSON_{i}>")


def _config(engine: str, request: pytest.FixtureRequest, **extra: object) -> AuditConfig:
    url = request.getfixturevalue("postgres_url") if engine == "postgresql" else ""
    return AuditConfig(url=url, **extra)


def _psql(url: str):  # psycopg is imported only by PostgreSQL cases
    import psycopg

    return psycopg.connect(libpq_url(url), autocommit=True)


def _open(tmp_path: Path, cfg: AuditConfig) -> AuditLog:
    return AuditLog.open(tmp_path / "audit.db", _key(), cfg=cfg)


def _fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append_at_time(_event(i, "a" if i % 2 else "b"), T0 + timedelta(days=i))


@pytest.mark.parametrize("engine", ENGINES)
def test_append_verify_and_query_on_each_engine(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    with _open(tmp_path, _config(engine, request, checkpoint_every=2)) as log:
        _fill(log, 5)
        report = log.verify(allow_unsigned_tail=1)
        assert (report.entries, report.checkpoints, report.signed_size) == (5, 2, 4)
        assert [e["seq"] for e in log.entries()] == [1, 2, 3, 4, 5] and log.size() == 5
        assert [e["seq"] for e in log.query(destination="a")] == [2, 4]
        assert [e["seq"] for e in log.query(since="2026-05-07", until="2026-05-09", limit=1)] == [3]
        assert log.entry(3)["payload"] == "hello <PERSON_2>" and log.entry(9) is None
    with _open(tmp_path, _config(engine, request, checkpoint_every=2)) as again:  # a fresh process's guard
        assert again.append(_event(9)) == 6 and again.verify().checkpoints == 3


def test_both_engines_hold_the_same_rows_and_export_the_same_bytes(request: pytest.FixtureRequest,
                                                                    tmp_path: Path) -> None:
    from appliance.privacy.audit.export import write_jsonl

    pem = public_key_pem(_key().public).decode("ascii")
    exports = []
    for engine in ENGINES:
        with _open(tmp_path / engine, _config(engine, request, checkpoint_every=3)) as log:
            _fill(log, 7)
            log.checkpoint_at_time(T0 + timedelta(days=30))
            out = tmp_path / f"{engine}.jsonl"
            write_jsonl(out, log.entries(), log.checkpoints(), pem, _key().key_id)
            exports.append(out.read_bytes())
    assert exports[0] == exports[1] and exports[0].count(b'"type":"checkpoint"') == 3  # Ed25519 is deterministic


def test_postgres_rejects_update_delete_truncate_and_gaps(postgres_url: str, tmp_path: Path) -> None:
    import psycopg

    with _open(tmp_path, AuditConfig(url=postgres_url)) as log:
        _fill(log, 3)
        before = list(log.entries())
    statements = ["UPDATE entries SET body = '{}' WHERE seq = 1", "DELETE FROM entries WHERE seq = 3",
                  "TRUNCATE entries", "UPDATE checkpoints SET tree_size = 1", "DELETE FROM checkpoints",
                  "TRUNCATE checkpoints CASCADE",
                  "INSERT INTO entries VALUES (9, '{}', 'x', 'y')",
                  "INSERT INTO entries VALUES (1, '{}', 'x', 'y') ON CONFLICT (seq) DO UPDATE SET body = '{}'"]
    with _psql(postgres_url) as conn:  # the superuser, triggers on
        conn.execute("SET search_path = tanaban_audit")
        for sql in statements:
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(sql)
    with _open(tmp_path, AuditConfig(url=postgres_url)) as log:
        assert list(log.entries()) == before and log.verify().checkpoints == 3


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rewrite_past_the_triggers_is_caught(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    cfg = _config(engine, request)
    with _open(tmp_path, cfg) as log:
        _fill(log, 4)
    body_of_2 = '{"forged":true}'
    if engine == "postgresql":  # what only the owner or a superuser can do
        with _psql(cfg.url) as conn:
            conn.execute("ALTER TABLE tanaban_audit.entries DISABLE TRIGGER USER")
            conn.execute("UPDATE tanaban_audit.entries SET body = %s WHERE seq = 2", (body_of_2,))
    else:
        import sqlite3

        with sqlite3.connect(tmp_path / "audit.db") as conn:
            conn.execute("DROP TRIGGER entries_no_update")
            conn.execute("UPDATE entries SET body = ? WHERE seq = 2", (body_of_2,))
    with _open(tmp_path, cfg) as log:
        with pytest.raises(AuditVerificationError) as caught:
            log.verify()
        assert caught.value.seq == 2
        with pytest.raises(SigningRefusedError):  # and nothing more is signed on top of it
            log.append(_event(5))
        assert log.size() == 4


def _append_many(url: str, witness: str, worker: int, count: int, go: object) -> None:
    cfg = AuditConfig(url=url, witness_path=witness, checkpoint_every=5)
    with AuditLog.open(Path(witness).parent / "unused.db", _key(), cfg=cfg) as log:
        go.wait(30)  # both connected: start together
        for i in range(count):
            log.append(_event(worker * 1000 + i))


def test_two_processes_appending_to_postgres_never_fork_the_chain(postgres_url: str, tmp_path: Path) -> None:
    witness = str(tmp_path / "witness" / "checkpoints.log")
    AuditLog.open(tmp_path / "unused.db", _key(), cfg=AuditConfig(url=postgres_url, witness_path=witness)).close()
    ctx = multiprocessing.get_context("fork")
    go = ctx.Event()
    workers = [ctx.Process(target=_append_many, args=(postgres_url, witness, w, 30, go)) for w in range(2)]
    for process in workers:
        process.start()
    go.set()
    for process in workers:
        process.join(120)
    assert [p.exitcode for p in workers] == [0, 0]
    with AuditLog.open(tmp_path / "unused.db", _key(), cfg=AuditConfig(url=postgres_url, witness_path=witness)) as log:
        report = log.verify()
        entries = list(log.entries())
    assert report.entries == 60 and report.checkpoints == 12 and [e["seq"] for e in entries] == list(range(1, 61))
    assert sorted(e["categories"]["PERSON"] for e in entries) == sorted(w * 1000 + i for w in (0, 1) for i in range(30))
    assert not (tmp_path / "unused.db").exists()  # the PostgreSQL log never touches the SQLite path


def test_a_writer_holding_the_head_too_long_makes_append_fail_closed(postgres_url: str, tmp_path: Path) -> None:
    from appliance.privacy.audit.backends import PG_LOCK_KEY

    log = AuditLog.open(tmp_path / "a.db", _key(), cfg=AuditConfig(url=postgres_url), busy_timeout_s=0.2)
    with log, _psql(postgres_url) as holder:
        log.append(_event(0))
        holder.execute("SELECT pg_advisory_lock(%s)", (PG_LOCK_KEY,))  # another writer, stuck mid-append
        with pytest.raises(AuditWriteError, match=r"cannot lock the audit log postgresql://127\.0\.0\.1:\d+/t_\d+: "
                                                  "canceling statement due to lock timeout"):
            log.append(_event(1))
        holder.execute("SELECT pg_advisory_unlock(%s)", (PG_LOCK_KEY,))
        assert log.append(_event(1)) == 2 and log.verify().entries == 2


def test_the_insert_select_role_appends_and_verifies_but_cannot_change_rows(postgres_url: str, tmp_path: Path,
                                                                             cli_runner: CliRunner) -> None:
    import psycopg

    from cli.main import app

    role = "audit_app_" + postgres_url.rsplit("/", 1)[1]  # roles are cluster-wide: one per test database
    printed = cli_runner.invoke(app, ["audit", "postgres-sql", "--role", role])
    assert printed.exit_code == 0 and printed.output == postgres_setup_sql(role)
    with _psql(postgres_url) as admin:  # the admin runs what `tanaban audit postgres-sql` printed
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(printed.output)
    app_url = postgres_url.replace("//postgres@", f"//{role}@")
    cfg = AuditConfig(url=app_url)
    with _open(tmp_path, cfg) as log:
        _fill(log, 3)
        assert log.verify().entries == 3
    with _psql(app_url) as conn:
        for sql in ["UPDATE tanaban_audit.entries SET body = '{}'", "DELETE FROM tanaban_audit.checkpoints",
                    "TRUNCATE tanaban_audit.entries", "ALTER TABLE tanaban_audit.entries DISABLE TRIGGER USER",
                    "DROP TABLE tanaban_audit.entries"]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    with pytest.raises(AuditBackendError, match="identifier"):
        postgres_setup_sql("app; DROP TABLE x")


def test_unreachable_server_and_wrong_scheme_are_user_errors(tmp_path: Path) -> None:
    import socket

    pytest.importorskip("psycopg")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here
    with pytest.raises(AuditWriteError, match="cannot open the audit log in PostgreSQL") as caught:
        AuditLog.open(tmp_path / "a.db", _key(), cfg=AuditConfig(url=f"postgresql://u:s3cret@127.0.0.1:{port}/x"))
    assert "s3cret" not in str(caught.value)
    with pytest.raises(AuditBackendError, match="postgresql://"):
        AuditLog.open(tmp_path / "a.db", _key(), cfg=AuditConfig(url="mysql://u@h/x"))


def _home(tmp_path: Path, cfg: AuditConfig) -> SimpleNamespace:
    from appliance.config import load_config

    config = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path / "data")})
    import dataclasses

    config = dataclasses.replace(config, audit=dataclasses.replace(config.audit, url=cfg.url))
    return SimpleNamespace(config=config, audit_key=_key())


def test_export_from_postgres_verifies_offline_with_no_server(postgres_url: str, tmp_path: Path) -> None:
    home = _home(tmp_path, AuditConfig(url=postgres_url))
    with AuditLog.open(home.config.audit_path, _key(), cfg=home.config.audit) as log:
        _fill(log, 4)
    assert verify_home(home).entries == 4  # the live log, verified through the server (and logged: log.verify)
    out = tmp_path / "audit.jsonl"
    summary = export_log(home, "jsonl", out)
    assert summary.entries == 6  # + log.verify and log.export
    pem = tmp_path / "signing.pub"
    pem.write_bytes(public_key_pem(_key().public))
    from appliance.data.keys import load_public_key

    report = verify_export(out, [load_public_key(pem)])  # a file and a key: no database involved
    assert report.entries == 6 and report.signed_size == 6
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(out.read_bytes().replace(b"hello <PERSON_1>", b"hello <PERSON_7>"))
    with pytest.raises(AuditVerificationError):
        verify_export(tampered, [load_public_key(pem)])


@pytest.mark.parametrize("engine", ENGINES)
def test_an_export_ends_at_its_checkpoint_while_others_append(engine: str, request: pytest.FixtureRequest,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance.data.keys import load_public_key

    home = _home(tmp_path, _config(engine, request))
    with AuditLog.open(home.config.audit_path, _key(), cfg=home.config.audit) as log:
        _fill(log, 3)
    read_checkpoints = AuditLog.checkpoints

    def then_another_host_appends(self: AuditLog) -> list:
        found = read_checkpoints(self)
        with AuditLog.open(home.config.audit_path, _key(), cfg=home.config.audit) as other:
            other.append(_event(99))
        return found

    monkeypatch.setattr(AuditLog, "checkpoints", then_another_host_appends)
    out = tmp_path / "audit.jsonl"
    assert export_log(home, "jsonl", out).entries == 4  # 3 + log.export; the other host's entry 5 comes after
    pem = tmp_path / "signing.pub"
    pem.write_bytes(public_key_pem(_key().public))
    assert verify_export(out, [load_public_key(pem)]).entries == 4


def test_cli_verify_and_export_on_a_postgres_log(postgres_url: str, tmp_path: Path, cli_runner: CliRunner) -> None:
    from cli.main import app

    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n[audit]\nurl = "{postgres_url}"\n',
                      encoding="utf-8")
    assert cli_runner.invoke(app, ["--config", str(config), "init"]).exit_code == 0
    run = lambda *args: cli_runner.invoke(app, ["--config", str(config), "audit", *args])  # noqa: E731
    assert run("checkpoint").exit_code == 0
    import json

    listed = run("list", "--json", "--action", "log.verify")
    assert listed.exit_code == 0 and json.loads(listed.output) == [], listed.output
    assert run("show", "1").exit_code == 2  # no entry yet: a user error naming the size
    result = run("verify")
    assert result.exit_code == 0 and "OK: verified" in result.output, result.output
    shown = run("show", "1", "--json")
    assert shown.exit_code == 0 and json.loads(shown.output)["action"] == "log.verify", shown.output
    out, pub = tmp_path / "a.jsonl", next((tmp_path / "data" / "keys").glob("*.pub*"))
    assert run("export", "--out", str(out)).exit_code == 0
    result = run("verify", "--export", str(out), "--public-key", str(pub))
    assert result.exit_code == 0 and "OK: verified" in result.output, result.output
    report = tmp_path / "report.json"
    result = run("report", "--format", "json", "--out", str(report))
    assert result.exit_code == 0 and "OK: verified" in result.output, result.output
    assert json.loads(report.read_text(encoding="utf-8"))["summary"]["entries"] == 3  # verify, show, export
    assert not (tmp_path / "data" / "audit.db").exists()


def test_copy_audit_moves_an_sqlite_log_into_postgres_row_for_row(postgres_url: str, tmp_path: Path) -> None:
    source = tmp_path / "audit.db"
    with AuditLog.open(source, _key(), cfg=AuditConfig(checkpoint_every=4)) as log:
        _fill(log, 10)
        before = list(log.entries()), log.checkpoints()
    seen: list[int] = []
    copy = copy_audit(source, postgres_url, [_key().public], progress=seen.append)
    assert (copy.entries, copy.checkpoints, copy.head) == (10, 2, before[0][-1]["entry_hash"]) and seen[-1] == 12
    with _open(tmp_path, AuditConfig(url=postgres_url, checkpoint_every=4)) as log:  # same witness file
        assert (list(log.entries()), log.checkpoints()) == before
        assert log.verify(allow_unsigned_tail=2).root_hash == copy.root_hash
        assert log.append(_event(10)) == 11  # and the chain goes on from the copied head
    with pytest.raises(AuditMigrateError, match="already holds 11 entries"):
        copy_audit(source, postgres_url, [_key().public])


def test_copy_audit_refuses_a_source_that_fails_verification(postgres_url: str, tmp_path: Path) -> None:
    import sqlite3

    source = tmp_path / "audit.db"
    with AuditLog.open(source, _key()) as log:
        _fill(log, 3)
    with sqlite3.connect(source) as conn:
        conn.execute("DROP TRIGGER entries_no_update")
        conn.execute("UPDATE entries SET prev_hash = ? WHERE seq = 3", ("0" * 64,))
    with pytest.raises(AuditVerificationError):
        copy_audit(source, postgres_url, [_key().public])
    with _psql(postgres_url) as conn:  # nothing was created or copied
        assert conn.execute("SELECT to_regclass('tanaban_audit.entries')").fetchone()[0] is None
    with pytest.raises(AuditMigrateError, match="no SQLite audit log"):
        copy_audit(tmp_path / "missing.db", postgres_url, [_key().public])
