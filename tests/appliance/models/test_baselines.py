"""Popularity and item-kNN baselines: hand-computed statistics, the Recommender contract, save/load, registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from appliance.config import ApplianceConfig, EvalConfig
from appliance.data.splits import Split, split_from_arrays
from appliance.models.baselines import BaselineError, ItemKNNRecommender, PopularityRecommender, item_similarity
from appliance.models.contract import Recommender, recommend
from appliance.models.registry import UnknownModelError, create_model

N_ITEMS = 5  # item 4 is never trained on: it must still be scored (0) and rankable


def _split() -> Split:
    # train: u0 {0, 1}, u1 {0, 1, 2}, u2 {1, 2, 3}, u3 {0, 1}; valid: u0 {2}, u3 {4}; test: u0 {3}, u2 {0}
    rows = [(0, 0, 0), (0, 1, 0), (0, 2, 1), (0, 3, 2), (1, 0, 0), (1, 1, 0), (1, 2, 0),
            (2, 1, 0), (2, 2, 0), (2, 3, 0), (2, 0, 2), (3, 0, 0), (3, 1, 0), (3, 4, 1)]
    users, items, labels = (np.array(col) for col in zip(*rows, strict=True))
    return split_from_arrays(users, items, 4, N_ITEMS, labels=labels)


def test_popularity_counts_known_data_per_stage() -> None:
    model = PopularityRecommender()
    model.fit(_split())
    assert model.score(np.array([2]), "valid").tolist() == [[3, 4, 2, 1, 0]]  # training users per item
    assert model.score(np.array([0, 1]), "test").tolist() == [[3, 4, 3, 1, 1]] * 2  # + validation items


# Training item degrees: i0 3, i1 4, i2 2, i3 1. Co-occurrence: (0,1) 3, (0,2) 1, (1,2) 2, (1,3) 1, (2,3) 1.
# With shrink 1: sim(0,1) = 3 / (sqrt(3*4) + 1) = 0.672028; sim(0,2) = 1 / (sqrt(6) + 1) = 0.289898;
# sim(1,2) = 2 / (sqrt(8) + 1) = 0.522408; sim(1,3) = 1 / (2 + 1) = 0.333333; sim(2,3) = 1 / (sqrt(2) + 1) = 0.414214
FULL = np.array([[0, 0.672028, 0.289898, 0, 0],
                 [0.672028, 0, 0.522408, 0.333333, 0],
                 [0.289898, 0.522408, 0, 0.414214, 0],
                 [0, 0.333333, 0.414214, 0, 0],
                 [0, 0, 0, 0, 0]])


def test_item_similarity_by_hand() -> None:
    train = _split().train
    np.testing.assert_allclose(item_similarity(train, 1.0, 100).toarray(), FULL, atol=1e-5)
    # one neighbour per target column: col0 <- i1, col1 <- i0, col2 <- i1, col3 <- i2, col4 <- none
    top1 = np.zeros_like(FULL)
    for i, j in ((1, 0), (0, 1), (1, 2), (2, 3)):
        top1[i, j] = FULL[i, j]
    np.testing.assert_allclose(item_similarity(train, 1.0, 1).toarray(), top1, atol=1e-5)


def test_item_knn_scores_sum_similarities_of_the_history() -> None:
    split = _split()
    model = ItemKNNRecommender(EvalConfig(knn_shrink=1.0, knn_neighbours=1))
    model.fit(split)
    # u0's valid-stage history {0, 1}: item j scores sim(0, j) + sim(1, j) over the kept neighbours
    np.testing.assert_allclose(model.score(np.array([0]), "valid")[0], [0.672028, 0.672028, 0.522408, 0, 0],
                               atol=1e-5)
    expected = item_similarity(split.history("test"), 1.0, 1)  # the test stage also learns from validation data
    assert (model.similarity["test"] != expected).nnz == 0
    assert recommend(model, split, np.array([0]), k=2, stage="valid").tolist() == [[2, 3]]


@pytest.mark.parametrize("cls", [PopularityRecommender, ItemKNNRecommender])
def test_contract_save_load_roundtrip(cls: type, tmp_path: Path) -> None:
    split = _split()
    model = cls()
    assert isinstance(model, Recommender)
    with pytest.raises(BaselineError, match="not fitted"):
        model.score(np.array([0]), "test")
    info = model.fit(split)
    assert info.seconds >= 0
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "config.json").is_file()
    loaded = cls.load(tmp_path / "m")
    users = np.arange(4)
    for stage in ("valid", "test"):
        scores = loaded.score(users, stage)
        assert scores.dtype == np.float32 and scores.shape == (4, N_ITEMS)
        np.testing.assert_array_equal(scores, model.score(users, stage))
        assert recommend(loaded, split, users, 3, stage).tolist() == recommend(model, split, users, 3, stage).tolist()


def test_load_rejects_other_models_and_missing_files(tmp_path: Path) -> None:
    model = PopularityRecommender()
    model.fit(_split())
    model.save(tmp_path)
    with pytest.raises(BaselineError, match="holds model 'popularity'"):
        ItemKNNRecommender.load(tmp_path)
    with pytest.raises(BaselineError, match="is missing"):
        PopularityRecommender.load(tmp_path / "nowhere")


def test_popularity_recommend_masks_history() -> None:
    split = _split()
    model = PopularityRecommender()
    model.fit(split)
    # u1 bought 0, 1, 2: the most popular unseen items are 3 (1 user) then 4 (0 users)
    assert recommend(model, split, np.array([1]), k=3, stage="valid").tolist() == [[3, 4, -1]]


def test_registry() -> None:
    cfg = ApplianceConfig()
    assert create_model("popularity", cfg).name == "popularity"
    knn = create_model("item-knn", cfg)
    assert isinstance(knn, ItemKNNRecommender) and knn.cfg == cfg.eval
    with pytest.raises(UnknownModelError, match="item-knn"):
        create_model("nope", cfg)
