"""Semantic item IDs (Semantic Convergence, Li et al., AAAI 2025): quantize fused item vectors with the chosen
quantizer (balanced residual k-means of appliance.generative.quantize, or the RQ-VAE of appliance.generative.rqvae)
into unique codes; read the item text and CF embedding artifacts from the store, fuse them and save the codes as
the versioned "semantic-ids" artifact; show one item's code with its nearest neighbours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from appliance.config import RQConfig
from appliance.data.artifacts import Artifact, ArtifactError, data_fingerprint, load_artifact, save_artifact
from appliance.data.home import Home
from appliance.data.locks import store_writer
from appliance.data.store import Item
from appliance.generative.quantize import (
    LEVEL_LETTERS,
    METHODS,
    Progress,
    SemanticIds,
    TokenizeError,
    add_collision_level,
    check_prefix_groups,
    code_stats,
    codes_to_tokens,
    fuse_embeddings,
    l2_normalize,
    residual_kmeans,
)

KIND = "semantic-ids"
TEXT_KIND = "item-embeddings"
CF_KINDS = ("cf-embeddings", "cf-irllrec", "cf-lightgcn", "cf-imported")  # agreed CF export, CF models, imported
CF_SOURCES = ("auto", *(kind.removeprefix("cf-") for kind in CF_KINDS))  # `tokenize build --cf`


@dataclass(frozen=True)
class BuildResult:
    path: Path
    ids: SemanticIds
    fused: bool  # False: text only (no cf-embeddings artifact, or --text-only)
    cf_missing: int  # items without a CF vector (their CF part is zero)


def _validate(cfg: RQConfig) -> None:
    """load_config checks these too (check_config); --method and configs built in code do not pass through it."""
    if cfg.method not in METHODS:
        raise TokenizeError(f"[tokenize] method must be one of {', '.join(METHODS)}, got {cfg.method!r}")
    if not cfg.levels or min(cfg.levels) < 1 or len(cfg.levels) >= len(LEVEL_LETTERS):
        raise TokenizeError(f"[tokenize] levels must be 1 to 25 positive codebook sizes, got {list(cfg.levels)}")
    if cfg.balance < 1.0:
        raise TokenizeError(f"[tokenize] balance must be >= 1 (a code's cap in multiples of n/codes), "
                            f"got {cfg.balance}")


def assign_semantic_ids(vectors: np.ndarray, cfg: RQConfig | None = None, *,
                        progress: Progress | None = None) -> SemanticIds:
    """Quantize fused item vectors (n, d) into unique codes (n, levels + 1) with statistics.

    Deterministic for a given `cfg.seed`. Raises TokenizeError on a collapsed codebook.
    """
    cfg = cfg or RQConfig()
    _validate(cfg)
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise TokenizeError(f"expected a non-empty (items, dim) matrix, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise TokenizeError("item embeddings contain NaN or infinite values: rebuild them with `tanaban embed`")
    if cfg.method == "rqvae":
        from appliance.generative.rqvae import fit_rqvae  # torch only when the RQ-VAE is chosen

        prefix, recon = fit_rqvae(x, cfg, progress=progress)
    else:
        prefix, recon = residual_kmeans(x, cfg, rng=np.random.default_rng(cfg.seed), progress=progress)
    spread = float(((x - x.mean(0)) ** 2).sum())
    error = float(((x - recon) ** 2).sum()) / spread if spread > 0 else 0.0
    codes = add_collision_level(prefix)
    stats = code_stats(codes, (*cfg.levels, cfg.last_level_size), reconstruction=error)
    check_prefix_groups(stats, cfg)
    return SemanticIds(codes, stats)


def load_item_vectors(home: Home, *, text_only: bool = False, cf_source: str = "auto") -> tuple[
        np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
    """Store item ids (n,), text vectors (n, d) and CF vectors aligned to them (None if absent/text_only).

    `cf_source` "auto" takes the first CF artifact of CF_KINDS; a name ("imported", "lightgcn", ...) only that one.
    """
    root = home.config.artifacts_dir
    try:
        text = load_artifact(root, TEXT_KIND)
    except ArtifactError:
        raise TokenizeError("no item text embeddings yet: run `tanaban embed` first") from None
    item_ids = text.arrays["item_ids"]
    info: dict[str, Any] = {"text_version": text.meta["version"], "cf_version": None, "cf_missing": 0}
    if text_only:
        return item_ids, text.arrays["vectors"], None, info
    cf = _load_cf(root, cf_source)
    if cf is None:
        return item_ids, text.arrays["vectors"], None, info
    vectors = cf.arrays["item"] if "item" in cf.arrays else cf.arrays["item_emb"]
    aligned = np.zeros((len(item_ids), vectors.shape[1]), dtype=np.float32)
    row = {int(i): r for r, i in enumerate(cf.arrays["item_ids"])}
    hits = np.array([row.get(int(i), -1) for i in item_ids])
    aligned[hits >= 0] = vectors[hits[hits >= 0]]
    info.update(cf_version=f"{cf.meta['kind']}/{cf.meta['version']}", cf_missing=int((hits < 0).sum()))
    return item_ids, text.arrays["vectors"], aligned, info


def _load_cf(root: Path, source: str = "auto") -> Artifact | None:
    """The first CF artifact found: "cf-embeddings" (`item`), else a trained "cf-irllrec"/"cf-lightgcn" model, else
    the shop's "cf-imported" vectors; with a `source` other than "auto", that one (TokenizeError if absent)."""
    if source != "auto":
        if source not in CF_SOURCES:
            raise TokenizeError(f"unknown CF source {source!r}: use one of {', '.join(CF_SOURCES)}")
        try:
            return load_artifact(root, f"cf-{source}")
        except ArtifactError:
            fix = "tanaban ingest embeddings FILE" if source == "imported" else "`tanaban train cf` (or `embed`)"
            raise TokenizeError(f"no cf-{source} artifact to fuse: run {fix} first") from None
    for kind in CF_KINDS:
        try:
            return load_artifact(root, kind)
        except ArtifactError:
            continue
    return None


@store_writer("tokenize")
def build_semantic_ids(home: Home, cfg: RQConfig | None = None, *, text_only: bool = False,
                       progress: Progress | None = None, cf_source: str = "auto") -> BuildResult:
    """Fuse the stored embeddings, assign codes and save the versioned "semantic-ids" artifact."""
    cfg = cfg or home.config.tokenize
    item_ids, text, cf, info = load_item_vectors(home, text_only=text_only, cf_source=cf_source)
    fused = fuse_embeddings(text, cf, cf_weight=cfg.cf_weight, pca_dim=cfg.pca_dim)
    ids = assign_semantic_ids(fused, cfg, progress=progress)
    meta = {"config": dataclasses.asdict(cfg), "stats": ids.stats.as_dict(), "fused": cf is not None,
            "level_sizes": list(ids.stats.level_sizes), "data_fingerprint": data_fingerprint(home.engine), **info}
    arrays = {"codes": ids.codes.astype(np.int32), "item_ids": np.asarray(item_ids, dtype=np.int64)}
    path = save_artifact(home.config.artifacts_dir, KIND, arrays, meta)
    return BuildResult(path, ids, cf is not None, info["cf_missing"])


@dataclass(frozen=True)
class Neighbour:
    sku: str
    title: str
    tokens: str
    similarity: float  # cosine of the text embeddings


@dataclass(frozen=True)
class ItemCode:
    sku: str
    title: str
    tokens: str
    neighbours: dict[int, list[Neighbour]]  # prefix depth (levels .. 1) -> nearest items sharing that prefix


def show_item(home: Home, sku: str, *, n: int = 5) -> ItemCode:
    """An item's code and its `n` nearest items (text cosine) sharing each prefix depth, deepest first."""
    try:
        art = load_artifact(home.config.artifacts_dir, KIND)
    except ArtifactError:
        raise TokenizeError("no semantic IDs yet: run `tanaban tokenize build` first") from None
    codes, item_ids = art.arrays["codes"], art.arrays["item_ids"]
    tokens = codes_to_tokens(codes, art.meta["level_sizes"])
    with home.engine.connect() as conn:
        titles = {r.id: (r.sku, r.title) for r in conn.execute(select(Item.id, Item.sku, Item.title))}
    row = {titles[int(i)][0]: r for r, i in enumerate(item_ids) if int(i) in titles}
    if sku not in row:
        known = any(s == sku for s, _ in titles.values())
        raise TokenizeError(f"item {sku!r} has no semantic ID: run `tanaban tokenize build` again" if known
                            else f"no item with SKU {sku!r} in the store")
    me = row[sku]
    sims = _text_similarity(home, item_ids, me)
    neighbours: dict[int, list[Neighbour]] = {}
    shown = {me}
    for depth in range(codes.shape[1] - 1, 0, -1):
        same = np.flatnonzero((codes[:, :depth] == codes[me, :depth]).all(1))
        ranked = [int(r) for r in same[np.argsort(-sims[same], kind="stable")] if int(r) not in shown][:n]
        shown.update(ranked)
        neighbours[depth] = [Neighbour(*titles[int(item_ids[r])], tokens[r], float(sims[r])) for r in ranked]
    return ItemCode(sku, titles[int(item_ids[me])][1], tokens[me], neighbours)


def _text_similarity(home: Home, item_ids: np.ndarray, me: int) -> np.ndarray:
    """Cosine of every coded item's text vector to item row `me`; zeros if the text artifact no longer fits."""
    try:
        text = load_artifact(home.config.artifacts_dir, TEXT_KIND)
    except ArtifactError:
        return np.zeros(len(item_ids))
    row = {int(i): r for r, i in enumerate(text.arrays["item_ids"])}
    hits = np.array([row.get(int(i), -1) for i in item_ids])
    vectors = np.zeros((len(item_ids), text.arrays["vectors"].shape[1]))
    vectors[hits >= 0] = l2_normalize(text.arrays["vectors"][hits[hits >= 0]].astype(np.float64))
    return vectors @ vectors[me]
