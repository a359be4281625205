"""Evaluation splits of the interaction data and the normalised interaction graph.

Leave-one-out follows the SASRec/S3-Rec/TIGER protocol (per user, chronological: last item = test, second to last =
validation, the rest = training); "given" uses the split shipped with the data (RLMRec/IRLLRec Amazon-book). Every
event type counts as one implicit positive and a user-item pair is kept once, at its first occurrence. The
normalised adjacency is the symmetric D^-1/2 A D^-1/2 of LightGCN (He et al., SIGIR 2020, eq. 7).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sqlalchemy import Connection, Engine, select

from appliance.data.store import Interaction, Item
from appliance.errors import UserError

PROTOCOLS = ("auto", "leave-one-out", "given")
STAGES = ("valid", "test")
MIN_LOO_INTERACTIONS = 3  # fewer distinct items: too few to hold two out, the user stays all-train


class DataError(UserError, ValueError):
    """The interactions cannot be split as asked (empty store, unknown protocol, missing split labels)."""


@dataclass(frozen=True)
class Split:
    """Dense indices 0..n-1; `user_ids`/`item_ids` map them back to store ids."""

    user_ids: np.ndarray  # (n_users,) store User.id
    item_ids: np.ndarray  # (n_items,) store Item.id
    train: sp.csr_matrix  # (n_users, n_items) float32 0/1
    valid: sp.csr_matrix  # held-out validation items per user (one per user for leave-one-out)
    test: sp.csr_matrix  # held-out test items
    train_sequences: list[np.ndarray]  # per user, chronological training item indices (ties: insertion order)
    protocol: str  # "leave-one-out" | "given"
    valid_sequences: list[np.ndarray] | None = None  # per user, chronological validation items (given splits)
    # Sorted rows that full-ranking evaluation scores (`sample_evaluation`); None: every row. Training, histories and
    # input sequences never look at it: a customer outside the sample is trained on and served like any other.
    evaluated: np.ndarray | None = None

    @property
    def n_users(self) -> int:
        return self.train.shape[0]

    @property
    def n_items(self) -> int:
        return self.train.shape[1]

    def history(self, stage: str) -> sp.csr_matrix:
        """Items known before `stage` (to mask when ranking): "valid" -> train; "test" -> train + valid."""
        _check_stage(stage)
        if stage == "valid":
            return self.train
        both = (self.train + self.valid).tocsr()
        both.data[:] = 1.0  # a pair in both (impossible after de-duplication) must still count once
        return both

    def heldout(self, stage: str) -> sp.csr_matrix:
        """The items to find at `stage`."""
        _check_stage(stage)
        return self.valid if stage == "valid" else self.test

    def eval_users(self, stage: str) -> np.ndarray:
        """The sorted rows evaluation scores at `stage`: those with held-out items, within `evaluated` when set."""
        rows = np.flatnonzero(np.diff(self.heldout(stage).indptr) > 0)
        return rows if self.evaluated is None else np.intersect1d(rows, self.evaluated, assume_unique=True)

    def evaluation_record(self) -> dict[str, int | bool]:
        """How many customers evaluation scores at each stage, and whether they are a sample (for manifests)."""
        return {"valid_customers": len(self.eval_users("valid")), "test_customers": len(self.eval_users("test")),
                "sampled": self.evaluated is not None}

    def sequences(self, stage: str) -> list[np.ndarray]:
        """Chronological input sequences: "valid" -> train; "test" -> train followed by the validation items."""
        _check_stage(stage)
        if stage == "valid":
            return self.train_sequences
        valid = self.valid_sequences
        if valid is None:
            valid = np.split(self.valid.indices, self.valid.indptr[1:-1])
        return [np.concatenate([t, v]).astype(np.int64) for t, v in zip(self.train_sequences, valid, strict=True)]


def sample_evaluation(split: Split, max_customers: int, seed: int = 0) -> Split:
    """`split` with evaluation limited to `max_customers` customers (0: every one), drawn uniformly without
    replacement with `seed` among those holding a validation or a test item, the same rows for both stages.

    The draw depends only on the split and the seed, so every evaluation of the same data (training's validation,
    `tanaban evaluate`, the export gates, a rerun) scores the same customers. A store with no more such customers than
    `max_customers` is returned unchanged: every customer is scored.
    """
    if max_customers < 0:
        raise ValueError(f"max_customers must be 0 or more, got {max_customers}")
    candidates = np.flatnonzero((np.diff(split.valid.indptr) > 0) | (np.diff(split.test.indptr) > 0))
    if max_customers == 0 or len(candidates) <= max_customers:
        return split
    rows = np.random.default_rng(seed).choice(candidates, max_customers, replace=False)
    return dataclasses.replace(split, evaluated=np.sort(rows).astype(np.int64))


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise DataError(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")


def split_from_sequences(sequences: Sequence[np.ndarray], n_items: int, *, user_ids: np.ndarray | None = None,
                         item_ids: np.ndarray | None = None) -> Split:
    """Leave-one-out split of chronological per-user item sequences (dense item indices < n_items)."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    users = np.repeat(np.arange(len(sequences), dtype=np.int64), lengths)
    items = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences]) if len(sequences) else \
        np.zeros(0, np.int64)
    return split_from_arrays(users, items, len(sequences), n_items, user_ids=user_ids, item_ids=item_ids)


def split_from_arrays(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, *,
                      labels: np.ndarray | None = None, user_ids: np.ndarray | None = None,
                      item_ids: np.ndarray | None = None) -> Split:
    """Split interaction arrays already ordered by (user, time, insertion).

    Args:
        users, items: (N,) dense indices.
        labels: (N,) 0 = train, 1 = valid, 2 = test for a given split; None for leave-one-out.
    """
    if len(items) != len(users) or (labels is not None and len(labels) != len(users)):
        raise DataError(f"users, items and labels differ in length ({len(users)}, {len(items)}, "
                        f"{len(users) if labels is None else len(labels)})")
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        raise DataError(f"item indices must lie in [0, {n_items})")
    if len(users) and (users.min() < 0 or users.max() >= n_users):
        raise DataError(f"user indices must lie in [0, {n_users})")
    if len(users) > 1 and np.any(np.diff(users) < 0):
        raise DataError("interactions must be ordered by user")
    keep = _first_occurrences(users, items, n_items)
    users, items = users[keep], items[keep]
    if labels is None:
        labels, protocol = _leave_one_out_labels(users, n_users), "leave-one-out"
    else:
        labels, protocol = labels[keep], "given"
    parts = [_csr(users[labels == k], items[labels == k], n_users, n_items) for k in range(3)]
    return Split(
        user_ids=np.arange(n_users, dtype=np.int64) if user_ids is None else np.asarray(user_ids, dtype=np.int64),
        item_ids=np.arange(n_items, dtype=np.int64) if item_ids is None else np.asarray(item_ids, dtype=np.int64),
        train=parts[0], valid=parts[1], test=parts[2],
        train_sequences=_per_user(users[labels == 0], items[labels == 0], n_users),
        protocol=protocol,
        valid_sequences=_per_user(users[labels == 1], items[labels == 1], n_users),
    )


def _first_occurrences(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Sorted positions of the first occurrence of every (user, item) pair."""
    _, first = np.unique(users * n_items + items, return_index=True)
    return np.sort(first)


def _leave_one_out_labels(users: np.ndarray, n_users: int) -> np.ndarray:
    """0/1/2 per row: last row of a user with >= MIN_LOO_INTERACTIONS rows is test (2), the one before valid (1)."""
    counts = np.bincount(users, minlength=n_users)
    ends = np.cumsum(counts)  # one past each user's last row
    from_end = ends[users] - 1 - np.arange(len(users))  # 0 for a user's last row
    eligible = counts[users] >= MIN_LOO_INTERACTIONS
    labels = np.zeros(len(users), dtype=np.int8)
    labels[eligible & (from_end == 0)] = 2
    labels[eligible & (from_end == 1)] = 1
    return labels


def _csr(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> sp.csr_matrix:
    data = np.ones(len(users), dtype=np.float32)
    matrix = sp.csr_matrix((data, (users, items)), shape=(n_users, n_items), dtype=np.float32)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _per_user(users: np.ndarray, items: np.ndarray, n_users: int) -> list[np.ndarray]:
    """Rows grouped by user, order kept (users is sorted)."""
    bounds = np.searchsorted(users, np.arange(1, n_users))
    return [part.astype(np.int64) for part in np.split(items, bounds)]


def load_split(engine: Engine, protocol: str = "auto") -> Split:
    """The split of the store's interactions; "auto" means "given" when any row has a split label.

    Users are those with at least one interaction; items are all items in the store (rankable even if unseen).
    In a given split, rows without a label count as training.
    """
    if protocol not in PROTOCOLS:
        raise DataError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")
    with engine.connect() as conn:
        item_ids = np.fromiter(conn.scalars(select(Item.id).order_by(Item.id)), dtype=np.int64)
        rows = _fetch_interactions(conn)  # (N, 5): user, item, ts, id, label
    if len(rows) == 0:
        raise DataError("the store has no interactions: run `tanaban ingest interactions FILE` first")
    rows = rows[np.lexsort((rows[:, 3], rows[:, 2], rows[:, 0]))]  # by user, time, insertion
    labelled = bool((rows[:, 4] >= 0).any())
    if protocol == "auto":
        protocol = "given" if labelled else "leave-one-out"
    if protocol == "given" and not labelled:
        raise DataError("protocol 'given' needs interactions with a split label (train/valid/test); "
                        "use --protocol leave-one-out")
    user_ids, users = np.unique(rows[:, 0], return_inverse=True)
    items = np.searchsorted(item_ids, rows[:, 1])
    labels = np.maximum(rows[:, 4], 0).astype(np.int8) if protocol == "given" else None
    return split_from_arrays(users, items, len(user_ids), len(item_ids), labels=labels,
                             user_ids=user_ids, item_ids=item_ids)


_FETCH_ROWS = 200_000  # rows per fetchmany: bounded Python-object memory on multi-million-row stores


def _fetch_interactions(conn: Connection) -> np.ndarray:
    """All interactions as an (N, 5) int64 array: user_id, item_id, ts, id, label (-1 none, 0/1/2 train/valid/test).

    Read unordered through the DBAPI cursor and sorted in numpy: ORDER BY through the (user, ts) index and
    SQLAlchemy row objects cost about 3x more on a million rows. The SQL is plain, so any driver runs it.
    """
    sql = (f"SELECT user_id, item_id, ts, id, CASE WHEN split IS NULL THEN -1 WHEN split = 'valid' THEN 1 "
           f"WHEN split = 'test' THEN 2 ELSE 0 END FROM {Interaction.__tablename__}")
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        chunks = [np.zeros((0, 5), dtype=np.int64)]
        while batch := cursor.fetchmany(_FETCH_ROWS):
            flat = np.fromiter(itertools.chain.from_iterable(batch), dtype=np.int64, count=5 * len(batch))
            chunks.append(flat.reshape(-1, 5))
    finally:
        cursor.close()
    return np.concatenate(chunks)


def build_norm_adj(train: sp.csr_matrix) -> sp.csr_matrix:
    """D^-1/2 A D^-1/2 of the (U+I) x (U+I) bipartite graph A = [[0, R], [R^T, 0]]; isolated nodes get 0 rows."""
    binary = sp.csr_matrix(train, dtype=np.float32, copy=True)
    binary.data[:] = 1.0
    adj = sp.bmat([[None, binary], [binary.T, None]], format="csr", dtype=np.float32)
    deg = np.asarray(adj.sum(axis=1)).ravel()
    inv_sqrt = np.divide(1.0, np.sqrt(deg), out=np.zeros_like(deg), where=deg > 0).astype(np.float32)
    scale = sp.diags(inv_sqrt)
    return (scale @ adj @ scale).tocsr().astype(np.float32)
