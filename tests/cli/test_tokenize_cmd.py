"""`tanaban tokenize build` names the CF model whose embeddings it fused, and the artifact records it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import insert
from typer.testing import CliRunner

from appliance.data.artifacts import load_artifact, save_artifact
from appliance.data.home import Home
from appliance.data.store import Item
from cli.main import app


def _home_with_vectors(home: Home, config_file: Path) -> Path:
    """23 items with text embeddings; config levels [5, 3, 2] so the tiny catalog quantizes."""
    rng = np.random.default_rng(3)
    with home.engine.begin() as conn:
        conn.execute(insert(Item), [{"sku": f"S{i}", "title": f"item {i}", "categories": [], "attributes": {}}
                                    for i in range(23)])
    save_artifact(home.config.artifacts_dir, "item-embeddings",
                  {"item_ids": np.arange(1, 24, dtype=np.int64), "vectors": rng.normal(size=(23, 8))}, {})
    config_file.write_text(config_file.read_text(encoding="utf-8") + "\n[tokenize]\nlevels = [5, 3, 2]\n"
                           "last_level_size = 64\n", encoding="utf-8")
    return config_file


def test_build_says_and_records_which_cf_model_it_fused(cli_runner: CliRunner, config_file: Path,
                                                        home: Home) -> None:
    base = ["--config", str(_home_with_vectors(home, config_file)), "tokenize", "build"]
    text_only = cli_runner.invoke(app, base)
    assert text_only.exit_code == 0 and "codes come from item text only" in text_only.output
    assert load_artifact(home.config.artifacts_dir, "semantic-ids").meta["cf_version"] is None
    rng = np.random.default_rng(4)
    cf = save_artifact(home.config.artifacts_dir, "cf-lightgcn",
                       {"item_ids": np.arange(1, 24, dtype=np.int64), "item_emb": rng.normal(size=(23, 4))},
                       {"model": "lightgcn"})
    fused = cli_runner.invoke(app, base)
    assert fused.exit_code == 0, fused.output
    assert f"fused CF embeddings of lightgcn (artifact cf-lightgcn/{cf.name})" in fused.output
    meta = load_artifact(home.config.artifacts_dir, "semantic-ids").meta
    assert meta["fused"] and meta["cf_version"] == f"cf-lightgcn/{cf.name}" and meta["cf_missing"] == 0
