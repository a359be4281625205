"""Audit signing-key rotation and revocation (appliance.privacy.audit.rotation, .keyring): a key is valid from the
entry that introduces it until the rotation that replaces it (or its revocation), the log records both as entries
that offline verification reads, and a checkpoint signed outside its key's validity fails, naming the key. Runs on
the SQLite and the PostgreSQL test backends (the `home` fixture)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from appliance.data.home import Home
from appliance.data.keys import SigningKey, audit_public_keys, load_public_key, public_key_id
from appliance.doctor import _keys
from appliance.privacy.audit import AuditEvent, AuditVerificationError, AuditWriteError
from appliance.privacy.audit.admin import export_log, open_audit_log, verify_home
from appliance.privacy.audit.chain import canonical_json, entry_body
from appliance.privacy.audit.checkpoints import Checkpoint, sign_checkpoint
from appliance.privacy.audit.merkle import MerkleFrontier, hash_leaf
from appliance.privacy.audit.rotation import (
    AuditKeyError,
    Rotation,
    list_audit_keys,
    revoke_audit_key,
    rotate_audit_key,
)
from appliance.privacy.audit.verify import verify_export, verify_log
from cli.main import app


def _note(home: Home, text: str = "x") -> int:
    with open_audit_log(home) as log:
        return log.append(AuditEvent("log.read", "ok", reason=text))


def _forge(home: Home, key: SigningKey) -> Checkpoint:
    """What someone holding `key` (and write access) can do: sign the whole log as it is now and store that
    checkpoint. Returns it."""
    with open_audit_log(home) as log:
        frontier = MerkleFrontier()
        for entry in log.entries():
            frontier.append(hash_leaf(canonical_json(entry_body(entry))))
        forged = sign_checkpoint(frontier.size, frontier.root(), datetime.now(UTC), key)
        row_id = len(log.checkpoints()) + 1
        log._conn.execute("INSERT INTO checkpoints (id, tree_size, root_hash, time, key_id, signature) "
                          "VALUES (?, ?, ?, ?, ?, ?)", (row_id, forged.tree_size, forged.root_hash, forged.time,
                                                        forged.key_id, forged.signature))
    return forged


def _checkpoints(home: Home) -> list[Checkpoint]:
    with open_audit_log(home) as log:
        return log.checkpoints()


def _offline(home: Home, extra: list[Checkpoint] = ()) -> None:
    """Verify the log as an auditor would from its entries and checkpoints, with every public key."""
    keys = audit_public_keys(home.config.keys_dir)
    with open_audit_log(home) as log:
        verify_log(list(log.entries()), [*log.checkpoints(), *extra], keys)


def test_rotation_is_recorded_handed_over_and_verifies(home: Home, tmp_path: Path) -> None:
    old = home.audit_key
    _note(home)
    done = rotate_audit_key(home)
    assert home.audit_key.key_id == done.new_key_id != old.key_id
    _note(home, "after")
    with open_audit_log(home) as log:
        rotation = log.entry(done.seq)
        by_size = [(c.tree_size, c.key_id) for c in log.checkpoints()]
    assert rotation["action"] == "auditkey.rotate" and rotation["origin"]["previous_key_id"] == old.key_id
    assert rotation["origin"]["key_id"] == done.new_key_id
    # the tree that ends with the rotation is signed by the old key (hand-over), then the new key; later ones by it
    assert by_size[-3:] == [(done.seq, old.key_id), (done.seq, done.new_key_id), (done.seq + 1, done.new_key_id)]
    assert verify_home(home).entries == done.seq + 1
    out = tmp_path / "audit.jsonl"
    export_log(home, "jsonl", out)
    both = [load_public_key(home.config.keys_dir / "signing.pub"), load_public_key(done.public_key)]
    assert verify_export(out, both).checkpoints >= 4
    assert [s.status for s in list_audit_keys(home)] == [
        f"retired at entry {done.seq} when key {done.new_key_id} replaced it", "signs now"]


def test_a_retired_key_cannot_sign_later_trees(home: Home) -> None:
    """Before validity existed any trusted key could sign any tree: a stolen old key kept its power forever."""
    old = home.audit_key
    done = rotate_audit_key(home)
    _note(home)
    forged = _forge(home, old)
    message = (f"checkpoint at tree size {forged.tree_size} ({forged.time}) is signed by key {old.key_id}, retired "
               f"at entry {done.seq} when key {done.new_key_id} replaced it: not a valid signature for this tree")
    with pytest.raises(AuditVerificationError) as live:
        verify_home(home)
    assert str(live.value) == message
    with pytest.raises(AuditVerificationError) as offline:
        _offline(home)
    assert str(offline.value) == message


def test_a_revoked_keys_later_checkpoints_fail_naming_it(home: Home) -> None:
    old = home.audit_key
    done = rotate_audit_key(home)
    seq = revoke_audit_key(home, old.key_id)
    with open_audit_log(home) as log:
        revocation = log.entry(seq)
    assert revocation["action"] == "auditkey.revoke" and revocation["origin"]["key_id"] == old.key_id
    with pytest.raises(AuditKeyError, match="is already revoked"):
        revoke_audit_key(home, old.key_id)
    with pytest.raises(AuditKeyError, match=r"is the current audit signing key: revoke it with `tanaban audit key"):
        revoke_audit_key(home, done.new_key_id)
    _offline(home)  # its checkpoints from before the revocation (the hand-over) still count
    forged = _forge(home, old)
    with pytest.raises(AuditVerificationError, match=rf"signed by key {old.key_id}, revoked at entry {seq} "):
        _offline(home, [forged])
    assert list_audit_keys(home)[0].status == f"revoked at entry {seq} (auditkey.revoke)"
    assert done.new_key_id == home.audit_key.key_id


def test_rotate_with_revoke_leaves_the_old_key_no_hand_over(home: Home) -> None:
    old = home.audit_key
    _note(home)
    done = rotate_audit_key(home, revoke=True)
    with open_audit_log(home) as log:
        actions = [e["action"] for e in log.entries()][-2:]
        at_rotation = [c.key_id for c in log.checkpoints() if c.tree_size >= done.seq - 1]
    assert actions == ["auditkey.revoke", "auditkey.rotate"] and done.revoked
    assert old.key_id not in at_rotation  # the revoked key signed nothing that includes its revocation
    verify_home(home)
    with pytest.raises(AuditVerificationError, match=rf"signed by key {old.key_id}, revoked at entry {done.seq - 1}"):
        _offline(home, [_forge(home, old)])


@pytest.mark.parametrize("revoke", [False, True])
def test_a_process_opened_before_a_rotation_signs_on_with_the_new_key(home: Home, revoke: bool) -> None:
    """A running `tanaban serve` (or any process with the log open) no longer needs a restart: at its next
    checkpoint it sees the rotation in the log and loads the new key from audit-keys/, never signing with the old."""
    running = open_audit_log(home)  # opened before the rotation, as a running `tanaban serve` would be
    try:
        running.append(AuditEvent("log.read", "ok"))
        old = running.key_id
        done = rotate_audit_key(home, revoke=revoke)
        seq = running.append(AuditEvent("log.read", "ok", reason="after the rotation"))
        assert seq == done.seq + 1 and running.key_id == done.new_key_id != old
        latest = running.checkpoints()[-1]
        assert (latest.tree_size, latest.key_id) == (seq, done.new_key_id)
    finally:
        running.close()
    assert not [c for c in _checkpoints(home) if c.key_id == old and c.tree_size > done.seq]
    verify_home(home)
    _offline(home)


def test_serve_audit_log_picks_up_a_rotated_key(home: Home) -> None:
    from appliance.serve.events import open_serve_audit

    with open_serve_audit(home.config) as log:
        log.append(AuditEvent("service.start", "ok"))
        done = rotate_audit_key(home)
        log.append(AuditEvent("service.stop", "ok"))
        assert log.checkpoints()[-1].key_id == done.new_key_id
    verify_home(home)


def test_without_a_key_loader_a_stale_process_refuses_to_sign(home: Home) -> None:
    """What the pick-up replaces (and what still happens if the new key cannot be loaded): fail closed."""
    from appliance.privacy.audit.log import AuditLog

    stale = AuditLog.open(home.config.audit_path, home.audit_key, cfg=home.config.audit)
    try:
        stale.append(AuditEvent("log.read", "ok"))
        done = rotate_audit_key(home)
        with pytest.raises(AuditWriteError, match=rf"retired at entry {done.seq} .*restart it"):
            stale.append(AuditEvent("log.read", "ok"))
        assert stale.size() == done.seq  # nothing was written
    finally:
        stale.close()
    _note(home)  # a fresh process loads the new key
    verify_home(home)


def test_a_stale_process_refuses_when_the_rotated_key_is_not_installed(home: Home) -> None:
    running = open_audit_log(home)
    try:
        running.append(AuditEvent("log.read", "ok"))
        done = rotate_audit_key(home)
        next((home.config.keys_dir / "audit-keys").glob(f"*-{done.new_key_id}.key")).unlink()  # e.g. a bad restore
        with pytest.raises(AuditWriteError, match=rf"retired at entry {done.seq} .*, and that key is not installed"):
            running.append(AuditEvent("log.read", "ok"))
        assert running.size() == done.seq and running.key_id != done.new_key_id
    finally:
        running.close()


def _rotate_in_two_threads(home: Home, *, pause: Callable[[], None]) -> list[object]:
    """Run `rotate --revoke` twice at once, each thread with its own Home (its own cached keys, as two processes);
    `pause` runs inside each rotation just before its new key is made."""
    from appliance.privacy.audit import rotation

    real = rotation.create_audit_key

    def slow_create(keys_dir: Path):
        pause()
        return real(keys_dir)

    outcomes: list[object] = [None, None]
    start = threading.Barrier(2)

    def run(slot: int) -> None:
        start.wait()
        try:
            outcomes[slot] = rotate_audit_key(Home(home.config, home.engine), revoke=True)
        except Exception as exc:  # the outcome under test
            outcomes[slot] = exc

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rotation, "create_audit_key", slow_create)
        threads = [threading.Thread(target=run, args=(slot,)) for slot in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return outcomes


def _rotations(home: Home) -> list[dict]:
    with open_audit_log(home) as log:
        return log.query(action="auditkey.rotate")


def test_two_rotations_at_once_the_second_waits_then_refuses_naming_the_new_key(home: Home) -> None:
    """Before the lock both could commit, two keys each revoking the same old one; now the second waits for the
    first (the auditkey lock) and refuses, since the key it was asked to replace is gone."""
    old = home.audit_key.key_id
    outcomes = _rotate_in_two_threads(home, pause=lambda: time.sleep(0.5))
    done = [o for o in outcomes if isinstance(o, Rotation)]
    refused = [o for o in outcomes if isinstance(o, AuditKeyError)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert f"replaced audit key {old} by {done[0].new_key_id}; nothing was done" in str(refused[0])
    assert [r["origin"]["key_id"] for r in _rotations(home)] == [done[0].new_key_id]
    keys = sorted(p.name for p in (home.config.keys_dir / "audit-keys").iterdir())
    assert keys == [f"1-{done[0].new_key_id}.key", f"1-{done[0].new_key_id}.pub"]  # no key of the refused one
    verify_home(home)
    with pytest.raises(AuditKeyError, match=f"replaced audit key {old} by"):
        rotate_audit_key(home)  # this Home still holds the old key, as a process started before the rotation
    vars(home).pop("audit_key")  # run again (a new process): it rotates the new key
    assert rotate_audit_key(home).old_key_id == done[0].new_key_id


def test_two_rotations_without_the_lock_cannot_both_commit(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """Defence in depth: with the lock taken away, both rotations get past their checks (the barrier holds each
    until both have), and the log's write transaction still lets only one of them commit."""
    import contextlib

    from appliance.privacy.audit import rotation
    from appliance.privacy.audit.log import KeyChangedError

    monkeypatch.setattr(rotation, "writing", lambda *_args, **_kwargs: contextlib.nullcontext())
    both_checked = threading.Barrier(2)
    outcomes = _rotate_in_two_threads(home, pause=lambda: both_checked.wait(timeout=30))
    done = [o for o in outcomes if isinstance(o, Rotation)]
    refused = [o for o in outcomes if isinstance(o, KeyChangedError)]
    if not done:
        # PostgreSQL: one thread can also be refused earlier, at the witness-file check of its checkpoint (the other
        # thread's write moved the witness on), and the other then finds the barrier broken: neither commits. The
        # guarantee under test holds; the exact-outcome checks below are SQLite's (CI saw this once in three runs).
        # (Whether the witness file and pending key are left consistent then is not settled: see the issue note.)
        # SQLite on a loaded machine: one thread can wait out the busy timeout for the write lock the other holds
        # while it waits at the barrier ("database is locked"), and the other then finds the barrier broken: neither
        # commits either (a fresh-clone CI run beside other jobs saw this once).
        from appliance.privacy.audit.log import AuditWriteError

        if home.engine.dialect.name == "sqlite":
            assert all(isinstance(o, AuditWriteError | KeyChangedError | threading.BrokenBarrierError)
                       for o in outcomes), outcomes
        assert _rotations(home) == [], outcomes
        return
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert f"by {done[0].new_key_id} while this one ran; nothing was written" in str(refused[0])
    assert [r["origin"]["key_id"] for r in _rotations(home)] == [done[0].new_key_id]
    assert not list((home.config.keys_dir / "audit-keys").glob("*.pending"))
    verify_home(home)


def test_a_key_the_log_introduces_later_cannot_sign_earlier_trees() -> None:
    """Checked with hand-made entries: a new key's signature over a tree before its rotation entry fails."""
    from appliance.privacy.audit.chain import GENESIS_PREV_HASH, format_time, hash_entry

    keys = [SigningKey(public_key_id(k.public_key()), k) for k in
            (Ed25519PrivateKey.from_private_bytes(bytes([n]) * 32) for n in (1, 2))]
    raw = keys[1].public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    entries, prev, frontier, checkpoints = [], GENESIS_PREV_HASH, MerkleFrontier(), []
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for seq, (action, origin) in enumerate([("log.read", {}), ("auditkey.rotate", {
            "key_id": keys[1].key_id, "public_key": raw, "previous_key_id": keys[0].key_id})], start=1):
        body = {"seq": seq, "time": format_time(now), "actor": "a", "action": action, "outcome": "ok", "reason": "",
                "origin": origin, "destination": {}, "purpose": "", "categories": {}, "record_count": 0,
                "pseudonym_key_id": "", "policy_version": "", "payload_sha256": "", "payload_size": 0,
                "response_sha256": "", "response_size": 0, "payload": None}
        digest = hash_entry(prev, canonical_json(body))
        entries.append({**body, "prev_hash": prev.hex(), "entry_hash": digest.hex()})
        prev = digest
        frontier.append(hash_leaf(canonical_json(body)))
        checkpoints.append(sign_checkpoint(seq, frontier.root(), now, keys[0] if seq == 1 else keys[1]))
    verify_log(entries, checkpoints, [k.public for k in keys])
    early = sign_checkpoint(1, bytes.fromhex(checkpoints[0].root_hash), now, keys[1])
    with pytest.raises(AuditVerificationError, match=rf"signed by key {keys[1].key_id}, which the log introduces "
                                                     "only at entry 2"):
        verify_log(entries, [*checkpoints, early], [k.public for k in keys])


def test_a_failed_rotation_changes_nothing(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    old = home.audit_key
    _note(home)
    with open_audit_log(home) as log:
        before = log.size()

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AuditWriteError("disk full (test)")

    monkeypatch.setattr("appliance.privacy.audit.log.AuditLog.rotate_key", refuse)
    with pytest.raises(AuditWriteError):
        rotate_audit_key(home)
    monkeypatch.undo()
    assert not list((home.config.keys_dir / "audit-keys").iterdir())  # the pending key and its .pub are gone
    assert home.audit_key.key_id == old.key_id and _note(home) == before + 1
    verify_home(home)


def test_an_interrupted_rotation_is_finished_by_running_it_again(home: Home,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_args: object) -> None:
        raise OSError("power cut (test)")

    monkeypatch.setattr("appliance.privacy.audit.rotation._install", crash)
    with pytest.raises(OSError):
        rotate_audit_key(home)  # committed in the log; the new key is still .pending
    monkeypatch.undo()
    vars(home).pop("audit_key", None)
    with pytest.raises(AuditWriteError, match="retired at entry 1"):
        _note(home)  # the old key may not sign after its rotation: fail closed
    done = rotate_audit_key(home)
    assert done.finished_interrupted and home.audit_key.key_id == done.new_key_id
    _note(home)
    verify_home(home)


def test_cli_rotate_list_revoke(home: Home, cli_runner: CliRunner, config_file: Path) -> None:
    old = home.audit_key.key_id

    def run(*args: str):
        return cli_runner.invoke(app, ["--config", str(config_file), "audit", "key", *args])

    rotated = run("rotate", "--yes")
    assert rotated.exit_code == 0, rotated.output
    assert f"rotated: audit signing key {old} -> " in rotated.output
    new = home.config.keys_dir.joinpath("audit-keys").glob("*.pub").__next__().stem.split("-", 1)[1]
    current = run("revoke", new, "--yes")
    assert current.exit_code == 2 and "is the current audit signing key" in current.output
    unknown = run("revoke", "0123456789abcdef", "--yes")
    assert unknown.exit_code == 2 and "never signed this audit log" in unknown.output
    revoked = run("revoke", old, "--yes")
    assert revoked.exit_code == 0 and f"revoked: audit signing key {old} at entry" in revoked.output
    listed = json.loads(run("list", "--json").output)
    assert [k["key_id"] for k in listed] == [old, new] and listed[1]["status"] == "signs now"
    assert listed[0]["status"].startswith("revoked at entry")
    # doctor names both: bundles stay signed by signing.key, the audit log by its rotated key
    assert _keys(home.config).detail.endswith(f"signing key {old}, audit log signed by rotated key {new}")


def test_a_second_rotation_deletes_the_retired_private_key_and_keeps_every_public_key(home: Home,
                                                                                       tmp_path: Path) -> None:
    first = rotate_audit_key(home)
    second = rotate_audit_key(home, revoke=True)
    folder = home.config.keys_dir / "audit-keys"
    assert sorted(p.name for p in folder.iterdir()) == [
        f"1-{first.new_key_id}.pub", f"2-{second.new_key_id}.key", f"2-{second.new_key_id}.pub"]
    assert (home.config.keys_dir / "signing.key").exists()  # it also signs bundles: never deleted
    export_log(home, "jsonl", tmp_path / "audit.jsonl")  # verifies the live log with every key first
    keys = [load_public_key(p) for p in (home.config.keys_dir / "signing.pub", *sorted(folder.glob("*.pub")))]
    assert verify_export(tmp_path / "audit.jsonl", keys).entries == second.seq + 1
    with pytest.raises(AuditVerificationError, match=f"signed by key id {first.new_key_id}, which is not a trusted"):
        verify_export(tmp_path / "audit.jsonl", [keys[0], keys[2]])  # an auditor must be given every key
