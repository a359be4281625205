"""SASRec: self-attentive sequential recommendation (Kang & McAuley, ICDM 2018) behind the Recommender contract.

A causal Transformer over each user's most recent `max_len` items (learned positions, pre-LayerNorm blocks as in
the authors' code, item embeddings shared with the output layer). Unlike the paper's BPR loss with one sampled
negative, it trains with full-softmax cross-entropy over all items at every position, the recipe measured best on
Amazon Beauty in DESIGN.md (Klenitskiy & Vasilev, RecSys 2023 report the same). Plain seeded loop, Adam, early
stopping on validation NDCG@10; `score` ranks all items from the last position of `split.sequences(stage)`.
`train_sasrec` fits it on the store's split under a wall-clock budget and saves a versioned "sasrec" artifact.

With `sasrec.intents` (`tanaban train sasrec --intents`) training adds IRLLRec's intent alignment (Wang et al.,
SIGIR 2025; the paper calls it model-agnostic) on the sequence representation: the last position's hidden state,
re-expressed over K learnable intent prototypes (`intent_aware`), is aligned by InfoNCE with the text intent of the
same input sequence (the mean of its items' intent distributions over the intents artifact's text prototypes,
projected by an MLP), weight `sasrec.intent_weight`. The alignment parameters only shape training: scoring, the
artifact and the ONNX export are SASRec's own.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from appliance.config import ApplianceConfig, SASRecConfig
from appliance.data.artifacts import data_fingerprint, load_artifact, save_artifact
from appliance.data.locks import store_writer
from appliance.data.splits import STAGES, Split
from appliance.errors import UserError
from appliance.models.contract import FitInfo
from appliance.models.distributed import Step, current
from appliance.models.intent_losses import infonce, intent_aware

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.pt"
ARTIFACT_KIND = "sasrec"  # <artifacts>/sasrec/<version>/: weights as net.<name>.npy, user_ids, item_ids, manifest
VALID_METRIC = "ndcg@10"  # early stopping metric (the DESIGN.md Beauty reference reports N@10)
Progress = Callable[[int, dict[str, float]], None]  # (epoch, row): called after every epoch, see `fit`
_DEFAULT = SASRecConfig()  # frozen, so sharing it as a default is safe
INTENT_TEMPERATURE = 0.2  # InfoNCE temperature of the intent alignment (IRLLRec reference setting)
INTENT_PROTOTYPES = 128  # K interaction-intent prototypes (IRLLRec reference setting)


class SASRecError(UserError, RuntimeError):
    """SASRec cannot be trained, scored or loaded (no training sequences, untrained model, missing files)."""


class _Block(nn.Module):
    """One self-attention block of the reference code: Q = LN(x); x = Q + MHA(Q, x, x); x = LN(x) + FFN(LN(x))."""

    def __init__(self, cfg: SASRecConfig) -> None:
        super().__init__()
        self.attn_norm = nn.LayerNorm(cfg.dim, eps=1e-8)
        self.attn = nn.MultiheadAttention(cfg.dim, cfg.heads, dropout=cfg.dropout, batch_first=True)
        self.ffn_norm = nn.LayerNorm(cfg.dim, eps=1e-8)
        self.ffn = nn.Sequential(nn.Linear(cfg.dim, cfg.dim), nn.Dropout(cfg.dropout), nn.ReLU(),
                                 nn.Linear(cfg.dim, cfg.dim), nn.Dropout(cfg.dropout))

    def forward(self, x: torch.Tensor, blocked: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        q = self.attn_norm(x)
        out, _ = self.attn(q, x, x, attn_mask=blocked, need_weights=False)
        x = self.ffn_norm(q + out)
        return (x + self.ffn(x)) * keep


class SASRecNet(nn.Module):
    """Item indices shifted by one (0 = padding, sequences left-padded) -> hidden state per position."""

    def __init__(self, n_items: int, cfg: SASRecConfig) -> None:
        super().__init__()
        if cfg.dim % cfg.heads:  # also checked by load_config (check_config); this guards configs built in code
            raise SASRecError(f"sasrec.dim ({cfg.dim}) must be a multiple of sasrec.heads ({cfg.heads})")
        self.cfg = cfg
        self.item_emb = nn.Embedding(n_items + 1, cfg.dim, padding_idx=0)
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.dim)
        self.emb_dropout = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(_Block(cfg) for _ in range(cfg.blocks))
        self.last_norm = nn.LayerNorm(cfg.dim, eps=1e-8)
        # Xavier-normal embeddings as in the reference PyTorch code: nn.Embedding's N(0, 1) times sqrt(dim) makes
        # the shared output layer's initial logits so large that full-softmax training stalls near popularity.
        for emb in (self.item_emb, self.pos_emb):
            nn.init.xavier_normal_(emb.weight)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """(B, L) shifted item ids, L <= max_len, right-aligned -> (B, L, dim); padded positions give zeros.

        Padding keys are masked out of attention (each position may always see itself so no row is empty), so
        cropping shared left padding leaves the outputs unchanged: batches are cut to their longest sequence.
        """
        length = seqs.shape[1]
        keep = (seqs > 0).unsqueeze(-1).to(self.item_emb.weight.dtype)  # (B, L, 1)
        positions = torch.arange(self.cfg.max_len - length, self.cfg.max_len, device=seqs.device)
        x = self.item_emb(seqs) * self.cfg.dim ** 0.5 + self.pos_emb(positions)
        x = self.emb_dropout(x) * keep
        # Masks from index comparisons rather than torch.eye / torch.tril: ONNX Runtime has no boolean EyeLike or
        # Trilu kernels, and export/sasrec.py exports this very forward.
        idx = torch.arange(length, device=seqs.device)
        eye, causal = idx[:, None] == idx[None, :], idx[:, None] >= idx[None, :]  # (L, L) each
        allowed = causal & ((seqs > 0).unsqueeze(1) | eye)  # (B, L query, L key)
        blocked = (~allowed).repeat_interleave(self.cfg.heads, dim=0)  # (B * heads, L, L): True = not attended
        for block in self.blocks:
            x = block(x, blocked, keep)
        return self.last_norm(x) * keep

    def item_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """(..., dim) hidden states -> (..., n_items) scores against the shared item embeddings."""
        return hidden @ self.item_emb.weight[1:].T


class IntentAlignment(nn.Module):
    """IRLLRec's pairwise intent alignment as a plug-in: interaction intents from K prototypes over the sequence
    representation, text intents of the same sequence projected into SASRec's space, InfoNCE between them."""

    def __init__(self, dim: int, item_text_intents: np.ndarray) -> None:
        super().__init__()
        text_dim = item_text_intents.shape[1]
        table = np.vstack([np.zeros((1, text_dim), np.float32), item_text_intents.astype(np.float32)])
        self.register_buffer("item_text", torch.from_numpy(table))  # (n_items + 1, D): row 0 = padding
        self.prototypes = nn.Parameter(nn.init.xavier_uniform_(torch.empty(dim, INTENT_PROTOTYPES)))  # (d, K)
        self.project = nn.Sequential(nn.Linear(text_dim, dim), nn.LeakyReLU(), nn.Linear(dim, dim))

    def forward(self, inputs: torch.Tensor, hidden_last: torch.Tensor) -> torch.Tensor:
        """inputs (B, L) shifted item ids, hidden_last (B, d) -> scalar InfoNCE loss."""
        known = (inputs > 0).unsqueeze(-1).float()  # (B, L, 1)
        text = (self.item_text[inputs] * known).sum(dim=1) / known.sum(dim=1).clamp(min=1.0)  # (B, D)
        return infonce(intent_aware(hidden_last, self.prototypes), self.project(text), INTENT_TEMPERATURE)


def padded_inputs(sequences: Sequence[np.ndarray], width: int) -> np.ndarray:
    """(n, width) int64: the last `width` items of each sequence, shifted by one, left-padded with 0."""
    out = np.zeros((len(sequences), width), dtype=np.int64)
    for row, seq in enumerate(sequences):
        tail = np.asarray(seq, dtype=np.int64)[-width:] + 1 if width else np.zeros(0, np.int64)
        if len(tail):
            out[row, width - len(tail):] = tail
    return out


def _crop(batch: np.ndarray) -> np.ndarray:
    """Drop the left columns that are padding in every row (keeps at least one column)."""
    used = np.flatnonzero(batch.any(axis=0))
    return batch[:, used[0]:] if len(used) else batch[:, -1:]


class SASRecRecommender:
    """SASRec with full-softmax cross-entropy; `fit` keeps the weights of the best validation NDCG@10."""

    name = "sasrec"

    def __init__(self, cfg: SASRecConfig = _DEFAULT, *, progress: Progress | None = None,
                 item_text_intents: np.ndarray | None = None) -> None:
        """`item_text_intents` (n_items, D): each item's text intent (intent distribution @ text prototypes), which
        `cfg.intents` needs to train (see the module docstring)."""
        self.cfg, self.progress = cfg, progress
        self.item_text_intents = item_text_intents if cfg.intents else None
        self.alignment: IntentAlignment | None = None
        self.net: SASRecNet | None = None
        self.inputs: dict[str, np.ndarray] = {}  # stage -> (n_users, max_len) padded input sequences
        self.history: list[dict[str, float]] = []  # per validation: epoch, loss, ndcg@10, seconds
        self.stopped = ""  # after fit: "max_epochs", "early_stopping" or "time_budget"

    # --- training
    def fit(self, split: Split) -> FitInfo:
        cfg = self.cfg
        if cfg.intents and self.item_text_intents is None:
            raise SASRecError("sasrec.intents needs the items' text intents: run `tanaban intents build` first, or "
                              "train without --intents")
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        train = padded_inputs(split.train_sequences, cfg.max_len + 1)  # inputs [:, :-1], targets [:, 1:]
        train = train[(train > 0).sum(axis=1) >= 2]  # a sequence needs one transition to teach anything
        if not len(train):
            raise SASRecError("no user has two training interactions: SASRec needs sequences to learn from")
        self.inputs = {stage: padded_inputs(split.sequences(stage), cfg.max_len) for stage in STAGES}
        self.net = SASRecNet(split.n_items, cfg)
        params = list(self.net.parameters())
        if self.item_text_intents is not None:
            self.alignment = IntentAlignment(cfg.dim, self.item_text_intents)
            params += list(self.alignment.parameters())
        optimizer = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        # DDP under torchrun (appliance.models.distributed): gradients averaged over ranks; a plain call otherwise
        self._step = current().wrap(Step(self._batch_loss, net=self.net, alignment=self.alignment))
        start, best, best_epoch, best_state, stale, epoch = time.perf_counter(), -1.0, 0, None, 0, 0
        deadline = start + cfg.max_seconds if cfg.max_seconds > 0 else None
        self.history, self.stopped, score = [], "max_epochs", float("nan")
        for epoch in range(1, cfg.max_epochs + 1):
            loss, over = self._epoch(train, optimizer, rng, deadline)  # over: the budget ran out, maybe mid-epoch
            validating = over or not epoch % max(cfg.eval_every, 1) or epoch == cfg.max_epochs
            score = current().from_main(lambda: self.validate(split)) if validating else score  # rank 0 validates
            row = {"epoch": epoch, "loss": loss, VALID_METRIC: score, "seconds": time.perf_counter() - start,
                   "validated": float(validating)}
            if self.progress is not None:  # every epoch; VALID_METRIC is the latest validation (NaN before one)
                self.progress(epoch, row)
            if not validating:
                continue
            self.history.append({k: v for k, v in row.items() if k != "validated"})
            if score > best:
                best, best_epoch, best_state, stale = score, epoch, copy.deepcopy(self.net.state_dict()), 0
            else:
                stale += 1
            if over or stale >= cfg.patience:
                self.stopped = "time_budget" if over else "early_stopping"
                break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        self.net.eval()
        return FitInfo(seconds=time.perf_counter() - start, epochs=epoch, best_epoch=best_epoch, best_score=best,
                       extra={"loss": self.history[-1]["loss"] if self.history else float("nan")})

    def _epoch(self, train: np.ndarray, optimizer: torch.optim.Optimizer, rng: np.random.Generator,
               deadline: float | None = None) -> tuple[float, bool]:
        """One pass over the training sequences in shuffled batches, cut short once `deadline` (perf_counter) has
        passed; returns the mean cross-entropy per target and whether the deadline was reached."""
        assert self.net is not None
        self.net.train()
        group = current()  # under torchrun: this rank takes rows [rank::world] of each global batch
        total, count = 0.0, 0
        order = rng.permutation(len(train))
        for begin in range(0, len(order), self.cfg.batch_size):
            if deadline is not None and group.stop_now(time.perf_counter() >= deadline):  # rank 0 decides
                total, count = group.sum([total, count])
                return total / max(count, 1), True
            rows = _crop(train[order[begin:begin + self.cfg.batch_size]])  # crop the global batch, then share it
            local, weight = group.share(rows)
            batch = torch.from_numpy(np.ascontiguousarray(local))
            inputs, targets = batch[:, :-1], batch[:, 1:]
            known = int((targets > 0).sum())
            scale = group.loss_scale(known, (rows[:, 1:] > 0).sum()) * weight  # DDP's mean = the global mean
            loss, shown = self._step(inputs, targets, scale, weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += shown * known * weight
            count += int(known * weight)
        total, count = group.sum([total, count])
        return total / max(count, 1), deadline is not None and group.stop_now(time.perf_counter() >= deadline)

    def _batch_loss(self, inputs: torch.Tensor, targets: torch.Tensor, scale: float,
                    weight: float) -> tuple[torch.Tensor, float]:
        """(loss to back-propagate: the mean cross-entropy times `scale` plus the weighted intent alignment, the
        unscaled loss for the progress line); the forward of the DDP-wrapped `Step`."""
        assert self.net is not None
        hidden = self.net(inputs)
        known = targets > 0
        logits = self.net.item_logits(hidden[known])  # only real positions: far fewer rows than B x L
        loss = nn.functional.cross_entropy(logits, targets[known] - 1)
        shown, loss = loss, loss * scale
        if self.alignment is not None:  # the sequence representation: the last position's hidden state
            align = self.cfg.intent_weight * self.alignment(inputs, hidden[:, -1])
            shown, loss = shown + align, loss + align * weight
        return loss, float(shown.detach())

    def validate(self, split: Split) -> float:
        """Validation NDCG@10 (training history masked, full ranking) with the current weights."""
        from appliance.models.metrics import evaluate

        return evaluate(self, split, "valid", ks=(10,))[VALID_METRIC]

    # --- inference
    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        """(len(users), n_items) float32 logits from the last position of each user's `stage` input sequence."""
        if self.net is None or stage not in self.inputs:
            raise SASRecError("sasrec is not trained: call fit() or load a saved model"
                              if self.net is None else f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
        users = np.asarray(users, dtype=np.int64)
        was_training = self.net.training
        self.net.eval()
        with torch.no_grad():
            seqs = torch.from_numpy(_crop(self.inputs[stage][users]))
            scores = self.net.item_logits(self.net(seqs)[:, -1]).numpy().astype(np.float32)
        self.net.train(was_training)
        return scores

    # --- persistence
    def config_dict(self) -> dict[str, Any]:
        n_items = 0 if self.net is None else self.net.item_emb.num_embeddings - 1
        return {"model": self.name, "n_items": n_items, "sasrec": dataclasses.asdict(self.cfg),
                "history": self.history}

    def save(self, directory: Path) -> None:
        """config.json (resolved config, catalog size, validation curve) and weights.pt (weights + input sequences)."""
        if self.net is None:
            raise SASRecError("sasrec is not trained: nothing to save")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {"net": self.net.state_dict(), "inputs": {k: torch.from_numpy(v) for k, v in self.inputs.items()}}
        torch.save(state, directory / WEIGHTS_FILE)
        (directory / CONFIG_FILE).write_text(json.dumps(self.config_dict(), indent=1) + "\n", encoding="utf-8")

    def artifact_arrays(self) -> dict[str, np.ndarray]:
        """The weights as `net.<parameter>` arrays and the input sequences as `inputs.<stage>` (the artifact's
        files), so a loaded model scores without the split."""
        if self.net is None:
            raise SASRecError("sasrec is not trained: nothing to save")
        weights = {f"net.{k}": v.detach().cpu().numpy() for k, v in self.net.state_dict().items()}
        return {**weights, **{f"inputs.{k}": v.astype(np.int32) for k, v in self.inputs.items()}}

    @classmethod
    def from_artifact(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any],
                      split: Split | None = None) -> SASRecRecommender:
        """A trained model from `artifact_arrays` and `config_dict`; `split` (the one it was trained on) rebuilds
        the input sequences instead of reading them."""
        model = cls(SASRecConfig(**meta["sasrec"]))
        model.net = SASRecNet(int(meta["n_items"]), model.cfg)
        model.net.load_state_dict({k.removeprefix("net."): torch.from_numpy(np.array(v)) for k, v in arrays.items()
                                   if k.startswith("net.")})
        model.net.eval()
        model.history = list(meta.get("history", []))
        model.inputs = ({stage: padded_inputs(split.sequences(stage), model.cfg.max_len) for stage in STAGES}
                        if split is not None else {k.removeprefix("inputs."): v.astype(np.int64)
                                                   for k, v in arrays.items() if k.startswith("inputs.")})
        return model

    @classmethod
    def load(cls, directory: Path) -> SASRecRecommender:
        directory = Path(directory)
        try:
            meta = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
            state = torch.load(directory / WEIGHTS_FILE, weights_only=True)
        except FileNotFoundError as exc:
            raise SASRecError(f"{directory} holds no saved SASRec model ({Path(exc.filename).name} missing)") from None
        model = cls(SASRecConfig(**meta["sasrec"]))
        model.net = SASRecNet(int(meta["n_items"]), model.cfg)
        model.net.load_state_dict(state["net"])
        model.net.eval()
        model.inputs = {k: v.numpy() for k, v in state["inputs"].items()}
        model.history = list(meta.get("history", []))
        return model


def make_sasrec(cfg: ApplianceConfig) -> SASRecRecommender:
    """Registry factory for `tanaban evaluate --model sasrec`."""
    return SASRecRecommender(cfg.sasrec)


@store_writer("train-sasrec")
def train_sasrec(home: Any, *, epochs: int | None = None, seed: int | None = None, lr: float | None = None,
                 time_budget_min: float | None = None, progress: Progress | None = None,
                 cfg: SASRecConfig | None = None, scope: Any = None) -> tuple[Path, dict[str, float], FitInfo]:
    """Fit SASRec on the store's split, evaluate on validation and test, save a versioned "sasrec" artifact.

    `scope` (appliance.data.pilot.PilotScope) restricts the data to a pilot's categories; the artifact records it.

    The overrides replace `home.config.sasrec` fields (`cfg` replaces the whole section; tests use tiny ones).
    Returns (artifact directory, metrics with "valid/..." and "test/..." keys, fit info).
    """
    from appliance.data.pilot import load_scoped_split, pilot_meta
    from appliance.models.metrics import evaluate

    budget = None if time_budget_min is None else time_budget_min * 60
    overrides = {k: v for k, v in (("max_epochs", epochs), ("seed", seed), ("lr", lr), ("max_seconds", budget))
                 if v is not None}
    scfg = dataclasses.replace(cfg or home.config.sasrec, **overrides)
    split = load_scoped_split(home.engine, scope, evaluation=home.config.eval)
    model = SASRecRecommender(scfg, progress=progress,
                              item_text_intents=item_text_intents(home, split) if scfg.intents else None)
    info = model.fit(split)
    if not current().is_main:  # a DDP rank other than 0 only trains: rank 0 evaluates and saves
        return Path(), {}, info
    ks = tuple(sorted({*home.config.eval.ks, 10}))  # N@10 always: `tanaban export best` compares models on it
    metrics = {f"{stage}/{k}": v for stage in STAGES for k, v in evaluate(model, split, stage, ks=ks).items()}
    arrays = {**model.artifact_arrays(), "user_ids": split.user_ids, "item_ids": split.item_ids}
    meta = {**model.config_dict(), "metrics": metrics, "evaluation": split.evaluation_record(),
            "best_epoch": info.best_epoch, "epochs": info.epochs, "stopped": model.stopped, "seconds": info.seconds,
            "data_fingerprint": data_fingerprint(home.engine), "protocol": split.protocol, **pilot_meta(scope, split)}
    return save_artifact(home.config.artifacts_dir, ARTIFACT_KIND, arrays, meta), metrics, info


def item_text_intents(home: Any, split: Split) -> np.ndarray:
    """(n_items, D) text intent of each item of `split` (its intent distribution @ the text prototypes) from the
    latest intents artifact; SASRecError with the fix when there is none or it misses items."""
    from appliance.data.artifacts import ArtifactError
    from appliance.text.intents import load_intents

    try:
        intents = load_intents(home.config.artifacts_dir)
    except ArtifactError:
        raise SASRecError("train sasrec --intents needs an intents artifact: run `tanaban intents build` first") \
            from None
    row = {int(i): r for r, i in enumerate(intents.item_ids)}
    if any(int(i) not in row for i in split.item_ids):
        raise SASRecError("the intents artifact misses items the store holds now: run `tanaban intents build` again")
    return (intents.item_dist[[row[int(i)] for i in split.item_ids]] @ intents.prototypes).astype(np.float32)


def load_sasrec(artifacts_dir: Path, version: str | None = None,
                split: Split | None = None) -> tuple[SASRecRecommender, dict[str, Any]]:
    """The trained model of a "sasrec" artifact (default: LATEST) and the artifact's manifest (user_ids, item_ids
    and metrics included); `split` as in `SASRecRecommender.from_artifact`."""
    art = load_artifact(artifacts_dir, ARTIFACT_KIND, version)
    model = SASRecRecommender.from_artifact(art.arrays, art.meta, split)
    return model, {**art.meta, "path": str(art.path), "user_ids": art.arrays["user_ids"],
                   "item_ids": art.arrays["item_ids"]}
