"""`--category` (pilot scope, appliance.data.pilot) through the CLI on the generated sample with tiny models: train,
evaluate and export record the scope, refuse a model trained for another one, and the bundle's manifest carries
`pilot` as the serving side (appliance.abtest.arms) reads it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.home import open_home
from appliance.data.ingest import ingest_file
from appliance.demo.sample import generate_sample
from cli.main import app

pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = """
[lightgcn]
dim = 8
layers = 2
batch_size = 64
lr = 0.02
max_epochs = 4
eval_every = 2
patience = 2

[sasrec]
dim = 8
blocks = 1
heads = 1
max_len = 10
dropout = 0.0
lr = 0.01
batch_size = 32
max_epochs = 2
eval_every = 1
patience = 5
"""


@pytest.fixture
def sample_home(cli_runner: CliRunner, config_file: Path, tmp_path: Path) -> tuple[list[str], dict[str, int]]:
    """CLI base args of an initialised home holding the generated sample (300 items, 200 customers), tiny models;
    and the Beauty pilot's expected size computed from the sample files: {"items": N, "users": M}."""
    config_file.write_text(config_file.read_text(encoding="utf-8") + TINY, encoding="utf-8")
    base = ["--config", str(config_file)]
    assert cli_runner.invoke(app, [*base, "init"]).exit_code == 0
    generate_sample(tmp_path / "sample", seed=0, n_items=300, n_users=200)
    home = open_home(load_config(config_file, env={}))
    ingest_file(home, tmp_path / "sample" / "items.jsonl", "items", progress=False)
    ingest_file(home, tmp_path / "sample" / "interactions.csv", "interactions", progress=False)
    with (tmp_path / "sample" / "items.jsonl").open(encoding="utf-8") as fh:
        beauty = {r["sku"] for r in map(json.loads, fh) if "Beauty" in r["categories"]}
    with (tmp_path / "sample" / "interactions.csv").open(encoding="utf-8") as fh:
        customers = {r["customer_id"] for r in csv.DictReader(fh) if r["sku"] in beauty}
    return base, {"items": len(beauty), "users": len(customers)}


def _ok(cli_runner: CliRunner, args: list[str]) -> str:
    result = cli_runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _refused(cli_runner: CliRunner, args: list[str]) -> str:
    result = cli_runner.invoke(app, args)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    return " ".join(result.output.split())


def _latest_bundle(base: list[str]) -> Path:
    root = load_config(Path(base[1]), env={}).artifacts_dir / "bundles"
    return max(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_cf_pilot_train_evaluate_export(cli_runner: CliRunner, sample_home, tmp_path: Path) -> None:
    base, expected = sample_home
    trained = _ok(cli_runner, [*base, "train", "cf", "--category", "Beauty"])
    assert f"pilot scope 'Beauty': {expected['items']} items, {expected['users']} customers" in trained
    cfg = load_config(Path(base[1]), env={})
    version = (cfg.artifacts_dir / "cf-lightgcn" / "LATEST").read_text(encoding="utf-8").strip()
    manifest = json.loads((cfg.artifacts_dir / "cf-lightgcn" / version / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["pilot"] == {"categories": ["Beauty"], **expected}

    report_path = tmp_path / "eval.json"  # another spelling of the same scope scores the saved model
    _ok(cli_runner, [*base, "evaluate", "-m", "popularity,lightgcn", "--category", " beauty", "-o", str(report_path)])
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["pilot"] == {"categories": ["beauty"], **expected}
    assert report["counts"]["items"] == expected["items"] and report["counts"]["users"] == expected["users"]
    lightgcn = report["results"][1]
    assert lightgcn["source"] == "artifact" and lightgcn["artifact"] == f"cf-lightgcn/{version}"
    assert lightgcn["metrics"] == pytest.approx({k.removeprefix("test/"): v for k, v in manifest["metrics"].items()
                                                 if k.startswith("test/")})  # the very split it was trained on

    whole = _refused(cli_runner, [*base, "evaluate", "-m", "lightgcn"])
    assert (f"error: the saved lightgcn model cf-lightgcn/{version} was trained for the pilot scope 'Beauty', this "
            "command asks for the whole catalog: pass --category Beauty, or run `tanaban train cf --model lightgcn`, "
            "or pass --retrain") in whole
    other = _refused(cli_runner, [*base, "evaluate", "-m", "lightgcn", "--category", "Kitchen"])
    assert ("asks for the pilot scope 'Kitchen': pass --category Beauty, or run `tanaban train cf --model lightgcn "
            "--category Kitchen`") in other
    assert ("generative cannot be evaluated on a pilot scope yet (its training takes no --category): evaluate it "
            "without --category") in _refused(cli_runner, [*base, "evaluate", "-m", "generative", "--category", "Pet"])
    assert "the closest existing categories are 'Grinders'" in _refused(
        cli_runner, [*base, "train", "cf", "--category", "grinderz"])

    assert "pass --category Beauty" in _refused(cli_runner, [*base, "export", "cf", "--no-encoder", "--no-quantize"])
    exported = _ok(cli_runner, [*base, "export", "cf", "--no-encoder", "--no-quantize", "--category", "BEAUTY"])
    assert f"pilot bundle for 'Beauty': {expected['items']} items" in exported
    bundle = _latest_bundle(base)
    assert json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["meta"]["pilot"] == {
        "categories": ["Beauty"], **expected}  # as spelt at training
    assert len(json.loads((bundle / "items.json").read_text(encoding="utf-8"))) == expected["items"]
    assert len(json.loads((bundle / "users.json").read_text(encoding="utf-8"))) == expected["users"]

    from appliance.abtest.arms import pilot_categories  # the serving side's reading of the manifest
    from appliance.data.keys import PUBLIC_FILE, load_public_key
    from appliance.serve.service import load_bundle

    loaded = load_bundle(bundle, [load_public_key(cfg.keys_dir / PUBLIC_FILE)])
    assert pilot_categories(loaded) == ("Beauty",)


def test_sasrec_pilot_and_export_best_compare_only_that_scope(cli_runner: CliRunner, sample_home) -> None:
    base, expected = sample_home
    assert f"pilot scope 'Beauty': {expected['items']} items" in _ok(
        cli_runner, [*base, "train", "sasrec", "--category", "Beauty"])
    refused = _refused(cli_runner, [*base, "export", "best", "--no-encoder", "--no-quantize"])
    assert ("no trained model to export (sasrec: trained for the pilot scope 'Beauty', not the whole catalog: pass "
            "the same --category, or train it again)") in refused
    assert "pass --category Beauty" in _refused(cli_runner, [*base, "export", "sasrec", "--no-quantize"])
    exported = _ok(cli_runner, [*base, "export", "best", "--no-encoder", "--no-quantize", "--category", "beauty"])
    assert "exporting" in exported and f"pilot bundle for 'Beauty': {expected['items']} items" in exported
    meta = json.loads((_latest_bundle(base) / "manifest.json").read_text(encoding="utf-8"))["meta"]
    assert meta["pilot"] == {"categories": ["Beauty"], **expected} and meta["model"] in ("sasrec", "hybrid")


def test_a_pilots_training_leaves_the_whole_catalogs_model_in_use_and_back(cli_runner: CliRunner,
                                                                            sample_home) -> None:
    base, expected = sample_home
    cfg = load_config(Path(base[1]), env={})
    kind_dir = cfg.artifacts_dir / "cf-lightgcn"
    _ok(cli_runner, [*base, "train", "cf"])
    whole = (kind_dir / "LATEST").read_text(encoding="utf-8").strip()
    _ok(cli_runner, [*base, "train", "cf", "--category", "Beauty"])
    pilot = (kind_dir / "LATEST").read_text(encoding="utf-8").strip()
    assert pilot != whole  # LATEST is the pilot's model now

    def scored(args: list[str]) -> str:
        _ok(cli_runner, args)
        return json.loads(Path(args[-1]).read_text(encoding="utf-8"))["results"][0]["artifact"]

    out = Path(base[1]).parent
    assert scored([*base, "evaluate", "-m", "lightgcn", "-o", str(out / "w.json")]) == f"cf-lightgcn/{whole}"
    assert scored([*base, "evaluate", "-m", "lightgcn", "--category", "beauty", "-o", str(out / "p.json")]) == \
        f"cf-lightgcn/{pilot}"

    _ok(cli_runner, [*base, "export", "cf", "--no-encoder", "--no-quantize"])  # the whole catalog's model
    bundle = _latest_bundle(base)
    assert "pilot" not in json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["meta"]
    assert len(json.loads((bundle / "users.json").read_text(encoding="utf-8"))) > expected["users"]
    _ok(cli_runner, [*base, "export", "best", "--no-encoder", "--no-quantize"])  # compares the whole catalog's
    assert "pilot" not in json.loads((_latest_bundle(base) / "manifest.json").read_text(encoding="utf-8"))["meta"]
    refused = _refused(cli_runner, [*base, "export", "cf", "--no-encoder", "--no-quantize", "--category", "Kitchen"])
    assert (f"the saved model cf-lightgcn/{pilot} was trained for the pilot scope 'Beauty', this command asks for "
            "the pilot scope 'Kitchen'") in refused  # no model of that scope: the message names LATEST's
    exported = _ok(cli_runner, [*base, "export", "cf", "--no-encoder", "--no-quantize", "--category", "BEAUTY"])
    assert f"pilot bundle for 'Beauty': {expected['items']} items" in exported
