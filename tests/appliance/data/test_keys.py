"""Key material: creation modes, refusal to overwrite, permission checks, malformed files, key ids."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from appliance.data.keys import (
    PSEUDONYM_FILE,
    PUBLIC_FILE,
    SIGNING_FILE,
    KeyMaterialError,
    create_keys,
    load_pseudonym_key,
    load_public_key,
    load_signing_key,
    pseudonym_key_id,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_sets_private_modes(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    create_keys(keys)
    assert _mode(keys) == 0o700
    assert _mode(keys / PSEUDONYM_FILE) == 0o600
    assert _mode(keys / SIGNING_FILE) == 0o600
    assert _mode(keys / PUBLIC_FILE) == 0o644


def test_load_returns_what_was_created(tmp_path: Path) -> None:
    pseudo, signing = create_keys(tmp_path, rng=lambda n: bytes(range(n)))
    assert load_pseudonym_key(tmp_path) == pseudo
    assert pseudo.key_id == pseudonym_key_id(bytes(range(32)))
    loaded = load_signing_key(tmp_path)
    assert loaded.key_id == signing.key_id
    load_public_key(tmp_path / PUBLIC_FILE).verify(loaded.sign(b"m"), b"m")


def test_key_ids_differ_between_keys(tmp_path: Path) -> None:
    a, _ = create_keys(tmp_path / "a")
    b, _ = create_keys(tmp_path / "b")
    assert a.key_id != b.key_id and a.secret != b.secret


def test_refuses_to_overwrite_and_leaves_files_identical(tmp_path: Path) -> None:
    create_keys(tmp_path)
    before = {n: (tmp_path / n).read_bytes() for n in (PSEUDONYM_FILE, SIGNING_FILE, PUBLIC_FILE)}
    with pytest.raises(KeyMaterialError, match="refusing to overwrite"):
        create_keys(tmp_path)
    assert {n: (tmp_path / n).read_bytes() for n in before} == before


@pytest.mark.parametrize("name", [PSEUDONYM_FILE, SIGNING_FILE])
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_group_or_world_readable_keys_are_refused(tmp_path: Path, name: str, mode: int) -> None:
    create_keys(tmp_path)
    os.chmod(tmp_path / name, mode)
    loader = load_pseudonym_key if name == PSEUDONYM_FILE else load_signing_key
    with pytest.raises(KeyMaterialError, match=f"chmod 600 .*{name}"):
        loader(tmp_path)


@pytest.mark.parametrize("name", [PSEUDONYM_FILE, SIGNING_FILE])
def test_missing_keys_say_run_init(tmp_path: Path, name: str) -> None:
    create_keys(tmp_path)
    (tmp_path / name).unlink()
    loader = load_pseudonym_key if name == PSEUDONYM_FILE else load_signing_key
    with pytest.raises(KeyMaterialError, match="tanaban init"):
        loader(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "malformed"),
        (b'{"key_id": "x"}', "malformed"),
        (b'{"key_id": "x", "key": "AAAA"}', "does not match"),
    ],
)
def test_malformed_pseudonym_key(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / PSEUDONYM_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(KeyMaterialError, match=message):
        load_pseudonym_key(tmp_path)


def test_signing_key_repr_hides_secret(tmp_path: Path) -> None:
    pseudo, signing = create_keys(tmp_path)
    assert pseudo.secret.hex() not in repr(pseudo)
    assert "private" not in repr(signing)
