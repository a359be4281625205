"""Every bundle kind explains its lists from intent tables (export.intent_tables): a LightGCN bundle (which learns no
intents of its own) takes the text intents of `tanaban intents build`, a customer's intents being the mean over the
items they bought; a bundle exported before the intents were built says why it has no reasons."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from appliance.config import IntentsConfig, LightGCNConfig
from appliance.data.home import Home
from appliance.data.keys import PUBLIC_FILE, load_public_key
from appliance.data.splits import load_split
from appliance.serve.service import CFBundle, load_bundle
from export.intent_tables import mean_intents

pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

CFG = LightGCNConfig(dim=8, layers=2, batch_size=16, lr=0.02, max_epochs=4, eval_every=2, patience=3)


def test_a_customers_intents_are_the_mean_over_their_items() -> None:
    items = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.2, 0.2, 0.6]], dtype=np.float32)
    got = mean_intents(items, [np.array([0, 1]), np.array([], dtype=np.int64), np.array([2])])
    assert got == pytest.approx(np.array([[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.2, 0.2, 0.6]]))


def test_a_lightgcn_bundle_explains_from_the_text_intents(home: Home, tiny_themes) -> None:
    from appliance.models.graph_cf import train_cf
    from appliance.text.intents import build_intents, load_intents
    from export.cf import export_cf

    tiny_themes.fill_home(home)
    home = Home(dataclasses.replace(home.config, lightgcn=CFG), home.engine)
    train_cf(home, "lightgcn", seed=1)
    keys = [load_public_key(home.config.keys_dir / PUBLIC_FILE)]
    before = load_bundle(export_cf(home, "lightgcn", quantize=False, version="v1"), keys)
    assert isinstance(before, CFBundle) and before.item_intents is None
    user = next(iter(before.users))
    assert all(not r.because for r in before.for_user(user, 3, explain=True).items)

    build_intents(home, cfg=IntentsConfig(k=3, tau=0.1))
    after = load_bundle(export_cf(home, "lightgcn", quantize=False, version="v2"), keys)
    assert isinstance(after, CFBundle) and after.item_intents is not None and after.user_intents is not None
    intents, split = load_intents(home.config.artifacts_dir), load_split(home.engine)
    assert after.labels == intents.labels
    row = {int(i): r for r, i in enumerate(intents.item_ids)}
    assert after.item_intents == pytest.approx(intents.item_dist[[row[int(i)] for i in split.item_ids]])
    u = after.users[user]  # the customer's intents: the mean over every item they bought
    bought = after.known[u].indices
    assert after.user_intents[u] == pytest.approx(after.item_intents[bought].mean(axis=0), abs=1e-6)
    for answer in (after.for_user(user, 3, explain=True), after.for_history(["S0", "S3"], 3, explain=True)):
        assert answer.items and all(1 <= len(r.because) <= 2 and r.because[0][0] in after.labels
                                    for r in answer.items)
    assert all(not r.because for r in after.for_user(user, 3).items)  # only when asked
