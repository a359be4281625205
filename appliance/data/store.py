"""The appliance store: SQLAlchemy 2.x models for items, pseudonymous users, interactions and reviews.

SQLite in WAL mode by default, PostgreSQL (psycopg 3, https://www.psycopg.org/psycopg3/) when one server is not
enough: `postgresql://` URLs are mapped to SQLAlchemy's `postgresql+psycopg://` (`engine_url`). Raw customer ids never
reach this module: users are stored only as keyed pseudonyms (anonymize.pseudonym). The schema is versioned;
`migrate()` applies the ordered migrations in `_MIGRATIONS` inside one transaction (on PostgreSQL under a
transaction-level advisory lock, so two first commands cannot create the tables twice) and refuses a database newer
than this code. docs/POSTGRES.md says what differs between the two engines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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
    make_url,
    select,
    text,
)
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from appliance.config import StoreConfig
from appliance.errors import UserError

EVENTS = ("purchase", "view", "cart", "rating", "review")  # interaction event types accepted by ingest
SPLITS = ("train", "valid", "test")  # values of Interaction.split for datasets that ship their own split
POSTGRES_DRIVER = "postgresql+psycopg"  # psycopg 3; `postgresql://` and `postgres://` from users map to it
_MIGRATE_LOCK = 0x54414E42  # "TANB": pg_advisory_xact_lock key that serialises schema migrations on PostgreSQL
# 64-bit on PostgreSQL (its INTEGER is 32-bit: unix seconds end in 2038, ids at 2^31); SQLite's INTEGER is already
# 64-bit, and its DDL stays exactly as before (an INTEGER PRIMARY KEY is the rowid)
BigInt = Integer().with_variant(BigInteger(), "postgresql")


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
    id: Mapped[int] = mapped_column(BigInt, primary_key=True)  # insertion order breaks timestamp ties
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    ts: Mapped[int] = mapped_column(BigInt)  # unix seconds UTC; datasets without time use sequence positions
    event: Mapped[str] = mapped_column(String(16), default="purchase")
    rating: Mapped[float | None] = mapped_column(Float)
    split: Mapped[str | None] = mapped_column(String(8))  # "train"/"valid"/"test" for given splits, else NULL


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of user|item|ts|text: idempotency
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    ts: Mapped[int] = mapped_column(BigInt)
    rating: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)  # raw; anonymized before any use that could leave the machine


class Exposure(Base):
    """One served list of an A/B experiment (appliance.abtest.exposures); keyed by pseudonym, never a raw id."""

    __tablename__ = "exposures"
    __table_args__ = (Index("ix_exposures_experiment_token", "experiment", "token"), Index("ix_exposures_ts", "ts"))
    id: Mapped[int] = mapped_column(BigInt, primary_key=True)
    experiment: Mapped[str] = mapped_column(String(200))
    token: Mapped[str] = mapped_column(String(80))  # the customer's pseudonym, as in users.pseudonym
    arm: Mapped[str] = mapped_column(String(200))
    items: Mapped[list[str]] = mapped_column(JSON, default=list)  # SKUs in served order
    bundle_id: Mapped[str | None] = mapped_column(String(200))
    ts: Mapped[int] = mapped_column(BigInt)  # unix seconds UTC


def _create_v1(conn: Connection) -> None:
    Base.metadata.create_all(conn, tables=[Meta.__table__, Item.__table__, User.__table__,
                                           Interaction.__table__, Review.__table__])


def _retired_precomputed_v2(conn: Connection) -> None:
    """Version 2 added a `precomputed` table that nothing read (serving answers from the top-K lists inside the
    signed bundles); version 3 drops it again, so a store still at version 1 need not create it first."""


def _drop_precomputed_v3(conn: Connection) -> None:
    conn.execute(text("DROP TABLE IF EXISTS precomputed"))


def _create_exposures_v4(conn: Connection) -> None:
    Base.metadata.create_all(conn, tables=[Exposure.__table__])


_MIGRATIONS: list[Callable[[Connection], None]] = [  # index i migrates i -> i + 1
    _create_v1, _retired_precomputed_v2, _drop_precomputed_v3, _create_exposures_v4]
SCHEMA_VERSION = len(_MIGRATIONS)


def engine_url(url: str) -> str:
    """The SQLAlchemy URL for a store URL: `postgresql://` and `postgres://` (libpq's spellings) get psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return POSTGRES_DRIVER + "://" + url.removeprefix(prefix)
    return url


def is_postgres(url: str) -> bool:
    """Whether a store URL names a PostgreSQL database (any driver spelling)."""
    return engine_url(url).split(":", 1)[0].split("+", 1)[0] == "postgresql"


def safe_url(url: str) -> str:
    """The URL with any password replaced by ***, for messages and reports."""
    try:
        return make_url(engine_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable store URL>"


def open_store(cfg: StoreConfig, *, migrate_schema: bool = True) -> Engine:
    """Engine for `cfg.url`; SQLite gets WAL, foreign keys and a busy timeout on every connection.

    Statement parameters are hidden from SQLAlchemy's error messages and logs: they are row values (review texts,
    pseudonyms), and an error message must never carry data (STYLE rule 12).
    """
    try:
        engine = create_engine(engine_url(cfg.url), hide_parameters=True,
                               **({"pool_pre_ping": True} if is_postgres(cfg.url) else {}))
    except ArgumentError:
        raise StoreError("store.url is not a database URL: expected sqlite:///<path> or "
                         "postgresql://<user>@<host>:<port>/<database> (docs/POSTGRES.md)") from None
    except ImportError as exc:
        raise StoreError(f"the driver for {safe_url(cfg.url)} is not installed ({exc.name}): for PostgreSQL install "
                         "tanaban[postgres] (installer/install.sh installs it)") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, cfg.sqlite_busy_timeout_ms)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "handle_error", _postgres_error_without_values)
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


def _postgres_error_without_values(context: Any) -> None:
    """PostgreSQL puts row values into its error texts ("DETAIL: Key (pseudonym)=(usr-...) already exists", or
    'invalid input syntax for type integer: "..."'): keep only what names the schema. Any error loses its DETAIL,
    HINT and CONTEXT lines; data and constraint errors (SQLSTATE classes 22 and 23) are reduced to their class,
    SQLSTATE and the constraint, table and column names."""
    orig = context.original_exception
    diag = getattr(orig, "diag", None)
    state = getattr(diag, "sqlstate", None) if diag is not None else None
    if not state:
        return  # not a server error (connection failures name the host, never a row)
    if state[:2] in ("22", "23"):
        names = [f"{label} {value}" for label, value in (("constraint", diag.constraint_name),
                                                          ("table", diag.table_name), ("column", diag.column_name))
                 if value]
        message = f"{type(orig).__name__} (SQLSTATE {state})" + (f" on {', '.join(names)}" if names else "")
    else:
        message = diag.message_primary or type(orig).__name__
    orig.args = (message,)
    wrapped = context.sqlalchemy_exception  # built from str(orig) already
    if wrapped is not None and wrapped.args:
        wrapped.args = (f"({type(orig).__module__}.{type(orig).__name__}) {message}", *wrapped.args[1:])


def schema_version(conn: Connection) -> int:
    """0 for an empty database."""
    if not conn.dialect.has_table(conn, "meta"):
        return 0
    value = conn.scalar(select(Meta.value).where(Meta.key == "schema_version"))
    return int(value) if value is not None else 0


def migrate_connection(conn: Connection) -> None:
    """The migrations inside the caller's transaction (`tanaban migrate` creates the schema and copies the rows in
    one); on PostgreSQL under a transaction-level advisory lock, released at commit or rollback."""
    if conn.dialect.name == "postgresql":  # SQLite's write lock serialises this there
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK})
    current = schema_version(conn)
    if current > SCHEMA_VERSION:
        raise StoreError(f"the store has schema version {current} but this tanaban knows only up to "
                         f"{SCHEMA_VERSION}: upgrade tanaban before using this store")
    for step in _MIGRATIONS[current:]:
        step(conn)
    if current < SCHEMA_VERSION:
        conn.execute(Meta.__table__.delete().where(Meta.key == "schema_version"))
        conn.execute(Meta.__table__.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))


def migrate(engine: Engine) -> int:
    """Bring the schema to SCHEMA_VERSION in one transaction; returns the version."""
    try:
        with engine.begin() as conn:
            migrate_connection(conn)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        raise StoreError(f"cannot open the store at {safe_url(str(engine.url))}: {reason}") from None
    return SCHEMA_VERSION
