"""The generative model's learning-rate schedule under a wall-clock budget (appliance.generative.train, gen.schedule):
the cosine decay follows the step fraction or the spent share of the budget, whichever is larger, so the rate
reaches its floor as the budget runs out; validation time is reserved; rank 0's clock decides under DDP. Every
timed case runs on a fake clock."""

from __future__ import annotations

import dataclasses
import itertools
import math
import multiprocessing
import socket

import numpy as np
import pytest
import torch

from appliance.config import ApplianceConfig, ConfigError, GenConfig, check_config
from appliance.data.splits import Split, split_from_sequences
from appliance.generative import train
from appliance.generative.model import GenerativeRecommender
from appliance.generative.train import LR_FLOOR, Budget, GenFitReport, cosine_lr, fit_generative
from appliance.models.distributed import Dist, process_group

N_ITEMS = 9
CODES = np.stack([np.arange(N_ITEMS), np.arange(N_ITEMS) % 2, np.zeros(N_ITEMS, int), np.zeros(N_ITEMS, int)], 1)
# tests/appliance/generative/test_model.py's toy (item i is followed by i + 1), with room for many epochs
CFG = GenConfig(preset="tiny", text_vocab=40, tasks=("seq",), max_epochs=40, patience=100, batch_size=16, lr=3e-2,
                dropout=0.0, hidden_dropout=0.0, beam=5, valid_users=0, history_len=2, max_minutes=2.0)
VALIDATION_S = 12.0  # fake seconds one validation costs

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


class FakeClock:
    """Advances `tick` fake seconds per reading (the loop reads it once per step and a few times per epoch)."""

    def __init__(self, tick: float = 1.0) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def _split() -> Split:
    return split_from_sequences([np.array([(u + j) % N_ITEMS for j in range(6)]) for u in range(36)], N_ITEMS)


def _fit(cfg: GenConfig, clock, split: Split | None = None) -> tuple[GenerativeRecommender, GenFitReport]:
    split = split or _split()
    model = GenerativeRecommender(cfg, CODES, item_texts=[f"item {i}" for i in range(N_ITEMS)])
    model.bind(split)
    model.build()
    return model, fit_generative(model, split, clock=clock)


@pytest.fixture
def slow_validation(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A fake clock on which every validation costs VALIDATION_S seconds."""
    clock, validate = FakeClock(), train.validate

    def timed(*args, **kwargs):
        clock.now += VALIDATION_S
        return validate(*args, **kwargs)

    monkeypatch.setattr(train, "validate", timed)
    return clock


def test_cosine_follows_the_larger_of_steps_and_budget() -> None:
    total, warmup = 100, 10
    assert [cosine_lr(s, total, warmup) for s in (0, 4, 9)] == pytest.approx([0.1, 0.5, 1.0])
    assert cosine_lr(10, total, warmup) == pytest.approx(1.0)
    assert cosine_lr(55, total, warmup) == pytest.approx(LR_FLOOR + (1 - LR_FLOOR) / 2)  # half the decay steps
    assert cosine_lr(100, total, warmup) == pytest.approx(LR_FLOOR)
    # the spent budget takes over when it is ahead of the steps, and only then
    assert cosine_lr(20, total, warmup, spent=0.5) == pytest.approx(LR_FLOOR + (1 - LR_FLOOR) / 2)
    assert cosine_lr(20, total, warmup, spent=1.0) == pytest.approx(LR_FLOOR)
    assert cosine_lr(55, total, warmup, spent=0.1) == cosine_lr(55, total, warmup)
    assert cosine_lr(5, total, warmup, spent=1.0) == pytest.approx(0.6)  # warm-up stays step-based
    rates = [cosine_lr(10, total, warmup, spent=f) for f in np.linspace(0, 1, 11)]
    assert all(a > b for a, b in itertools.pairwise(rates))


def test_budget_share_starts_after_warm_up_and_ends_before_the_reserve() -> None:
    budget = Budget(100.0)
    assert budget.spent(50.0) == 0.0  # still warming up
    budget.decay_from = 20.0
    assert [budget.spent(t) for t in (20.0, 60.0, 100.0, 130.0)] == pytest.approx([0.0, 0.5, 1.0, 1.0])
    budget.reserve = 20.0  # the last validation must fit: the decay ends 20 s earlier
    assert budget.train_until == 80.0 and budget.spent(50.0) == pytest.approx(0.5)
    budget.reserve = 90.0
    assert budget.spent(21.0) == 1.0  # nothing left to decay over
    assert Budget(math.inf, decay_from=0.0).spent(1e9) == 0.0  # no budget: the steps alone decide


def test_budget_schedule_decays_to_the_floor_when_the_time_is_spent(slow_validation: FakeClock) -> None:
    _, report = _fit(CFG, slow_validation)
    assert report.schedule == "budget" and report.stopped_by == "time_budget"
    assert 3 <= report.epochs_run < CFG.max_epochs  # the budget, not the epochs, ended it
    assert LR_FLOOR <= report.lr_mult < LR_FLOOR + 0.05  # at the floor (within one step) when training stopped
    rates = [row["lr_mult"] for row in report.history]
    assert all(a > b for a, b in itertools.pairwise(rates[1:]))  # decaying once warm-up is over
    assert report.history[-1]["epoch"] == report.epochs_run  # the last, decayed weights were validated
    # a validation's cost was reserved: the run overshoots the budget by a few clock readings, not by a validation
    assert report.seconds - 60 * CFG.max_minutes < VALIDATION_S / 2


def test_epochs_schedule_keeps_the_old_rule(slow_validation: FakeClock) -> None:
    _, report = _fit(dataclasses.replace(CFG, schedule="epochs"), slow_validation)
    assert report.schedule == "epochs" and report.stopped_by == "time_budget"
    assert report.lr_mult > 0.9  # planned over 40 epochs: the rate barely decayed before the budget ran out
    assert report.history[-1]["epoch"] == report.epochs_run - 1  # the cut epoch is not validated
    assert report.seconds > 60 * CFG.max_minutes  # and nothing was reserved for validation


def test_without_a_binding_budget_both_schedules_train_the_same_weights() -> None:
    cfg = dataclasses.replace(CFG, max_epochs=3)
    weights = {}
    for schedule in ("budget", "epochs"):
        model, report = _fit(dataclasses.replace(cfg, schedule=schedule), lambda: 0.0)  # the clock never moves
        assert report.stopped_by == "max_epochs" and report.epochs_run == 3
        warmup = max(1, int(cfg.warmup_frac * report.steps))  # all 3 planned epochs ran
        assert report.lr_mult == pytest.approx(cosine_lr(report.steps - 1, report.steps, warmup))
        weights[schedule] = model.lm.state_dict()
    for name, value in weights["budget"].items():
        torch.testing.assert_close(value, weights["epochs"][name], rtol=0, atol=0)


def test_schedule_is_a_checked_choice() -> None:
    cfg = ApplianceConfig()
    with pytest.raises(ConfigError, match=r"gen\.schedule"):
        check_config(dataclasses.replace(cfg, gen=dataclasses.replace(cfg.gen, schedule="linear")))


# --- DDP: rank 0's clock decides (rank 1's clock never moves, yet it stops on the same step with the same rates)
def _rank(rank: int, port: int, out: multiprocessing.Queue) -> None:
    torch.set_num_threads(1)
    with process_group(Dist(rank, 2, rank), init_method=f"tcp://127.0.0.1:{port}"):
        model, report = _fit(dataclasses.replace(CFG, max_minutes=0.5), FakeClock() if rank == 0 else (lambda: 0.0))
    out.put((rank, report.steps, report.stopped_by, report.lr_mult, [row["lr_mult"] for row in report.history],
             model.lm.get_input_embeddings().weight.detach().numpy().copy()))


def test_rank_zero_clock_decides_under_ddp() -> None:
    ctx = multiprocessing.get_context("fork")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = ctx.Queue()
    procs = [ctx.Process(target=_rank, args=(r, port, out)) for r in range(2)]
    for p in procs:
        p.start()
    try:
        results = dict(sorted((r[0], r[1:]) for r in (out.get(timeout=120), out.get(timeout=120))))
    finally:
        for p in procs:
            p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    (steps0, why0, mult0, rates0, emb0), (steps1, why1, mult1, rates1, emb1) = results[0], results[1]
    assert why0 == why1 == "time_budget" and steps0 == steps1
    assert mult0 == mult1 < LR_FLOOR + 0.05 and rates0 == rates1
    np.testing.assert_allclose(emb0, emb1, atol=1e-6)  # DDP kept the replicas identical
