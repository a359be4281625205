"""Versioned artifacts: round trip, LATEST pointer, tamper detection, no half-written versions, fingerprints."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert

from appliance.data.artifacts import ArtifactError, data_fingerprint, load_artifact, save_artifact
from appliance.data.home import Home
from appliance.data.store import Item

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_round_trip_and_latest(tmp_path: Path) -> None:
    a = {"v": np.arange(6, dtype=np.float32).reshape(2, 3)}
    first = save_artifact(tmp_path, "emb", a, {"note": 1}, now=T0)
    second = save_artifact(tmp_path, "emb", {"v": a["v"] + 1}, {"note": 2}, now=T0.replace(second=9))
    latest = load_artifact(tmp_path, "emb")
    assert latest.path == second and latest.meta["note"] == 2
    np.testing.assert_array_equal(load_artifact(tmp_path, "emb", first.name).arrays["v"], a["v"])


def test_same_second_same_arrays_keeps_one_version_per_metadata(tmp_path: Path) -> None:
    a = {"v": np.arange(4, dtype=np.float32)}
    first = save_artifact(tmp_path, "emb", a, {"metrics": {"ndcg": 0.1}}, now=T0)
    again = save_artifact(tmp_path, "emb", a, {"metrics": {"ndcg": 0.1}}, now=T0)
    other = save_artifact(tmp_path, "emb", a, {"metrics": {"ndcg": 0.2}}, now=T0)
    assert again == first  # identical content in one second: one version, kept as it was
    assert other != first and load_artifact(tmp_path, "emb").meta["metrics"] == {"ndcg": 0.2}
    assert load_artifact(tmp_path, "emb", first.name).meta["metrics"] == {"ndcg": 0.1}


def test_tampered_file_is_refused(tmp_path: Path) -> None:
    path = save_artifact(tmp_path, "emb", {"v": np.zeros(4)}, {}, now=T0)
    data = bytearray((path / "v.npy").read_bytes())
    data[-1] ^= 1
    (path / "v.npy").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="does not match its manifest"):
        load_artifact(tmp_path, "emb")


def test_missing_artifact_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="build it first"):
        load_artifact(tmp_path, "emb")


def test_failed_save_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        save_artifact(tmp_path, "emb", {"v": np.array([object()], dtype=object)}, {}, now=T0)
    assert list((tmp_path / "emb").iterdir()) == []


def test_fingerprint_changes_with_data(home: Home) -> None:
    before = data_fingerprint(home.engine)
    assert data_fingerprint(home.engine) == before
    with home.engine.begin() as conn:
        conn.execute(insert(Item).values(sku="A", title="a", categories=[], attributes={}))
    assert data_fingerprint(home.engine) != before
