"""Generative recommender: a transformers causal LM (Qwen2 or Llama) over item-code tokens, decoded by beam search
constrained to a trie of valid codes (TIGER, Rajput et al., NeurIPS 2023; Semantic Convergence, Li et al., AAAI
2025; LC-Rec, Zheng et al., ICDE 2024).

The model is built from a size preset, or warm-started from a local pretrained directory with our special and code
tokens added. Decoding runs step by step with the KV cache, batched over users; the per-step choice of beams is
`appliance.generative.trie.beam_step` (numpy), which a torch-free ONNX decoder can reuse unchanged.
With GenConfig.history_layout "items", each history item is one input position embedded as the sum of its code-token
embeddings (TIGER; GRID handbook, Ju et al. 2025), so prompts are L times shorter; the next item is still decoded
code token by code token through the trie.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedModel, Qwen2Config, Qwen2ForCausalLM

from appliance.config import GenConfig
from appliance.data.splits import Split
from appliance.generative.tasks import LAYOUTS, GenerativeError, seq_prompt
from appliance.generative.tokenizer import BOS, EOS, PAD, SPECIAL_TOKENS, GenTokenizer, build_tokenizer, code_token
from appliance.generative.train import ITEM_TABLE, attach_item_table, embed_inputs, fit_generative, item_token_table
from appliance.generative.trie import CodeTrie, beam_step, build_exclusions, finish, initial_state
from appliance.models.contract import FitInfo

ARCHS = {"qwen2": (Qwen2Config, Qwen2ForCausalLM), "llama": (LlamaConfig, LlamaForCausalLM)}


@dataclass(frozen=True)
class SizePreset:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int


PRESETS = {
    "tiny": SizePreset(16, 1, 2, 1, 32),  # unit tests: odd-free but minimal, trains in seconds
    "small": SizePreset(64, 2, 4, 2, 256),  # a few epochs of Beauty per 30 minutes on 2 shared CPU cores
    "medium": SizePreset(128, 2, 4, 2, 512),  # small twice as wide: about 2x its step time on 2 CPU cores
    "base": SizePreset(128, 4, 4, 2, 512),  # TIGER-sized (d=128, 4 layers): about 10x small, for a GPU or patience
}
MAX_POSITIONS = 512  # prompt (history_len * 4 + text) plus target never comes close


def build_lm(cfg: GenConfig, tok: GenTokenizer) -> PreTrainedModel:
    """A fresh causal LM sized by `cfg.preset`, or the local pretrained model with our tokens added."""
    if cfg.arch not in ARCHS:
        raise GenerativeError(f"unknown arch {cfg.arch!r}: use one of {', '.join(ARCHS)}")
    if cfg.history_layout not in LAYOUTS:
        raise GenerativeError(f"unknown gen.history_layout {cfg.history_layout!r}: use one of {', '.join(LAYOUTS)}")
    if cfg.pretrained_dir:
        return _warm_start(cfg, tok)
    if cfg.preset not in PRESETS:
        raise GenerativeError(f"unknown preset {cfg.preset!r}: use one of {', '.join(PRESETS)}")
    p = PRESETS[cfg.preset]
    config_cls, model_cls = ARCHS[cfg.arch]
    config = config_cls(
        vocab_size=tok.vocab_size, hidden_size=p.hidden, num_hidden_layers=p.layers, num_attention_heads=p.heads,
        num_key_value_heads=p.kv_heads, intermediate_size=p.intermediate, max_position_embeddings=MAX_POSITIONS,
        attention_dropout=cfg.dropout, tie_word_embeddings=True, pad_token_id=tok.token_id(PAD),
        bos_token_id=tok.token_id(BOS), eos_token_id=tok.token_id(EOS))
    torch.manual_seed(cfg.seed)
    return model_cls(config)


def _warm_start(cfg: GenConfig, tok: GenTokenizer) -> PreTrainedModel:
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(cfg.pretrained_dir, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise GenerativeError(f"cannot load the pretrained model in {cfg.pretrained_dir}: {exc}") from None
    model.resize_token_embeddings(tok.vocab_size)
    return model


def pretrained_tokenizer(directory: str | Path, level_sizes: tuple[int, ...]) -> GenTokenizer:
    """The tokenizer.json of a local pretrained model plus our special and code tokens (appended at the end)."""
    path = Path(directory) / "tokenizer.json"
    if not path.is_file():
        raise GenerativeError(f"{path} not found: a warm start needs the model's fast tokenizer file")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.add_special_tokens([t for t in SPECIAL_TOKENS if tokenizer.token_to_id(t) is None])
    tokenizer.add_special_tokens([code_token(d, v) for d, size in enumerate(level_sizes) for v in range(size)])
    tok = GenTokenizer(tokenizer, tuple(level_sizes))
    tok.check()
    return tok


class GenerativeRecommender:
    """Recommender contract (appliance.models.contract) around a causal LM over item codes.

    `codes` (n_items, L) are the semantic IDs of the split's dense items; `item_texts` (per dense item) feed the
    tokenizer and the text task; `intent_texts` (user row -> text) feed the intent task.
    """

    name = "gen"

    def __init__(self, cfg: GenConfig, codes: np.ndarray, *, item_texts: list[str] | None = None,
                 intent_texts: dict[int, str] | None = None, level_sizes: tuple[int, ...] | None = None) -> None:
        self.cfg = cfg
        self.trie = CodeTrie(codes, level_sizes)
        self.codes = self.trie.codes
        self.item_texts = item_texts
        self.intent_texts = intent_texts
        self.tokenizer: GenTokenizer | None = None
        self.lm: PreTrainedModel | None = None
        self.split: Split | None = None
        self.fit_report: Any = None

    # --- building and training
    def build(self) -> None:
        """Tokenizer (from item texts, or code tokens only) and a fresh LM."""
        sizes = self.trie.level_sizes
        if self.cfg.pretrained_dir:
            self.tokenizer = pretrained_tokenizer(self.cfg.pretrained_dir, sizes)
        else:
            self.tokenizer = build_tokenizer(self.item_texts or [""], sizes, vocab_size=self.cfg.text_vocab)
        self.lm = build_lm(self.cfg, self.tokenizer)
        if self.cfg.item_embeddings:
            if not self.item_positions:
                raise GenerativeError("gen.item_embeddings needs gen.history_layout = \"items\"")
            attach_item_table(self.lm, self.trie.n_items)

    def fit(self, split: Split, *, progress: bool = False) -> FitInfo:
        """Train on the split's training sequences with early stopping on validation NDCG@10.

        The per-epoch history (loss, validation metrics, time) stays in `self.fit_report`.
        """
        if split.n_items != self.trie.n_items:
            raise GenerativeError(f"the split has {split.n_items} items but the codes cover {self.trie.n_items}")
        self.bind(split)
        if self.lm is None:
            self.build()
        r = self.fit_report = fit_generative(self, split, progress=progress)
        return FitInfo(r.seconds, r.epochs_run, r.best_epoch, r.best_score,
                       {"examples_per_epoch": float(r.examples_per_epoch)})

    def bind(self, split: Split) -> None:
        """Attach the split whose sequences `score` reads (a loaded model needs this before scoring)."""
        self.split = split

    # --- inference
    def recommend_topk(self, users: np.ndarray, k: int, stage: str = "test") -> tuple[np.ndarray, np.ndarray]:
        """(len(users), k) item indices and log-probabilities at `stage`, history excluded, -1 if fewer found."""
        split = self._need_split()
        seqs, history = split.sequences(stage), split.history(stage)
        users = np.asarray(users, np.int64)
        hist = [history.indices[history.indptr[u]:history.indptr[u + 1]] for u in users]
        return self.recommend_for([seqs[u] for u in users], hist, k)

    def recommend_for(self, sequences: Sequence[np.ndarray], histories: Sequence[np.ndarray], k: int,
                      batch_users: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (item indices, scores) for explicit input sequences, never returning items in `histories`."""
        if self.lm is None or self.tokenizer is None:
            raise GenerativeError("the model is not fitted or loaded: call fit() or load() first")
        out_items, out_scores = [np.zeros((0, k), np.int64)], [np.zeros((0, k), np.float32)]
        for start in range(0, len(sequences), batch_users):
            batch = sequences[start:start + batch_users]
            prompts = [seq_prompt(self.tokenizer, self.codes, s, self.cfg.history_len, self.item_positions)
                       for s in batch]
            items, scores = generate(self.lm, self.tokenizer, self.trie, prompts,
                                     list(histories[start:start + batch_users]), k, max(k, self.cfg.beam))
            out_items.append(items)
            out_scores.append(scores)
        return np.concatenate(out_items), np.concatenate(out_scores)

    @property
    def item_positions(self) -> bool:
        """True when a history item is one input position (GenConfig.history_layout "items")."""
        return self.cfg.history_layout == "items"

    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        """(len(users), n_items) float32: beam log-probabilities for the beam's items, -inf elsewhere."""
        items, scores = self.recommend_topk(np.asarray(users), self.cfg.beam, stage)
        dense = np.full((len(items), self.trie.n_items), -np.inf, np.float32)
        rows, cols = np.nonzero(items >= 0)
        dense[rows, items[rows, cols]] = scores[rows, cols]
        return dense

    def _need_split(self) -> Split:
        if self.split is None or self.lm is None or self.tokenizer is None:
            raise GenerativeError("the model is not fitted or not bound to a split: call fit() or bind() first")
        return self.split

    # --- persistence (arrays + JSON, so checkpoint.save_artifact can hash and version them)
    def to_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        if self.lm is None or self.tokenizer is None:
            raise GenerativeError("nothing to save: the model is not built")
        arrays = {"codes": self.codes,
                  "tokenizer": np.frombuffer(self.tokenizer.to_str().encode(), np.uint8)}
        for key, value in self.lm.state_dict().items():
            arrays[f"w.{key}"] = value.detach().float().cpu().numpy()
        meta = {"gen_config": dataclasses.asdict(self.cfg), "level_sizes": list(self.trie.level_sizes),
                "model_type": self.lm.config.model_type, "model_config": json.loads(self.lm.config.to_json_string()),
                "fit": _report_dict(self.fit_report)}
        return arrays, meta

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> GenerativeRecommender:
        raw = dict(meta["gen_config"])
        raw["tasks"] = tuple(raw["tasks"])
        raw.setdefault("history_layout", "tokens")  # saved before the field existed: L code tokens per item
        model = cls(GenConfig(**raw), arrays["codes"], level_sizes=tuple(meta["level_sizes"]))
        model.tokenizer = GenTokenizer.from_str(arrays["tokenizer"].tobytes().decode(), model.trie.level_sizes)
        if meta["model_type"] not in ARCHS:
            raise GenerativeError(f"saved model type {meta['model_type']!r} is not supported")
        config_cls, model_cls = ARCHS[meta["model_type"]]
        model.lm = model_cls(config_cls.from_dict(meta["model_config"]))
        state = {k[2:]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith("w.")}
        if f"{ITEM_TABLE}.weight" in state:
            attach_item_table(model.lm, model.trie.n_items)
        model.lm.load_state_dict(state)
        model.lm.eval()
        return model

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays, meta = self.to_state()
        for name, array in arrays.items():
            np.save(directory / f"{name}.npy", array, allow_pickle=False)
        (directory / "config.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> GenerativeRecommender:
        directory = Path(directory)
        try:
            meta = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GenerativeError(f"{directory} holds no saved generative model (config.json missing)") from None
        arrays = {p.name.removesuffix(".npy"): np.load(p, allow_pickle=False) for p in directory.glob("*.npy")}
        return cls.from_state(arrays, meta)


def _report_dict(report: Any) -> dict[str, Any]:
    if report is None:
        return {}
    return {k: v for k, v in dataclasses.asdict(report).items() if k != "history"}


@torch.inference_mode()
def generate(lm: PreTrainedModel, tok: GenTokenizer, trie: CodeTrie, prompts: list[list[int]],
             histories: list[np.ndarray], k: int, beam: int) -> tuple[np.ndarray, np.ndarray]:
    """Trie-constrained beam search for a batch of prompts; returns (B, k) item indices and scores.

    Step 0 runs the left-padded prompts once; every later step feeds one code token per beam and reuses the KV
    cache, reordered by each beam's parent. Items in `histories[b]` are never produced for prompt b. Prompt entries
    -(i + 1) (history_layout "items") are embedded as the sum of item i's code-token embeddings.
    """
    lm.eval()
    device = next(lm.parameters()).device
    n, width = len(prompts), max(len(p) for p in prompts)  # batch size, prompt length after left padding
    ids = torch.full((n, width), tok.token_id(PAD), dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    for b, prompt in enumerate(prompts):
        ids[b, width - len(prompt):] = torch.tensor(prompt)
        mask[b, width - len(prompt):] = 1
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    ids, mask, positions = ids.to(device), mask.to(device), positions.to(device)
    exclusions = build_exclusions(trie, histories)
    offsets = tok.code_offsets
    state, past = initial_state(n), None
    item_tokens = item_token_table(tok, trie.codes).to(device) if bool((ids < 0).any()) else None
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        for level in range(trie.depth):
            if level == 0 and item_tokens is not None:
                inputs = {"inputs_embeds": embed_inputs(lm, ids, item_tokens)}
            else:
                inputs = {"input_ids": ids}
            out = lm(**inputs, attention_mask=mask, position_ids=positions, past_key_values=past, use_cache=True)
            logprobs = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1)  # (rows, V)
            lo = int(offsets[level])
            level_lp = logprobs[:, lo: lo + trie.level_sizes[level]].cpu().numpy()
            state = beam_step(trie, state, level_lp, beam, exclusions)
            if level + 1 == trie.depth:
                break
            parents = torch.from_numpy(state.parents).to(device)
            past = out.past_key_values
            past.batch_select_indices(parents)
            ids = torch.from_numpy(offsets[level] + state.values).to(device)[:, None]
            mask = torch.cat([mask[parents], torch.ones_like(mask[parents][:, :1])], dim=1)
            positions = positions[parents][:, -1:] + 1
    return finish(trie, state, k)
