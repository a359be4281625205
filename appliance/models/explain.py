"""Intent explanations: which shopping intents link a user to a recommended item (IRLLRec, Wang et al., SIGIR 2025,
where intents explain a recommendation by the intent that connects the user to the item).

One rule for the library (`LightGCNRecommender.explain`) and the HTTP API (`CFBundle`): the user x item intent
weights are normalised to shares of the link; the top `n` are the reasons, except that a reason after the first
is dropped below `min_share`; shares are rounded to 4 places. Imports numpy only: the torch-free serving runtime
uses it (tests/test_imports.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MIN_REASON_SHARE = 0.05  # a second intent below this share of the user-item link explains nothing
SHARE_DECIMALS = 4


def intent_reasons(user_intents: np.ndarray, item_intents: np.ndarray, labels: Sequence[str], n: int = 2,
                   min_share: float = MIN_REASON_SHARE) -> list[list[tuple[str, float]]]:
    """Per item, up to `n` (label, share) pairs, strongest first; the first is always kept.

    `user_intents` (K,) is a user's intent distribution (for an explicit history: the mean of its items'),
    `item_intents` (n_items, K) the recommended items', `labels` the K intent names.
    """
    joint = np.asarray(item_intents) * np.asarray(user_intents)[None, :]  # (n_items, K)
    joint = joint / np.maximum(joint.sum(axis=1, keepdims=True), 1e-12)
    order = np.argsort(-joint, axis=1, kind="stable")[:, :n]  # (n_items, n)
    return [[(labels[k], round(float(row[k]), SHARE_DECIMALS)) for j, k in enumerate(top)
             if j == 0 or row[k] >= min_share]
            for row, top in zip(joint, order.tolist(), strict=True)]


def reasons_for(who: int | Sequence[int] | np.ndarray | None, items: np.ndarray, user_intents: np.ndarray | None,
                item_intents: np.ndarray | None, labels: Sequence[str]) -> list[list[tuple[str, float]]]:
    """`intent_reasons` for the items of one answer, as every bundle kind serves them: `who` is a known user's row
    of `user_intents` (an int) or a posted history's item indices (their mean intents); no reasons (empty lists)
    when `who` is None or the bundle has no intent tables."""
    items = np.asarray(items, dtype=np.int64)
    if who is None or user_intents is None or item_intents is None or not labels:
        return [[] for _ in range(len(items))]
    user = user_intents[who] if np.isscalar(who) else item_intents[np.asarray(who, dtype=np.int64)].mean(axis=0)
    return intent_reasons(user, item_intents[items], labels)
