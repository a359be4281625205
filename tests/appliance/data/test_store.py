"""Store: migrations, version guard, SQLite pragmas, constraints; the engine-independent ones on SQLite and on
PostgreSQL (`store_url`), plus what PostgreSQL adds: URL mapping, JSON columns, 64-bit values, concurrent
migrations."""

from __future__ import annotations

import threading
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
    engine_url,
    is_postgres,
    migrate,
    open_store,
    safe_url,
    schema_version,
)


def _engine(tmp_path: Path):
    return open_store(StoreConfig(url=f"sqlite:///{tmp_path / 's.db'}"))


def test_migrate_is_idempotent_and_versioned(store_url: str) -> None:
    engine = open_store(StoreConfig(url=store_url))
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
    assert migrate(engine) == SCHEMA_VERSION >= 3
    assert not inspect(engine).has_table("precomputed")
    with engine.connect() as conn:
        assert schema_version(conn) == SCHEMA_VERSION
        assert [conn.scalar(select(func.count()).select_from(t)) for t in (Item, User, Interaction, Review)] == [1] * 4


def test_newer_schema_is_refused(store_url: str) -> None:
    engine = open_store(StoreConfig(url=store_url))
    with engine.begin() as conn:
        conn.execute(Meta.__table__.update().values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(StoreError, match="upgrade tanaban"):
        migrate(engine)


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    with _engine(tmp_path).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_interaction_needs_existing_user_and_item(store_url: str) -> None:
    engine = open_store(StoreConfig(url=store_url))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Interaction).values(user_id=1, item_id=1, ts=0, event="purchase"))


def test_duplicate_interaction_is_rejected_by_the_schema(store_url: str) -> None:
    engine = open_store(StoreConfig(url=store_url))
    with engine.begin() as conn:
        conn.execute(insert(Item).values(id=1, sku="A", title="a", categories=[], attributes={}))
        conn.execute(insert(User).values(id=1, pseudonym="usr-k-1", key_id="k"))
        conn.execute(insert(Interaction).values(user_id=1, item_id=1, ts=5, event="purchase"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Interaction).values(user_id=1, item_id=1, ts=5, event="purchase"))


def test_unreachable_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the store"):
        open_store(StoreConfig(url=f"sqlite:///{tmp_path / 'missing-dir' / 's.db'}"))


def test_database_errors_never_carry_row_values(store_url: str) -> None:
    engine = open_store(StoreConfig(url=store_url))
    row = {"pseudonym": "usr-anna.k@example.com", "key_id": "k1"}
    with engine.begin() as conn:
        conn.execute(insert(User), [row])
    with pytest.raises(IntegrityError) as caught, engine.begin() as conn:
        conn.execute(insert(User), [row])
    assert "anna.k@example.com" not in str(caught.value) and "parameters hidden" in str(caught.value)
    if is_postgres(store_url):  # PostgreSQL's DETAIL line carried the value: what is left names the constraint
        assert "UniqueViolation (SQLSTATE 23505) on constraint users_pseudonym_key, table users" in str(caught.value)


# --- PostgreSQL ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"), ("postgres://u@h:5/db?sslmode=require",
                                                             "postgresql+psycopg://u@h:5/db?sslmode=require"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"), ("sqlite:///x.db", "sqlite:///x.db")])
def test_libpq_urls_get_psycopg_3(url: str, expected: str) -> None:
    assert engine_url(url) == expected
    assert is_postgres(url) == expected.startswith("postgresql")


def test_urls_in_messages_never_show_the_password() -> None:
    assert safe_url("postgresql://app:s3cret@db.example:5432/shop") == "postgresql+psycopg://app:***@db.example:5432/shop"
    with pytest.raises(StoreError) as caught:
        open_store(StoreConfig(url="postgresql://app:s3cret@127.0.0.1:1/shop"))
    message = str(caught.value)
    assert message.startswith("cannot open the store at postgresql+psycopg://app:***@127.0.0.1:1/shop: ")
    assert "s3cret" not in message and "\n" not in message
    with pytest.raises(StoreError, match="not a database URL"):
        open_store(StoreConfig(url="db.example:5432/shop"))


def test_json_columns_and_64_bit_values_round_trip_on_postgresql(postgres_url: str) -> None:
    engine = open_store(StoreConfig(url=postgres_url))
    late = 2**31 + 17  # after 2038-01-19: a 32-bit INTEGER would overflow
    with engine.begin() as conn:
        item_id = conn.execute(insert(Item).values(sku="A", title="a", categories=["Makeüp", "L"],
                                                   attributes={"n": 1, "nested": {"x": [1.5, None]}})
                               .returning(Item.id)).scalar_one()
        user_id = conn.execute(insert(User).values(pseudonym="usr-k-1", key_id="k").returning(User.id)).scalar_one()
        conn.execute(insert(Interaction).values(id=2**40, user_id=user_id, item_id=item_id, ts=late, event="view"))
    with engine.connect() as conn:
        assert conn.execute(select(Item.categories, Item.attributes)).one() == (
            ["Makeüp", "L"], {"n": 1, "nested": {"x": [1.5, None]}})
        assert conn.execute(select(Interaction.id, Interaction.ts)).one() == (2**40, late)
        types = dict(conn.execute(text("SELECT column_name, data_type FROM information_schema.columns "
                                       "WHERE table_name = 'interactions'")).all())
    assert types["ts"] == types["id"] == "bigint" and types["user_id"] == "integer"


def test_two_first_commands_migrate_a_new_postgresql_store_once(postgres_url: str) -> None:
    errors: list[BaseException] = []

    def first_open() -> None:
        try:
            open_store(StoreConfig(url=postgres_url)).dispose()
        except BaseException as exc:  # collected, re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=first_open) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with open_store(StoreConfig(url=postgres_url)).connect() as conn:
        assert schema_version(conn) == SCHEMA_VERSION
        assert conn.scalar(select(func.count()).select_from(Meta)) == 1
