"""Plain training loop for the generative recommender (nanoGPT-style, no Trainer framework): AdamW, linear warm-up
then cosine decay (sized to the wall-clock budget when that binds first, `gen.schedule` "budget"), global-norm
gradient clipping, bf16 autocast on CUDA, loss on target tokens only, and early
stopping on validation NDCG@10 of trie-constrained beam search, keeping the best weights. Every prefix of every
training sequence is an example (TIGER; `windows_per_user` samples fewer); `gen.pack` puts a user's examples in one
row that reads the history once, with a 4-D attention mask and position ids that give every target exactly the
context of its own prompt (`collate_packed`; the same loss, measured 1.47x the examples per second on Beauty). With
history_layout "items" a prompt entry -(item + 1) is embedded as the sum of the item's code-token embeddings
(`embed_inputs`; TIGER / GRID handbook), plus a learned vector of the item's own with `gen.item_embeddings` (the
input side of SASRec, Kang & McAuley 2018; the output stays code tokens decoded through the trie).
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from rich.console import Console
from rich.progress import Progress

from appliance.data.splits import Split
from appliance.generative.tasks import (
    Example,
    GenerativeError,
    Packed,
    TaskData,
    build_epoch,
    intent_examples,
    target_tokens,
    targets,
    text_examples,
)
from appliance.generative.tokenizer import PAD, SEP, GenTokenizer
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
    schedule: str = ""  # gen.schedule that ran: budget (decay follows the time budget too) | epochs (steps only)
    lr_mult: float = 0.0  # multiplier of the peak rate at the last optimiser step (LR_FLOOR: the decay ended)
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


def _row(example: Example | Packed, sep_id: int) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """(token ids, position ids, branch of each position (0: the shared prompt), prompt positions each position may
    attend to, labels predicted at each position) of one example or packed row; see `collate_packed`."""
    if isinstance(example, Example):
        ids = example.prompt + example.target[:-1]
        labels = [IGNORE] * (len(example.prompt) - 1) + example.target
        return ids, list(range(len(ids))), [0] * len(ids), list(range(1, len(ids) + 1)), labels
    n = len(example.track)
    ids, positions, branch, visible = list(example.track), list(range(n)), [0] * n, list(range(1, n + 1))
    labels = [IGNORE] * n
    for j, (seen, target) in enumerate(example.branches, start=1):
        tokens = [sep_id, *target[:-1]]
        ids += tokens
        positions += range(seen, seen + len(tokens))
        branch += [j] * len(tokens)
        visible += [seen] * len(tokens)
        labels += target
    return ids, positions, branch, visible, labels


def collate_packed(batch: list[Example | Packed], pad_id: int, sep_id: int,
                   bool_mask: bool = True) -> dict[str, torch.Tensor]:
    """Right-padded rows of packed examples (`gen.pack`) with position ids, a 4-D attention mask and labels aligned to
    the position that predicts them.

    A prompt position attends causally within the prompt; a branch position to the first `seen` prompt positions and
    to its own branch up to itself, at the positions its prompt alone would give it, so each branch computes what the
    separate example would (the 4-D mask reaches the attention as is: transformers' masking_utils returns it
    unchanged). Padding attends to itself only. `bool_mask` False gives an additive float mask (eager attention).
    """
    rows = [_row(e, sep_id) for e in batch]
    length = max(len(r[0]) for r in rows)
    ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    positions = torch.zeros((len(rows), length), dtype=torch.long)
    branch = torch.full((len(rows), length), -1, dtype=torch.long)
    visible = torch.zeros((len(rows), length), dtype=torch.long)
    labels = torch.full((len(rows), length), IGNORE, dtype=torch.long)
    for i, (row_ids, row_pos, row_branch, row_visible, row_labels) in enumerate(rows):
        n = len(row_ids)
        ids[i, :n], positions[i, :n] = torch.tensor(row_ids), torch.tensor(row_pos)
        branch[i, :n], visible[i, :n] = torch.tensor(row_branch), torch.tensor(row_visible)
        labels[i, :n] = torch.tensor(row_labels)
    k = torch.arange(length)
    query_branch, key_branch = branch[:, :, None], branch[:, None, :]
    allowed = ((key_branch == 0) & (k[None, None, :] < visible[:, :, None])) \
        | ((key_branch == query_branch) & (query_branch > 0) & (k[None, None, :] <= k[None, :, None])) \
        | torch.eye(length, dtype=torch.bool)[None]
    mask = allowed[:, None]  # (B, 1, T, T)
    if not bool_mask:
        mask = torch.zeros(mask.shape).masked_fill(~mask, torch.finfo(torch.float32).min)
    return {"input_ids": ids, "position_ids": positions, "attention_mask": mask, "labels": labels}


def item_token_table(tok: GenTokenizer, codes: np.ndarray) -> torch.Tensor:
    """(n_items, L) code-token ids of every item: the rows `embed_inputs` sums for an item position."""
    return torch.from_numpy(tok.encode_codes(codes))


def embed_inputs(lm: torch.nn.Module, ids: torch.Tensor, item_tokens: torch.Tensor) -> torch.Tensor:
    """(B, T, d) input embeddings of prompt entries: a token id >= 0 looks up its row; an item entry -(i + 1)
    is the sum of item i's code-token rows (one position per item, as TIGER and the GRID handbook do), plus the
    item's own learned row when the LM has one (gen.item_embeddings). Gathers only, so the ONNX export traces it."""
    table, index = lm.get_input_embeddings(), (-ids - 1).clamp(min=0)
    items = table(item_tokens.to(ids.device)[index]).sum(-2)  # (B, T, d)
    own = getattr(lm, ITEM_TABLE, None)
    if own is not None:
        items = items + own(index)
    return torch.where((ids < 0)[..., None], items, table(ids.clamp(min=0)))


ITEM_TABLE = "item_table"  # submodule name of the per-item input vectors (gen.item_embeddings) in the LM's state


def attach_item_table(lm: torch.nn.Module, n_items: int) -> None:
    """Give `lm` a learned input vector per item (gen.item_embeddings), initialised as its token embeddings are."""
    table = torch.nn.Embedding(n_items, lm.get_input_embeddings().embedding_dim)
    torch.nn.init.normal_(table.weight, std=getattr(lm.config, "initializer_range", 0.02))
    lm.add_module(ITEM_TABLE, table)


def target_loss(lm: torch.nn.Module, inputs: dict[str, torch.Tensor],
                item_tokens: torch.Tensor | None = None) -> torch.Tensor:
    """Mean next-token cross-entropy on target tokens; the vocabulary projection runs only where a target is
    predicted (about 4 of 25-80 positions), which is most of the compute of a small model with a large vocabulary.
    `item_tokens` (history_layout "items"): the table that embeds item entries -(i + 1). Inputs from `collate`
    have labels shifted by one; those from `collate_packed` (with position ids) are aligned to their position."""
    ids = inputs["input_ids"]  # embedded here in both layouts, so `hidden_dropout` sees the input embeddings
    embeds = lm.get_input_embeddings()(ids) if item_tokens is None else embed_inputs(lm, ids, item_tokens)
    packed = "position_ids" in inputs
    hidden = lm.base_model(inputs_embeds=embeds, attention_mask=inputs["attention_mask"],
                           position_ids=inputs.get("position_ids")).last_hidden_state
    labels = inputs["labels"] if packed else inputs["labels"][:, 1:]  # unpacked: t+1 predicted from position t
    where = labels != IGNORE
    logits = lm.get_output_embeddings()((hidden if packed else hidden[:, :-1])[where])  # (n_targets, V)
    return torch.nn.functional.cross_entropy(logits.float(), labels[where])


@contextlib.contextmanager
def hidden_dropout(lm: torch.nn.Module, p: float) -> Iterator[None]:
    """Dropout on the input embeddings and on each attention and MLP output before its residual add, while training
    (BERT's hidden_dropout_prob, GPT-2's embd_pdrop/resid_pdrop; SASRec drops the same places). Qwen2 and Llama
    configs carry only attention-weight dropout. Forward hooks, removed on exit: saved and exported models hold none,
    and `lm.eval()` turns them off for validation."""
    if p <= 0:
        yield
        return
    drop = torch.nn.functional.dropout

    def on_inputs(module: torch.nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        if kwargs.get("inputs_embeds") is not None:
            kwargs["inputs_embeds"] = drop(kwargs["inputs_embeds"], p, module.training)
        return args, kwargs

    def on_attention(module: torch.nn.Module, args: tuple, out: tuple) -> tuple:
        return (drop(out[0], p, module.training), *out[1:])

    def on_mlp(module: torch.nn.Module, args: tuple, out: torch.Tensor) -> torch.Tensor:
        return drop(out, p, module.training)

    layers = getattr(lm.base_model, "layers", None)
    if layers is None:
        raise GenerativeError(f"gen.hidden_dropout needs a Llama- or Qwen2-style model (decoder layers at "
                              f"model.layers), not {type(lm).__name__}: set it to 0 for this pretrained model")
    handles = [lm.base_model.register_forward_pre_hook(on_inputs, with_kwargs=True)]
    for layer in layers:
        handles += [layer.self_attn.register_forward_hook(on_attention), layer.mlp.register_forward_hook(on_mlp)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _scaled_loss(lm: torch.nn.Module, inputs: dict[str, torch.Tensor], scale: float,
                 item_tokens: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(`scale` x the target loss to back-propagate, the target loss): the forward of the DDP-wrapped step."""
    loss = target_loss(lm, inputs, item_tokens)
    return (loss * scale if scale != 1.0 else loss), loss


def _length(example: Example | Packed) -> int:
    """Input positions of an example or packed row (no padding)."""
    if isinstance(example, Packed):
        return len(example.track) + target_tokens(example)
    return len(example.prompt) + len(example.target)


def _batches(examples: list[Example | Packed], size: int, rng: np.random.Generator,
             bucket: int = 50) -> list[list[Example | Packed]]:
    """Batches of `size` examples (a packed row counts its branches) and similar length (sorted inside buckets of
    `bucket` batches), in random order: less padding."""
    out = []
    for start in range(0, len(examples), size * bucket):
        batch: list[Example | Packed] = []
        count = 0
        for example in sorted(examples[start:start + size * bucket], key=_length):
            batch.append(example)
            count += targets(example)
            if count >= size:
                out.append(batch)
                batch, count = [], 0
        if batch:
            out.append(batch)
    return [out[i] for i in rng.permutation(len(out))]


LR_FLOOR = 0.1  # the cosine decay ends at 10% of the peak rate (nanoGPT's min_lr = lr / 10)


def cosine_lr(step: int, total: int, warmup: int, spent: float = 0.0) -> float:
    """Multiplier of the peak rate before optimiser step `step` (0-based): linear warm-up over `warmup` steps, then
    cosine decay to LR_FLOOR (nanoGPT get_lr). The decay's progress is the larger of the step fraction and `spent`
    (the share of a time budget used since warm-up ended, `Budget.spent`), so it reaches the floor when either runs
    out."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, max((step - warmup) / max(1, total - warmup), spent))
    return LR_FLOOR + (1.0 - LR_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass
class Budget:
    """A wall-clock training budget in seconds as the learning-rate schedule sees it (`gen.schedule` "budget").

    Validation eats the same budget: `reserve` (the costliest validation so far) is kept back for validating the
    last weights, so training stops at `seconds - reserve` and the decay is sized to end there. The decay's time
    starts when warm-up ends (`decay_from`), so the rate is continuous; elapsed times are rank 0's under DDP.
    """

    seconds: float  # inf: no budget
    reserve: float = 0.0
    decay_from: float | None = None  # elapsed seconds at the end of warm-up (None: still warming up)

    @property
    def train_until(self) -> float:
        """Elapsed seconds at which training stops (the validation of the last weights fits in the rest)."""
        return self.seconds - self.reserve

    def spent(self, elapsed: float) -> float:
        """Share of the decay's time used at `elapsed` seconds: 0 until warm-up ends, 1 at `train_until`."""
        if self.decay_from is None or not math.isfinite(self.seconds):
            return 0.0
        left = self.train_until - self.decay_from
        return 1.0 if left <= 0 else min(1.0, max(0.0, (elapsed - self.decay_from) / left))


def validate(model: GenerativeRecommender, split: Split, users: np.ndarray, stage: str = "valid",
             ks: tuple[int, ...] = (5, 10)) -> dict[str, float]:
    """Recall/NDCG@ks of beam search for `users` at `stage` (full ranking; non-generated items rank last)."""
    scores = model.score(users, stage)
    return rank_metrics(scores, split.history(stage)[users], split.heldout(stage)[users], ks)


def _valid_users(split: Split, n: int, rng: np.random.Generator) -> np.ndarray:
    users = split.eval_users("valid")
    return np.sort(rng.choice(users, n, replace=False)) if 0 < n < len(users) else users


def fit_generative(model: GenerativeRecommender, split: Split, *, progress: bool = False,
                   on_epoch: Callable[[dict[str, float]], None] | None = None,
                   clock: Callable[[], float] = time.perf_counter) -> GenFitReport:
    """Train `model.lm` on the alignment tasks from the split's training sequences; keep the best epoch.

    With `progress`, a step bar on a terminal, else one line per epoch on stdout. The budget `cfg.max_minutes`
    is checked after every batch: training stops when it is spent and keeps the best validated weights (the current
    weights are validated once if no validation has run yet). With `cfg.schedule` "budget" the cosine decay ends
    when the budget does (`cosine_lr`'s `spent`, from `Budget`), training stops a validation's cost early and the
    last, decayed weights are validated; "epochs" decays over `max_epochs` only and skips validating a cut epoch.
    `clock` is read once per step (tests pass a fake one); under DDP only rank 0's readings count.
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
    steps_per_epoch = math.ceil(sum(targets(e) for e in first) / cfg.batch_size)
    total = steps_per_epoch * cfg.max_epochs
    warmup = max(1, int(cfg.warmup_frac * total))
    optimiser = torch.optim.AdamW(lm.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    # own generator: the sample must not depend on how many draws the tasks made (same users for every variant)
    valid_users = _valid_users(split, cfg.valid_users, np.random.default_rng(cfg.seed))
    report = GenFitReport(examples_per_epoch=sum(targets(e) for e in first), schedule=cfg.schedule)
    best_state, stale, start = copy.deepcopy(lm.state_dict()), 0, clock()

    def elapsed() -> float:
        """Seconds since the start on rank 0's clock: every rank stops on the same batch with the same rates."""
        return group.from_main(lambda: clock() - start)

    budget = Budget(60 * cfg.max_minutes if cfg.max_minutes > 0 else float("inf"))
    sized = cfg.schedule == "budget"  # else the old rule: decay over max_epochs, stop at the budget unvalidated
    spent = 0.0
    pad_id, sep_id = tok.token_id(PAD), tok.token_id(SEP)
    bool_mask = getattr(lm.config, "_attn_implementation", "sdpa") != "eager"
    console = Console()
    lines = progress and not console.is_terminal  # a log file gets one line per epoch, a terminal a live bar
    with (hidden_dropout(lm, cfg.hidden_dropout),
          Progress(transient=True, disable=not progress or lines, console=console) as bar):
        task = bar.add_task("training gen", total=total)
        for epoch in range(1, cfg.max_epochs + 1):
            if sized and report.history and elapsed() >= budget.train_until:
                report.stopped_by = "time_budget"  # the last validation used up the rest: no epoch of one step
                break
            # --- one epoch of steps, stopping mid-epoch when the budget is spent
            examples = first if epoch == 1 else build_epoch(cfg, data, epoch, rng, text_pool, intent_pool)
            lm.train()
            losses = []
            report.epochs_run = epoch
            epoch_start = clock()
            for batch in _batches(examples, cfg.batch_size, rng):
                local, weight = group.share(batch)  # this rank's examples [rank::world] of the global batch
                scale = group.loss_scale(sum(target_tokens(e) for e in local), sum(target_tokens(e) for e in batch))
                rows = (collate_packed(local, pad_id, sep_id, bool_mask) if cfg.pack else collate(local, pad_id))
                inputs = {k: v.to(device) for k, v in rows.items()}
                report.positions += sum(_length(e) for e in local)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                    scaled, loss = step(inputs, scale * weight)
                if not torch.isfinite(loss):
                    raise GenerativeError(f"non-finite loss at epoch {epoch}: lower gen.lr (now {cfg.lr})")
                optimiser.zero_grad(set_to_none=True)
                scaled.backward()
                torch.nn.utils.clip_grad_norm_(lm.parameters(), cfg.grad_clip)
                report.lr_mult = cosine_lr(report.steps, total, warmup, spent)
                for group_params in optimiser.param_groups:
                    group_params["lr"] = cfg.lr * report.lr_mult
                optimiser.step()
                losses.append(loss.item())
                report.steps += 1
                bar.advance(task)
                now = elapsed()
                if sized:
                    if budget.decay_from is None and report.steps >= warmup:
                        budget.decay_from = now
                    spent = budget.spent(now)
                if now >= (budget.train_until if sized else budget.seconds):
                    report.stopped_by = "time_budget"
                    break
            report.step_seconds += clock() - epoch_start
            out_of_time = report.stopped_by == "time_budget"
            if out_of_time and report.history and not sized:
                break  # beam-search validation is the expensive part: keep the best validated weights
            # --- validation and early stopping on NDCG@10 (with the budget schedule also of the last, decayed weights)
            valid_from = elapsed()
            metrics = group.from_main(lambda: validate(model, split, valid_users))  # beam search on rank 0 only
            budget.reserve = max(budget.reserve, elapsed() - valid_from)
            loss_sum, loss_n = group.sum([sum(losses), len(losses)])  # the mean over ranks
            row = {"epoch": epoch, "loss": loss_sum / loss_n if loss_n else float("nan"),
                   "seconds": clock() - start, "lr_mult": report.lr_mult,
                   **{f"valid_{k}": v for k, v in metrics.items()}}
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
