"""SASRec on tiny odd-sized data (7 users, 11 items, d=8): learning, causal masking, no leakage, save/load."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from appliance.config import ApplianceConfig, SASRecConfig  # noqa: E402
from appliance.data.splits import split_from_sequences  # noqa: E402
from appliance.models.contract import recommend  # noqa: E402
from appliance.models.registry import create_model  # noqa: E402
from appliance.models.sasrec import SASRecError, SASRecNet, SASRecRecommender, padded_inputs  # noqa: E402

N_USERS, N_ITEMS = 7, 11
TINY = SASRecConfig(dim=8, blocks=2, heads=2, max_len=6, dropout=0.0, lr=1e-2, batch_size=3, max_epochs=60,
                    eval_every=20, patience=100, seed=0)


def cyclic_sequences(length: int = 8) -> list[np.ndarray]:
    """User u buys u, u+1, ... (mod 11): the next item is always the current one plus one."""
    return [(np.arange(length) + u) % N_ITEMS for u in range(N_USERS)]


def test_loss_decreases_and_history_is_recorded() -> None:
    model = SASRecRecommender(dataclasses.replace(TINY, max_epochs=30, eval_every=5))
    info = model.fit(split_from_sequences(cyclic_sequences(), N_ITEMS))
    losses = [row["loss"] for row in model.history]
    assert len(losses) == 6 and info.epochs == 30
    assert losses[-1] < 0.5 * losses[0]
    assert info.best_epoch in {row["epoch"] for row in model.history}


def test_learns_deterministic_next_item() -> None:
    split = split_from_sequences(cyclic_sequences(), N_ITEMS)
    model = SASRecRecommender(dataclasses.replace(TINY, max_epochs=80))
    model.fit(split)
    users = np.arange(N_USERS)
    for stage in ("valid", "test"):
        expected = split.heldout(stage).indices  # one held-out item per user, rows in user order
        top1 = recommend(model, split, users, 1, stage)[:, 0]
        assert (top1 == expected).mean() >= 6 / 7, (stage, top1, expected)
    assert model.score(users, "valid").shape == (N_USERS, N_ITEMS)
    assert model.score(users, "valid").dtype == np.float32


def test_causal_masking_and_padding() -> None:
    torch.manual_seed(0)
    net = SASRecNet(N_ITEMS, dataclasses.replace(TINY, dropout=0.3)).eval()
    seqs = torch.tensor([[0, 0, 3, 5, 7, 2], [0, 1, 4, 9, 10, 11]])
    changed = seqs.clone()
    changed[:, 4] = torch.tensor([6, 8])
    with torch.no_grad():
        out, out_changed = net(seqs), net(changed)
        cropped = net(seqs[:, 1:])  # one column of shared left padding less
    assert torch.equal(out[:, :4], out_changed[:, :4])  # earlier positions cannot see position 4
    assert not torch.allclose(out[:, 4:], out_changed[:, 4:])  # position 4 and later do
    assert torch.all(out[0, :2] == 0)  # padded positions give zeros
    torch.testing.assert_close(out[:, 1:], cropped)  # padding is masked out of attention, so cropping is exact


def test_training_uses_only_training_sequences() -> None:
    """Changing validation and test items must not change the weights nor the validation-stage scores."""
    base = cyclic_sequences()
    other = [np.concatenate([s[:-2], [(s[-1] + 2) % N_ITEMS, (s[-1] + 3) % N_ITEMS]]) for s in base]
    assert all(len(np.unique(s)) == len(s) for s in other)
    cfg = dataclasses.replace(TINY, max_epochs=4, eval_every=4, dropout=0.2)
    a, b = SASRecRecommender(cfg), SASRecRecommender(cfg)
    split_a, split_b = split_from_sequences(base, N_ITEMS), split_from_sequences(other, N_ITEMS)
    assert np.array_equal(split_a.train.toarray(), split_b.train.toarray())
    assert not np.array_equal(split_a.valid.toarray(), split_b.valid.toarray())
    a.fit(split_a)
    b.fit(split_b)
    assert a.net is not None and b.net is not None
    for key, value in a.net.state_dict().items():
        assert torch.equal(value, b.net.state_dict()[key]), key
    users = np.arange(N_USERS)
    np.testing.assert_array_equal(a.score(users, "valid"), b.score(users, "valid"))
    assert not np.array_equal(a.score(users, "test"), b.score(users, "test"))  # test input ends with valid item


def test_save_load_round_trip(tmp_path) -> None:
    split = split_from_sequences(cyclic_sequences(), N_ITEMS)
    model = SASRecRecommender(dataclasses.replace(TINY, max_epochs=10, eval_every=5, dropout=0.5))
    model.fit(split)
    model.save(tmp_path / "sasrec")
    loaded = SASRecRecommender.load(tmp_path / "sasrec")
    assert loaded.cfg == model.cfg and loaded.history == model.history
    users = np.array([6, 0, 3])
    for stage in ("valid", "test"):
        np.testing.assert_array_equal(loaded.score(users, stage), model.score(users, stage))


def test_errors_and_registry(tmp_path) -> None:
    with pytest.raises(SASRecError, match="not trained"):
        SASRecRecommender(TINY).score(np.arange(2))
    with pytest.raises(SASRecError, match="no saved SASRec model"):
        SASRecRecommender.load(tmp_path)
    with pytest.raises(SASRecError, match="two training interactions"):
        SASRecRecommender(TINY).fit(split_from_sequences([np.array([0, 1, 2])] * 3, N_ITEMS))
    with pytest.raises(SASRecError, match="multiple"):
        SASRecNet(N_ITEMS, dataclasses.replace(TINY, heads=3))
    model = create_model("sasrec", dataclasses.replace(ApplianceConfig(), sasrec=TINY))
    assert isinstance(model, SASRecRecommender) and model.cfg == TINY


def test_padded_inputs_keeps_most_recent_items() -> None:
    out = padded_inputs([np.array([0, 1, 2, 3, 4]), np.array([5]), np.zeros(0, np.int64)], 3)
    np.testing.assert_array_equal(out, [[3, 4, 5], [0, 0, 6], [0, 0, 0]])
