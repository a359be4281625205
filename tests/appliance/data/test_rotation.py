"""Pseudonym-key rotation: chained HMAC re-keying in one transaction, lookups through the chain, archived keys,
audit events, fail-closed and interrupted rotations, and the `tanaban keys` commands. Re-keying and re-ingest after a
rotation run on SQLite and on PostgreSQL (`backend_home`)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from anonymize.pseudonym import pseudonymize
from appliance.config import ApplianceConfig
from appliance.data.home import Home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.keys import PSEUDONYM_FILE
from appliance.data.rotation import (
    PENDING_FILE,
    RotationError,
    chained_pseudonym,
    describe_keys,
    load_key_chain,
    rotate_pseudonym_key,
)
from appliance.data.store import User
from appliance.privacy.audit import AuditLog, AuditWriteError
from cli.main import app

RAW_IDS = ("alice@example.com", "C-17", "bob", "C-99", "7")  # five users: an odd count


def _add_users(home: Home) -> None:
    rows = [{"pseudonym": home.store_pseudonym(raw), "key_id": home.pseudonym_key.key_id} for raw in RAW_IDS]
    with home.engine.begin() as conn:
        conn.execute(insert(User), rows)


def _users(home: Home) -> dict[str, str]:
    with home.engine.connect() as conn:
        return dict(conn.execute(select(User.pseudonym, User.key_id)).all())


def _actions(home: Home) -> list[tuple[str, str]]:
    with AuditLog.open(home.config.audit_path, home.signing_key) as log:
        return [(e["action"], e["outcome"]) for e in log.entries()]


def test_one_key_chain_is_the_plain_store_pseudonym(home: Home) -> None:
    key = home.pseudonym_key
    assert home.store_pseudonym("C-17") == pseudonymize("C-17", key=key.secret, key_id=key.key_id, purpose="store")
    with pytest.raises(RotationError):
        chained_pseudonym("C-17", ())


def test_rotation_rekeys_every_user_and_lookups_follow_the_chain(backend_home: Home,
                                                                 backend_config: ApplianceConfig) -> None:
    home, tmp_config = backend_home, backend_config
    _add_users(home)
    before = _users(home)
    old_id = home.pseudonym_key.key_id
    report = rotate_pseudonym_key(home)
    after = _users(home)
    assert report.users == len(RAW_IDS) and report.old_key_id == old_id != report.new_key_id
    assert set(after.values()) == {report.new_key_id} and not set(before) & set(after)
    fresh = open_home(tmp_config)  # a new process sees the same mapping
    assert {fresh.store_pseudonym(raw) for raw in RAW_IDS} == set(after)
    assert {home.store_pseudonym(raw) for raw in RAW_IDS} == set(after)  # the rotated Home dropped its cache
    assert stat.S_IMODE(report.archived.stat().st_mode) == 0o600 and old_id in report.archived.name
    assert [k.key_id for k in fresh.pseudonym_chain] == [old_id, report.new_key_id]
    assert _actions(home) == [("key.rotate", "started"), ("key.rotate", "ok")]
    if tmp_config.store.url.startswith("sqlite:///"):
        db = Path(tmp_config.store.url.removeprefix("sqlite:///")).read_bytes()
        assert not [raw for raw in RAW_IDS[:2] if raw.encode() in db]


def test_two_rotations_chain_three_keys(home: Home, tmp_config: ApplianceConfig) -> None:
    _add_users(home)
    first = rotate_pseudonym_key(home)
    second = rotate_pseudonym_key(home)
    fresh = open_home(tmp_config)
    assert len(fresh.pseudonym_chain) == 3 and fresh.pseudonym_key.key_id == second.new_key_id
    assert first.new_key_id == second.old_key_id
    assert {fresh.store_pseudonym(raw) for raw in RAW_IDS} == set(_users(home))
    assert describe_keys(fresh).retired_key_ids == (first.old_key_id, second.old_key_id)


def test_chain_prefix_gives_the_pseudonym_an_older_key_made(home: Home, tmp_config: ApplianceConfig) -> None:
    _add_users(home)
    before = sorted(_users(home))
    first = rotate_pseudonym_key(home)
    rotate_pseudonym_key(home)
    chain = open_home(tmp_config).pseudonym_chain
    assert sorted(chained_pseudonym(raw, chain, upto=first.old_key_id) for raw in RAW_IDS) == before
    assert sorted(chained_pseudonym(raw, chain, upto=chain[-1].key_id) for raw in RAW_IDS) == sorted(_users(home))
    with pytest.raises(RotationError, match="re-export the bundle"):
        chained_pseudonym(RAW_IDS[0], chain, upto="0000000000000000")


def test_rotation_does_nothing_when_the_audit_log_cannot_be_written(home: Home,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _add_users(home)
    before, key_file = _users(home), (home.config.keys_dir / PSEUDONYM_FILE).read_bytes()

    def refuse(self: AuditLog, event: object) -> int:
        raise AuditWriteError("disk full")

    monkeypatch.setattr(AuditLog, "append", refuse)
    with pytest.raises(AuditWriteError):
        rotate_pseudonym_key(home)
    assert _users(home) == before and (home.config.keys_dir / PSEUDONYM_FILE).read_bytes() == key_file
    assert not (home.config.keys_dir / PENDING_FILE).exists()


def test_a_rotation_cut_after_the_store_commit_is_refused_then_finished(home: Home, tmp_config: ApplianceConfig,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _add_users(home)

    def crash(*_args: object) -> None:
        raise KeyboardInterrupt  # the process dies between the store commit and the key-file replace

    monkeypatch.setattr("appliance.data.rotation.os.replace", crash)
    with pytest.raises(KeyboardInterrupt):
        rotate_pseudonym_key(home)
    monkeypatch.undo()
    with pytest.raises(RotationError, match="interrupted key rotation"):
        open_home(tmp_config).store_pseudonym("C-17")  # never a lookup against a half-rotated store
    report = rotate_pseudonym_key(open_home(tmp_config))
    fresh = open_home(tmp_config)
    assert report.completed_interrupted and len(fresh.pseudonym_chain) == 2
    assert {fresh.store_pseudonym(raw) for raw in RAW_IDS} == set(_users(home))


def test_a_rotation_cut_before_the_store_commit_starts_over(home: Home, tmp_config: ApplianceConfig,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _add_users(home)
    monkeypatch.setattr("appliance.data.rotation._rekey_store", lambda *_a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        rotate_pseudonym_key(home)
    monkeypatch.undo()
    report = rotate_pseudonym_key(open_home(tmp_config))
    fresh = open_home(tmp_config)
    assert not report.completed_interrupted and report.users == len(RAW_IDS)
    assert [k.key_id for k in fresh.pseudonym_chain] == [report.old_key_id, report.new_key_id]
    assert {fresh.store_pseudonym(raw) for raw in RAW_IDS} == set(_users(home))


def test_a_widely_readable_archived_key_is_refused(home: Home, tmp_config: ApplianceConfig) -> None:
    report = rotate_pseudonym_key(home)
    report.archived.chmod(0o644)
    with pytest.raises(RotationError, match="chmod 600"):
        load_key_chain(tmp_config.keys_dir, open_home(tmp_config).pseudonym_key)


def test_keys_cli_shows_ids_never_secrets_and_rotates(home: Home, cli_runner: CliRunner, config_file: Path) -> None:
    _add_users(home)
    shown = cli_runner.invoke(app, ["--config", str(config_file), "keys", "show"])
    assert shown.exit_code == 0, shown.output
    secret_b64 = (home.config.keys_dir / PSEUDONYM_FILE).read_text().split('"key": "')[1][:20]
    assert home.pseudonym_key.key_id in shown.output and secret_b64 not in shown.output
    assert f"{home.pseudonym_key.key_id}: {len(RAW_IDS)}" in shown.output
    refused = cli_runner.invoke(app, ["--config", str(config_file), "keys", "rotate"], input="n\n")
    assert refused.exit_code != 0 and _actions(home) == []
    rotated = cli_runner.invoke(app, ["--config", str(config_file), "keys", "rotate", "--yes"])
    assert rotated.exit_code == 0, rotated.output
    assert f"{len(RAW_IDS)} stored pseudonyms re-keyed" in rotated.output


def test_re_ingesting_after_rotation_finds_the_same_customers(backend_home: Home, tmp_path: Path) -> None:
    home = backend_home
    items, interactions = tmp_path / "items.jsonl", tmp_path / "interactions.csv"
    items.write_text("".join(f'{{"sku": "S{i}", "title": "Item {i}"}}\n' for i in range(3)), encoding="utf-8")
    interactions.write_text("customer_id,sku,timestamp\n" + "".join(f"{raw},S{n % 3},{1_700_000_000 + n}\n"
                            for n, raw in enumerate(RAW_IDS)), encoding="utf-8")
    ingest_file(home, items, "items", progress=False)
    ingest_file(home, interactions, "interactions", progress=False)
    before = len(_users(home))
    rotate_pseudonym_key(home)
    report = ingest_file(home, interactions, "interactions", progress=False)
    assert len(_users(home)) == before == len(RAW_IDS) and report.added == 0
