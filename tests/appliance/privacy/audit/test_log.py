"""The SQLite audit log: append-only triggers, private WAL file, entry fields, checkpoints every N entries,
concurrent appenders, and AuditWriteError (with nothing written) when the log cannot be written."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.config import AuditConfig
from appliance.data.keys import SigningKey, public_key_id
from appliance.privacy.audit import AuditEvent, AuditLog, AuditWriteError, merkle_tree_hash, verify_checkpoint_signature
from appliance.privacy.audit.checkpoints import trusted_keys
from appliance.privacy.audit.log import _command
from appliance.privacy.audit.merkle import hash_leaf

T0 = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)


def _key(seed: bytes = b"\x07" * 32) -> SigningKey:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return SigningKey(public_key_id(private.public_key()), private)


def _event(i: int = 0, **extra: object) -> AuditEvent:
    fields = {"destination": {"host": "llm.example", "port": 443, "model": "m"}, "categories": {"PERSON": i},
              "purpose": "intent-extraction", "record_count": 1, "payload": f"hello <PERSON_{i}>", **extra}
    return AuditEvent("egress.request", "ok", **fields)


@pytest.fixture
def log(tmp_path: Path):
    with AuditLog.open(tmp_path / "audit" / "audit.db", _key(), cfg=AuditConfig(checkpoint_every=3)) as opened:
        yield opened


def _count(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT COUNT(*) FROM entries").fetchone()[0]


def test_append_commits_before_returning_and_numbers_from_one(log: AuditLog) -> None:
    assert [log.append(_event(i)) for i in range(4)] == [1, 2, 3, 4]
    assert _count(log.path) == 4  # another connection sees all four: committed


def test_file_is_private_and_in_wal_mode(log: AuditLog) -> None:
    log.append(_event())
    for path in log.path.parent.iterdir():  # audit.db and its -wal / -shm
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    with sqlite3.connect(log.path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("sql", [
    "UPDATE entries SET body = '{}' WHERE seq = 1",
    "DELETE FROM entries WHERE seq = 2",
    "DELETE FROM entries",
    "UPDATE checkpoints SET tree_size = 1",
    "DELETE FROM checkpoints",
    "INSERT OR REPLACE INTO entries (seq, body, prev_hash, entry_hash) VALUES (1, '{}', 'x', 'y')",
    "INSERT INTO entries (seq, body, prev_hash, entry_hash) VALUES (9, '{}', 'x', 'y')",
    "INSERT OR REPLACE INTO checkpoints (id, tree_size, root_hash, time, key_id, signature) "
    "VALUES (1, 0, '', '', '', '')",
])
def test_raw_sqlite_cannot_update_or_delete(log: AuditLog, sql: str) -> None:
    for i in range(3):
        log.append(_event(i))
    before = list(log.entries())
    with sqlite3.connect(log.path) as raw, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute(sql)
    assert list(log.entries()) == before and len(log.checkpoints()) == 1


def test_entry_records_every_field(log: AuditLog) -> None:
    log.append_at_time(_event(2, pseudonym_key_id="pk1", policy_version="2026-11-1", response_sha256="ab",
                              response_size=7, reason="r"), T0)
    entry = log.entry(1)
    payload = b"hello <PERSON_2>"
    assert entry["time"] == "2026-01-02T03:04:05.000006Z"
    assert entry["payload_sha256"] == hashlib.sha256(payload).hexdigest() and entry["payload_size"] == len(payload)
    assert entry["origin"]["pid"] == str(os.getpid()) and entry["origin"]["host"] == os.uname().nodename
    assert entry["actor"] and entry["categories"] == {"PERSON": 2} and entry["destination"]["port"] == 443
    assert (entry["prev_hash"], entry["pseudonym_key_id"], entry["response_size"]) == ("0" * 64, "pk1", 7)


def test_payload_can_be_left_out_keeping_its_hash(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path / "a.db", _key(), cfg=AuditConfig(store_payload=False)) as log:
        log.append(_event())
        entry = log.entry(1)
    assert entry["payload"] is None and entry["payload_sha256"] == hashlib.sha256(b"hello <PERSON_0>").hexdigest()


@pytest.mark.parametrize(("event", "message"), [
    (AuditEvent("egress.sent", "ok"), "unknown audit action"),
    (_event(destination={"host": "h", "latency": 0.5}), "destination values"),
    (_event(record_count=-1), "non-negative"),
    (_event(categories={"PERSON": True}), "non-negative"),
    (_event(payload_sha256="00" * 32), "do not match the payload"),
    (_event(payload="\ud800"), "lone surrogate"),
    (_event(purpose=None), "must be strings"),
])
def test_invalid_events_raise_and_write_nothing(log: AuditLog, event: AuditEvent, message: str) -> None:
    with pytest.raises(AuditWriteError, match=message):
        log.append(event)
    assert log.size() == 0


def test_naive_time_is_refused(log: AuditLog) -> None:
    with pytest.raises(AuditWriteError, match="timezone-aware"):
        log.append_at_time(_event(), datetime(2026, 1, 2))
    assert log.size() == 0


def test_checkpoint_every_n_entries_and_on_demand(log: AuditLog) -> None:
    for i in range(7):
        log.append_at_time(_event(i), T0 + timedelta(seconds=i))
    log.checkpoint_at_time(T0 + timedelta(minutes=1))
    leaves = [hash_leaf(row.encode()) for (row,) in sqlite3.connect(log.path).execute("SELECT body FROM entries")]
    checkpoints = log.checkpoints()
    assert [c.tree_size for c in checkpoints] == [3, 6, 7]
    for checkpoint in checkpoints:
        assert checkpoint.root_hash == merkle_tree_hash(leaves[:checkpoint.tree_size]).hex()
        verify_checkpoint_signature(checkpoint, trusted_keys([_key().public]))
    assert checkpoints[1].time == "2026-01-02T03:04:10.000006Z"  # signed with the entry that triggered it


def _append_many(path: str, worker: int, count: int) -> None:
    with AuditLog.open(Path(path), _key(), cfg=AuditConfig(checkpoint_every=7)) as log:
        for i in range(count):
            log.append(_event(worker * 1000 + i))


def test_concurrent_processes_lose_nothing_and_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    AuditLog.open(path, _key()).close()
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_append_many, args=(str(path), w, 50)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    with AuditLog.open(path, _key()) as log:
        report = log.verify(allow_unsigned_tail=6)  # every 7: entries 197..200 come after the last checkpoint
        entries = list(log.entries())
    assert report.entries == 200 and [e["seq"] for e in entries] == list(range(1, 201))
    written = sorted(w * 1000 + i for w in range(4) for i in range(50))
    assert sorted(e["categories"]["PERSON"] for e in entries) == written
    assert report.checkpoints == 200 // 7


def test_locked_database_beyond_the_timeout_raises(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    with AuditLog.open(path, _key(), busy_timeout_s=0.05) as log:
        log.append(_event())
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(AuditWriteError, match="lock"):
                log.append(_event())
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert log.append(_event()) == 2


class _FailingConnection:
    """Delegates to the log's real backend but fails statements containing `fail_on` (a full disk, simulated)."""

    def __init__(self, conn: sqlite3.Connection, fail_on: str) -> None:
        self._conn, self.fail_on = conn, fail_on

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if self.fail_on in sql:
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def commit(self) -> None:
        self.execute("COMMIT")

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


@pytest.mark.parametrize("fail_on", ["INSERT INTO entries", "INSERT INTO checkpoints", "COMMIT"])
def test_a_failed_write_raises_and_leaves_nothing_behind(log: AuditLog, fail_on: str) -> None:
    log.append(_event(0))
    log.append(_event(1))
    real = log._conn
    log._conn = _FailingConnection(real, fail_on)  # entry 3 also writes a checkpoint (checkpoint_every=3)
    with pytest.raises(AuditWriteError, match="disk is full"):
        log.append(_event(2))
    log._conn = real
    assert log.size() == 2 and log.checkpoints() == [] and not real.in_transaction
    for i in range(2, 7):
        log.append(_event(i))
    assert log.verify(allow_unsigned_tail=1).checkpoints == 2  # checkpoints after the failure still match the log


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions; see the query_only variant")
def test_read_only_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    AuditLog.open(path, _key()).close()
    path.chmod(0o400)
    with pytest.raises(AuditWriteError), AuditLog.open(path, _key()) as log:
        log.append(_event())


def test_read_only_database_raises(log: AuditLog) -> None:
    log.append(_event())
    log._conn.execute("PRAGMA query_only = ON")  # what SQLite reports for a read-only file: SQLITE_READONLY
    with pytest.raises(AuditWriteError, match="readonly"):
        log.append(_event())
    log._conn.execute("PRAGMA query_only = OFF")
    assert log.size() == 1


def test_unopenable_path_raises(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(AuditWriteError, match="cannot open"):
        AuditLog.open(tmp_path / "dir.db", _key())


def test_query_filters_by_time_action_destination_and_limit(log: AuditLog) -> None:
    for i in range(6):
        event = _event(i, destination={"host": "a" if i % 2 else "b"})
        log.append_at_time(event, T0 + timedelta(days=i))
    log.append_at_time(AuditEvent("service.start", "ok"), T0 + timedelta(days=9))
    seqs = lambda **kw: [e["seq"] for e in log.query(**kw)]  # noqa: E731
    assert seqs(action="egress.request", destination="a") == [2, 4, 6]
    assert seqs(since="2026-01-03T03:04:05.000006Z", until="2026-01-05T00:00:00.000000Z") == [2, 3]
    assert seqs(limit=2) == [6, 7] and seqs(action="service.start") == [7] and seqs(destination="zz") == []


@pytest.mark.parametrize(("argv", "expected"), [
    (["/usr/bin/tanaban", "egress", "chat", "John Smith lives here"], "tanaban egress chat"),
    (["tanaban", "egress", "chat", "john"], "tanaban egress chat"),
    (["tanaban", "--config", "x.toml"], "tanaban"),
    (["tanaban", "Jane Doe"], "tanaban"),
    ([], "python"),
])
def test_origin_command_never_carries_free_text(argv: list[str], expected: str) -> None:
    assert _command(argv) == expected


def test_signed_checkpoints_are_copied_to_syslog_only_when_configured(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import syslog

    from appliance.privacy.audit.export import read_checkpoints

    sent: list[tuple[object, ...]] = []
    monkeypatch.setattr(syslog, "openlog", lambda *args: sent.append(("openlog", *args)))
    monkeypatch.setattr(syslog, "syslog", lambda *args: sent.append(("syslog", *args)))
    with AuditLog.open(tmp_path / "off" / "audit.db", _key()) as quiet:
        quiet.append(_event())
    assert sent == []  # off by default
    with AuditLog.open(tmp_path / "on" / "audit.db", _key(), cfg=AuditConfig(syslog=True)) as log:
        log.append(_event(1))
        log.append(_event(2))
        checkpoints = log.checkpoints()
    assert sent[0] == ("openlog", "tanaban-audit", syslog.LOG_PID, syslog.LOG_AUTH)
    lines = [args[2] for args in sent if args[0] == "syslog" and args[1] == syslog.LOG_NOTICE]
    (tmp_path / "journal.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(lines) == 2 and read_checkpoints(tmp_path / "journal.txt") == checkpoints  # usable as pins
    assert all(c.signature in line and c.key_id in line for c, line in zip(checkpoints, lines, strict=True))
