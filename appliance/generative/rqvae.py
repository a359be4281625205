"""RQ-VAE item quantizer (TIGER, Rajput et al., NeurIPS 2023; RQ-VAE of Lee et al., CVPR 2022).

Encoder MLP -> residual vector quantization (straight-through estimator, codebook + commitment loss as in VQ-VAE,
van den Oord et al. 2017) -> decoder MLP with a reconstruction loss. Codebooks start from residual k-means on the
initial latents and unused codes are reset to live residuals after every epoch. Imported only by
`appliance.generative.semantic_ids` when `[tokenize] method = "rqvae"`.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from appliance.config import RQConfig
from appliance.generative.quantize import Progress, check_level, fit_balanced_kmeans, spread_collisions


class RQVAEOutput(NamedTuple):
    recon: Tensor  # (B, in_dim)
    codes: Tensor  # (B, levels) int64
    residuals: Tensor  # (levels, B, latent): the vector each level quantized
    loss: Tensor
    recon_loss: Tensor
    vq_loss: Tensor


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class RQVAE(nn.Module):
    def __init__(self, in_dim: int, cfg: RQConfig) -> None:
        super().__init__()
        sizes = [in_dim, *cfg.rqvae_hidden, cfg.rqvae_latent_dim]
        self.encoder = _mlp(sizes)
        self.decoder = _mlp(sizes[::-1])
        self.codebooks = nn.ParameterList(nn.Parameter(torch.randn(k, cfg.rqvae_latent_dim) * 0.01)
                                          for k in cfg.levels)
        self.beta = cfg.rqvae_beta

    def quantize(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """z (B, latent) -> quantized (B, latent), codes (B, L), residuals (L, B, latent), VQ loss."""
        residual, quantized = z, torch.zeros_like(z)
        codes, residuals, vq_loss = [], [], z.new_zeros(())
        for book in self.codebooks:
            idx = torch.cdist(residual.detach(), book.detach()).argmin(1)  # (B,)
            chosen = book[idx]  # (B, latent)
            # codebook loss moves codes to the residuals; commitment loss keeps the encoder near its codes
            vq_loss = vq_loss + F.mse_loss(chosen, residual.detach()) + self.beta * F.mse_loss(residual,
                                                                                                chosen.detach())
            codes.append(idx)
            residuals.append(residual)
            quantized = quantized + chosen
            residual = residual - chosen.detach()
        return quantized, torch.stack(codes, 1), torch.stack(residuals), vq_loss

    def forward(self, x: Tensor) -> RQVAEOutput:
        z = self.encoder(x)  # (B, latent)
        quantized, codes, residuals, vq_loss = self.quantize(z)
        z_q = z + (quantized - z).detach()  # straight-through: decoder gradients flow to the encoder
        recon = self.decoder(z_q)
        recon_loss = F.mse_loss(recon, x, reduction="sum") / len(x)
        return RQVAEOutput(recon, codes, residuals, recon_loss + vq_loss, recon_loss, vq_loss)

    @torch.no_grad()
    def init_codebooks(self, x: Tensor, cfg: RQConfig, rng: np.random.Generator) -> None:
        """Residual k-means on the initial latents of all items (TIGER initialises codebooks this way)."""
        residual = self.encoder(x).numpy().astype(np.float32)
        for book in self.codebooks:
            k = min(len(book), len(residual))
            centroids, labels = fit_balanced_kmeans(residual, k, iters=10, balance=float(len(book)), rng=rng)
            book[:k] = torch.from_numpy(centroids)
            residual = residual - centroids[labels]

    @torch.no_grad()
    def reset_dead_codes(self, counts: Tensor, residuals: Tensor, generator: torch.Generator) -> int:
        """Move codes unused this epoch (counts (L, K) == 0) onto random residuals (L, B, latent) of that level."""
        reset = 0
        for level, book in enumerate(self.codebooks):
            dead = torch.nonzero(counts[level, :len(book)] == 0).flatten()
            if len(dead):
                pick = torch.randint(residuals.shape[1], (len(dead),), generator=generator)
                book[dead] = residuals[level, pick]
                reset += len(dead)
        return reset


def fit_rqvae(x: np.ndarray, cfg: RQConfig, *, progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Train an RQ-VAE on item vectors (n, d); returns codes (n, levels) int32 and reconstructions (n, d)."""
    # --- setup (seeded: same input and seed give the same codes)
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    data = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    model = RQVAE(data.shape[1], cfg)
    model.init_codebooks(data, cfg, np.random.default_rng(cfg.seed))
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.rqvae_lr)
    n, levels = len(data), len(cfg.levels)
    for epoch in range(cfg.rqvae_epochs):
        # --- one epoch of minibatches
        model.train()
        counts = torch.zeros(levels, max(cfg.levels), dtype=torch.int64)
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, cfg.rqvae_batch):
            out = model(data[order[start:start + cfg.rqvae_batch]])
            optimiser.zero_grad(set_to_none=True)
            out.loss.backward()
            optimiser.step()
            for level in range(levels):
                counts[level] += torch.bincount(out.codes[:, level], minlength=counts.shape[1])
        # --- dead-code reset, except after the last epoch so the final codes are the trained ones
        if epoch < cfg.rqvae_epochs - 1:
            model.reset_dead_codes(counts, out.residuals.detach(), generator)
        if progress is not None and (epoch + 1) % max(1, cfg.rqvae_epochs // 10) == 0:
            progress(f"RQ-VAE epoch {epoch + 1}/{cfg.rqvae_epochs}: loss {float(out.loss.detach()):.4f}")
    # --- final codes in eval mode
    model.eval()
    with torch.no_grad():
        out = model(data)
        codes, recon = out.codes.numpy().copy(), out.recon
        if cfg.spread_last and levels > 1:  # same collision spreading as the k-means quantizer
            dists = torch.cdist(out.residuals[-1], model.codebooks[-1]).pow(2).numpy()
            codes[:, -1] = spread_collisions(dists, codes[:, :-1], codes[:, -1])
            quantized = sum(book[torch.from_numpy(codes[:, i])] for i, book in enumerate(model.codebooks))
            recon = model.decoder(quantized)
    for level, size in enumerate(cfg.levels):
        check_level(codes[:, level], level, min(size, n), cfg)
    return codes.astype(np.int32), recon.numpy()
