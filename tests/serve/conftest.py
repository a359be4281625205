"""A small home with a signed CF bundle built from a fabricated (not trained) CF artifact: serving needs no torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from appliance.data.artifacts import save_artifact
from appliance.data.home import Home
from appliance.data.ingest import ingest_file
from appliance.data.splits import load_split
from appliance.demo.sample import generate_sample

LABELS = ["hiking gear", "baby care", "home coffee"]


@pytest.fixture
def bundle_home(home: Home, tmp_path: Path) -> tuple[Home, Path]:
    sample = tmp_path / "sample"
    generate_sample(sample, seed=3, n_items=90, n_users=40)
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
        ingest_file(home, sample / name, kind, progress=False)
    split = load_split(home.engine)
    rng = np.random.default_rng(0)
    arrays = {"user_emb": rng.normal(size=(split.n_users, 8)).astype(np.float32),
              "item_emb": rng.normal(size=(split.n_items, 8)).astype(np.float32),
              "user_intents": rng.dirichlet(np.ones(3), size=split.n_users).astype(np.float32),
              "item_intents": rng.dirichlet(np.ones(3), size=split.n_items).astype(np.float32),
              "user_ids": split.user_ids, "item_ids": split.item_ids}
    save_artifact(home.config.artifacts_dir, "cf-lightgcn", arrays, {"labels": LABELS, "model": "lightgcn"})
    return home, sample


@pytest.fixture(scope="session")
def random_codes() -> object:
    """`save_random_codes`, handed to tests as a fixture (conftest modules are not imported by tests)."""
    return save_random_codes


def save_random_codes(home: Home, seed: int = 1) -> None:
    """A semantic-ids artifact of random 3-level codes (4 x 4 x n, last level unique) for the home's split items:
    stands in for `tanaban tokenize build` when only the generative mechanics are under test."""
    split = load_split(home.engine)
    rng = np.random.default_rng(seed)
    codes = np.stack([rng.integers(0, 4, split.n_items), rng.integers(0, 4, split.n_items),
                      np.zeros(split.n_items, int)], axis=1)
    _, first = np.unique(codes[:, :2], axis=0, return_inverse=True)
    codes[:, 2] = [np.sum(first[:i] == first[i]) for i in range(split.n_items)]  # unique last level
    save_artifact(home.config.artifacts_dir, "semantic-ids", {"codes": codes.astype(np.int32),
                  "item_ids": split.item_ids}, {"level_sizes": [4, 4, int(codes[:, 2].max()) + 1]})
