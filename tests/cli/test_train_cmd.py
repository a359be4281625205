"""`tanaban intents build|show` and `tanaban train cf` on a tiny home through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.home import open_home
from cli.main import app

TINY = """
[intents]
k = 3
tau = 0.1

[lightgcn]
dim = 8
layers = 2
batch_size = 16
lr = 0.02
max_epochs = 6
eval_every = 2
patience = 2

[irllrec]
intents = 3
"""


def _tiny_home(cli_runner: CliRunner, config_file: Path, tiny_themes) -> list[str]:
    config_file.write_text(config_file.read_text(encoding="utf-8") + TINY, encoding="utf-8")
    base = ["--config", str(config_file)]
    assert cli_runner.invoke(app, [*base, "init"]).exit_code == 0
    tiny_themes.fill_home(open_home(load_config(config_file)))
    return base


def test_intents_build_show_and_train_cf(cli_runner: CliRunner, config_file: Path, tiny_themes) -> None:
    base = _tiny_home(cli_runner, config_file, tiny_themes)
    built = cli_runner.invoke(app, [*base, "intents", "build"])
    assert built.exit_code == 0, built.output
    assert "3 intents written to" in built.output
    shown = cli_runner.invoke(app, [*base, "intents", "show", "--user", "cust-1", "-n", "2"])
    assert shown.exit_code == 0, shown.output
    assert any(word in shown.output for word in ("baby", "bottle", "feeding"))
    as_json = cli_runner.invoke(app, [*base, "intents", "show", "--user", "cust-1", "-n", "2", "--json"])
    assert as_json.exit_code == 0, as_json.output
    intents = json.loads(as_json.stdout)["intents"]
    assert len(intents) == 2 and intents[0]["weight"] >= intents[1]["weight"] and intents[0]["label"]
    trained = cli_runner.invoke(app, [*base, "train", "cf", "--model", "irllrec", "--epochs", "4", "--seed", "1"])
    assert trained.exit_code == 0, trained.output
    assert "Recall@20" in trained.output and "valid" in trained.output and "test" in trained.output
    assert "cf-irllrec" in trained.output



def test_train_cf_says_when_its_metrics_come_from_a_customer_sample(cli_runner: CliRunner, config_file: Path,
                                                                    tiny_themes) -> None:
    base = _tiny_home(cli_runner, config_file, tiny_themes)
    whole = cli_runner.invoke(app, [*base, "train", "cf", "--model", "lightgcn", "--epochs", "2"])
    assert whole.exit_code == 0, whole.output
    assert "seeded sample" not in whole.output  # 7 customers: under eval.max_customers, all scored
    config_file.write_text(config_file.read_text(encoding="utf-8") + "\n[eval]\nmax_customers = 3\n",
                           encoding="utf-8")
    # another seed: the same weights saved in the same second would be the same artifact version, kept as it was
    sampled = cli_runner.invoke(app, [*base, "train", "cf", "--model", "lightgcn", "--epochs", "2", "--seed", "5"])
    assert sampled.exit_code == 0, sampled.output
    assert "metrics on a seeded sample of 3 customers (eval.max_customers;" in " ".join(sampled.output.split())

def test_user_errors_are_one_line(cli_runner: CliRunner, config_file: Path, tiny_themes) -> None:
    base = _tiny_home(cli_runner, config_file, tiny_themes)
    no_intents = cli_runner.invoke(app, [*base, "train", "cf", "--model", "irllrec"])
    assert no_intents.exit_code == 2 and "tanaban intents build" in no_intents.output
    assert "Traceback" not in no_intents.output
    assert cli_runner.invoke(app, [*base, "intents", "build"]).exit_code == 0
    unknown = cli_runner.invoke(app, [*base, "intents", "show", "--user", "nobody"])
    assert unknown.exit_code == 2 and "no such user" in unknown.output
    bad = cli_runner.invoke(app, [*base, "intents", "build", "--backend", "cloud"])
    assert bad.exit_code == 2 and "unknown intents backend" in bad.output


def test_evaluate_knows_the_cf_models(cli_runner: CliRunner, config_file: Path, tiny_themes) -> None:
    base = _tiny_home(cli_runner, config_file, tiny_themes)
    assert cli_runner.invoke(app, [*base, "intents", "build"]).exit_code == 0
    result = cli_runner.invoke(app, [*base, "evaluate", "--model", "lightgcn,irllrec"])
    assert result.exit_code == 0, result.output
    assert "lightgcn" in result.output and "irllrec" in result.output


TINY_SASREC = """
[sasrec]
dim = 8
blocks = 1
heads = 2
max_len = 5
dropout = 0.0
batch_size = 4
max_epochs = 50
eval_every = 2
patience = 100
"""


def test_train_sasrec_export_best_and_recommend(cli_runner: CliRunner, config_file: Path, tiny_themes) -> None:
    base = _tiny_home(cli_runner, config_file, tiny_themes)
    config_file.write_text(config_file.read_text(encoding="utf-8") + TINY_SASREC, encoding="utf-8")
    trained = cli_runner.invoke(app, [*base, "train", "sasrec", "--epochs", "3", "--lr", "0.02", "--seed", "1"])
    assert trained.exit_code == 0, trained.output
    epoch_lines = [line for line in trained.output.splitlines() if line.startswith("sasrec epoch")]
    assert len(epoch_lines) == 3  # not a terminal: one plain line per epoch, no bar
    assert "valid -" in epoch_lines[0] and "valid -" not in epoch_lines[1]  # validated every 2nd epoch and the last
    assert "3 epochs" in trained.output and "sasrec" in trained.output and "NDCG@10" in trained.output
    exported = cli_runner.invoke(app, [*base, "export", "best", "--no-encoder"])
    assert exported.exit_code == 0, exported.output
    assert "validation NDCG@10: hybrid" in exported.output and ", sasrec " in exported.output  # sorted by name
    assert "hybrid: " in exported.output and "(fitted on validation)" in exported.output
    assert "exporting hybrid" in exported.output or "exporting sasrec" in exported.output
    only = cli_runner.invoke(app, [*base, "export", "best", "--no-encoder", "--no-hybrid"])
    assert "validation NDCG@10: sasrec" in only.output and "exporting sasrec" in only.output, only.output
    plain = cli_runner.invoke(app, [*base, "export", "sasrec", "--no-quantize"])
    assert plain.exit_code == 0 and "scorer fp32 (quantization not requested)" in plain.output, plain.output
    answered = cli_runner.invoke(app, [*base, "recommend", "--user", "cust-2", "--k", "3"])
    assert answered.exit_code == 0, answered.output
    assert "cust-2 (cached, bundle" in answered.output
    assert len([line for line in answered.output.splitlines() if "[S" in line]) == 3  # three items, with skus


def test_train_sasrec_rejects_bad_overrides(cli_runner: CliRunner, config_file: Path, tiny_themes) -> None:
    base = _tiny_home(cli_runner, config_file, tiny_themes)
    for flag, value in (("--time-budget-min", "0"), ("--lr", "-1"), ("--epochs", "0")):
        result = cli_runner.invoke(app, [*base, "train", "sasrec", flag, value])
        assert result.exit_code == 2 and flag in result.output and "Traceback" not in result.output, result.output
