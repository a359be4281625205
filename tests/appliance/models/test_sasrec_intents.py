"""SASRec with IRLLRec's intent alignment as a plug-in (appliance/models/sasrec.py, `train sasrec --intents`): it
needs an intents artifact, changes training only through its loss term, and leaves scoring SASRec's own."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from appliance.config import IntentsConfig, SASRecConfig  # noqa: E402
from appliance.data.home import Home  # noqa: E402
from appliance.data.splits import load_split  # noqa: E402
from appliance.models.sasrec import IntentAlignment, SASRecError, load_sasrec, train_sasrec  # noqa: E402
from appliance.text.intents import build_intents  # noqa: E402

TINY = SASRecConfig(dim=8, blocks=1, heads=2, max_len=5, dropout=0.0, lr=2e-2, batch_size=4, max_epochs=4,
                    eval_every=2, patience=100, seed=0)


def test_alignment_loss_reaches_its_parameters() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    align = IntentAlignment(8, rng.normal(size=(11, 5)).astype(np.float32))
    inputs = torch.tensor([[0, 0, 3, 4, 5], [1, 2, 3, 4, 6], [0, 0, 0, 7, 9]])  # (B, L) shifted ids, 0 = padding
    hidden = torch.randn(3, 8, requires_grad=True)
    loss = align(inputs, hidden)
    loss.backward()
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert hidden.grad is not None and align.prototypes.grad is not None and align.prototypes.grad.abs().sum() > 0
    assert all(p.grad is not None for p in align.project.parameters())


def test_intents_need_an_intents_artifact(home: Home, tiny_themes, one_torch_thread) -> None:
    tiny_themes.fill_home(home)
    with pytest.raises(SASRecError, match="tanaban intents build"):
        train_sasrec(home, cfg=dataclasses.replace(TINY, intents=True))


def _scores(home: Home) -> np.ndarray:
    model, _ = load_sasrec(home.config.artifacts_dir, split=load_split(home.engine))
    return model.score(np.arange(7), "test")


def test_alignment_changes_training_only_through_its_weight(home: Home, tiny_themes, one_torch_thread) -> None:
    """Weight 0: the very weights of plain SASRec (the term is the only difference); weight 1: other weights."""
    tiny_themes.fill_home(home)
    build_intents(home, cfg=IntentsConfig(k=3, tau=0.1))
    train_sasrec(home, cfg=TINY)
    plain = _scores(home)
    train_sasrec(home, cfg=dataclasses.replace(TINY, intents=True, intent_weight=0.0))
    np.testing.assert_allclose(_scores(home), plain, rtol=1e-5, atol=1e-6)
    _, metrics, info = train_sasrec(home, cfg=dataclasses.replace(TINY, intents=True, intent_weight=1.0))
    assert not np.allclose(_scores(home), plain, rtol=1e-3, atol=1e-4)
    assert info.epochs == TINY.max_epochs and np.isfinite(metrics["valid/ndcg@10"])
