"""Distributed data-parallel training (appliance.models.distributed): 2 gloo processes on loopback with the global
batch B split B/2 + B/2 train SASRec, LightGCN and the generative model to the same weights and validation metrics
as 1 process with batch B (same seed, dropout 0), within TOLERANCE; the share/scale rules, loopback-only rendezvous,
and the job launcher's errors."""

from __future__ import annotations

import dataclasses
import multiprocessing
import socket

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from appliance.config import GenConfig, LightGCNConfig, SASRecConfig  # noqa: E402
from appliance.data.splits import split_from_sequences  # noqa: E402
from appliance.models import distributed  # noqa: E402
from appliance.models.distributed import Dist, DistributedError, env_dist, process_group  # noqa: E402
from appliance.models.distributed_run import run_job  # noqa: E402
from appliance.models.graph_cf import LightGCNRecommender  # noqa: E402
from appliance.models.metrics import evaluate  # noqa: E402
from appliance.models.sasrec import SASRecRecommender  # noqa: E402

TOLERANCE = 1e-4  # max |difference| of weights and metrics, 1 vs 2 processes (float32 sums in another order)
N_USERS, N_ITEMS = 9, 13
SASREC = SASRecConfig(dim=8, blocks=1, heads=2, max_len=6, dropout=0.0, lr=1e-2, batch_size=4, max_epochs=4,
                      eval_every=2, patience=100, seed=3)  # 9 sequences, global batch 4: the last batch has 1 row
GEN = GenConfig(preset="tiny", text_vocab=40, tasks=("seq",), max_epochs=3, patience=100, batch_size=16, lr=3e-2,
                dropout=0.0, hidden_dropout=0.0, beam=5, valid_users=0, history_len=2)  # test_model.py's toy
GEN_CODES = np.stack([np.arange(9), np.arange(9) % 2, np.zeros(9, int), np.zeros(9, int)], 1)
LIGHTGCN = LightGCNConfig(dim=8, layers=2, lr=1e-2, batch_size=16, max_epochs=4, eval_every=2, patience=100, seed=3)


def _split():
    rng = np.random.default_rng(0)
    return split_from_sequences([rng.permutation(N_ITEMS)[:5 + u % 4] for u in range(N_USERS)], N_ITEMS)


def _fit(kind: str) -> dict[str, np.ndarray]:
    """Train `kind` on the tiny split in the current process group; weights, validation curve and test metrics."""
    split = _split()
    if kind == "gen":
        from appliance.generative.model import GenerativeRecommender

        split = split_from_sequences([np.array([(u + j) % 9 for j in range(6)]) for u in range(36)], 9)
        model = GenerativeRecommender(GEN, GEN_CODES, item_texts=[f"item {i}" for i in range(9)])
        model.fit(split)
        weights = {k: v.detach().numpy().copy() for k, v in model.lm.state_dict().items()}
        curve = np.array([row["valid_ndcg@10"] for row in model.fit_report.history])
    elif kind == "sasrec":
        model = SASRecRecommender(SASREC)
        model.fit(split)
        weights = {k: v.detach().numpy().copy() for k, v in model.net.state_dict().items()}
        # the attention's key bias cannot change any output (softmax is shift-invariant per query): its gradient is
        # float rounding noise, which Adam rescales to full-size steps, so it alone differs between runs
        weights["blocks.0.attn.in_proj_bias"] = np.delete(weights["blocks.0.attn.in_proj_bias"],
                                                          np.s_[SASREC.dim:2 * SASREC.dim])
        weights["scores"] = model.score(np.arange(N_USERS), "test")
        curve = np.array([row["ndcg@10"] for row in model.history])
    else:
        model = LightGCNRecommender(LIGHTGCN)
        model.fit(split)
        weights = {"user_emb": model.arrays["user_emb"], "item_emb": model.arrays["item_emb"]}
        curve = np.array([row["score"] for row in model.history])
    test = evaluate(model, split, "test", ks=(5, 10))
    return {**weights, "curve": curve, "test": np.array([test[k] for k in sorted(test)])}


def _rank(rank: int, port: int, kind: str, out: multiprocessing.Queue) -> None:
    torch.set_num_threads(1)
    with process_group(Dist(rank, 2, rank), init_method=f"tcp://127.0.0.1:{port}"):
        result = _fit(kind)
    if rank == 0:
        out.put(result)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _two_processes(kind: str) -> dict[str, np.ndarray]:
    ctx = multiprocessing.get_context("fork")  # children inherit the imported torch: no second import cost
    out, port = ctx.Queue(), _free_port()
    procs = [ctx.Process(target=_rank, args=(r, port, kind, out)) for r in range(2)]
    for p in procs:
        p.start()
    try:
        result = out.get(timeout=120)
    finally:
        for p in procs:
            p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    return result


@pytest.mark.parametrize("kind", ["sasrec", "lightgcn", "gen"])
def test_two_processes_match_one(kind: str, one_torch_thread) -> None:
    one = _fit(kind)
    two = _two_processes(kind)
    assert one.keys() == two.keys()
    assert len(one["curve"]) == (3 if kind == "gen" else 2)  # validated at epochs 2 and 4 (gen: every epoch)
    for name in one:
        np.testing.assert_allclose(two[name], one[name], atol=TOLERANCE, rtol=0, err_msg=name)
    # and training moved the weights: the match is not two untrained models agreeing
    name = {"sasrec": "item_emb.weight", "lightgcn": "item_emb", "gen": "model.embed_tokens.weight"}[kind]
    assert not np.allclose(one[name], _untrained(kind)[name], atol=1e-3)


def _untrained(kind: str) -> dict[str, np.ndarray]:
    split = _split()
    if kind == "gen":
        from appliance.generative.model import GenerativeRecommender

        split = split_from_sequences([np.array([(u + j) % 9 for j in range(6)]) for u in range(36)], 9)
        model = GenerativeRecommender(dataclasses.replace(GEN, max_epochs=1, lr=1e-12), GEN_CODES,
                                      item_texts=[f"item {i}" for i in range(9)])
        model.fit(split)
        return {k: v.detach().numpy() for k, v in model.lm.state_dict().items()}
    if kind == "sasrec":
        model = SASRecRecommender(dataclasses.replace(SASREC, max_epochs=1, lr=1e-12))
        model.fit(split)
        return {k: v.detach().numpy() for k, v in model.net.state_dict().items()}
    model = LightGCNRecommender(dataclasses.replace(LIGHTGCN, max_epochs=1, lr=1e-12))
    model.fit(split)
    return {k: model.arrays[k] for k in ("user_emb", "item_emb")}


def test_shares_cover_the_global_batch_once() -> None:
    rows = np.arange(7)
    shares = [Dist(r, 3).share(rows) for r in range(3)]
    assert sorted(np.concatenate([s for s, _ in shares]).tolist()) == rows.tolist()
    assert [w for _, w in shares] == [1.0, 1.0, 1.0]
    local, weight = Dist(1, 2).share(np.arange(1))  # a last batch of one row: rank 1 gets a weightless stand-in
    assert weight == 0.0 and len(local) == 1
    # DDP averages over ranks: mean over ranks of (scale x the share's mean) = the global batch's mean
    scaled = [Dist(r, 3).loss_scale(len(s), len(rows)) * s.mean() for r, (s, _) in enumerate(shares)]
    assert np.mean(scaled) == pytest.approx(rows.mean())
    assert Dist().loss_scale(3, 7) == 1.0


def test_rendezvous_is_loopback_only() -> None:
    env = {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "MASTER_PORT": "29500"}
    assert env_dist({**env, "MASTER_ADDR": "localhost"}) == Dist(0, 2, 0)
    assert env_dist({**env, "MASTER_ADDR": "127.0.0.1"}) == Dist(0, 2, 0)
    assert env_dist({}) is None  # not under torchrun: single process
    with pytest.raises(DistributedError, match="not a loopback address"):
        env_dist({**env, "MASTER_ADDR": "10.1.2.3"})
    with pytest.raises(DistributedError, match="outside WORLD_SIZE"):
        env_dist({**env, "RANK": "2", "MASTER_ADDR": "localhost"})


def test_single_process_joins_nothing() -> None:
    with process_group(Dist()) as group:
        assert not group.enabled and distributed.current() == Dist()
        assert group.stop_now(True) and group.from_main(lambda: 0.5) == 0.5 and group.sum([1, 2]) == [1.0, 2.0]


def test_run_job_rejects_bad_arguments() -> None:
    with pytest.raises(DistributedError, match="--nproc must be at least 1"):
        run_job("sasrec", 0, {}, None)
    with pytest.raises(DistributedError, match="unknown training job"):
        run_job("bert", 2, {}, None)


@pytest.mark.slow
def test_dead_rank_fails_the_job_with_one_line(tmp_path) -> None:
    """Every rank fails (no home at the configured path): torchrun stops them, run_job says so; nothing saved."""
    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "nowhere"}"\n', encoding="utf-8")
    with pytest.raises(DistributedError, match=r"a rank exited with status [1-9]"):
        run_job("sasrec", 2, {"cfg": dataclasses.asdict(SASREC)}, config)
