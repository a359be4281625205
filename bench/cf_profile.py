"""Per-step training cost of LightGCN and IRLLRec (Wang et al., SIGIR 2025) on one thread, for bench/cf_beauty.py
--profile: ms/step (wall and CPU) over the same BPR batches, and IRLLRec once more with the textbook InfoNCE
(two cross-entropies over a transposed logit matrix) that the fused `_SymmetricInfoNCE` replaced, to show the gain.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from unittest import mock

import numpy as np
import torch

from appliance.config import LightGCNConfig
from appliance.data.splits import Split
from appliance.models import intent_losses, irllrec
from appliance.models.lightgcn import iter_batches, sample_bpr_epoch
from appliance.text.intents import IntentSet

WARMUP = 3


def _time_steps(net: torch.nn.Module, batches: list, steps: int) -> tuple[float, float, float]:
    """(wall ms/step, CPU ms/step, last loss) over `steps` Adam steps after WARMUP untimed ones."""
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    after = getattr(net, "update_teacher", None)
    loss = 0.0
    for i, batch in enumerate(batches[:WARMUP + steps]):
        if i == WARMUP:
            wall, cpu = time.perf_counter(), time.process_time()
        out = net.loss(batch)
        optimiser.zero_grad(set_to_none=True)
        out.total.backward()
        optimiser.step()
        if after is not None:
            after()
        loss = float(out.total.detach())
    return (1e3 * (time.perf_counter() - wall) / steps, 1e3 * (time.process_time() - cpu) / steps, loss)


def profile_steps(split: Split, intent_set: IntentSet, vectors: np.ndarray, steps: int, make: Callable) -> None:
    cfg = LightGCNConfig()
    batches = list(iter_batches(sample_bpr_epoch(split.train, np.random.default_rng(0)), cfg.batch_size))
    steps = min(steps, len(batches) - WARMUP)
    variants = (("lightgcn", "lightgcn", False), ("irllrec", "irllrec", False),
                ("irllrec (textbook InfoNCE)", "irllrec", True))
    for label, run, textbook in variants:
        torch.manual_seed(0)
        net = make(run, cfg, intent_set, vectors).build_network(split)
        fn = intent_losses.infonce_reference if textbook else intent_losses.infonce
        with mock.patch.object(irllrec, "infonce", fn), mock.patch.object(intent_losses, "infonce", fn):
            wall, cpu, loss = _time_steps(net, batches, steps)
        print(f"{label:<28} {wall:7.1f} ms/step wall {cpu:7.1f} ms/step CPU  loss after {steps + WARMUP} steps "
              f"{loss:.6f}", flush=True)
