"""`train_sasrec` and SASRec's training loop: the wall-clock budget stops mid-epoch, progress comes every epoch, and
the versioned artifact (config, data fingerprint, epochs, best epoch, metrics) loads back into the same model."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from appliance.config import SASRecConfig  # noqa: E402
from appliance.data.artifacts import data_fingerprint  # noqa: E402
from appliance.data.home import Home  # noqa: E402
from appliance.data.splits import load_split, split_from_sequences  # noqa: E402
from appliance.models import sasrec as sasrec_module  # noqa: E402
from appliance.models.metrics import evaluate  # noqa: E402
from appliance.models.sasrec import SASRecRecommender, load_sasrec, train_sasrec  # noqa: E402

N_USERS, N_ITEMS = 7, 11
TINY = SASRecConfig(dim=8, blocks=1, heads=2, max_len=5, dropout=0.0, lr=1e-2, batch_size=1, max_epochs=5,
                    eval_every=2, patience=100, seed=0)


def _split():
    return split_from_sequences([(np.arange(8) + u) % N_ITEMS for u in range(N_USERS)], N_ITEMS)


class _Clock:
    """perf_counter stand-in: every read advances one second."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_time_budget_stops_mid_epoch(monkeypatch: pytest.MonkeyPatch, one_torch_thread) -> None:
    steps = []
    real_ce = torch.nn.functional.cross_entropy
    monkeypatch.setattr(torch.nn.functional, "cross_entropy", lambda *a, **k: steps.append(1) or real_ce(*a, **k))
    monkeypatch.setattr(sasrec_module.time, "perf_counter", _Clock())
    model = SASRecRecommender(dataclasses.replace(TINY, max_seconds=3.5))  # 7 sequences, batch 1: 7 steps an epoch
    info = model.fit(_split())
    assert model.stopped == "time_budget" and info.epochs == 1
    assert 0 < len(steps) < N_USERS  # the first epoch was cut short, not finished
    assert [row["epoch"] for row in model.history] == [1]  # and validated once, keeping those weights


def test_progress_every_epoch_validation_every_eval_every(one_torch_thread) -> None:
    rows = []
    model = SASRecRecommender(TINY, progress=lambda epoch, row: rows.append((epoch, dict(row))))
    model.fit(_split())
    assert [epoch for epoch, _ in rows] == [1, 2, 3, 4, 5]
    assert [row["validated"] for _, row in rows] == [0.0, 1.0, 0.0, 1.0, 1.0]  # every 2nd, and the last
    assert np.isnan(rows[0][1]["ndcg@10"]) and rows[2][1]["ndcg@10"] == rows[1][1]["ndcg@10"]
    assert [row["epoch"] for row in model.history] == [2, 4, 5] and model.stopped == "max_epochs"


def test_train_sasrec_saves_a_versioned_artifact(home: Home, tiny_themes, one_torch_thread) -> None:
    tiny_themes.fill_home(home)
    path, metrics, info = train_sasrec(home, cfg=TINY, epochs=4, lr=0.02, seed=3)
    manifest = json.loads((path / "manifest.json").read_text())
    assert path.parent.name == "sasrec" and (path.parent / "LATEST").read_text().strip() == path.name
    assert manifest["sasrec"]["lr"] == 0.02 and manifest["sasrec"]["seed"] == 3 and manifest["sasrec"]["dim"] == 8
    assert manifest["data_fingerprint"] == data_fingerprint(home.engine)
    assert manifest["epochs"] == info.epochs == 4 and manifest["best_epoch"] == info.best_epoch >= 2
    assert manifest["stopped"] == "max_epochs" and "valid/ndcg@10" in manifest["metrics"]
    split = load_split(home.engine)
    model, meta = load_sasrec(home.config.artifacts_dir)  # input sequences from the artifact
    rebuilt, _ = load_sasrec(home.config.artifacts_dir, split=split)  # ... or rebuilt from the store's split
    assert np.array_equal(meta["user_ids"], split.user_ids) and np.array_equal(meta["item_ids"], split.item_ids)
    for stage in ("valid", "test"):
        got = evaluate(model, split, stage, ks=(10,))["ndcg@10"]
        assert got == pytest.approx(metrics[f"{stage}/ndcg@10"], abs=1e-9)
        users = np.arange(split.n_users)
        np.testing.assert_array_equal(model.score(users, stage), rebuilt.score(users, stage))


def test_train_sasrec_rejects_a_store_without_sequences(home: Home) -> None:
    from appliance.errors import UserError

    with pytest.raises(UserError):
        train_sasrec(home, cfg=TINY)
