"""The serving tests' data, built without training (serving needs no torch): `serve_sample` writes and ingests the
retail sample and fabricates a CF artifact and semantic IDs for it; `bundle_home` is a home holding all of that
but the codes."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from appliance.data.artifacts import save_artifact
from appliance.data.home import Home
from appliance.data.ingest import ingest_file
from appliance.data.splits import load_split
from appliance.demo.sample import generate_sample

LABELS = ["hiking gear", "baby care", "home coffee"]


class ServeSample:
    """The retail sample every serving test uses (seed 3: 90 items, 40 customers) and what is built from it."""

    @staticmethod
    def write(directory: Path) -> Path:
        """The sample's files (items.jsonl, interactions.csv, ...) in directory; returns directory."""
        generate_sample(directory, seed=3, n_items=90, n_users=40)
        return directory

    def ingest(self, home: Home, directory: Path) -> Path:
        """Write the sample to directory and ingest its items and interactions into home; returns directory."""
        self.write(directory)
        for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
            ingest_file(home, directory / name, kind, progress=False)
        return directory

    @staticmethod
    def customers(directory: Path) -> list[str]:
        """The raw customer ids of a written sample, sorted."""
        with (directory / "interactions.csv").open() as fh:
            return sorted({row["customer_id"] for row in csv.DictReader(fh)})

    @staticmethod
    def fake_cf(home: Home, seed: int = 0, labels: Sequence[str] | None = LABELS) -> None:
        """A fabricated (not trained) `cf-lightgcn` artifact for the home's split: random 8-wide embeddings and, with
        labels, random intent distributions over them."""
        split = load_split(home.engine)
        rng = np.random.default_rng(seed)
        arrays = {"user_emb": rng.normal(size=(split.n_users, 8)).astype(np.float32),
                  "item_emb": rng.normal(size=(split.n_items, 8)).astype(np.float32)}
        meta: dict[str, object] = {"model": "lightgcn"}
        if labels:
            arrays["user_intents"] = rng.dirichlet(np.ones(len(labels)), size=split.n_users).astype(np.float32)
            arrays["item_intents"] = rng.dirichlet(np.ones(len(labels)), size=split.n_items).astype(np.float32)
            meta = {"labels": list(labels), "model": "lightgcn"}
        arrays |= {"user_ids": split.user_ids, "item_ids": split.item_ids}
        save_artifact(home.config.artifacts_dir, "cf-lightgcn", arrays, meta)

    @staticmethod
    def random_codes(home: Home, seed: int = 1) -> None:
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


@pytest.fixture(scope="session")
def serve_sample() -> ServeSample:
    """`ServeSample` (a class defined here: test modules take it as a fixture, they never import conftest)."""
    return ServeSample()


@pytest.fixture
def bundle_home(home: Home, tmp_path: Path, serve_sample: ServeSample) -> tuple[Home, Path]:
    """The shared `home` with the sample ingested and a fabricated CF artifact; returns (home, sample directory)."""
    sample = serve_sample.ingest(home, tmp_path / "sample")
    serve_sample.fake_cf(home)
    return home, sample
