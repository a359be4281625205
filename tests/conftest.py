"""Shared fixtures: an isolated config and home per test, a CLI runner, a fixed clock, and `tiny_themes` (a tiny
catalogue of three themes for the intent and intent-aware CF tests).

Test modules take everything from here as fixtures and never import this file or each other (tests/test_layout.py
checks it); a builder that tests call with arguments is handed out as a fixture returning it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from appliance.config import ApplianceConfig, load_config
from appliance.data.artifacts import save_artifact
from appliance.data.home import Home, init_home, open_home
from appliance.data.store import Interaction, Item, User

# --- Test backend switch (issue 17) ----------------------------------------------------------------------------------
# TANABAN_TEST_BACKEND=postgresql runs the whole suite with the store and the audit log of every home a test makes
# under its tmp_path (the common fixtures tmp_config, home, config_file and the configs tests write themselves) in a
# fresh PostgreSQL database per home on the session's server (below; `_backend_switch`); tests marked `sqlite_only`
# (about SQLite itself: its file, WAL, its backup) and the SQLite half of the tests parametrized over both engines
# (`store_url`) are deselected there. Default: sqlite, the appliance's default store. Child processes (a `tanaban`
# started by a test) resolve their config without this switch: tests that start one on a home hand it the home's
# resolved store.url and audit.url (in its config file or environment), which is right on both backends.
BACKENDS = ("sqlite", "postgresql")


def _test_backend() -> str:
    import os

    backend = os.environ.get("TANABAN_TEST_BACKEND", "sqlite").strip().lower() or "sqlite"
    if backend not in BACKENDS:
        raise pytest.UsageError(f"TANABAN_TEST_BACKEND must be one of {', '.join(BACKENDS)}, got {backend!r}")
    return backend


def pytest_configure(config: pytest.Config) -> None:
    _test_backend()  # a misspelt backend stops the run before collection, not after it


def pytest_report_header(config: pytest.Config) -> str:
    return f"tanaban test backend: {_test_backend()} (TANABAN_TEST_BACKEND)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, deselect the SQLite-only tests and the SQLite half of the both-engines tests."""
    if _test_backend() != "postgresql":
        return
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        sqlite_case = params.get("store_url") == "sqlite"
        (drop if sqlite_case or item.get_closest_marker("sqlite_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _backend_switch(request: pytest.FixtureRequest) -> Iterator[None]:
    """On the PostgreSQL test backend, every home of this test (a data directory under its tmp_path whose config
    names no store.url) gets a fresh database of its own for the store and, unless audit.path or audit.url is set,
    the audit log (its own schema there): `tmp_config`, `home`, `config_file` and the configs tests write themselves
    alike, as `load_config` resolves them in this process. A directory that already holds a SQLite store when it is
    first resolved (a copy of a module-scoped template home) stays on it. The databases are dropped after the test."""
    if _test_backend() != "postgresql":
        yield
        return
    import dataclasses

    import appliance.config as config_module

    server: PostgresServer = request.getfixturevalue("postgres_server")
    root = request.getfixturevalue("tmp_path")
    original, homes = config_module._resolve, {}  # data_dir -> its database URL, None: stays on SQLite

    def resolve(cfg: ApplianceConfig, env: Mapping[str, str]) -> ApplianceConfig:
        out = original(cfg, env)
        data = Path(out.paths.data_dir)
        if cfg.store.url or not data.is_relative_to(root):
            return out
        if data not in homes:
            homes[data] = None if (data / "tanaban.db").exists() else server.create_database("h")
        url = homes[data]
        if url is None:
            return out
        audit = out.audit if cfg.audit.url or cfg.audit.path else dataclasses.replace(out.audit, url=url)
        return dataclasses.replace(out, store=dataclasses.replace(out.store, url=url), audit=audit)

    config_module._resolve = resolve
    try:
        yield
    finally:
        config_module._resolve = original
        for url in filter(None, homes.values()):
            server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def audit_sql() -> Callable[[ApplianceConfig, str], None]:
    """`run(cfg, sql)`: run SQL on a home's audit log past its append-only triggers, as only its owner can (what a
    tamper test needs), on either backend: the tables are `entries` and `checkpoints` on both; on SQLite the triggers
    are dropped, on PostgreSQL (schema tanaban_audit) disabled."""

    def run(cfg: ApplianceConfig, sql: str) -> None:
        if cfg.audit.url:
            import psycopg

            from appliance.privacy.audit.backends import libpq_url

            with psycopg.connect(libpq_url(cfg.audit.url), autocommit=True) as conn:
                conn.execute("SET search_path TO tanaban_audit")
                for table in ("entries", "checkpoints"):
                    conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                conn.execute(sql)
            return
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(cfg.audit_path)) as conn, conn:
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                conn.execute(f'DROP TRIGGER "{name}"')
            conn.execute(sql)

    return run


@pytest.fixture
def tmp_config(tmp_path: Path) -> ApplianceConfig:
    """Defaults with every path under tmp_path (no file, no environment read)."""
    return load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def home(tmp_config: ApplianceConfig) -> Home:
    """An initialised appliance (store migrated, keys created) in tmp_path."""
    init_home(tmp_config)
    return open_home(tmp_config)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A TOML config file pointing the data dir into tmp_path, for CLI tests."""
    path = tmp_path / "config.toml"
    path.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return path


@pytest.fixture
def cli_runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def fixed_clock() -> datetime:
    return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Two shared CPU cores: one torch thread is many times faster than two fighting other processes."""
    import torch  # not at module level: the core tests must run without importing torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class TinyThemes:
    """Items of three well-separated themes and users who each buy mostly one of them: the smallest data on which
    intents, their labels and intent-aware CF have a right answer (11 items and 7 users unless told otherwise)."""

    themes = (("hiking tent sleeping bag", "Trailmax"), ("baby bottle feeding", "Nubi"),
              ("espresso coffee grinder", "Brewa"))

    @staticmethod
    def vectors(n: int = 11, d: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """n items around 3 well-separated directions; returns vectors (n, d) and their theme (n,)."""
        rng = np.random.default_rng(seed)
        theme = np.arange(n) % 3
        return np.eye(d, dtype=np.float32)[theme] * 3 + rng.normal(0, 0.1, (n, d)).astype(np.float32), theme

    def texts(self, theme: np.ndarray) -> list[str]:
        """One item profile text per item of the given themes."""
        return [f"{self.themes[t][0].title()} model {i}. Brand: {self.themes[t][1]}. Categories: Shop > Goods. 500 ml"
                for i, t in enumerate(theme)]

    def fill_home(self, home: Home, n_items: int = 11, n_users: int = 7) -> None:
        """Items of 3 themes, users buying mostly one theme (5 each), and an item-embeddings artifact."""
        vectors, theme = self.vectors(n_items)
        with home.engine.begin() as conn:
            conn.execute(insert(Item), [{"sku": f"S{i}", "title": text.split(".")[0], "brand": self.themes[t][1],
                                         "categories": ["Shop"], "attributes": {}}
                                        for i, (t, text) in enumerate(zip(theme, self.texts(theme), strict=True))])
            conn.execute(insert(User), [{"pseudonym": home.store_pseudonym(f"cust-{u}"), "key_id": "k"}
                                        for u in range(n_users)])
            user_ids = list(conn.scalars(select(User.id).order_by(User.id)))
            item_ids = list(conn.scalars(select(Item.id).order_by(Item.id)))
            rows = []
            for u, uid in enumerate(user_ids):
                mine = [i for i in range(n_items) if theme[i] == u % 3] + [(u + 4) % n_items]
                rows += [{"user_id": uid, "item_id": item_ids[i], "ts": t, "event": "purchase"}
                         for t, i in enumerate(dict.fromkeys(mine))]
            conn.execute(insert(Interaction), rows)
        save_artifact(home.config.artifacts_dir, "item-embeddings",
                      {"item_ids": np.array(item_ids, dtype=np.int64), "vectors": vectors}, {"dim": 5})


@pytest.fixture(scope="session")
def tiny_themes() -> TinyThemes:
    """The three-theme catalogue: `.themes`, `.vectors()`, `.texts(theme)` and `.fill_home(home)`."""
    return TinyThemes()


# --- PostgreSQL (issue 17) -------------------------------------------------------------------------------------------
# One throwaway PostgreSQL server per test session on 127.0.0.1 (initdb + pg_ctl in a temp dir, trust auth on loopback
# only, fsync off: nothing in it outlives the session), and a fresh database per test created from template0, so tests
# are independent and cost one CREATE DATABASE each. Missing binaries skip the PostgreSQL cases, except in CI
# (CI=true or TANABAN_REQUIRE_POSTGRES=1), where they fail: CI must not silently test SQLite alone.
# The code lives here, not in a tests/ module, because test files never import each other (tests/test_layout.py).

class PostgresServer:
    """A PostgreSQL cluster in `root`, started with `start()`, stopped and removed with `stop()`."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir, self.root = bindir, root
        self.datadir, self.log = root / "data", root / "server.log"
        self.port, self._n = 0, 0

    @staticmethod
    def find_bindir() -> Path | None:
        """$TANABAN_PG_BINDIR, else the newest /usr/lib/postgresql/<v>/bin holding initdb (15 on our machines)."""
        import os

        env = os.environ.get("TANABAN_PG_BINDIR")
        candidates = [Path(env)] if env else sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                                                     key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                                                     reverse=True)
        return next((c for c in candidates if (c / "initdb").is_file() and (c / "pg_ctl").is_file()), None)

    def _run(self, *args: str) -> None:
        """Run a server binary as the `postgres` user when we are root (initdb refuses root), else as ourselves."""
        import os
        import subprocess

        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr[-2000:]}\n{log}")

    def start(self) -> None:
        import os
        import shutil
        import socket

        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        with socket.socket() as sock:  # a free port now; a race with another process is possible but harmless here
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database (from template0); returns its SQLAlchemy URL."""
        import psycopg

        self._n += 1
        name = f"{prefix}_{self._n}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database made by create_database, ending its open connections first (PostgreSQL 13+)."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def halt(self) -> None:
        """Stop the server at once, as a crash or a pulled cable looks to its clients (files kept until stop())."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        import shutil

        try:
            if (self.datadir / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (started on first use); skips, or fails in CI, without the binaries."""
    import os

    required = os.environ.get("CI", "").lower() == "true" or os.environ.get("TANABAN_REQUIRE_POSTGRES") == "1"
    bindir = PostgresServer.find_bindir()
    reason = None
    if bindir is None:
        reason = "PostgreSQL server binaries not found (install postgresql-15 or set TANABAN_PG_BINDIR)"
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            reason = "psycopg is not installed (installer/install.sh --dev installs it)"
    if reason:
        if required:
            pytest.fail(f"{reason}; CI requires the PostgreSQL tests")
        pytest.skip(reason)
    yield from _running_server(bindir)


@pytest.fixture
def throwaway_postgres(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, for a test that stops it (`halt()`); skips or fails as
    `postgres_server` does. Costs an initdb (a few seconds)."""
    yield from _running_server(postgres_server.bindir)


def _running_server(bindir: Path) -> Iterator[PostgresServer]:
    """A server in a fresh temporary directory, started, yielded, then stopped and removed."""
    import tempfile

    server = PostgresServer(bindir, Path(tempfile.mkdtemp(prefix="tanaban-pg-")))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL (postgresql+psycopg://) of a fresh, empty database of its own for this test, dropped after it
    (with the connections a test's engines left open, so a long run never exhausts max_connections)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL per backend: an SQLite file in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def backend_config(tmp_path: Path, store_url: str) -> ApplianceConfig:
    """`tmp_config` with its store on each backend in turn (parametrized through `store_url`)."""
    return load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path / "data"), "TANABAN_STORE__URL": store_url})


@pytest.fixture
def backend_home(backend_config: ApplianceConfig) -> Home:
    """`home` on each backend in turn: an initialised appliance whose store is SQLite, then PostgreSQL."""
    init_home(backend_config)
    return open_home(backend_config)
