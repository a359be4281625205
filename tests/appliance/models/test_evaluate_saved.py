"""`evaluate_models` scores saved artifacts instead of retraining, refuses stale ones, and the training knobs
(per-batch time budget, per-epoch progress lines, CLI overrides) on tiny odd sizes."""

from __future__ import annotations

import dataclasses
import io
from itertools import count

import numpy as np
import pytest
import scipy.sparse as sp
from rich.console import Console
from sqlalchemy import insert

from appliance.config import LightGCNConfig
from appliance.data.home import Home
from appliance.data.store import Item
from appliance.models.bpr import fit_bpr
from appliance.models.evaluate import StaleArtifactError, evaluate_models
from appliance.models.graph_cf import LightGCNRecommender, train_cf
from appliance.models.lightgcn import LightGCN
from appliance.models.registry import UnknownModelError
from appliance.models.training import TrainingOptionError, TrainingOverrides, epoch_progress, format_epoch

CFG = LightGCNConfig(dim=8, layers=2, batch_size=16, lr=0.02, max_epochs=6, eval_every=2, patience=3)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def trained(home: Home, tiny_themes) -> Home:
    """The tiny three-theme home with a saved "cf-lightgcn" artifact (6 epochs, tiny config)."""
    tiny_themes.fill_home(home)
    home = Home(dataclasses.replace(home.config, lightgcn=CFG), home.engine)
    train_cf(home, "lightgcn")
    return home


def _no_fit(*_args, **_kwargs):
    raise AssertionError("evaluate must score the saved artifact, not train")


def test_evaluate_scores_the_saved_artifact_without_training(trained: Home, monkeypatch) -> None:
    path, metrics, info = train_cf(trained, "lightgcn", epochs=4, seed=5)  # a second, newer version is the latest
    monkeypatch.setattr(LightGCNRecommender, "fit", _no_fit)
    lines: list[str] = []
    report = evaluate_models(trained.engine, trained.config, ["lightgcn"], notify=lines.append)
    (result,) = report.results
    assert result.source == "artifact" and result.artifact == f"cf-lightgcn/{path.name}"
    assert (result.epochs, result.best_epoch) == (info.epochs, info.best_epoch) and result.epochs == 4
    assert result.train_seconds == pytest.approx(info.seconds) and result.stopped_by == "max_epochs"
    assert result.config["lightgcn"]["seed"] == 5 and result.config["lightgcn"]["max_epochs"] == 4
    assert result.metrics == pytest.approx({k.removeprefix("test/"): v for k, v in metrics.items()
                                            if k.startswith("test/")})  # the very model train_cf measured
    assert lines == [f"lightgcn: scoring the saved model cf-lightgcn/{path.name} (trained on the store's current "
                     "data)"]


def test_changed_data_is_refused_with_the_fix(trained: Home) -> None:
    with trained.engine.begin() as conn:
        conn.execute(insert(Item).values(sku="NEW", title="new item", categories=[], attributes={}))
    with pytest.raises(StaleArtifactError, match=r"data fingerprint differs\): run `tanaban train cf --model "
                                                 r"lightgcn` again, or pass --retrain"):
        evaluate_models(trained.engine, trained.config, ["lightgcn"])
    report = evaluate_models(trained.engine, trained.config, ["lightgcn"], retrain=True)  # the fix works
    assert report.results[0].source == "trained" and report.results[0].artifact is None


def test_retrain_and_missing_artifact_train_now_and_say_so(home: Home, tiny_themes, monkeypatch) -> None:
    tiny_themes.fill_home(home)
    cfg = dataclasses.replace(home.config, lightgcn=CFG)
    lines: list[str] = []
    report = evaluate_models(home.engine, cfg, ["popularity", "lightgcn"], notify=lines.append,
                             overrides=TrainingOverrides(epochs=3, lr=0.01))
    pop, lgcn = report.results
    assert pop.source == "fitted" and pop.epochs == 0 and pop.artifact is None
    assert lgcn.source == "trained" and lgcn.epochs == 3 and lgcn.config["lightgcn"]["lr"] == 0.01
    assert lines == ["lightgcn: no saved lightgcn model (cf-lightgcn artifact): trained now, not saved; "
                     "`tanaban train cf --model lightgcn` saves one"]
    with pytest.raises(UnknownModelError):
        evaluate_models(home.engine, cfg, ["lightgcn", "nope"])


def _graph() -> tuple[LightGCN, sp.csr_matrix]:
    from appliance.data.splits import build_norm_adj

    rng = np.random.default_rng(1)
    train = sp.csr_matrix((rng.random((7, 11)) < 0.5).astype(np.float32))  # about 38 pairs: 3 batches of 16
    return LightGCN(7, 11, build_norm_adj(train), CFG), train


def test_budget_stops_mid_epoch_and_keeps_validated_weights() -> None:
    net, train = _graph()
    ticks = count()  # a fake clock: one second per call (start, then one call per batch)
    calls: list[int] = []
    cfg = dataclasses.replace(CFG, max_seconds=2.0)
    report = fit_bpr(net, train, cfg, lambda: calls.append(1) or 0.5, clock=lambda: float(next(ticks)))
    batches = -(-train.nnz // cfg.batch_size)
    assert batches >= 3 and report.steps == 2 < batches  # stopped inside the first epoch
    assert report.epochs_run == 1 and report.stopped_by == "time_budget"
    assert len(calls) == 1 and report.best_epoch == 1  # validated once so the kept weights were measured


def test_no_budget_runs_every_epoch_and_reports_each_one() -> None:
    net, train = _graph()
    rows: list[tuple[int, dict[str, float]]] = []
    report = fit_bpr(net, train, CFG, lambda: 0.5, progress=lambda e, r: rows.append((e, r)))
    assert report.epochs_run == CFG.max_epochs and report.stopped_by == "max_epochs"  # 2 stale validations < 3
    assert [e for e, _ in rows] == list(range(1, CFG.max_epochs + 1))
    assert np.isnan(rows[0][1]["score"]) and rows[1][1]["score"] == 0.5  # validated every 2nd epoch
    assert all(r["seconds"] >= 0 and r["total"] > 0 for _, r in rows)


def test_progress_is_one_plain_line_per_epoch_off_a_terminal() -> None:
    out = io.StringIO()
    with epoch_progress("lightgcn", 3, console=Console(file=out, force_terminal=False)) as report:
        report(1, {"total": 0.69, "score": float("nan"), "seconds": 1.2})
        report(2, {"total": 0.51234, "score": 0.0812, "seconds": 41.0})
    assert out.getvalue().splitlines() == ["lightgcn epoch 1 loss 0.6900 valid - elapsed 1s",
                                           "lightgcn epoch 2 loss 0.5123 valid 0.0812 elapsed 41s"]
    assert format_epoch("sasrec", 4, {"loss": 2.0, "ndcg@10": 0.05, "seconds": 3}) == (
        "sasrec epoch 4 loss 2.0000 valid 0.0500 elapsed 3s")


def test_progress_draws_a_bar_and_no_lines_on_a_terminal() -> None:
    out = io.StringIO()
    with epoch_progress("lightgcn", 3, console=Console(file=out, force_terminal=True)) as report:
        report(1, {"total": 0.69, "score": 0.1, "seconds": 1.0})
    assert report.bar is not None and "\n".join(out.getvalue().splitlines()).count("lightgcn epoch 1") <= 2


@pytest.mark.parametrize(("overrides", "message"), [
    (TrainingOverrides(epochs=0), "--epochs must be at least 1"),
    (TrainingOverrides(lr=-1.0), "--lr must be a positive number"),
    (TrainingOverrides(time_budget_min=0.0), "--time-budget-min must be a positive number"),
])
def test_bad_overrides_are_user_errors(overrides: TrainingOverrides, message: str, tmp_config) -> None:
    with pytest.raises(TrainingOptionError, match=message):
        overrides.apply(tmp_config)


def test_overrides_reach_every_training_section(tmp_config) -> None:
    cfg = TrainingOverrides(epochs=7, lr=0.005, time_budget_min=1.5).apply(tmp_config)
    assert (cfg.lightgcn.max_epochs, cfg.lightgcn.lr, cfg.lightgcn.max_seconds) == (7, 0.005, 90.0)
    assert (cfg.sasrec.max_epochs, cfg.sasrec.lr, cfg.sasrec.max_seconds) == (7, 0.005, 90.0)
    assert (cfg.gen.max_epochs, cfg.gen.lr, cfg.gen.max_minutes) == (7, 0.005, 1.5)
    assert TrainingOverrides().apply(tmp_config) is tmp_config


def test_sasrec_is_scored_from_its_artifact(home: Home, tiny_themes, monkeypatch) -> None:
    from appliance.config import SASRecConfig
    from appliance.models.sasrec import SASRecRecommender, train_sasrec

    tiny_themes.fill_home(home)
    path, metrics, _info = train_sasrec(home, cfg=SASRecConfig(dim=8, blocks=1, max_len=5, max_epochs=2,
                                                              eval_every=1, batch_size=4))
    monkeypatch.setattr(SASRecRecommender, "fit", _no_fit)
    (result,) = evaluate_models(home.engine, home.config, ["sasrec"]).results
    assert result.source == "artifact" and result.artifact == f"sasrec/{path.name}" and result.epochs == 2
    assert result.stopped_by == "max_epochs" and result.config["sasrec"]["dim"] == 8
    assert result.metrics["ndcg@10"] == pytest.approx(metrics["test/ndcg@10"])
