"""The A/B exposure log: which arm showed which list to which pseudonymous customer, and when (issue 18).

Rows live in the store's `exposures` table (appliance.data.store.Exposure, schema version 4). A row carries the
customer's store pseudonym (users.pseudonym), never a raw id; outcomes join it to later purchases
(appliance.abtest.stats). Retention is a plain age cut, `prune_exposures`, run by whoever owns the schedule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from appliance.data.store import Exposure
from appliance.errors import UserError

_KEYS = ("experiment", "token", "arm", "items", "bundle_id", "ts")


class ExposureError(UserError, ValueError):
    """An exposure row is malformed (a missing field or a wrong type); the message names the row and the field."""


@dataclass(frozen=True)
class ExposureRow:
    """One exposure as read back from the store."""

    experiment: str
    token: str  # store pseudonym
    arm: str
    items: tuple[str, ...]  # SKUs in served order
    bundle_id: str | None
    ts: int  # unix seconds UTC


def _validated(index: int, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as the table's columns; raises ExposureError naming the row index and the field, never a value."""
    missing = [k for k in ("experiment", "token", "arm", "items", "ts") if k not in row]
    if missing:
        raise ExposureError(f"exposure row {index} lacks the field {missing[0]!r}: give experiment, token, arm, "
                            "items and ts")
    for key in ("experiment", "token", "arm"):
        if not isinstance(row[key], str) or not row[key]:
            raise ExposureError(f"exposure row {index}: {key!r} must be a non-empty string")
    items = row["items"]
    if isinstance(items, str) or not all(isinstance(s, str) for s in items):
        raise ExposureError(f"exposure row {index}: 'items' must be a list of SKU strings")
    ts = row["ts"]
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        raise ExposureError(f"exposure row {index}: 'ts' must be unix seconds (a number)")
    bundle = row.get("bundle_id")
    if bundle is not None and not isinstance(bundle, str):
        raise ExposureError(f"exposure row {index}: 'bundle_id' must be a string or absent")
    return {"experiment": row["experiment"], "token": row["token"], "arm": row["arm"], "items": list(items),
            "bundle_id": bundle, "ts": int(ts)}


def record_exposures(engine: Engine, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert exposure rows in one transaction (all or nothing); returns how many were written.

    Each row is a mapping with experiment, token (the store pseudonym), arm, items (SKUs in served order),
    ts (unix seconds) and optionally bundle_id. Unknown keys are refused so that a typo cannot drop a field.
    """
    clean = []
    for index, row in enumerate(rows):
        unknown = sorted(set(row) - set(_KEYS))
        if unknown:
            raise ExposureError(f"exposure row {index} has the unknown field {unknown[0]!r}: allowed are "
                                f"{', '.join(_KEYS)}")
        clean.append(_validated(index, row))
    if not clean:
        return 0
    with engine.begin() as conn:
        conn.execute(insert(Exposure), clean)
    return len(clean)


def prune_exposures(engine: Engine, older_than_ts: int) -> int:
    """Delete exposures with ts < older_than_ts (the retention cut); returns how many were deleted."""
    with engine.begin() as conn:
        result = conn.execute(delete(Exposure).where(Exposure.ts < int(older_than_ts)))
    return int(result.rowcount or 0)


def load_exposures(engine: Engine, experiment: str | None = None) -> list[ExposureRow]:
    """Every exposure (of one experiment when given), ordered by time then insertion."""
    query = select(Exposure.experiment, Exposure.token, Exposure.arm, Exposure.items, Exposure.bundle_id,
                   Exposure.ts).order_by(Exposure.ts, Exposure.id)
    if experiment is not None:
        query = query.where(Exposure.experiment == experiment)
    with engine.connect() as conn:
        return [ExposureRow(r.experiment, r.token, r.arm, tuple(r.items or ()), r.bundle_id, int(r.ts))
                for r in conn.execute(query)]


def list_experiments(engine: Engine) -> list[str]:
    """The experiment names that have exposures, sorted."""
    with engine.connect() as conn:
        return sorted(conn.scalars(select(Exposure.experiment).distinct()))


def experiment_arms(engine: Engine, experiment: str) -> Sequence[str]:
    """The arms seen in one experiment's exposures, sorted."""
    with engine.connect() as conn:
        return sorted(conn.scalars(select(Exposure.arm).where(Exposure.experiment == experiment).distinct()))
