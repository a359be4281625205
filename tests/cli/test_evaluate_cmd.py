"""`tanaban evaluate` through the CLI runner: a hand-computed popularity result (on SQLite and on PostgreSQL), JSON
report, user errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.artifacts import save_artifact
from appliance.data.home import init_home, open_home
from appliance.data.store import Interaction, Item, User
from cli.main import app

# (user, item) in time order; leave-one-out per user: train, valid, test
SEQUENCES = {1: [1, 2, 3], 2: [1, 2, 3], 3: [1, 4, 3], 4: [2, 1, 5]}


def _fill(config_file: Path, store_url: str | None = None) -> Path:
    store = f'\n[store]\nurl = "{store_url}"\n' if store_url else ""
    config_file.write_text(config_file.read_text(encoding="utf-8") + "\n[eval]\nks = [1, 2, 3]\n" + store,
                           encoding="utf-8")
    cfg = load_config(config_file, env={})
    init_home(cfg)
    with open_home(cfg).engine.begin() as conn:
        conn.execute(insert(Item), [{"id": i, "sku": f"s{i}", "title": f"item {i}"} for i in range(1, 6)])
        conn.execute(insert(User), [{"id": u, "pseudonym": f"usr-k-{u}", "key_id": "k"} for u in SEQUENCES])
        conn.execute(insert(Interaction), [{"user_id": u, "item_id": i, "ts": 100 + t, "event": "purchase"}
                                           for u, seq in SEQUENCES.items() for t, i in enumerate(seq)])
    return config_file


@pytest.fixture
def filled(config_file: Path) -> Path:
    """An initialised home with 5 items and the 4 sequences above; [eval] ks = [1, 2, 3]."""
    return _fill(config_file)


@pytest.fixture
def filled_any(config_file: Path, store_url: str) -> Path:
    """`filled` with its store on SQLite, then on PostgreSQL."""
    return _fill(config_file, store_url)


def test_popularity_by_hand_and_json_report(cli_runner: CliRunner, filled_any: Path, tmp_path: Path) -> None:
    filled = filled_any
    # Test stage counts (train + valid): item1 4, item2 3, item4 1, item3 0, item5 0.
    # u1, u2: history {1, 2} -> 4, 3, 5: test item 3 at rank 2. u3: history {1, 4} -> 2, 3, 5: rank 2.
    # u4: history {2, 1} -> 4, 3, 5: test item 5 at rank 3.
    # recall@1 0, recall@2 3/4, recall@3 1; ndcg@2 = 3/4 / log2 3; ndcg@3 = (3 / log2 3 + 1 / log2 4) / 4
    out = tmp_path / "reports" / "eval.json"
    result = cli_runner.invoke(app, ["--config", str(filled), "evaluate", "--model", "popularity", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "popularity" in result.output and "R@2" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["protocol"] == "leave-one-out" and report["stage"] == "test" and report["ks"] == [1, 2, 3]
    assert report["counts"] == {"users": 4, "items": 5, "train": 4, "valid": 4, "test": 4, "evaluated_users": 4}
    assert len(report["fingerprint"]) == 64 and report["seconds"] > 0
    (pop,) = report["results"]
    expected = {"recall@1": 0.0, "ndcg@1": 0.0, "recall@2": 0.75, "ndcg@2": 0.75 / np.log2(3),
                "recall@3": 1.0, "ndcg@3": (3 / np.log2(3) + 0.5) / 4}
    assert pop["name"] == "popularity" and pop["metrics"] == pytest.approx(expected)


def test_default_runs_both_baselines(cli_runner: CliRunner, filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = cli_runner.invoke(app, ["--config", str(filled), "evaluate", "--stage", "valid", "--output", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [r["name"] for r in report["results"]] == ["popularity", "item-knn"] and report["stage"] == "valid"


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "no-such-model"], "unknown model 'no-such-model'"),
    (["--protocol", "given"], "needs interactions with a split label"),
    (["--stage", "train"], "unknown stage 'train'"),
    (["--model", "generative"], "no semantic IDs yet: run `tanaban tokenize build` first"),
])
def test_user_errors_are_one_line(cli_runner: CliRunner, filled: Path, args: list[str], message: str) -> None:
    result = cli_runner.invoke(app, ["--config", str(filled), "evaluate", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_empty_store_says_what_to_do(cli_runner: CliRunner, config_file: Path) -> None:
    init_home(load_config(config_file, env={}))
    result = cli_runner.invoke(app, ["--config", str(config_file), "evaluate"])
    assert result.exit_code == 2 and "tanaban ingest" in result.output


GEN_ITEMS, GEN_USERS = 11, 13


@pytest.fixture
def gen_home(config_file: Path) -> Path:
    """13 users walking 11 items in order ((u + j) mod 11), codes (i, i % 3, 0, 0) saved as semantic IDs, and a
    tiny 2-epoch generative config with beam 5 (ks stay 5, 10, 20)."""
    config_file.write_text(config_file.read_text(encoding="utf-8") + (
        '\n[gen]\npreset = "tiny"\nmax_epochs = 2\nvalid_users = 0\nbeam = 5\nbatch_size = 32\n'), encoding="utf-8")
    cfg = load_config(config_file, env={})
    init_home(cfg)
    with open_home(cfg).engine.begin() as conn:
        conn.execute(insert(Item), [{"id": 20 + i, "sku": f"g{i}", "title": f"balm {i}", "categories": ["lips"]}
                                    for i in range(GEN_ITEMS)])
        conn.execute(insert(User), [{"id": u, "pseudonym": f"usr-k-{u}", "key_id": "k"} for u in range(1, 14)])
        conn.execute(insert(Interaction), [{"user_id": u, "item_id": 20 + (u + j) % GEN_ITEMS, "ts": 100 + j,
                                            "event": "purchase"} for u in range(1, GEN_USERS + 1) for j in range(6)])
    codes = np.stack([np.arange(GEN_ITEMS), np.arange(GEN_ITEMS) % 3, np.zeros(GEN_ITEMS), np.zeros(GEN_ITEMS)], 1)
    save_artifact(cfg.artifacts_dir, "semantic-ids", {"codes": codes.astype(np.int32),
                                                      "item_ids": 20 + np.arange(GEN_ITEMS)},
                  {"level_sizes": [GEN_ITEMS, 3, 1, 1]})
    return config_file


@pytest.mark.usefixtures("one_torch_thread")
def test_generative_end_to_end(cli_runner: CliRunner, gen_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "gen.json"
    result = cli_runner.invoke(app, ["--config", str(gen_home), "evaluate", "--model", "generative", "-o", str(out)])
    assert result.exit_code == 0, result.output
    (gen,) = json.loads(out.read_text(encoding="utf-8"))["results"]
    values = np.array(list(gen["metrics"].values()))
    assert gen["name"] == "generative" and len(values) == 6
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()
    # only the beam's 5 items are ranked: deeper cut-offs find nothing more
    assert gen["metrics"]["recall@10"] == gen["metrics"]["recall@20"] == gen["metrics"]["recall@5"]


@pytest.mark.usefixtures("one_torch_thread")
def test_generative_scores_the_trained_artifact(cli_runner: CliRunner, gen_home: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance.generative.model import GenerativeRecommender

    base = ["--config", str(gen_home)]
    trained = cli_runner.invoke(app, [*base, "train", "gen", "--epochs", "1", "--lr", "0.002"])
    assert trained.exit_code == 0, trained.output
    version = trained.output.rsplit("saved ", 1)[1].split()[0].rstrip("/").rsplit("/", 1)[1]

    def no_fit(*_args, **_kwargs):
        raise AssertionError("evaluate must score the saved gen artifact, not train")

    monkeypatch.setattr(GenerativeRecommender, "fit", no_fit)
    out = tmp_path / "gen.json"
    result = cli_runner.invoke(app, [*base, "evaluate", "--model", "generative", "--epochs", "5", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"scoring the saved model gen/{version}" in result.output and "apply only to training" in result.output
    (gen,) = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert gen["source"] == "artifact" and gen["artifact"] == f"gen/{version}"
    assert gen["epochs"] == 1 and gen["best_epoch"] == 1 and gen["train_seconds"] > 0
    assert gen["config"]["gen_config"]["lr"] == 0.002 and gen["config"]["gen_config"]["max_epochs"] == 1


def test_retrain_prints_one_line_per_epoch_when_piped(cli_runner: CliRunner, filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = cli_runner.invoke(app, ["--config", str(filled), "evaluate", "--model", "lightgcn", "--epochs", "3",
                                     "--lr", "0.01", "--time-budget-min", "5", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "no saved lightgcn model (cf-lightgcn artifact): trained now, not saved" in result.output
    epoch_lines = [line for line in result.output.splitlines() if line.startswith("lightgcn epoch ")]
    assert [line.split()[2] for line in epoch_lines] == ["1", "2", "3"] and " loss " in epoch_lines[0]
    (lgcn,) = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert lgcn["source"] == "trained" and lgcn["epochs"] == 3 and lgcn["artifact"] is None
    assert lgcn["config"]["lightgcn"]["lr"] == 0.01 and lgcn["config"]["lightgcn"]["max_seconds"] == 300.0


def test_bad_training_flag_is_one_line(cli_runner: CliRunner, filled: Path) -> None:
    result = cli_runner.invoke(app, ["--config", str(filled), "evaluate", "--model", "lightgcn", "--lr", "-1"])
    assert result.exit_code == 2 and "--lr must be a positive number" in result.output


def test_a_store_over_eval_max_customers_is_scored_on_a_seeded_sample(cli_runner: CliRunner, filled: Path,
                                                                      tmp_path: Path) -> None:
    from appliance.data.splits import load_split, sample_evaluation

    filled.write_text(filled.read_text(encoding="utf-8").replace("[eval]\n", "[eval]\nmax_customers = 2\n"),
                      encoding="utf-8")
    out = tmp_path / "eval.json"
    result = cli_runner.invoke(app, ["--config", str(filled), "evaluate", "--model", "popularity", "-o", str(out)])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # the table title may wrap
    assert "2 of 4 users (a sample, eval.max_customers, of the 4 with a held-out item)" in shown
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["counts"]["evaluated_users"] == 2 and report["counts"]["evaluation_sample_of"] == 4
    # test rank of each user's held-out item under popularity (see the test above): users 1-3 rank 2, user 4 rank 3
    rank = {0: 2, 1: 2, 2: 2, 3: 3}
    rows = sample_evaluation(load_split(open_home(load_config(filled, env={})).engine), 2, seed=0).evaluated
    assert rows is not None and len(rows) == 2
    (pop,) = report["results"]
    assert pop["metrics"]["recall@2"] == pytest.approx(np.mean([rank[int(r)] <= 2 for r in rows]))
    assert pop["metrics"]["ndcg@3"] == pytest.approx(np.mean([1 / np.log2(rank[int(r)] + 1) for r in rows]))



def test_max_customers_flag_overrides_the_config(cli_runner: CliRunner, filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    result = cli_runner.invoke(app, ["--config", str(filled), "evaluate", "--model", "popularity", "--max-customers",
                                     "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    counts = json.loads(out.read_text(encoding="utf-8"))["counts"]
    assert counts["evaluated_users"] == 3 and counts["evaluation_sample_of"] == 4
    result = cli_runner.invoke(app, ["--config", str(filled), "evaluate", "--model", "popularity", "--max-customers",
                                     "-1"])
    assert result.exit_code == 2 and "--max-customers" in " ".join(result.output.split())  # the message may wrap
