"""Item quantizers: fuse text and CF embeddings, quantize them residually, make colliding codes unique.

Follows Semantic Convergence (Li et al., AAAI 2025) for the text + behaviour fusion, TIGER (Rajput et al., NeurIPS
2023) for 3 residual levels plus a disambiguating last level, and LETTER (CIKM 2024) for the collision-rate and
code-utilisation diagnostics. Quantizers: balanced residual k-means (here, numpy) and an RQ-VAE
(`appliance.generative.rqvae`, torch). Pure functions on arrays and torch-free, so serving can import
`codes_to_tokens`; appliance.generative.semantic_ids chooses the quantizer and feeds it from the store.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from appliance.config import RQConfig
from appliance.errors import UserError

LEVEL_LETTERS = "abcdefghijklmnopqrstuvwxyz"  # token prefix per level: <a_12><b_201><c_7><d_0>
METHODS = ("kmeans", "rqvae")
Progress = Callable[[str], None]
INIT_SAMPLE_PER_CODE = 20  # k-means++ seeds from at most 20 points per code (faiss samples 39-256 for training)


class TokenizeError(UserError, RuntimeError):
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


# --- fusion


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; zero rows stay zero."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)  # zero rows (items without a CF vector) stay zero


def fuse_embeddings(text: np.ndarray, cf: np.ndarray | None = None, *, cf_weight: float = 1.0,
                    pca_dim: int = 0) -> np.ndarray:
    """[l2(text), cf_weight * l2(cf)] (n, d_text + d_cf) float32, optionally PCA-whitened to `pca_dim`."""
    parts = [l2_normalize(np.asarray(text, dtype=np.float64))]
    if cf is not None:
        if len(cf) != len(text):
            raise TokenizeError(f"CF embeddings have {len(cf)} rows but text embeddings {len(text)}")
        parts.append(cf_weight * l2_normalize(np.asarray(cf, dtype=np.float64)))
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


def codes_to_tokens(codes: np.ndarray, level_sizes: tuple[int, ...] | list[int]) -> list[str]:
    """One token string per item, e.g. '<a_12><b_201><c_7><d_0>'; raises ValueError on out-of-range codes."""
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != len(level_sizes):
        raise ValueError(f"codes of shape {codes.shape} do not match {len(level_sizes)} level sizes")
    if len(codes) and ((codes < 0).any() or (codes >= np.asarray(level_sizes)[None, :]).any()):
        raise ValueError(f"codes outside the level sizes {list(level_sizes)}")
    letters = LEVEL_LETTERS[: len(level_sizes)]
    return ["".join(f"<{letter}_{c}>" for letter, c in zip(letters, row, strict=True)) for row in codes.tolist()]


