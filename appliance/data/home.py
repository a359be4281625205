"""The appliance home: data directory, store and keys together, created by `tanaban init` and opened by every
command that touches data. Opening never creates keys; only `init_home` does, and it never overwrites them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from appliance.config import ApplianceConfig
from appliance.data.dirs import make_dir
from appliance.data.keys import (
    PSEUDONYM_FILE,
    PseudonymKey,
    SigningKey,
    audit_signer,
    create_keys,
    load_pseudonym_key,
    load_signing_key,
)
from appliance.data.locks import store_owner
from appliance.data.rotation import chained_pseudonym, load_key_chain
from appliance.data.store import SCHEMA_VERSION, open_store
from appliance.errors import UserError


class NotInitialisedError(UserError, RuntimeError):
    """The appliance has no store or no keys yet: `tanaban init` has not been run for this config."""


@dataclass(frozen=True)
class InitReport:
    data_dir: Path
    keys_dir: Path
    store_url: str
    schema_version: int
    pseudonym_key_id: str
    signing_key_id: str
    created_keys: bool  # False when keys already existed and were left untouched


@dataclass
class Home:
    """An opened appliance: resolved config, store engine and (lazily) the keys."""

    config: ApplianceConfig
    engine: Engine = field(repr=False)

    @cached_property
    def pseudonym_key(self) -> PseudonymKey:
        return load_pseudonym_key(self.config.keys_dir)

    @cached_property
    def signing_key(self) -> SigningKey:
        return load_signing_key(self.config.keys_dir)

    @cached_property
    def audit_key(self) -> SigningKey:
        """What signs this machine's audit log: signing.key on the primary, node.key on a serving replica."""
        return audit_signer(self.config.keys_dir)

    @cached_property
    def pseudonym_chain(self) -> tuple[PseudonymKey, ...]:
        """Retired pseudonym keys (oldest first) then the current one; see appliance.data.rotation."""
        return load_key_chain(self.config.keys_dir, self.pseudonym_key)

    def store_pseudonym(self, raw_id: str) -> str:
        """The pseudonym under which the store keeps customer `raw_id`; the only way ingest maps raw ids.

        Without rotations this is HMAC(key, raw_id); after them, the HMAC chain over every key
        (appliance.data.rotation).
        """
        return chained_pseudonym(raw_id, self.pseudonym_chain)

    def forget_keys(self) -> None:
        """Drop the cached keys so that the next use reads them again (after a rotation, or after waiting for a
        lock that a rotation held)."""
        for cached in ("pseudonym_key", "pseudonym_chain", "signing_key"):
            vars(self).pop(cached, None)


@store_owner
def init_home(cfg: ApplianceConfig) -> InitReport:
    """Create data dir (0750), keys (0600, only if absent) and the migrated store. Safe to run again, also twice at
    once: the exclusive store lock makes the second one wait and then find everything in place."""
    make_dir(cfg.data_dir)
    make_dir(cfg.artifacts_dir)
    created = not (cfg.keys_dir / PSEUDONYM_FILE).exists()
    if created:
        pseudo, signing = create_keys(cfg.keys_dir)
    else:
        pseudo, signing = load_pseudonym_key(cfg.keys_dir), load_signing_key(cfg.keys_dir)
    _create_private_sqlite_file(cfg.store.url)
    open_store(cfg.store).dispose()
    return InitReport(cfg.data_dir, cfg.keys_dir, cfg.store.url, SCHEMA_VERSION,
                      pseudo.key_id, signing.key_id, created)


def _create_private_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 before SQLite does (0644): it holds review text and pseudonyms."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            make_dir(path.parent)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def open_home(cfg: ApplianceConfig) -> Home:
    """Open an initialised appliance; a clear error if `tanaban init` has not been run."""
    if cfg.store.url.startswith("sqlite:///") and not Path(cfg.store.url.removeprefix("sqlite:///")).exists():
        raise NotInitialisedError(f"no store at {cfg.store.url}: run `tanaban init` first "
                                  f"(config: {cfg.source})")
    if not os.path.exists(cfg.keys_dir / PSEUDONYM_FILE):
        raise NotInitialisedError(f"no keys in {cfg.keys_dir}: run `tanaban init` first (config: {cfg.source})")
    return Home(cfg, open_store(cfg.store))
