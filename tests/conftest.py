"""Shared fixtures: an isolated config and home per test, a CLI runner, a fixed clock, and `tiny_themes` (a tiny
catalogue of three themes for the intent and intent-aware CF tests).

Test modules take everything from here as fixtures and never import this file or each other (tests/test_layout.py
checks it); a builder that tests call with arguments is handed out as a fixture returning it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from appliance.config import ApplianceConfig, load_config
from appliance.data.artifacts import save_artifact
from appliance.data.home import Home, init_home, open_home
from appliance.data.store import Interaction, Item, User


@pytest.fixture
def tmp_config(tmp_path: Path) -> ApplianceConfig:
    """Defaults with every path under tmp_path (no file, no environment read)."""
    return load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def home(tmp_config: ApplianceConfig) -> Home:
    """An initialised appliance (store migrated, keys created) in tmp_path."""
    init_home(tmp_config)
    return open_home(tmp_config)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A TOML config file pointing the data dir into tmp_path, for CLI tests."""
    path = tmp_path / "config.toml"
    path.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return path


@pytest.fixture
def cli_runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def fixed_clock() -> datetime:
    return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Two shared CPU cores: one torch thread is many times faster than two fighting other processes."""
    import torch  # not at module level: the core tests must run without importing torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class TinyThemes:
    """Items of three well-separated themes and users who each buy mostly one of them: the smallest data on which
    intents, their labels and intent-aware CF have a right answer (11 items and 7 users unless told otherwise)."""

    themes = (("hiking tent sleeping bag", "Trailmax"), ("baby bottle feeding", "Nubi"),
              ("espresso coffee grinder", "Brewa"))

    @staticmethod
    def vectors(n: int = 11, d: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """n items around 3 well-separated directions; returns vectors (n, d) and their theme (n,)."""
        rng = np.random.default_rng(seed)
        theme = np.arange(n) % 3
        return np.eye(d, dtype=np.float32)[theme] * 3 + rng.normal(0, 0.1, (n, d)).astype(np.float32), theme

    def texts(self, theme: np.ndarray) -> list[str]:
        """One item profile text per item of the given themes."""
        return [f"{self.themes[t][0].title()} model {i}. Brand: {self.themes[t][1]}. Categories: Shop > Goods. 500 ml"
                for i, t in enumerate(theme)]

    def fill_home(self, home: Home, n_items: int = 11, n_users: int = 7) -> None:
        """Items of 3 themes, users buying mostly one theme (5 each), and an item-embeddings artifact."""
        vectors, theme = self.vectors(n_items)
        with home.engine.begin() as conn:
            conn.execute(insert(Item), [{"sku": f"S{i}", "title": text.split(".")[0], "brand": self.themes[t][1],
                                         "categories": ["Shop"], "attributes": {}}
                                        for i, (t, text) in enumerate(zip(theme, self.texts(theme), strict=True))])
            conn.execute(insert(User), [{"pseudonym": home.store_pseudonym(f"cust-{u}"), "key_id": "k"}
                                        for u in range(n_users)])
            user_ids = list(conn.scalars(select(User.id).order_by(User.id)))
            item_ids = list(conn.scalars(select(Item.id).order_by(Item.id)))
            rows = []
            for u, uid in enumerate(user_ids):
                mine = [i for i in range(n_items) if theme[i] == u % 3] + [(u + 4) % n_items]
                rows += [{"user_id": uid, "item_id": item_ids[i], "ts": t, "event": "purchase"}
                         for t, i in enumerate(dict.fromkeys(mine))]
            conn.execute(insert(Interaction), rows)
        save_artifact(home.config.artifacts_dir, "item-embeddings",
                      {"item_ids": np.array(item_ids, dtype=np.int64), "vectors": vectors}, {"dim": 5})


@pytest.fixture(scope="session")
def tiny_themes() -> TinyThemes:
    """The three-theme catalogue: `.themes`, `.vectors()`, `.texts(theme)` and `.fill_home(home)`."""
    return TinyThemes()
