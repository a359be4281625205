"""IRLLRec (Wang et al., SIGIR 2025, arXiv 2502.03307) on the LightGCN backbone: dual towers (text intents through an
MLP, interaction intents from K learnable prototypes) aligned by InfoNCE, translation alignment under
multiplicative noise, and interaction-text matching with an EMA teacher; plus the RLMRec profile alignment that
the official code builds on. Each term has a weight; weight 0 switches it off (the ablation table).

Scoring is the backbone's: user_final @ item_final^T; the intent terms shape the embeddings during training.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from appliance.config import IRLLRecConfig, LightGCNConfig
from appliance.models.intent_losses import (
    MatchingHead,
    ema_update,
    hard_negatives,
    infonce,
    intent_aware,
    matching_loss,
    translation_alignment,
)
from appliance.models.lightgcn import BPRBatch, LightGCN


class TextInputs(NamedTuple):
    """Text-side inputs, rows aligned with the dense user / item indices; all (N, D_text) float32."""

    user_profile: np.ndarray
    item_profile: np.ndarray
    user_intent: np.ndarray
    item_intent: np.ndarray


class IRLLRecLoss(NamedTuple):
    total: Tensor
    bpr: Tensor
    reg: Tensor
    align: Tensor
    profile: Tensor
    translation: Tensor
    matching: Tensor


def _mlp(d_in: int, d_out: int) -> nn.Sequential:
    """Two-layer projection as in the official code: d_in -> (d_in + d_out) / 2 -> d_out."""
    hidden = (d_in + d_out) // 2
    return nn.Sequential(nn.Linear(d_in, hidden), nn.LeakyReLU(), nn.Linear(hidden, d_out))


class IRLLRec(LightGCN):
    def __init__(self, n_users: int, n_items: int, norm_adj: sp.spmatrix, cfg: LightGCNConfig,
                 icfg: IRLLRecConfig, text: TextInputs) -> None:
        super().__init__(n_users, n_items, norm_adj, cfg)
        self.icfg = icfg
        d, d_text = cfg.dim, text.item_profile.shape[1]
        self.user_prototypes = nn.Parameter(nn.init.xavier_uniform_(torch.empty(d, icfg.intents)))  # (d, K)
        self.item_prototypes = nn.Parameter(nn.init.xavier_uniform_(torch.empty(d, icfg.intents)))  # (d, K)
        self.profile_mlp = _mlp(d_text, d)
        self.intent_mlp = _mlp(d_text, d)
        self.translator = nn.Linear(d, d)
        self.matcher = MatchingHead(d)
        for name, array in text._asdict().items():
            self.register_buffer(f"text_{name}", torch.as_tensor(array, dtype=torch.float32), persistent=False)
        self._teacher = nn.ModuleDict({"intent_mlp": copy.deepcopy(self.intent_mlp),
                                       "matcher": copy.deepcopy(self.matcher)}).requires_grad_(False)
        self._noise = torch.Generator().manual_seed(cfg.seed)

    def loss(self, batch: BPRBatch, propagated: tuple[Tensor, Tensor] | None = None) -> IRLLRecLoss:
        users, items = propagated if propagated is not None else self.propagate()
        base = super().loss(batch, (users, items))
        zero = base.total.new_zeros(())
        u_idx, i_idx = (self._cap(torch.unique(x)) for x in (batch.users, batch.pos))  # unique: no false negatives
        parts = {"align": zero, "profile": zero, "translation": zero, "matching": zero}
        for emb, idx, protos, kind in ((users, u_idx, self.user_prototypes, "user"),
                                       (items, i_idx, self.item_prototypes, "item")):
            for name, value in self._side_losses(emb[idx], idx, protos, kind).items():
                parts[name] = parts[name] + value
        c = self.icfg
        total = (base.total + c.align_weight * parts["align"] + c.profile_weight * parts["profile"]
                 + c.translation_weight * parts["translation"] + c.matching_weight * parts["matching"])
        return IRLLRecLoss(total, base.bpr, base.reg, **parts)

    def _cap(self, idx: Tensor) -> Tensor:
        """At most `side_rows` of the batch's unique rows (a seeded random subset): InfoNCE cost is quadratic."""
        cap = self.icfg.side_rows
        if not cap or len(idx) <= cap:
            return idx
        return idx[torch.randperm(len(idx), generator=self._noise)[:cap]]

    def _side_losses(self, emb: Tensor, idx: Tensor, prototypes: Tensor, kind: str) -> dict[str, Tensor]:
        """Losses for one side (users or items): emb (B, d) propagated rows, idx (B,) their indices."""
        c, out = self.icfg, {}
        z = intent_aware(emb, prototypes)  # interaction intents (B, d)
        intent_text = getattr(self, f"text_{kind}_intent")[idx]  # (B, D_text)
        t = self.intent_mlp(intent_text)  # text intents (B, d)
        if c.align_weight:
            out["align"] = infonce(z, t, c.temperature)
        if c.profile_weight:
            out["profile"] = infonce(emb, self.profile_mlp(getattr(self, f"text_{kind}_profile")[idx]),
                                     c.temperature)
        if c.translation_weight:
            out["translation"] = translation_alignment(z, t, self.translator, c.noise_std, c.temperature,
                                                       self._noise)
        if c.matching_weight and len(idx) > 1:
            negatives = hard_negatives(z, t)
            with torch.no_grad():
                t_teacher = self._teacher["intent_mlp"](intent_text)
                zd = z.detach()
                teacher = torch.sigmoid(torch.cat([self._teacher["matcher"](zd, t_teacher),
                                                   self._teacher["matcher"](zd, t_teacher[negatives])]))
            out["matching"] = matching_loss(self.matcher, z, t, negatives, teacher, c.distill_alpha)
        return out

    def update_teacher(self) -> None:
        """EMA step of the momentum-distillation teacher; call after each optimiser step."""
        ema_update(self._teacher["intent_mlp"], self.intent_mlp, self.icfg.ema_momentum)
        ema_update(self._teacher["matcher"], self.matcher, self.icfg.ema_momentum)

    @torch.no_grad()
    def user_intent_weights(self, users: np.ndarray) -> np.ndarray:
        """(U, K) softmax weights of the given users over the learned interaction-intent prototypes."""
        emb, _ = self.propagate()
        return torch.softmax(emb[torch.as_tensor(users)] @ self.user_prototypes, dim=1).numpy()


def build_text_inputs(item_vectors: np.ndarray, train_sequences: list[np.ndarray], item_intent_dist: np.ndarray,
                      user_intent_dist: np.ndarray, text_prototypes: np.ndarray, recency: float = 0.8) -> TextInputs:
    """Text-side inputs from local artifacts, with no extra encoder pass.

    Args:
        item_vectors: (I, D) item profile embeddings, rows in dense item order.
        train_sequences: per user, chronological TRAINING item indices (validation/test never enter).
        item_intent_dist, user_intent_dist: (I, K) and (U, K) intent distributions of the intent extractor.
        text_prototypes: (K, D) intent prototypes in text-embedding space.
        recency: weight decay per step back in a user's history for the user profile vector.
    """
    user_profile = np.zeros((len(train_sequences), item_vectors.shape[1]), dtype=np.float32)
    for u, seq in enumerate(train_sequences):
        if len(seq):
            weights = recency ** np.arange(len(seq))[::-1]  # newest item weight 1
            user_profile[u] = weights @ item_vectors[np.asarray(seq)]
    return TextInputs(_unit(user_profile), _unit(item_vectors), _unit(user_intent_dist @ text_prototypes),
                      _unit(item_intent_dist @ text_prototypes))


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)
