"""Text profiles of items and users: the input of the local text encoder and of intent extraction.

Item profiles follow the RLMRec/IRLLRec practice of describing an item by its title, brand, categories,
description and a few review snippets. User profiles are built from a user's TRAINING history only (the caller
passes the split's train sequences), so validation and test items can never leak into a profile.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from appliance.data.store import Item, Review

MAX_REVIEWS = 2  # review snippets per item profile: enough flavour, little noise
MAX_REVIEW_CHARS = 200  # per snippet; profiles must stay within the encoder's 128 tokens mostly
MAX_HISTORY_ITEMS = 20  # most recent training items in a user profile


@dataclass(frozen=True)
class ItemProfile:
    item_id: int  # store id
    sku: str
    title: str
    text: str


def item_profile_text(title: str, brand: str | None, categories: Sequence[str], description: str | None,
                      reviews: Sequence[str] = ()) -> str:
    """'Title. Brand: b. Categories: a > b. Description. Reviews: "..."' with empty parts left out."""
    parts = [title.strip().rstrip(".") + "."]
    if brand:
        parts.append(f"Brand: {brand.strip()}.")
    if categories:
        parts.append("Categories: " + " > ".join(c.strip() for c in categories) + ".")
    if description:
        parts.append(description.strip())
    snippets = [r.strip()[:MAX_REVIEW_CHARS] for r in reviews if r.strip()][:MAX_REVIEWS]
    if snippets:
        parts.append("Reviews: " + " ".join(f'"{s}"' for s in snippets))
    return " ".join(parts)


def load_item_profiles(engine: Engine) -> list[ItemProfile]:
    """Profiles of all items, ordered by store id, with up to MAX_REVIEWS review snippets each."""
    reviews: dict[int, list[str]] = defaultdict(list)
    with engine.connect() as conn:
        for item_id, text in conn.execute(select(Review.item_id, Review.text).order_by(Review.item_id, Review.id)):
            if len(reviews[item_id]) < MAX_REVIEWS:
                reviews[item_id].append(text)
        rows = conn.execute(select(Item.id, Item.sku, Item.title, Item.brand, Item.categories, Item.description)
                            .order_by(Item.id)).all()
    return [ItemProfile(r.id, r.sku, r.title,
                        item_profile_text(r.title, r.brand, r.categories or [], r.description, reviews[r.id]))
            for r in rows]


def user_profile_text(item_titles: Sequence[str], train_sequence: Sequence[int]) -> str:
    """A user described by the titles of their most recent training items (oldest first).

    Args:
        item_titles: title per dense item index.
        train_sequence: the user's chronological TRAINING item indices (never validation or test items).
    """
    recent = list(train_sequence)[-MAX_HISTORY_ITEMS:]
    if not recent:
        return "No purchase history."
    return "Purchased: " + "; ".join(item_titles[i] for i in recent) + "."
