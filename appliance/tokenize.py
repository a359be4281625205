"""Semantic item IDs: fuse text and CF embeddings, quantize them residually, make colliding codes unique.

Follows Semantic Convergence (Li et al., AAAI 2025) for the text + behaviour fusion, TIGER (Rajput et al., NeurIPS
2023) for 3 residual levels plus a disambiguating last level, and LETTER (CIKM 2024) for the collision-rate and
code-utilisation diagnostics. Quantizers: balanced residual k-means (here, numpy) and an RQ-VAE
(`appliance.tokenize_rqvae`, torch, imported only when chosen), so serving can import `codes_to_tokens` torch-free.
About 470 lines, over the 400 target: the quantizer, its statistics/collapse checks and the artifact I/O share types.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy import select

from appliance.checkpoint import Artifact, ArtifactError, data_fingerprint, load_artifact, save_artifact
from appliance.config import RQConfig
from appliance.home import Home
from appliance.store import Item

KIND = "semantic-ids"
TEXT_KIND = "item-embeddings"
CF_KINDS = ("cf-embeddings", "cf-irllrec", "cf-lightgcn")  # agreed CF export first, then CF models
LEVEL_LETTERS = "abcdefghijklmnopqrstuvwxyz"  # token prefix per level: <a_12><b_201><c_7><d_0>
METHODS = ("kmeans", "rqvae")
Progress = Callable[[str], None]
INIT_SAMPLE_PER_CODE = 20  # k-means++ seeds from at most 20 points per code (faiss samples 39-256 for training)


class TokenizeError(RuntimeError):
    """Semantic IDs cannot be built or shown: collapsed codebook, bad settings, unknown item."""


@dataclass(frozen=True)
class CodeStats:
    """Diagnostics of a code table; per-level tuples cover the quantized levels (not the last one)."""

    n_items: int
    level_sizes: tuple[int, ...]  # codebook sizes, last (disambiguating) level included
    used: tuple[int, ...]  # distinct codes used per quantized level
    utilisation: tuple[float, ...]  # used / codebook size
    perplexity: tuple[float, ...]  # exp(entropy) of the code distribution per level
    collision_rate: float  # 1 - distinct prefixes / items (LETTER): share of items that need the last level
    max_per_prefix: int  # most items sharing one quantized prefix (= last-level tokens needed)
    unique: bool  # full codes are unique
    reconstruction: float | None = None  # sum |x - x_hat|^2 / sum |x - mean|^2 in the fused space

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


@dataclass(frozen=True)
class SemanticIds:
    codes: np.ndarray  # (n_items, levels + 1) int32
    stats: CodeStats


@dataclass(frozen=True)
class BuildResult:
    path: Path
    ids: SemanticIds
    fused: bool  # False: text only (no cf-embeddings artifact, or --text-only)
    cf_missing: int  # items without a CF vector (their CF part is zero)


# --- fusion


def _l2(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)  # zero rows (items without a CF vector) stay zero


def fuse_embeddings(text: np.ndarray, cf: np.ndarray | None = None, *, cf_weight: float = 1.0,
                    pca_dim: int = 0) -> np.ndarray:
    """[l2(text), cf_weight * l2(cf)] (n, d_text + d_cf) float32, optionally PCA-whitened to `pca_dim`."""
    parts = [_l2(np.asarray(text, dtype=np.float64))]
    if cf is not None:
        if len(cf) != len(text):
            raise TokenizeError(f"CF embeddings have {len(cf)} rows but text embeddings {len(text)}")
        parts.append(cf_weight * _l2(np.asarray(cf, dtype=np.float64)))
    x = np.hstack(parts)
    if pca_dim > 0:
        centred = x - x.mean(axis=0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        keep = min(pca_dim, len(s))
        x = centred @ vt[:keep].T / np.maximum(s[:keep] / math.sqrt(max(len(x) - 1, 1)), 1e-8)
    return x.astype(np.float32)


# --- balanced residual k-means


def _sq_dists(x: np.ndarray, centroids: np.ndarray, x_sq: np.ndarray) -> np.ndarray:
    """(n, k) squared Euclidean distances; x_sq (n,) are the squared norms of x."""
    d = x_sq[:, None] - 2.0 * (x @ centroids.T) + (centroids * centroids).sum(1)[None, :]
    return np.maximum(d, 0.0)


def _kmeans_pp(x: np.ndarray, x_sq: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): (k, d) initial centroids."""
    chosen = [int(rng.integers(len(x)))]
    d2 = np.maximum(x_sq - 2.0 * (x @ x[chosen[0]]) + x_sq[chosen[0]], 0.0)
    for _ in range(1, k):
        cumulative = np.cumsum(d2, dtype=np.float64)
        if cumulative[-1] > 0:
            pick = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")), len(x) - 1)
        else:
            pick = int(rng.integers(len(x)))
        chosen.append(pick)
        d2 = np.minimum(d2, np.maximum(x_sq - 2.0 * (x @ x[pick]) + x_sq[pick], 0.0))
    return x[chosen].copy()


def assign_capped(dists: np.ndarray, cap: int) -> np.ndarray:
    """Nearest-centroid labels (n,) where no centroid takes more than `cap` points (needs k * cap >= n).

    Each round every free point proposes to its nearest centroid that still has room; a centroid keeps its
    closest proposers up to its remaining capacity, and full centroids are closed for the next round.
    """
    n, k = dists.shape
    if k * cap < n:
        raise ValueError(f"{k} centroids x capacity {cap} cannot hold {n} points")
    labels = dists.argmin(1)
    counts = np.bincount(labels, minlength=k)
    if counts.max() <= cap:  # the common case once centroids have spread out
        return labels
    d = dists.copy()
    labels = np.full(n, -1, dtype=np.int64)
    counts = np.zeros(k, dtype=np.int64)
    free = np.arange(n)
    while len(free):
        best = d[free].argmin(1)
        order = np.lexsort((d[free, best], best))  # by centroid, then distance
        cl = best[order]
        rank = np.arange(len(cl)) - np.searchsorted(cl, cl, side="left")
        accept = rank < (cap - counts[cl])
        labels[free[order[accept]]] = cl[accept]
        counts += np.bincount(cl[accept], minlength=k)
        free = free[order[~accept]]
        d[np.ix_(free, np.flatnonzero(counts >= cap))] = np.inf
    return labels


def fit_balanced_kmeans(x: np.ndarray, k: int, *, iters: int, balance: float,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Capacity-constrained Lloyd k-means with k-means++ init and dead-code re-seeding.

    Returns centroids (k, d) and labels (n,). A centroid that loses all its points is moved onto the point
    farthest from its own centroid, so no code stays dead while others are crowded. Stops early once fewer
    than 0.1% of the labels change.
    """
    n = len(x)
    x_sq = (x * x).sum(1)
    sample = np.sort(rng.choice(n, size=INIT_SAMPLE_PER_CODE * k, replace=False)) if n > INIT_SAMPLE_PER_CODE * k \
        else np.arange(n)  # seeding on a sample: k-means++ is sequential and dominated the run time
    centroids = _kmeans_pp(x[sample], x_sq[sample], k, rng)
    cap = max(1, math.ceil(balance * n / k))
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(iters):
        dists = _sq_dists(x, centroids, x_sq)
        new = assign_capped(dists, cap)
        counts = np.bincount(new, minlength=k)
        members = sp.csr_matrix((np.ones(n, dtype=x.dtype), (new, np.arange(n))), shape=(k, n))
        sums = np.asarray(members @ x)  # (k, d) sum of each centroid's points
        alive = counts > 0
        centroids[alive] = sums[alive] / counts[alive, None]
        dead = np.flatnonzero(~alive)
        changed = int((new != labels).sum())
        labels = new
        if len(dead):
            far = np.argsort(-dists[np.arange(n), new], kind="stable")[: len(dead)]
            centroids[dead] = x[far]
        elif changed <= n // 1000:
            break
    return centroids, assign_capped(_sq_dists(x, centroids, x_sq), cap)


def _distinct_rows(x: np.ndarray) -> int:
    scale = float(np.abs(x).max()) if x.size else 0.0
    if scale == 0.0:
        return 1
    return len(np.unique(np.round(x / scale, 6), axis=0))


def residual_kmeans(x: np.ndarray, cfg: RQConfig, *, rng: np.random.Generator,
                    progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Balanced residual k-means: codes (n, levels) int32 and the reconstruction (n, d) float32.

    Each level is checked for collapse before the next one is fitted.
    """
    x = np.asarray(x, dtype=np.float32)
    residual = x.copy()
    codes = np.zeros((len(x), len(cfg.levels)), dtype=np.int32)
    for level, size in enumerate(cfg.levels):
        if progress is not None:
            progress(f"k-means level {level + 1}/{len(cfg.levels)}")
        usable = min(size, _distinct_rows(residual))
        if usable <= 1:  # identical vectors: a collapse at level 1, else earlier levels already fit exactly
            check_level(codes[:, level], level, usable, cfg)
            continue
        centroids, labels = fit_balanced_kmeans(residual, usable, iters=cfg.kmeans_iters, balance=cfg.balance,
                                                rng=rng)
        check_level(labels, level, usable, cfg)
        if cfg.spread_last and level == len(cfg.levels) - 1 and level > 0:
            labels = spread_collisions(_sq_dists(residual, centroids, (residual * residual).sum(1)),
                                       codes[:, :level], labels)
        codes[:, level] = labels
        residual -= centroids[labels]
    return codes, x - residual


# --- collision handling, statistics, collapse checks


def spread_collisions(dists: np.ndarray, prefix: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Give items that share `prefix` (n, l) distinct last-level codes where possible.

    Within each group whose nearest codes (`labels`) collide, items closest to a code choose first, each taking
    its nearest code not yet taken in the group; groups larger than the codebook keep collisions for the extra
    items. dists: (n, k) squared distances of the items' residuals to the last level's codes.
    """
    labels = labels.copy()
    keys = np.hstack([prefix, labels[:, None]])
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    colliding = np.flatnonzero(counts[inverse.reshape(-1)] > 1)
    if len(colliding) == 0:
        return labels
    _, group = np.unique(prefix, axis=0, return_inverse=True)
    group = group.reshape(-1)
    for g in np.unique(group[colliding]):
        members = np.flatnonzero(group == g)
        taken: set[int] = set()
        for i in members[np.argsort(dists[members].min(1), kind="stable")]:
            free = [c for c in np.argsort(dists[i], kind="stable").tolist() if c not in taken]
            labels[i] = free[0] if free else labels[i]
            taken.add(int(labels[i]))
    return labels




def add_collision_level(prefix: np.ndarray) -> np.ndarray:
    """Append the index of each item within its group of identical prefixes (input order): unique codes."""
    prefix = np.asarray(prefix, dtype=np.int32)
    if len(prefix) == 0:
        return np.zeros((0, prefix.shape[1] + 1), dtype=np.int32)
    _, inverse = np.unique(prefix, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    grouped = inverse[order]
    last = np.empty(len(prefix), dtype=np.int32)
    last[order] = np.arange(len(prefix)) - np.searchsorted(grouped, grouped, side="left")
    return np.hstack([prefix, last[:, None]])


def _perplexity(labels: np.ndarray) -> float:
    p = np.bincount(labels) / len(labels)
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def code_stats(codes: np.ndarray, level_sizes: tuple[int, ...], *,
               reconstruction: float | None = None) -> CodeStats:
    """Statistics of full codes (n, L + 1): per quantized level utilisation/perplexity, collisions, uniqueness."""
    n, width = codes.shape
    if width != len(level_sizes) or width < 2:
        raise ValueError(f"codes have {width} columns but level_sizes {level_sizes}")
    prefix = codes[:, :-1]
    used = tuple(len(np.unique(prefix[:, i])) for i in range(width - 1))
    prefixes, counts = np.unique(prefix, axis=0, return_counts=True)
    return CodeStats(
        n_items=n, level_sizes=tuple(level_sizes), used=used,
        utilisation=tuple(u / s for u, s in zip(used, level_sizes, strict=False)),
        perplexity=tuple(_perplexity(prefix[:, i]) for i in range(width - 1)),
        collision_rate=1.0 - len(prefixes) / n, max_per_prefix=int(counts.max()),
        unique=len(np.unique(codes, axis=0)) == n, reconstruction=reconstruction)


def check_level(labels: np.ndarray, level: int, usable: int, cfg: RQConfig) -> None:
    """Raise TokenizeError when level `level` (0-based) collapsed: too few codes used or perplexity tiny.

    `usable` is how many codes the data allows (codebook size, capped by the distinct vectors at this level).
    """
    letter = LEVEL_LETTERS[level]
    if usable <= 1:
        if level == 0 and len(labels) > 1:
            raise TokenizeError("codebook collapse at level 1 (a): all item embeddings are identical, so codes "
                                "cannot tell items apart; check that `tanaban embed` ran on real item text")
        return
    used = len(np.unique(labels))
    perplexity = _perplexity(labels)
    if used / usable < cfg.min_utilisation or perplexity / usable < cfg.min_perplexity_ratio:
        raise TokenizeError(
            f"codebook collapse at level {level + 1} ({letter}): {used} of {usable} usable codes used, "
            f"perplexity {perplexity:.2f} (floors: utilisation {cfg.min_utilisation}, perplexity ratio "
            f"{cfg.min_perplexity_ratio}); try [tokenize] method = \"kmeans\", fewer codes per level, or check "
            "the input embeddings")


def check_prefix_groups(stats: CodeStats, cfg: RQConfig) -> None:
    if stats.max_per_prefix > cfg.last_level_size:
        raise TokenizeError(
            f"{stats.max_per_prefix} items share one {len(cfg.levels)}-level prefix but the last level has only "
            f"{cfg.last_level_size} tokens: the codebooks collapsed; raise [tokenize] levels or balance tighter")


def _validate(cfg: RQConfig) -> None:
    if cfg.method not in METHODS:
        raise TokenizeError(f"[tokenize] method must be one of {', '.join(METHODS)}, got {cfg.method!r}")
    if not cfg.levels or min(cfg.levels) < 1 or len(cfg.levels) >= len(LEVEL_LETTERS):
        raise TokenizeError(f"[tokenize] levels must be 1 to 25 positive codebook sizes, got {list(cfg.levels)}")
    if cfg.balance < 1.0:
        raise TokenizeError(f"[tokenize] balance must be >= 1 (a code's cap in multiples of n/codes), "
                            f"got {cfg.balance}")


# --- public entry points


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
        from appliance.tokenize_rqvae import fit_rqvae  # torch only when the RQ-VAE is chosen

        prefix, recon = fit_rqvae(x, cfg, progress=progress)
    else:
        prefix, recon = residual_kmeans(x, cfg, rng=np.random.default_rng(cfg.seed), progress=progress)
    spread = float(((x - x.mean(0)) ** 2).sum())
    error = float(((x - recon) ** 2).sum()) / spread if spread > 0 else 0.0
    codes = add_collision_level(prefix)
    stats = code_stats(codes, (*cfg.levels, cfg.last_level_size), reconstruction=error)
    check_prefix_groups(stats, cfg)
    return SemanticIds(codes, stats)


def codes_to_tokens(codes: np.ndarray, level_sizes: tuple[int, ...] | list[int]) -> list[str]:
    """One token string per item, e.g. '<a_12><b_201><c_7><d_0>'; raises ValueError on out-of-range codes."""
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != len(level_sizes):
        raise ValueError(f"codes of shape {codes.shape} do not match {len(level_sizes)} level sizes")
    if len(codes) and ((codes < 0).any() or (codes >= np.asarray(level_sizes)[None, :]).any()):
        raise ValueError(f"codes outside the level sizes {list(level_sizes)}")
    letters = LEVEL_LETTERS[: len(level_sizes)]
    return ["".join(f"<{letter}_{c}>" for letter, c in zip(letters, row, strict=True)) for row in codes.tolist()]


def load_item_vectors(home: Home, *, text_only: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                                                         dict[str, Any]]:
    """Store item ids (n,), text vectors (n, d) and CF vectors aligned to them (None if absent/text_only)."""
    root = home.config.artifacts_dir
    try:
        text = load_artifact(root, TEXT_KIND)
    except ArtifactError:
        raise TokenizeError("no item text embeddings yet: run `tanaban embed` first") from None
    item_ids = text.arrays["item_ids"]
    info: dict[str, Any] = {"text_version": text.meta["version"], "cf_version": None, "cf_missing": 0}
    if text_only:
        return item_ids, text.arrays["vectors"], None, info
    cf = _load_cf(root)
    if cf is None:
        return item_ids, text.arrays["vectors"], None, info
    vectors = cf.arrays["item"] if "item" in cf.arrays else cf.arrays["item_emb"]
    aligned = np.zeros((len(item_ids), vectors.shape[1]), dtype=np.float32)
    row = {int(i): r for r, i in enumerate(cf.arrays["item_ids"])}
    hits = np.array([row.get(int(i), -1) for i in item_ids])
    aligned[hits >= 0] = vectors[hits[hits >= 0]]
    info.update(cf_version=f"{cf.meta['kind']}/{cf.meta['version']}", cf_missing=int((hits < 0).sum()))
    return item_ids, text.arrays["vectors"], aligned, info


def _load_cf(root: Path) -> Artifact | None:
    """The first CF artifact found: "cf-embeddings" (`item`), else a trained "cf-irllrec"/"cf-lightgcn" model."""
    for kind in CF_KINDS:
        try:
            return load_artifact(root, kind)
        except ArtifactError:
            continue
    return None


def build_semantic_ids(home: Home, cfg: RQConfig | None = None, *, text_only: bool = False,
                       progress: Progress | None = None) -> BuildResult:
    """Fuse the stored embeddings, assign codes and save the versioned "semantic-ids" artifact."""
    cfg = cfg or home.config.tokenize
    item_ids, text, cf, info = load_item_vectors(home, text_only=text_only)
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
    vectors[hits >= 0] = _l2(text.arrays["vectors"][hits[hits >= 0]].astype(np.float64))
    return vectors @ vectors[me]
