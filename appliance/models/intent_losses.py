"""Intent alignment losses of IRLLRec (Wang et al., SIGIR 2025, arXiv 2502.03307), as pure functions on tensors.

- `intent_aware`: interaction intents from K learnable prototypes, softmax(e C) C^T (as in the official code).
- `infonce`: pairwise alignment of the text-intent and interaction-intent towers (mutual-information bound).
- `translation_alignment`: a learned map from interaction-intent space to text-intent space must still land on
  the right text intent when the interaction intent is perturbed by multiplicative noise.
- `matching_loss`: interaction-text matching (is this text intent the one of this interaction intent?) on in-batch
  hard negatives, with momentum distillation: soft targets from an EMA teacher (ALBEF, Li et al. 2021).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def intent_aware(emb: Tensor, prototypes: Tensor) -> Tensor:
    """emb (N, d), prototypes (d, K) -> (N, d): each row re-expressed as a mixture of intent prototypes."""
    return torch.softmax(emb @ prototypes, dim=1) @ prototypes.T


def infonce(anchor: Tensor, positive: Tensor, temperature: float) -> Tensor:
    """Symmetric in-batch InfoNCE: row i of `anchor` should match row i of `positive` (B, d) -> scalar.

    The same value as 0.5 * (cross_entropy(L, arange) + cross_entropy(L.T, arange)) with L the (B, B) cosine
    logits / temperature (`infonce_reference`), computed by `_SymmetricInfoNCE` in a few passes over L instead of
    two log-softmaxes, a transposed copy and a transposed gradient sum (about 4x faster on CPU at B = 1024).
    """
    a = F.normalize(anchor, dim=1) / temperature  # scale the (B, d) side, not the (B, B) logits
    p = F.normalize(positive, dim=1)
    if 2.0 / temperature > _EXP_RANGE:  # exp(L - max) could underflow to 0 for a whole row: the stable path
        return _infonce_from_logits(a @ p.T)
    return _SymmetricInfoNCE.apply(a, p, 1.0 / temperature)


_EXP_RANGE = 80.0  # float32 exp(-x) stays a normal number for x < 87


def infonce_reference(anchor: Tensor, positive: Tensor, temperature: float) -> Tensor:
    """The textbook two-cross-entropy form of `infonce` (kept for tests and for tiny temperatures)."""
    a, p = F.normalize(anchor, dim=1), F.normalize(positive, dim=1)
    return _infonce_from_logits(a @ p.T / temperature)


def _infonce_from_logits(logits: Tensor) -> Tensor:
    target = torch.arange(len(logits), device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


class _SymmetricInfoNCE(torch.autograd.Function):
    """Symmetric InfoNCE on logits L = a @ p.T whose entries are bounded by `bound` (cosines / temperature).

    exp(L - bound) is computed once and gives both the row and the column log-sum-exps (no per-row max needed:
    every exponent lies in [-2 bound, 0]); the gradient is E * (1/rowsum + 1/colsum) / 2B - I / B.
    """

    @staticmethod
    def forward(ctx: Any, a: Tensor, p: Tensor, bound: float) -> Tensor:
        logits = a @ p.T  # (B, B)
        exp = (logits - bound).exp_()
        rows, cols = exp.sum(dim=1), exp.sum(dim=0)  # (B,), (B,)
        ctx.save_for_backward(a, p, exp, rows, cols)
        n = len(a)
        lse = 0.5 * (rows.log().sum() + cols.log().sum()) / n + bound
        return lse - logits.diagonal().sum() / n

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, None]:
        a, p, exp, rows, cols = ctx.saved_tensors
        n = len(a)
        weights = (rows.reciprocal().unsqueeze(1) + cols.reciprocal().unsqueeze(0)).mul_(0.5 / n)  # (B, B)
        g = weights.mul_(exp)
        g.diagonal().sub_(1.0 / n)
        g.mul_(grad)
        return g @ p, g.T @ a, None


def translation_alignment(interaction: Tensor, text: Tensor, translator: nn.Module, noise_std: float,
                          temperature: float, generator: torch.Generator | None = None) -> Tensor:
    """InfoNCE between translator(interaction * (1 + noise)) and text; both (B, d)."""
    noise = torch.randn(interaction.shape, generator=generator, device=interaction.device) * noise_std
    return infonce(translator(interaction * (1.0 + noise)), text, temperature)


class MatchingHead(nn.Module):
    """Binary interaction-text matching classifier on [z, t, z * t] -> logit."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3 * dim, dim), nn.LeakyReLU(), nn.Linear(dim, 1))

    def forward(self, z: Tensor, t: Tensor) -> Tensor:
        z, t = F.normalize(z, dim=1), F.normalize(t, dim=1)
        return self.net(torch.cat([z, t, z * t], dim=1)).squeeze(1)  # (B,)


def hard_negatives(z: Tensor, t: Tensor) -> Tensor:
    """For each row, the index of the most similar NON-matching text in the batch (B,)."""
    with torch.no_grad():  # indices only: no graph, and the fresh matrix can be masked in place
        sim = F.normalize(z, dim=1) @ F.normalize(t, dim=1).T  # (B, B)
    sim.fill_diagonal_(float("-inf"))
    return sim.argmax(dim=1)


def matching_loss(head: MatchingHead, z: Tensor, t: Tensor, negatives: Tensor,
                  teacher_probs: Tensor | None = None, alpha: float = 0.4) -> Tensor:
    """BCE on positives (z_i, t_i) and hard negatives (z_i, t_neg(i)); mixes in teacher soft targets.

    Args:
        teacher_probs: (2B,) probabilities from the EMA teacher for the same pairs, or None for hard labels only.
        alpha: weight of the teacher's soft targets (ALBEF uses 0.4).
    """
    logits = torch.cat([head(z, t), head(z, t[negatives])])  # (2B,)
    labels = torch.cat([torch.ones(len(z)), torch.zeros(len(z))]).to(logits)
    if teacher_probs is not None:
        labels = (1 - alpha) * labels + alpha * teacher_probs.detach()
    return F.binary_cross_entropy_with_logits(logits, labels)


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, momentum: float) -> None:
    """teacher <- momentum * teacher + (1 - momentum) * student, parameter by parameter."""
    for t_param, s_param in zip(teacher.parameters(), student.parameters(), strict=True):
        t_param.mul_(momentum).add_(s_param.detach(), alpha=1.0 - momentum)
