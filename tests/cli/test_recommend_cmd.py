"""`tanaban recommend` in batch: CSV or JSONL in, one CSV or JSONL row per input row out with its status (ok /
unknown_customer / invalid); an unknown id never stops the batch; exit 0 when all are ok, 3 past --max-reject."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.artifacts import save_artifact
from appliance.data.home import init_home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.splits import load_split
from appliance.demo.sample import generate_sample
from cli.main import app
from export.cf import export_cf


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A config file whose home holds the sample (seed 3) and a signed CF bundle of a fabricated artifact; returns
    (config file, three known customer ids)."""
    root = tmp_path_factory.mktemp("served")
    config = root / "config.toml"
    config.write_text(f'[paths]\ndata_dir = "{root / "data"}"\n', encoding="utf-8")
    cfg = load_config(config, env={})
    init_home(cfg)
    home = open_home(cfg)
    generate_sample(root / "sample", seed=3, n_items=60, n_users=30)
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
        ingest_file(home, root / "sample" / name, kind, progress=False)
    split = load_split(home.engine)
    rng = np.random.default_rng(0)
    save_artifact(cfg.artifacts_dir, "cf-lightgcn", {
        "user_emb": rng.normal(size=(split.n_users, 8)).astype(np.float32),
        "item_emb": rng.normal(size=(split.n_items, 8)).astype(np.float32),
        "user_ids": split.user_ids, "item_ids": split.item_ids}, {"model": "lightgcn"})
    export_cf(home, "lightgcn", version="v1", progress=False)
    home.engine.dispose()
    with (root / "sample" / "interactions.csv").open() as fh:
        customers = sorted({row["customer_id"] for row in csv.DictReader(fh)})[:3]
    return config, customers


def _run(config: Path, *args: str) -> object:
    return CliRunner().invoke(app, ["--config", str(config), "recommend", *args])


@pytest.mark.parametrize(("name", "body"), [
    ("in.csv", "customer_id,segment\n{0},a\nnobody,b\n,c\n{1},d\n"),
    ("in.jsonl", '{{"customer_id": "{0}"}}\n{{"customer_id": "nobody"}}\n{{"customer": 1}}\n'
                 '{{"customer_id": "{1}"}}\n'),
])
@pytest.mark.parametrize("out_name", ["out.jsonl", "out.csv"])
def test_unknown_and_invalid_rows_get_their_own_status(served, tmp_path: Path, name: str, body: str,
                                                       out_name: str) -> None:
    config, customers = served
    (tmp_path / name).write_text(body.format(*customers), encoding="utf-8")
    out = tmp_path / out_name
    result = _run(config, "--input", str(tmp_path / name), "--output", str(out), "--k", "4")
    assert result.exit_code == 3, result.output  # two rows failed, --max-reject 0
    if out_name.endswith(".jsonl"):
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        skus = [[item["sku"] for item in row["items"]] for row in rows]
    else:
        rows = list(csv.DictReader(out.open()))
        skus = [row["skus"].split() for row in rows]
    assert [row["status"] for row in rows] == ["ok", "unknown_customer", "invalid", "ok"]
    first = 2 if name.endswith(".csv") else 1  # the CSV's line 1 is its header
    assert [str(row["line"]) for row in rows] == [str(first + i) for i in range(4)]
    assert [len(s) for s in skus] == [4, 0, 0, 4] and rows[0]["customer_id"] == customers[0]
    assert "unknown user" in rows[1]["error"] and "nobody" not in rows[1]["error"] and rows[2]["error"]
    assert "4 rows: 2 ok, 1 unknown_customer, 1 invalid" in result.output


def test_all_ok_exits_0_and_max_reject_tolerates_failures(served, tmp_path: Path) -> None:
    config, customers = served
    good = tmp_path / "good.csv"
    good.write_text("customer_id\n" + "\n".join(customers) + "\n", encoding="utf-8")
    assert _run(config, "--input", str(good), "--output", str(tmp_path / "o.jsonl")).exit_code == 0
    mixed = _run(config, "--user", customers[0], "--user", "nobody", "--max-reject", "1")
    assert mixed.exit_code == 0, mixed.output
    assert "nobody: unknown_customer" in mixed.output and f"{customers[0]} (cached, bundle v1)" in mixed.output
    assert _run(config, "--user", "nobody").exit_code == 3


@pytest.mark.parametrize(("args", "message"), [
    (["--input", "{tmp}/x.txt"], "name it .csv or .jsonl"),
    (["--input", "{tmp}/nocol.csv"], "no customer_id column"),
    ([], "no customers given"),
])
def test_whole_file_problems_are_one_error_line(served, tmp_path: Path, args: list[str], message: str) -> None:
    config, _ = served
    (tmp_path / "x.txt").write_text("customer_id\nA\n")
    (tmp_path / "nocol.csv").write_text("id\nA\n")
    result = _run(config, *[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_model_option_takes_the_bundles_models_only(served) -> None:
    config, customers = served
    named = _run(config, "--user", customers[0], "--k", "3", "--model", "lightgcn")
    plain = _run(config, "--user", customers[0], "--k", "3")
    assert named.exit_code == plain.exit_code == 0 and named.output == plain.output
    wrong = _run(config, "--user", customers[0], "--model", "sasrec")
    assert wrong.exit_code != 0 and "hold lightgcn" in wrong.output and "Traceback" not in wrong.output
