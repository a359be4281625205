"""Store: migrations, version guard, SQLite pragmas, constraints."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from appliance.config import StoreConfig
from appliance.data.store import (
    SCHEMA_VERSION,
    Interaction,
    Item,
    Meta,
    StoreError,
    User,
    migrate,
    open_store,
    schema_version,
)


def _engine(tmp_path: Path):
    return open_store(StoreConfig(url=f"sqlite:///{tmp_path / 's.db'}"))


def test_migrate_is_idempotent_and_versioned(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    assert migrate(engine) == SCHEMA_VERSION
    with engine.connect() as conn:
        assert schema_version(conn) == SCHEMA_VERSION
        assert conn.scalar(select(Meta.value).where(Meta.key == "schema_version")) == str(SCHEMA_VERSION)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.begin() as conn:
        conn.execute(Meta.__table__.update().values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(StoreError, match="upgrade tanaban"):
        migrate(engine)


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    with _engine(tmp_path).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_interaction_needs_existing_user_and_item(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Interaction).values(user_id=1, item_id=1, ts=0, event="purchase"))


def test_duplicate_interaction_is_rejected_by_the_schema(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.begin() as conn:
        conn.execute(insert(Item).values(id=1, sku="A", title="a", categories=[], attributes={}))
        conn.execute(insert(User).values(id=1, pseudonym="usr-k-1", key_id="k"))
        conn.execute(insert(Interaction).values(user_id=1, item_id=1, ts=5, event="purchase"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Interaction).values(user_id=1, item_id=1, ts=5, event="purchase"))


def test_unreachable_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the store"):
        open_store(StoreConfig(url=f"sqlite:///{tmp_path / 'missing-dir' / 's.db'}"))
