"""Appliance home: init creates private files, is re-runnable, and open_home explains what is missing."""

from __future__ import annotations

import stat

import pytest

from appliance.config import ApplianceConfig
from appliance.data.home import NotInitialisedError, init_home, open_home
from appliance.data.keys import PSEUDONYM_FILE, SIGNING_FILE


def test_init_creates_private_store_and_keys(tmp_config: ApplianceConfig) -> None:
    report = init_home(tmp_config)
    assert report.created_keys
    if tmp_config.store.url.startswith("sqlite:"):  # a PostgreSQL store is no file of ours
        assert stat.S_IMODE((tmp_config.data_dir / "tanaban.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_config.keys_dir / PSEUDONYM_FILE).stat().st_mode) == 0o600


def test_init_twice_keeps_keys_byte_identical(tmp_config: ApplianceConfig) -> None:
    first = init_home(tmp_config)
    before = {n: (tmp_config.keys_dir / n).read_bytes() for n in (PSEUDONYM_FILE, SIGNING_FILE)}
    second = init_home(tmp_config)
    assert not second.created_keys
    assert second.pseudonym_key_id == first.pseudonym_key_id
    assert {n: (tmp_config.keys_dir / n).read_bytes() for n in before} == before


def test_open_before_init_says_run_init(tmp_config: ApplianceConfig) -> None:
    with pytest.raises(NotInitialisedError, match="tanaban init"):
        open_home(tmp_config)


def test_store_pseudonym_is_keyed_and_stable(tmp_config: ApplianceConfig) -> None:
    init_home(tmp_config)
    home = open_home(tmp_config)
    token = home.store_pseudonym("C-00012345")
    assert token.startswith(f"usr-{home.pseudonym_key.key_id}-")
    assert "00012345" not in token
    assert open_home(tmp_config).store_pseudonym("C-00012345") == token
