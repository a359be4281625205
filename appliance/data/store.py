"""The appliance store: SQLAlchemy 2.x models for items, pseudonymous users, interactions and reviews.

SQLite in WAL mode by default; any SQLAlchemy URL is accepted. Raw customer ids never reach this module: users are
stored only as keyed pseudonyms (anonymize.pseudonym). The schema is versioned; `migrate()` applies the ordered
migrations in `_MIGRATIONS` inside one transaction and refuses a database newer than this code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from appliance.config import StoreConfig
from appliance.errors import UserError

EVENTS = ("purchase", "view", "cart", "rating", "review")  # interaction event types accepted by ingest
SPLITS = ("train", "valid", "test")  # values of Interaction.split for datasets that ship their own split


class StoreError(UserError, RuntimeError):
    """The store cannot be opened or its schema is incompatible; the message says what to do."""


class Base(DeclarativeBase):
    pass


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(1000), unique=True)  # the retailer's id: the natural key
    title: Mapped[str] = mapped_column(Text)
    brand: Mapped[str | None] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(80), unique=True)  # usr-<key_id>-<hmac>, never a raw id
    key_id: Mapped[str] = mapped_column(String(32))


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("user_id", "item_id", "ts", "event", name="uq_interaction"),  # re-ingest adds nothing
        Index("ix_interactions_user_ts", "user_id", "ts"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # insertion order breaks timestamp ties
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    ts: Mapped[int] = mapped_column(Integer)  # unix seconds UTC; datasets without time use sequence positions
    event: Mapped[str] = mapped_column(String(16), default="purchase")
    rating: Mapped[float | None] = mapped_column(Float)
    split: Mapped[str | None] = mapped_column(String(8))  # "train"/"valid"/"test" for given splits, else NULL


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of user|item|ts|text: idempotency
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    ts: Mapped[int] = mapped_column(Integer)
    rating: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)  # raw; anonymized before any use that could leave the machine


def _create_v1(conn: Connection) -> None:
    Base.metadata.create_all(conn, tables=[Meta.__table__, Item.__table__, User.__table__,
                                           Interaction.__table__, Review.__table__])


def _retired_precomputed_v2(conn: Connection) -> None:
    """Version 2 added a `precomputed` table that nothing read (serving answers from the top-K lists inside the
    signed bundles); version 3 drops it again, so a store still at version 1 need not create it first."""


def _drop_precomputed_v3(conn: Connection) -> None:
    conn.execute(text("DROP TABLE IF EXISTS precomputed"))


_MIGRATIONS: list[Callable[[Connection], None]] = [  # index i migrates i -> i + 1
    _create_v1, _retired_precomputed_v2, _drop_precomputed_v3]
SCHEMA_VERSION = len(_MIGRATIONS)


def open_store(cfg: StoreConfig, *, migrate_schema: bool = True) -> Engine:
    """Engine for `cfg.url`; SQLite gets WAL, foreign keys and a busy timeout on every connection.

    Statement parameters are hidden from SQLAlchemy's error messages and logs: they are row values (review texts,
    pseudonyms), and an error message must never carry data (STYLE rule 12).
    """
    engine = create_engine(cfg.url, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, cfg.sqlite_busy_timeout_ms)
    if migrate_schema:
        migrate(engine)
    return engine


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()


def schema_version(conn: Connection) -> int:
    """0 for an empty database."""
    if not conn.dialect.has_table(conn, "meta"):
        return 0
    value = conn.scalar(select(Meta.value).where(Meta.key == "schema_version"))
    return int(value) if value is not None else 0


def migrate(engine: Engine) -> int:
    """Bring the schema to SCHEMA_VERSION in one transaction; returns the version."""
    try:
        with engine.begin() as conn:
            current = schema_version(conn)
            if current > SCHEMA_VERSION:
                raise StoreError(f"the store has schema version {current} but this tanaban knows only up to "
                                 f"{SCHEMA_VERSION}: upgrade tanaban before using this store")
            for step in _MIGRATIONS[current:]:
                step(conn)
            if current < SCHEMA_VERSION:
                conn.execute(Meta.__table__.delete().where(Meta.key == "schema_version"))
                conn.execute(Meta.__table__.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
    except OperationalError as exc:
        raise StoreError(f"cannot open the store at {engine.url!r}: {exc.orig}") from None
    return SCHEMA_VERSION
