"""Item/user profiles and `embed_items` with a stand-in encoder (the real encoder is tested in test_textenc)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert

from appliance.config import TextEncoderConfig
from appliance.data.artifacts import load_artifact
from appliance.data.home import Home
from appliance.data.store import Item, Review
from appliance.text.embed import KIND, EmbedError, embed_items
from appliance.text.profiles import item_profile_text, load_item_profiles, user_profile_text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("Red Lipstick", None, [], None), "Red Lipstick."),
        (("Red Lipstick.", "Lumo", ["Makeup", "Lips"], "Matte finish."),
         "Red Lipstick. Brand: Lumo. Categories: Makeup > Lips. Matte finish."),
        (("Mug", None, [], None, ["great", "  ", "chipped", "third"]), 'Mug. Reviews: "great" "chipped"'),
    ],
)
def test_item_profile_text(args: tuple, expected: str) -> None:
    assert item_profile_text(*args) == expected


def test_user_profile_uses_only_the_given_training_history() -> None:
    titles = ["mug", "tea", "kettle", "whisk"]
    assert user_profile_text(titles, [0, 2]) == "Purchased: mug; kettle."
    assert "whisk" not in user_profile_text(titles, [0, 1, 2])
    assert user_profile_text(titles, []) == "No purchase history."


class _FakeEncoder:
    model_dir = Path("/fake")
    sha256 = "f" * 64
    cfg = TextEncoderConfig(batch_size=2)

    def encode(self, texts, *, progress=None):
        for i in range(0, len(texts), 2):
            progress(len(texts[i:i + 2]))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def _add_items(home: Home) -> None:
    with home.engine.begin() as conn:
        conn.execute(insert(Item), [{"sku": f"S{i}", "title": f"item {i}", "categories": ["c"], "attributes": {}}
                                    for i in range(3)])
        conn.execute(insert(Review).values(content_hash="h", item_id=2, ts=0, text="lovely"))


def test_embed_items_writes_a_versioned_artifact(home: Home) -> None:
    _add_items(home)
    seen: list[tuple[int, int]] = []
    path = embed_items(home, encoder=_FakeEncoder(), progress=lambda d, t: seen.append((d, t)))
    art = load_artifact(home.config.artifacts_dir, KIND)
    assert art.path == path
    profiles = load_item_profiles(home.engine)
    np.testing.assert_array_equal(art.arrays["item_ids"], [p.item_id for p in profiles])
    assert art.arrays["vectors"][1, 0] == len(profiles[1].text) and "lovely" in profiles[1].text
    assert art.meta["encoder"]["sha256"] == "f" * 64 and art.meta["n_items"] == 3
    assert seen[-1] == (3, 3)


def test_embed_without_items_says_what_to_do(home: Home) -> None:
    with pytest.raises(EmbedError, match="tanaban ingest items"):
        embed_items(home, encoder=_FakeEncoder())
