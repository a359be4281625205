"""Store: migrations, version guard, SQLite pragmas, constraints."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from appliance.config import StoreConfig
from appliance.data.store import (
    SCHEMA_VERSION,
    Interaction,
    Item,
    Meta,
    Review,
    StoreError,
    User,
    _create_v1,
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


def test_v2_store_loses_the_unread_precomputed_table_and_nothing_else(tmp_path: Path) -> None:
    """Version 3 drops `precomputed` (written by the removed `tanaban precompute`, read by nothing)."""
    engine = _engine(tmp_path)
    with engine.begin() as conn:  # rebuild the store as version 2 left it, rows in every table
        for table in ("interactions", "reviews", "users", "items", "meta"):
            conn.execute(text(f"DROP TABLE {table}"))
        _create_v1(conn)
        conn.execute(text("CREATE TABLE precomputed (id INTEGER PRIMARY KEY, user_id INTEGER UNIQUE "
                          "REFERENCES users(id), items JSON, bundle_version VARCHAR(80), created_at INTEGER)"))
        conn.execute(insert(Meta).values(key="schema_version", value="2"))
        conn.execute(insert(Item).values(id=1, sku="A", title="a", categories=[], attributes={}))
        conn.execute(insert(User).values(id=1, pseudonym="usr-k-1", key_id="k"))
        conn.execute(insert(Interaction).values(user_id=1, item_id=1, ts=5, event="purchase"))
        conn.execute(insert(Review).values(content_hash="h", user_id=1, item_id=1, ts=5, text="nice"))
        conn.execute(text("INSERT INTO precomputed VALUES (1, 1, '[1]', 'v1', 0)"))
    assert inspect(engine).has_table("precomputed")
    assert migrate(engine) == SCHEMA_VERSION == 3
    assert not inspect(engine).has_table("precomputed")
    with engine.connect() as conn:
        assert schema_version(conn) == 3
        assert [conn.scalar(select(func.count()).select_from(t)) for t in (Item, User, Interaction, Review)] == [1] * 4


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


def test_database_errors_never_carry_row_values(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    row = {"pseudonym": "usr-anna.k@example.com", "key_id": "k1"}
    with engine.begin() as conn:
        conn.execute(insert(User), [row])
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(insert(User), [row])
    assert "anna.k@example.com" not in str(caught.value) and "parameters hidden" in str(caught.value)
