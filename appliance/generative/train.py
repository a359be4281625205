"""Plain training loop for the generative recommender (nanoGPT-style, no Trainer framework): AdamW, linear warm-up
then cosine decay, global-norm gradient clipping, bf16 autocast on CUDA, loss on target tokens only, and early
stopping on validation NDCG@10 of trie-constrained beam search, keeping the best weights. Every prefix of every
training sequence is an example (TIGER; `windows_per_user` samples fewer). With history_layout "items" a prompt entry
-(item + 1) is embedded as the sum of the item's code-token embeddings (`embed_inputs`; TIGER / GRID handbook).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from rich.console import Console
from rich.progress import Progress

from appliance.data.splits import Split
from appliance.generative.tasks import Example, GenerativeError, TaskData, build_epoch, intent_examples, text_examples
from appliance.generative.tokenizer import PAD, GenTokenizer
from appliance.models.distributed import Step, current
from appliance.models.metrics import rank_metrics
from appliance.models.training import format_epoch

if TYPE_CHECKING:
    from appliance.generative.model import GenerativeRecommender

IGNORE = -100  # label value the transformers loss skips (prompt and padding positions)


@dataclass
class GenFitReport:
    best_epoch: int = 0
    best_score: float = float("-inf")  # validation NDCG@10 at best_epoch
    epochs_run: int = 0  # epochs started (the last one may have been cut short by the time budget)
    steps: int = 0  # optimiser steps in all
    seconds: float = 0.0
    stopped_by: str = "max_epochs"  # max_epochs | early_stopping | time_budget
    examples_per_epoch: int = 0
    positions: int = 0  # non-padding input positions trained on
    step_seconds: float = 0.0  # time in training steps (no validation): positions / step_seconds is the throughput
    history: list[dict[str, float]] = field(default_factory=list)  # per epoch: loss, valid metrics, seconds


def collate(batch: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded input_ids, attention_mask and labels (prompt and padding masked with -100)."""
    length = max(len(e.prompt) + len(e.target) for e in batch)
    ids = torch.full((len(batch), length), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), length), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), length), dtype=torch.long)
    for row, ex in enumerate(batch):
        seq = ex.prompt + ex.target
        ids[row, : len(seq)] = torch.tensor(seq)
        labels[row, len(ex.prompt): len(seq)] = torch.tensor(ex.target)
        mask[row, : len(seq)] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def item_token_table(tok: GenTokenizer, codes: np.ndarray) -> torch.Tensor:
    """(n_items, L) code-token ids of every item: the rows `embed_inputs` sums for an item position."""
    return torch.from_numpy(tok.encode_codes(codes))


def embed_inputs(lm: torch.nn.Module, ids: torch.Tensor, item_tokens: torch.Tensor) -> torch.Tensor:
    """(B, T, d) input embeddings of prompt entries: a token id >= 0 looks up its row; an item entry -(i + 1)
    is the sum of item i's code-token rows (one position per item, as TIGER and the GRID handbook do)."""
    table = lm.get_input_embeddings()
    items = table(item_tokens.to(ids.device)[(-ids - 1).clamp(min=0)]).sum(-2)  # (B, T, d); gathers only, so the
    return torch.where((ids < 0)[..., None], items, table(ids.clamp(min=0)))  # ONNX export traces it as is


def target_loss(lm: torch.nn.Module, inputs: dict[str, torch.Tensor],
                item_tokens: torch.Tensor | None = None) -> torch.Tensor:
    """Mean next-token cross-entropy on target tokens; the vocabulary projection runs only where a target is
    predicted (about 4 of 25-80 positions), which is most of the compute of a small model with a large vocabulary.
    `item_tokens` (history_layout "items"): the table that embeds item entries -(i + 1)."""
    labels = inputs["labels"][:, 1:]  # (B, T-1) token at t+1 predicted from position t
    if item_tokens is None:
        hidden = lm.base_model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
    else:
        embeds = embed_inputs(lm, inputs["input_ids"], item_tokens)
        hidden = lm.base_model(inputs_embeds=embeds, attention_mask=inputs["attention_mask"])
    hidden = hidden.last_hidden_state
    where = labels != IGNORE
    logits = lm.get_output_embeddings()(hidden[:, :-1][where])  # (n_targets, V)
    return torch.nn.functional.cross_entropy(logits.float(), labels[where])


def _scaled_loss(lm: torch.nn.Module, inputs: dict[str, torch.Tensor], scale: float,
                 item_tokens: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(`scale` x the target loss to back-propagate, the target loss): the forward of the DDP-wrapped step."""
    loss = target_loss(lm, inputs, item_tokens)
    return (loss * scale if scale != 1.0 else loss), loss


def _batches(examples: list[Example], size: int, rng: np.random.Generator, bucket: int = 50) -> list[list[Example]]:
    """Batches of similar length (sorted inside buckets of `bucket` batches), in random order: less padding."""
    out = []
    for start in range(0, len(examples), size * bucket):
        chunk = sorted(examples[start:start + size * bucket], key=lambda e: len(e.prompt) + len(e.target))
        out += [chunk[i:i + size] for i in range(0, len(chunk), size)]
    return [out[i] for i in rng.permutation(len(out))]


def cosine_lr(step: int, total: int, warmup: int) -> float:
    """Multiplier of the peak rate: linear warm-up, then cosine decay to 10% (nanoGPT get_lr)."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))


def validate(model: GenerativeRecommender, split: Split, users: np.ndarray, stage: str = "valid",
             ks: tuple[int, ...] = (5, 10)) -> dict[str, float]:
    """Recall/NDCG@ks of beam search for `users` at `stage` (full ranking; non-generated items rank last)."""
    scores = model.score(users, stage)
    return rank_metrics(scores, split.history(stage)[users], split.heldout(stage)[users], ks)


def _valid_users(split: Split, n: int, rng: np.random.Generator) -> np.ndarray:
    users = np.flatnonzero(np.diff(split.valid.indptr) > 0)
    return np.sort(rng.choice(users, n, replace=False)) if 0 < n < len(users) else users


def fit_generative(model: GenerativeRecommender, split: Split, *, progress: bool = False,
                   on_epoch: Callable[[dict[str, float]], None] | None = None,
                   clock: Callable[[], float] = time.perf_counter) -> GenFitReport:
    """Train `model.lm` on the alignment tasks from the split's training sequences; keep the best epoch.

    With `progress`, a step bar on a terminal, else one line per epoch on stdout. The budget `cfg.max_minutes`
    is checked after every batch: training stops when it is spent and keeps the best validated weights (the current
    weights are validated once if no validation has run yet).
    """
    cfg, lm, tok = model.cfg, model.lm, model.tokenizer
    # --- setup: data from training sequences only (split.sequences("valid") is the train part)
    items_layout = cfg.history_layout == "items"
    data = TaskData(tok, model.codes, split.sequences("valid"), model.item_texts, model.intent_texts, items_layout)
    if sum(max(0, len(s) - 1) for s in data.sequences) == 0 and "seq" in cfg.tasks:
        raise GenerativeError("no user has two training interactions: nothing to learn a next item from")
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    text_pool = text_examples(data, cfg.text_tokens) if "text" in cfg.tasks else []
    intent_pool = intent_examples(data, cfg.text_tokens) if "intent" in cfg.tasks else []
    first = build_epoch(cfg, data, 1, rng, text_pool, intent_pool)
    if not first:
        raise GenerativeError(f"the tasks {cfg.tasks} produced no training examples")
    group = current()  # under torchrun: one GPU per rank (NCCL) or CPU ranks (gloo), see appliance.models.distributed
    device = group.device(torch.cuda.is_available())
    lm.to(device)
    item_tokens = item_token_table(tok, model.codes).to(device) if items_layout else None
    step = group.wrap(Step(lambda inputs, scale: _scaled_loss(lm, inputs, scale, item_tokens), lm=lm))
    steps_per_epoch = math.ceil(len(first) / cfg.batch_size)
    total = steps_per_epoch * cfg.max_epochs
    optimiser = torch.optim.AdamW(lm.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: cosine_lr(s, total, max(1, int(cfg.warmup_frac * total))))
    # own generator: the sample must not depend on how many draws the tasks made (same users for every variant)
    valid_users = _valid_users(split, cfg.valid_users, np.random.default_rng(cfg.seed))
    report = GenFitReport(examples_per_epoch=len(first))
    best_state, stale, start = copy.deepcopy(lm.state_dict()), 0, clock()
    deadline = start + 60 * cfg.max_minutes if cfg.max_minutes > 0 else float("inf")
    pad_id = tok.token_id(PAD)
    console = Console()
    lines = progress and not console.is_terminal  # a log file gets one line per epoch, a terminal a live bar
    with Progress(transient=True, disable=not progress or lines, console=console) as bar:
        task = bar.add_task("training gen", total=total)
        for epoch in range(1, cfg.max_epochs + 1):
            # --- one epoch of steps, stopping mid-epoch when the budget is spent
            examples = first if epoch == 1 else build_epoch(cfg, data, epoch, rng, text_pool, intent_pool)
            lm.train()
            losses = []
            report.epochs_run = epoch
            epoch_start = clock()
            for batch in _batches(examples, cfg.batch_size, rng):
                local, weight = group.share(batch)  # this rank's examples [rank::world] of the global batch
                scale = group.loss_scale(sum(len(e.target) for e in local), sum(len(e.target) for e in batch))
                inputs = {k: v.to(device) for k, v in collate(local, pad_id).items()}
                report.positions += int(inputs["attention_mask"].sum())
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                    scaled, loss = step(inputs, scale * weight)
                if not torch.isfinite(loss):
                    raise GenerativeError(f"non-finite loss at epoch {epoch}: lower gen.lr (now {cfg.lr})")
                optimiser.zero_grad(set_to_none=True)
                scaled.backward()
                torch.nn.utils.clip_grad_norm_(lm.parameters(), cfg.grad_clip)
                optimiser.step()
                schedule.step()
                losses.append(loss.item())
                report.steps += 1
                bar.advance(task)
                if group.stop_now(clock() >= deadline):  # rank 0's clock: all ranks stop on the same batch
                    report.stopped_by = "time_budget"
                    break
            report.step_seconds += clock() - epoch_start
            out_of_time = report.stopped_by == "time_budget"
            if out_of_time and report.history:
                break  # beam-search validation is the expensive part: keep the best validated weights
            # --- validation and early stopping on NDCG@10
            metrics = group.from_main(lambda: validate(model, split, valid_users))  # beam search on rank 0 only
            loss_sum, loss_n = group.sum([sum(losses), len(losses)])  # the mean over ranks
            row = {"epoch": epoch, "loss": loss_sum / loss_n if loss_n else float("nan"),
                   "seconds": clock() - start, **{f"valid_{k}": v for k, v in metrics.items()}}
            report.history.append(row)
            if on_epoch is not None:
                on_epoch(row)
            if lines:
                console.print(format_epoch("gen", epoch, row, "valid_ndcg@10"), highlight=False, soft_wrap=True)
            score = metrics["ndcg@10"]
            if score > report.best_score:
                report.best_epoch, report.best_score, stale = epoch, score, 0
                best_state = copy.deepcopy(lm.state_dict())
            else:
                stale += 1
            if stale >= cfg.patience:
                report.stopped_by = "early_stopping"
            if stale >= cfg.patience or out_of_time:
                break
    lm.load_state_dict(best_state)
    lm.eval()
    report.seconds = clock() - start
    return report
