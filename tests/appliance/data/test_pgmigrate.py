"""`tanaban migrate`: an SQLite home moved into PostgreSQL row for row (same ids, same values, counts checked), the
audit log moved and verified, the moved home usable, and every refusal (non-empty target, not PostgreSQL, a failure
half-way) leaving the target empty."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from appliance.config import ApplianceConfig, load_config
from appliance.data.home import Home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.pgmigrate import MigrateError, migrate_home
from appliance.data.rotation import rotate_pseudonym_key
from appliance.data.store import Base, Item, StoreConfig, open_store
from appliance.privacy.audit.admin import open_audit_log
from cli.main import app

# the source of `tanaban migrate` is a SQLite home by definition; its target is the real server in every run
pytestmark = pytest.mark.sqlite_only(reason="moves a SQLite home into PostgreSQL; the target is PostgreSQL anyway")

REVIEWS = "".join(json.dumps({"customer_id": f"cust-{i}", "sku": f"S{i}", "timestamp": 1_700_000_000 + i,
                              "rating": 1 + i % 5, "text": f"review {i} \u00e9\u00e8 \U0001f600"}) + "\n"
                  for i in range(6))


ITEMS = "".join(json.dumps({"sku": f"S{i}", "title": f"Item {i}", "categories": ["Shop", f"c{i % 3}"],
                            "attributes": {"size": i, "tags": ["a", "\u00fc"]}, "price": i + 0.25}) + "\n"
                for i in range(11))
INTERACTIONS = "customer_id,sku,timestamp,event\n" + "".join(
    f"cust-{u},S{(u * 3 + k) % 11},{1_700_000_000 + 10 * u + k},{('purchase', 'view')[k % 2]}\n"
    for u in range(7) for k in range(4))


@pytest.fixture
def filled(home: Home, tmp_path: Path) -> Home:
    """A SQLite home with items (JSON columns), users, interactions, reviews and audit entries (a key rotation)."""
    for name, content, kind in (("items.jsonl", ITEMS, "items"), ("events.csv", INTERACTIONS, "interactions"),
                                ("reviews.jsonl", REVIEWS, "reviews")):
        (tmp_path / name).write_text(content, encoding="utf-8")
        ingest_file(home, tmp_path / name, kind, progress=False)
    with home.engine.begin() as conn:
        conn.execute(insert(Item).values(sku="J1", title="json", categories=["a", "\u00fc"],
                                         attributes={"k": [1, 2.5, None], "n": {"x": "y"}}, price=3.25))
    rotate_pseudonym_key(home)
    return home


def _rows(engine: object) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in Base.metadata.sorted_tables}


def _moved(cfg: ApplianceConfig, url: str) -> ApplianceConfig:
    return dataclasses.replace(cfg, store=dataclasses.replace(cfg.store, url=url),
                               audit=dataclasses.replace(cfg.audit, url=url))


def test_a_home_moves_row_for_row_with_its_audit_log(filled: Home, tmp_config: ApplianceConfig,
                                                     postgres_url: str, tmp_path: Path) -> None:
    before = _rows(filled.engine)
    with open_audit_log(filled) as log:
        entries = [e["action"] for e in log.entries()]
    seen: list[str] = []
    report = migrate_home(tmp_config, postgres_url, progress=lambda table, _done, _total: seen.append(table))
    counts = {c.table: (c.before, c.after) for c in report.tables}
    assert counts["items"] == (12, 12) and counts["interactions"] == (28, 28) and counts["reviews"] == (6, 6)
    assert counts["users"] == (7, 7)
    assert all(b == a for b, a in counts.values()) and {"items", "users", "audit"} <= set(seen)
    assert report.audit.startswith(f"copied {len(entries)} audit entries") and "audit verify on the target: OK" \
        in report.audit
    target = open_store(StoreConfig(url=postgres_url))
    assert _rows(target) == before  # same ids, same values, JSON and text included
    moved = open_home(_moved(tmp_config, postgres_url))
    with open_audit_log(moved) as log:
        assert [e["action"] for e in log.entries()] == [*entries, "log.verify"]
    new_items = tmp_path / "more.jsonl"
    new_items.write_text('{"sku": "NEW", "title": "after the move"}\n', encoding="utf-8")
    assert ingest_file(moved, new_items, "items", progress=False).added == 1  # the id sequences moved on
    reviews = tmp_path / "reviews.jsonl"
    assert ingest_file(moved, reviews, "reviews", progress=False).added == 0  # same pseudonyms, same hashes


def test_a_non_empty_target_is_refused_and_an_empty_schema_accepted(filled: Home, tmp_config: ApplianceConfig,
                                                                    postgres_url: str) -> None:
    target = open_store(StoreConfig(url=postgres_url))  # the schema alone, as `tanaban init --store` leaves it
    report = migrate_home(tmp_config, postgres_url, audit=False)
    assert report.audit == "audit log not moved (--no-audit)"
    with pytest.raises(MigrateError, match=r"the target database is not empty \(12 rows in items, "):
        migrate_home(tmp_config, postgres_url, audit=False)
    with target.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Item)) == 12


def test_a_failure_half_way_leaves_the_target_empty(filled: Home, tmp_config: ApplianceConfig, postgres_url: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_copy(*_args: object, **_kwargs: object) -> None:
        raise MigrateError("the audit copy failed (simulated)")

    monkeypatch.setattr("appliance.privacy.audit.migrate.copy_audit", broken_copy)
    with pytest.raises(MigrateError, match="simulated"):
        migrate_home(tmp_config, postgres_url)
    target = open_store(StoreConfig(url=postgres_url))
    assert all(rows == [] for name, rows in _rows(target).items() if name != "meta")
    monkeypatch.undo()
    assert migrate_home(tmp_config, postgres_url).tables  # and the move can simply be run again


def test_refusals_name_the_fix(home: Home, tmp_config: ApplianceConfig, postgres_url: str) -> None:
    with pytest.raises(MigrateError, match="--to must be a postgresql://"):
        migrate_home(tmp_config, "sqlite:////tmp/other.db")
    on_pg = dataclasses.replace(tmp_config, store=dataclasses.replace(tmp_config.store, url=postgres_url))
    with pytest.raises(MigrateError, match=r"already on PostgreSQL .* pg_dump and pg_restore"):
        migrate_home(on_pg, postgres_url)


def test_cli_prints_counts_and_what_to_set(filled: Home, cli_runner: CliRunner, config_file: Path,
                                           postgres_url: str) -> None:
    cfg = load_config(config_file, env={})
    assert cfg.data_dir == filled.config.data_dir
    result = cli_runner.invoke(app, ["--config", str(config_file), "migrate", "--to", postgres_url])
    assert result.exit_code == 0, result.output
    assert "interactions" in result.output and "audit verify on the target: OK" in result.output
    assert f'set [store] url and [audit] url = "{postgres_url}" in {config_file}' in result.output.replace("\n", "")
    again = cli_runner.invoke(app, ["--config", str(config_file), "migrate", "--to", postgres_url])
    assert again.exit_code != 0 and "the target database is not empty" in again.output
