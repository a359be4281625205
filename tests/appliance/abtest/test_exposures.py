"""The exposure log: one migration, batch insert in one transaction, pruning by age, no malformed rows."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, insert, inspect, text

from appliance.abtest.exposures import (
    ExposureError,
    experiment_arms,
    list_experiments,
    load_exposures,
    prune_exposures,
    record_exposures,
)
from appliance.config import StoreConfig
from appliance.data.store import SCHEMA_VERSION, Meta, _create_v1, migrate, open_store, schema_version


@pytest.fixture
def engine(store_url: str) -> Engine:
    """A migrated store on SQLite and on PostgreSQL (conftest's `store_url`)."""
    return open_store(StoreConfig(url=store_url))


def _row(token: str = "usr-k-1", arm: str = "control", ts: int = 100, **extra: object) -> dict:
    return {"experiment": "exp1", "token": token, "arm": arm, "items": ["B", "A"], "ts": ts, **extra}


def test_record_and_load_keep_order_and_fields(engine: Engine) -> None:
    written = record_exposures(engine, [_row(ts=200, bundle_id="v2"), _row("usr-k-2", "treatment", 100),
                                        {**_row(ts=50), "experiment": "other"}])
    assert written == 3
    rows = load_exposures(engine, "exp1")
    assert [(r.token, r.arm, r.ts, r.bundle_id) for r in rows] == [("usr-k-2", "treatment", 100, None),
                                                                     ("usr-k-1", "control", 200, "v2")]
    assert rows[0].items == ("B", "A")  # served order kept
    assert list_experiments(engine) == ["exp1", "other"]
    assert experiment_arms(engine, "exp1") == ["control", "treatment"]
    assert len(load_exposures(engine)) == 3


@pytest.mark.parametrize(("bad", "field"), [
    ({"token": ""}, "token"), ({"items": "A,B"}, "items"), ({"items": ["A", 3]}, "items"), ({"ts": "now"}, "ts"),
    ({"ts": True}, "ts"), ({"bundle_id": 7}, "bundle_id"), ({"arm": None}, "arm"), ({"user_id": "C1"}, "user_id"),
])
def test_a_bad_row_writes_nothing(engine: Engine, bad: dict, field: str) -> None:
    rows = [_row(), {**_row("usr-k-2"), **bad}]
    with pytest.raises(ExposureError, match=f"row 1.*'{field}'") as info:
        record_exposures(engine, rows)
    assert "usr-k-2" not in str(info.value) and "C1" not in str(info.value)  # never echoes a value
    assert load_exposures(engine) == []  # all or nothing


def test_missing_field_is_named(engine: Engine) -> None:
    row = _row()
    del row["arm"]
    with pytest.raises(ExposureError, match="lacks the field 'arm'"):
        record_exposures(engine, [row])


def test_prune_drops_only_older_rows(engine: Engine) -> None:
    record_exposures(engine, [_row(ts=t) for t in (10, 20, 30, 40)])
    assert prune_exposures(engine, 30) == 2
    assert [r.ts for r in load_exposures(engine)] == [30, 40]
    assert prune_exposures(engine, 0) == 0
    assert record_exposures(engine, []) == 0


def test_migration_from_version_3_adds_the_table_with_its_index(engine: Engine) -> None:
    with engine.begin() as conn:  # rebuild a version-3 store
        for table in ("exposures", "interactions", "reviews", "users", "items", "meta"):
            conn.execute(text(f"DROP TABLE {table}"))
        _create_v1(conn)
        conn.execute(insert(Meta).values(key="schema_version", value="3"))
    assert not inspect(engine).has_table("exposures")
    assert migrate(engine) == SCHEMA_VERSION
    with engine.connect() as conn:
        assert schema_version(conn) == SCHEMA_VERSION
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("exposures")}
    assert indexes["ix_exposures_experiment_token"] == ["experiment", "token"]
    assert record_exposures(engine, [_row()]) == 1
