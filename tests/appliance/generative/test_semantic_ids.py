"""Semantic IDs: statistics by hand, uniqueness (property test), collapse detection, determinism, RQ-VAE, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from typer.testing import CliRunner

from appliance.config import RQConfig
from appliance.data.artifacts import load_artifact, save_artifact
from appliance.data.home import Home
from appliance.data.store import Item
from appliance.generative.quantize import (
    TokenizeError,
    add_collision_level,
    assign_capped,
    check_level,
    code_stats,
    codes_to_tokens,
    fit_balanced_kmeans,
    fuse_embeddings,
    spread_collisions,
)
from appliance.generative.semantic_ids import KIND, assign_semantic_ids, build_semantic_ids, load_item_vectors
from cli.main import app

TINY = RQConfig(levels=(5, 3, 2), last_level_size=64, kmeans_iters=8, balance=2.0)
NO_FLOORS = RQConfig(levels=(5, 3, 2), last_level_size=64, kmeans_iters=5, min_utilisation=0.0,
                     min_perplexity_ratio=0.0)


def test_code_stats_on_a_hand_made_table() -> None:
    codes = np.array([[0, 0, 0, 0], [0, 0, 0, 1], [0, 1, 2, 0], [1, 1, 2, 0]])
    stats = code_stats(codes, (2, 2, 4, 2), reconstruction=0.5)
    assert stats.used == (2, 2, 2)
    assert stats.utilisation == (1.0, 1.0, 0.5)
    assert stats.perplexity[0] == pytest.approx(math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25))))
    assert stats.perplexity[1:] == pytest.approx((2.0, 2.0))
    assert stats.collision_rate == pytest.approx(0.25)  # 3 distinct prefixes for 4 items
    assert stats.max_per_prefix == 2 and stats.unique and stats.reconstruction == 0.5
    assert not code_stats(np.array([[0, 0], [0, 0]]), (2, 2)).unique


def test_collision_level_numbers_items_within_their_prefix_group() -> None:
    prefix = np.array([[1, 2], [0, 0], [1, 2], [1, 2], [0, 1]])
    assert add_collision_level(prefix)[:, -1].tolist() == [0, 0, 1, 2, 0]


def test_spreading_gives_a_prefix_group_distinct_last_codes() -> None:
    dists = np.array([[0.0, 1, 2], [0.1, 0.5, 3], [5, 0, 1], [0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 1, 2]])
    prefix = np.array([[0], [0], [0], [1], [2], [2], [2]])
    labels = spread_collisions(dists, prefix, np.array([0, 0, 1, 0, 0, 0, 0]))
    assert labels.tolist() == [0, 2, 1, 0, 0, 1, 2]  # closest items choose first; other groups independent
    crowded = spread_collisions(np.zeros((4, 2)), np.zeros((4, 1), dtype=int), np.zeros(4, dtype=int))
    assert sorted(crowded.tolist()) == [0, 0, 0, 1]  # more items than codes: the extra ones keep colliding


def test_codes_to_tokens_formats_and_validates() -> None:
    assert codes_to_tokens(np.array([[12, 201, 7, 0]]), (256, 256, 256, 4)) == ["<a_12><b_201><c_7><d_0>"]
    with pytest.raises(ValueError, match="outside"):
        codes_to_tokens(np.array([[1, 4]]), (2, 4))
    with pytest.raises(ValueError, match="level sizes"):
        codes_to_tokens(np.array([[1, 2, 3]]), (4, 4))


def test_fusion_weights_normalised_parts_and_keeps_missing_cf_zero() -> None:
    text, cf = np.array([[3.0, 4.0], [1.0, 0.0]]), np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    fused = fuse_embeddings(text, cf, cf_weight=0.5)
    assert fused.shape == (2, 5)
    np.testing.assert_allclose(fused[0], [0.6, 0.8, 0.0, 0.5, 0.0], atol=1e-6)
    np.testing.assert_allclose(fused[1, 2:], 0.0)
    whitened = fuse_embeddings(np.random.default_rng(0).normal(size=(40, 6)), pca_dim=3)
    np.testing.assert_allclose(np.cov(whitened.T), np.eye(3), atol=1e-4)
    with pytest.raises(TokenizeError, match="rows"):
        fuse_embeddings(text, cf[:1])


def test_capped_assignment_respects_the_cap() -> None:
    dists = np.random.default_rng(1).random((23, 4))
    dists[:, 0] = 0.0  # everyone prefers centroid 0
    labels = assign_capped(dists, cap=6)
    assert np.bincount(labels, minlength=4).max() <= 6
    assert (labels == 0).sum() == 6
    with pytest.raises(ValueError, match="cannot hold"):
        assign_capped(dists, cap=5)


def test_balanced_kmeans_has_no_dead_or_giant_codes() -> None:
    rng = np.random.default_rng(2)
    x = np.vstack([rng.normal(size=(90, 3)) * 0.01, rng.normal(size=(9, 3)) + 5]).astype(np.float32)
    _, labels = fit_balanced_kmeans(x, 7, iters=10, balance=1.5, rng=rng)
    counts = np.bincount(labels, minlength=7)
    assert counts.min() > 0 and counts.max() <= math.ceil(1.5 * 99 / 7)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), distinct=st.integers(2, 40), dim=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_codes_are_unique_after_the_last_level(n: int, distinct: int, dim: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(distinct, dim))
    rows = rng.integers(0, distinct, size=n)  # many exact duplicates when distinct << n
    rows[:2] = [0, 1][:n]  # at least two different vectors: all-identical input is a collapse (tested below)
    x = base[rows]
    ids = assign_semantic_ids(x, NO_FLOORS)
    assert ids.codes.shape == (n, 4) and ids.stats.unique
    assert len({tuple(c) for c in ids.codes.tolist()}) == n
    assert ids.codes[:, -1].max() == ids.stats.max_per_prefix - 1
    assert (ids.codes[:, :-1] < np.array(NO_FLOORS.levels)).all()


def test_codes_follow_the_cluster_structure() -> None:
    rng = np.random.default_rng(7)
    centres = np.array([[10.0, 0, 0], [0, 10.0, 0], [0, 0, 10.0]])
    group = np.repeat(np.arange(3), 9)
    x = centres[group] + rng.normal(size=(27, 3)) * 0.1
    codes = assign_semantic_ids(x, RQConfig(levels=(3, 3), last_level_size=64, kmeans_iters=10)).codes
    for g in range(3):  # each tight cluster gets one first-level code of its own
        assert len(set(codes[group == g, 0])) == 1
    assert len(set(codes[:, 0])) == 3


def test_identical_embeddings_are_a_collapse() -> None:
    with pytest.raises(TokenizeError, match=r"collapse at level 1.*identical"):
        assign_semantic_ids(np.ones((30, 4)), TINY)


@pytest.mark.parametrize(("labels", "usable", "level"), [
    (np.zeros(50, dtype=int), 10, 1),  # one code used out of 10
    (np.array([0] * 97 + [1, 2, 3]), 4, 2),  # all codes used but perplexity ~1.2 of 4
])
def test_collapsed_levels_raise(labels: np.ndarray, usable: int, level: int) -> None:
    cfg = RQConfig(min_perplexity_ratio=0.5)
    with pytest.raises(TokenizeError, match=f"collapse at level {level + 1}"):
        check_level(labels, level, usable, cfg)
    check_level(np.arange(50) % usable, level, usable, cfg)  # a healthy level passes


def test_too_many_items_on_one_prefix_raise() -> None:
    x = np.random.default_rng(3).normal(size=(40, 3))
    with pytest.raises(TokenizeError, match="share one 1-level prefix"):
        assign_semantic_ids(x, RQConfig(levels=(2,), last_level_size=5, balance=100.0))


def test_assignment_is_deterministic_for_a_seed() -> None:
    x = np.random.default_rng(4).normal(size=(61, 7))
    first, second = assign_semantic_ids(x, TINY), assign_semantic_ids(x, TINY)
    np.testing.assert_array_equal(first.codes, second.codes)
    assert first.stats == second.stats and 0.0 < first.stats.reconstruction < 1.0


def test_bad_settings_are_user_errors() -> None:
    with pytest.raises(TokenizeError, match="method"):
        assign_semantic_ids(np.eye(3), RQConfig(method="lsh"))
    with pytest.raises(TokenizeError, match="balance"):
        assign_semantic_ids(np.eye(3), RQConfig(balance=0.5))
    with pytest.raises(TokenizeError, match="NaN"):
        assign_semantic_ids(np.full((3, 2), np.nan), TINY)


def test_rqvae_gives_unique_deterministic_codes() -> None:
    x = np.random.default_rng(5).normal(size=(37, 11)).astype(np.float32)
    cfg = RQConfig(method="rqvae", levels=(4, 3), last_level_size=64, rqvae_hidden=(16,), rqvae_latent_dim=5,
                   rqvae_epochs=6, rqvae_batch=16, min_utilisation=0.0, min_perplexity_ratio=0.0)
    first, second = assign_semantic_ids(x, cfg), assign_semantic_ids(x, cfg)
    assert first.stats.unique and first.codes.shape == (37, 3)
    np.testing.assert_array_equal(first.codes, second.codes)
    assert first.stats.reconstruction is not None and np.isfinite(first.stats.reconstruction)


# --- the store-backed build and the CLI


def _tiny_home(home: Home, *, cf_kind: str = "", cf_key: str = "item") -> np.ndarray:
    rng = np.random.default_rng(6)
    with home.engine.begin() as conn:
        conn.execute(insert(Item), [{"sku": f"S{i}", "title": f"item {i}", "categories": [], "attributes": {}}
                                    for i in range(23)])
    item_ids = np.arange(1, 24, dtype=np.int64)
    root = home.config.artifacts_dir
    save_artifact(root, "item-embeddings", {"item_ids": item_ids, "vectors": rng.normal(size=(23, 8))}, {})
    if cf_kind:  # in a different order, and item 23 has no CF vector
        save_artifact(root, cf_kind, {"item_ids": item_ids[:-1][::-1], cf_key: rng.normal(size=(22, 3))}, {})
    return item_ids


def test_build_without_text_embeddings_says_what_to_run(home: Home) -> None:
    with pytest.raises(TokenizeError, match="tanaban embed"):
        build_semantic_ids(home, TINY)


@pytest.mark.parametrize(("kind", "key"), [("cf-embeddings", "item"), ("cf-lightgcn", "item_emb")])
def test_build_fuses_cf_vectors_by_item_id(home: Home, kind: str, key: str) -> None:
    item_ids = _tiny_home(home, cf_kind=kind, cf_key=key)
    result = build_semantic_ids(home, TINY)
    assert result.fused and result.cf_missing == 1
    assert build_semantic_ids(home, TINY).ids.stats == result.ids.stats
    assert not build_semantic_ids(home, TINY, text_only=True).fused
    ids, _, cf, info = load_item_vectors(home)
    stored = load_artifact(home.config.artifacts_dir, kind).arrays
    np.testing.assert_allclose(cf[ids == stored["item_ids"][0]][0], stored[key][0], rtol=1e-6)  # aligned by id
    assert not cf[-1].any() and info["cf_version"].startswith(kind)
    art = load_artifact(home.config.artifacts_dir, KIND)
    np.testing.assert_array_equal(art.arrays["item_ids"], item_ids)
    assert art.arrays["codes"].dtype == np.int32 and art.arrays["codes"].shape == (23, 4)
    assert art.meta["config"]["levels"] == [5, 3, 2] and art.meta["stats"]["unique"]


@pytest.fixture
def tokenize_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n\n[tokenize]\nlevels = [5, 3, 2]\n'
                    "last_level_size = 64\n", encoding="utf-8")
    return path


def test_cli_build_and_show(home: Home, tokenize_config: Path, cli_runner: CliRunner) -> None:
    _tiny_home(home)
    base = ["--config", str(tokenize_config), "tokenize"]
    result = cli_runner.invoke(app, [*base, "build"])
    assert result.exit_code == 0, result.output
    assert "text only" in result.output and "utilisation" in result.output and "semantic-ids" in result.output
    codes = load_artifact(home.config.artifacts_dir, KIND).arrays["codes"]
    result = cli_runner.invoke(app, [*base, "show", "S4", "-n", "2"])
    assert result.exit_code == 0, result.output
    assert codes_to_tokens(codes[4:5], (5, 3, 2, 64))[0] in result.output
    assert "sharing the first 3 level(s)" in result.output and "sharing the first 1 level(s)" in result.output
    result = cli_runner.invoke(app, [*base, "show", "S4", "-n", "2", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["sku"] == "S4" and shown["tokens"] == codes_to_tokens(codes[4:5], (5, 3, 2, 64))[0]
    assert set(shown["neighbours"]) == {"1", "2", "3"} and all(len(v) <= 2 for v in shown["neighbours"].values())
    result = cli_runner.invoke(app, [*base, "show", "NOPE"])
    assert result.exit_code == 2 and "no item with SKU 'NOPE'" in result.output
