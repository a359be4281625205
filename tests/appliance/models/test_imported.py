"""The shop's recommender in the harness: LightGCN item vectors exported and re-imported score exactly as those
vectors do directly, a model's own top-K lists imported as the champion score exactly that model's metrics, and a
customer without a list is a miss that the report names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sqlalchemy import select

from appliance.config import LightGCNConfig
from appliance.data.home import Home
from appliance.data.imports import ingest_embeddings, ingest_lists
from appliance.data.splits import Split, load_split
from appliance.data.store import Item, User
from appliance.models.baselines import ItemKNNRecommender
from appliance.models.contract import Recommender, recommend
from appliance.models.evaluate import evaluate_models
from appliance.models.imported import ChampionRecommender, ImportedModelError, ImportedRecommender
from appliance.models.metrics import rank_metrics

KS = (5, 10, 20)


@pytest.fixture
def shop(home: Home, tiny_themes) -> Home:
    tiny_themes.fill_home(home, n_items=13, n_users=9)  # odd sizes: customers cust-0..cust-8, items S0..S12
    return home


def _skus(home: Home, split: Split) -> list[str]:
    with home.engine.connect() as conn:
        sku = {id_: s for s, id_ in conn.execute(select(Item.sku, Item.id))}
    return [sku[int(i)] for i in split.item_ids]


def _raw_customers(home: Home, split: Split, n: int) -> list[str]:
    """The raw id of each split user (the fixture's customers are cust-0..cust-{n-1})."""
    with home.engine.connect() as conn:
        pseudonym = {id_: p for p, id_ in conn.execute(select(User.pseudonym, User.id))}
    raw = {home.store_pseudonym(f"cust-{u}"): f"cust-{u}" for u in range(n)}
    return [raw[pseudonym[int(i)]] for i in split.user_ids]


def _metrics(scores: np.ndarray, split: Split) -> dict[str, float]:
    """Reference Recall/NDCG at the test stage over the users with a held-out item."""
    rows = np.flatnonzero(np.diff(split.test.indptr) > 0)
    return rank_metrics(scores[rows], split.history("test")[rows], split.test[rows], KS)


def _lightgcn_item_emb(split: Split) -> np.ndarray:
    from appliance.models.graph_cf import LightGCNRecommender  # torch only for this test

    model = LightGCNRecommender(LightGCNConfig(dim=8, layers=2, batch_size=16, lr=0.02, max_epochs=4, eval_every=2,
                                               patience=3))
    model.fit(split)
    return np.asarray(model.arrays["item_emb"], dtype=np.float32)  # (n_items, 8)


@pytest.mark.parametrize("metric", ["dot", "cosine"])
def test_reimported_lightgcn_vectors_score_as_the_vectors_do(shop: Home, tmp_path: Path, one_torch_thread,
                                                             metric: str) -> None:
    split = load_split(shop.engine)
    item_emb = _lightgcn_item_emb(split)
    np.save(tmp_path / "items.npy", item_emb)
    (tmp_path / "skus.txt").write_text("\n".join(_skus(shop, split)) + "\n", encoding="utf-8")
    ingest_embeddings(shop, tmp_path / "items.npy", skus=tmp_path / "skus.txt", metric=metric)
    report = evaluate_models(shop.engine, shop.config, ["imported"])

    emb = item_emb.astype(np.float64)  # the reference, straight from the exported matrix
    if metric == "cosine":
        emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    known = split.history("test").toarray() > 0  # (n_users, n_items)
    user = known @ emb / known.sum(axis=1, keepdims=True)
    if metric == "cosine":
        user = user / np.linalg.norm(user, axis=1, keepdims=True)
    expected = _metrics((user @ emb.T).astype(np.float32), split)
    assert report.results[0].metrics == pytest.approx(expected, abs=1e-12)
    assert report.results[0].metrics["recall@20"] > 0


def test_items_without_a_vector_are_never_recommended(shop: Home, tmp_path: Path) -> None:
    split = load_split(shop.engine)
    skus = _skus(shop, split)
    (tmp_path / "v.csv").write_text("sku,vector\n" + "".join(f"{s},{i % 3} 1\n" for i, s in enumerate(skus[:-2])),
                                    encoding="utf-8")
    ingest_embeddings(shop, tmp_path / "v.csv")
    model = ImportedRecommender(shop.config.artifacts_dir)
    model.fit(split)
    top = recommend(model, split, np.arange(split.n_users), split.n_items)
    assert not np.isin(top, [split.n_items - 2, split.n_items - 1]).any()
    assert model.note == f"2 of {split.n_items} items have no imported vector and are never recommended"
    model.save(tmp_path / "saved")
    again = ImportedRecommender.load(tmp_path / "saved")
    np.testing.assert_array_equal(again.score(np.arange(3)), model.score(np.arange(3)))


def _write_lists(path: Path, customers: list[str], top: np.ndarray, skus: list[str]) -> None:
    rows = [f"{c},{rank + 1},{skus[i]}" for c, items in zip(customers, top, strict=True)
            for rank, i in enumerate(items) if i >= 0]
    path.write_text("customer_id,rank,sku\n" + "\n".join(rows) + "\nstranger-1,1,S0\n", encoding="utf-8")


def test_a_models_own_lists_as_champion_score_exactly_its_metrics(shop: Home, tmp_path: Path) -> None:
    split = load_split(shop.engine)
    knn: Recommender = ItemKNNRecommender(shop.config.eval)
    knn.fit(split)
    top = recommend(knn, split, np.arange(split.n_users), max(KS))  # what the "current system" serves
    _write_lists(tmp_path / "top.csv", _raw_customers(shop, split, 9), top, _skus(shop, split))
    assert ingest_lists(shop, tmp_path / "top.csv").unknown_customers == 1
    report = evaluate_models(shop.engine, shop.config, ["champion", "item-knn"])
    champion, ours = report.results
    assert champion.metrics == ours.metrics and champion.metrics["recall@10"] > 0
    assert champion.note == ""


def test_a_customer_without_a_list_is_a_miss_and_the_report_says_so(shop: Home, tmp_path: Path) -> None:
    split = load_split(shop.engine)
    knn = ItemKNNRecommender(shop.config.eval)
    knn.fit(split)
    top = recommend(knn, split, np.arange(split.n_users), max(KS))
    _write_lists(tmp_path / "top.csv", _raw_customers(shop, split, 9)[1:], top[1:], _skus(shop, split))
    ingest_lists(shop, tmp_path / "top.csv")
    lines: list[str] = []
    report = evaluate_models(shop.engine, shop.config, ["champion"], notify=lines.append)
    scores = knn.score(np.arange(split.n_users))
    scores[0] = -np.inf  # user 0's list is empty: nothing ranked, every held-out item missed
    assert report.results[0].metrics == pytest.approx(_metrics(scores, split), abs=1e-12)
    assert lines == [f"champion: 1 of {split.n_users} customers have no champion list: their empty list counts as "
                     "a miss"]


def test_champion_lists_rank_by_position_and_survive_save_load(shop: Home, tmp_path: Path) -> None:
    split = load_split(shop.engine)
    customers, skus = _raw_customers(shop, split, 9), _skus(shop, split)
    (tmp_path / "l.jsonl").write_text(f'{{"customer_id": "{customers[2]}", "items": ["{skus[7]}", "{skus[3]}"]}}\n',
                                      encoding="utf-8")
    ingest_lists(shop, tmp_path / "l.jsonl")
    model = ChampionRecommender(shop.config.artifacts_dir)
    model.fit(split)
    scores = model.score(np.array([2, 0]))
    assert np.argsort(-scores[0])[:2].tolist() == [7, 3] and np.isinf(scores[1]).all()
    assert sp.issparse(model.lists) and model.lists.nnz == 2
    model.save(tmp_path / "saved")
    np.testing.assert_array_equal(ChampionRecommender.load(tmp_path / "saved").score(np.array([2])), scores[:1])


def test_nothing_imported_says_which_command_to_run(shop: Home) -> None:
    split = load_split(shop.engine)
    with pytest.raises(ImportedModelError, match="run `tanaban ingest embeddings FILE` first"):
        ImportedRecommender(shop.config.artifacts_dir).fit(split)
    with pytest.raises(ImportedModelError, match="run `tanaban ingest lists FILE` first"):
        ChampionRecommender(shop.config.artifacts_dir).fit(split)
