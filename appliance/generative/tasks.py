"""Alignment-task datasets for the generative recommender (Semantic Convergence, Li et al., AAAI 2025;
LC-Rec, Zheng et al., ICDE 2024): token-id examples built with numpy, no torch.

Tasks, each switchable in GenConfig.tasks, mixed per epoch by the weights in GenConfig:
- seq:    [BOS] <seq> codes of the last N items [SEP] -> next item code (TIGER's task)
- text:   [BOS] <item2code> item text [SEP] -> item code, and [BOS] <code2item> item code [SEP] -> item text [EOS]
- intent: [BOS] <intent> user intent text [SEP] -> code of the user's last training item
- neg:    [BOS] <neg> history codes [SEP] candidate code [SEP] -> <yes> | <no>; the candidate is the true next item
          or an item sampled uniformly among training items the user never had (a binary discrimination variant:
          it shapes the code embeddings but does not change the beam search objective)
With GenConfig.history_layout "items" (TIGER's and the GRID handbook's one position per item, Ju et al. 2025), a
history item (and the candidate of neg, the code of code2item) is ONE prompt entry, written as the negative id
-(item + 1); the model embeds it as the sum of the item's code-token embeddings (appliance.generative.train
.embed_inputs), so prompts are L times shorter. Targets are always code tokens, decoded one level at a time.
Only training sequences are used as inputs and targets (callers pass `split.sequences("valid")`), so no validation
or test item reaches training for that stage. The loss is on the target tokens only (the collator masks prompts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from appliance.config import GenConfig
from appliance.errors import UserError
from appliance.generative.tokenizer import BOS, EOS, SEP, GenTokenizer

TASKS = ("seq", "text", "intent", "neg")
LAYOUTS = ("tokens", "items")  # GenConfig.history_layout: L code tokens per history item, or one position per item


class GenerativeError(UserError, ValueError):
    """The generative recommender cannot be built, trained, loaded or used as asked; the message says why.

    Defined here, in a torch-free module, so the CLI can report it without importing torch.
    """


class Example(NamedTuple):
    prompt: list[int]  # token ids the model reads (no loss)
    target: list[int]  # token ids it must produce (loss)
    task: str
    user: int = -1  # user row the example was built from (-1: catalog text, no user data)


@dataclass(frozen=True)
class TaskData:
    """Everything the tasks read: training sequences in dense item indices, item codes, optional texts."""

    tokenizer: GenTokenizer
    codes: np.ndarray  # (n_items, L) code values per dense item index
    sequences: list[np.ndarray]  # per user row, chronological training item indices
    item_texts: list[str] | None = None  # per dense item index (title, brand, categories)
    intent_texts: dict[int, str] | None = None  # user row -> intent text (from the intent module)
    item_positions: bool = False  # history_layout "items": an item is one prompt entry -(item + 1)


def _special(tok: GenTokenizer, *names: str) -> list[int]:
    return [tok.token_id(n) for n in names]


def item_entries(tok: GenTokenizer, codes: np.ndarray, items: np.ndarray, item_positions: bool) -> list[int]:
    """Prompt entries of `items`: L code tokens each, or (item_positions) one entry -(item + 1) each."""
    items = np.asarray(items, np.int64)
    if item_positions:
        return (-items - 1).tolist()
    return tok.encode_codes(codes[items]).ravel().tolist()


def seq_prompt(tok: GenTokenizer, codes: np.ndarray, history: np.ndarray, history_len: int,
               item_positions: bool = False) -> list[int]:
    """Prompt of the sequential task for `history` (item indices, oldest first); inference uses it too."""
    recent = np.asarray(history, np.int64)[-history_len:] if history_len > 0 else np.zeros(0, np.int64)
    return [*_special(tok, BOS, "<seq>"), *item_entries(tok, codes, recent, item_positions), tok.token_id(SEP)]


def intent_prompt(tok: GenTokenizer, text: str, text_tokens: int) -> list[int]:
    return [*_special(tok, BOS, "<intent>"), *tok.encode_text(text, text_tokens), tok.token_id(SEP)]


def sequential_examples(data: TaskData, history_len: int, windows_per_user: int,
                        rng: np.random.Generator) -> list[Example]:
    """history -> next item for every prefix of every training sequence (or `windows_per_user` sampled ones)."""
    out = []
    for user, seq in enumerate(data.sequences):
        positions = np.arange(1, len(seq))
        if windows_per_user and len(positions) > windows_per_user:
            positions = np.sort(rng.choice(positions, windows_per_user, replace=False))
        for t in positions:
            prompt = seq_prompt(data.tokenizer, data.codes, seq[:t], history_len, data.item_positions)
            target = data.tokenizer.encode_codes(data.codes[seq[t]]).tolist()
            out.append(Example(prompt, target, "seq", user))
    return out


class Packed(NamedTuple):
    """Sequential examples of one user in one row (`gen.pack`): the prompt `track` ([BOS, <seq>, history entries])
    is read once, and each branch (visible, target) reads [SEP, target[:-1]] at the positions the prompt of its first
    `visible` track entries alone would give it, attending to those entries and to its own earlier tokens only
    (`appliance.generative.train.collate_packed`). The loss is the same as for the separate examples; the track's
    positions are paid once instead of once per prefix."""

    track: list[int]
    branches: list[tuple[int, list[int]]]
    task: str = "seq"
    user: int = -1


def target_tokens(example: Example | Packed) -> int:
    """Target tokens (loss terms) of an example or a packed row."""
    if isinstance(example, Packed):
        return sum(len(target) for _, target in example.branches)
    return len(example.target)


def targets(example: Example | Packed) -> int:
    """Examples an entry stands for: 1, or a packed row's branch count."""
    return len(example.branches) if isinstance(example, Packed) else 1


def packed_sequential_examples(data: TaskData, history_len: int, windows_per_user: int,
                               rng: np.random.Generator) -> list[Packed]:
    """The examples of `sequential_examples` (same prefixes, same draws from `rng`), packed: the prefixes that see
    the user's sequence from its first item share one track; a prefix longer than `history_len` (its prompt starts
    later) gets a track of its own."""
    tok, out = data.tokenizer, []
    head = _special(tok, BOS, "<seq>")
    per_item = 1 if data.item_positions else data.codes.shape[1]
    for user, seq in enumerate(data.sequences):
        positions = np.arange(1, len(seq))
        if windows_per_user and len(positions) > windows_per_user:
            positions = np.sort(rng.choice(positions, windows_per_user, replace=False))
        if history_len <= 0:  # no history in the prompt: every branch sees BOS and <seq> only
            shared, later = [int(t) for t in positions], []
        else:
            shared = [int(t) for t in positions if t <= history_len]
            later = [int(t) for t in positions if t > history_len]
        if shared:
            span = shared[-1] if history_len > 0 else 0
            track = head + item_entries(tok, data.codes, seq[:span], data.item_positions)
            branches = [(len(head) + per_item * min(t, span), tok.encode_codes(data.codes[seq[t]]).tolist())
                        for t in shared]
            out.append(Packed(track, branches, "seq", user))
        for t in later:
            track = head + item_entries(tok, data.codes, seq[t - history_len:t], data.item_positions)
            out.append(Packed(track, [(len(track), tok.encode_codes(data.codes[seq[t]]).tolist())], "seq", user))
    return out


def text_examples(data: TaskData, text_tokens: int) -> list[Example]:
    """item text -> code and code -> item text, for every item with text."""
    if data.item_texts is None:
        return []
    tok, out = data.tokenizer, []
    bos, sep, eos = _special(tok, BOS, SEP, EOS)
    for item, text in enumerate(data.item_texts):
        words = tok.encode_text(text, text_tokens)
        if not words:
            continue
        code = tok.encode_codes(data.codes[item]).tolist()
        out.append(Example([bos, tok.token_id("<item2code>"), *words, sep], code, "text"))
        entry = [-item - 1] if data.item_positions else code
        out.append(Example([bos, tok.token_id("<code2item>"), *entry, sep], [*words, eos], "text"))
    return out


def intent_examples(data: TaskData, text_tokens: int) -> list[Example]:
    """intent text -> the user's last training item (users without intent text or training items are skipped)."""
    if not data.intent_texts:
        return []
    out = []
    for user, text in data.intent_texts.items():
        seq = data.sequences[user]
        if len(seq) == 0 or not text.strip():
            continue
        target = data.tokenizer.encode_codes(data.codes[seq[-1]]).tolist()
        out.append(Example(intent_prompt(data.tokenizer, text, text_tokens), target, "intent", user))
    return out


def negative_examples(data: TaskData, n: int, history_len: int, rng: np.random.Generator) -> list[Example]:
    """`n` yes/no examples, half true next items and half uniformly sampled items the user never had."""
    tok = data.tokenizer
    users = [u for u, s in enumerate(data.sequences) if len(s) >= 2]
    if not users or n <= 0:
        return []
    pool = np.unique(np.concatenate([data.sequences[u] for u in users]))  # items seen in training only
    (sep,), (yes, no) = _special(tok, SEP), _special(tok, "<yes>", "<no>")
    out = []
    for user in rng.choice(users, n):
        seq = data.sequences[user]
        t = int(rng.integers(1, len(seq)))
        positive = bool(rng.random() < 0.5)
        candidate = int(seq[t]) if positive else _sample_unseen(seq, pool, rng)
        if candidate < 0:
            continue
        prompt = seq_prompt(tok, data.codes, seq[:t], history_len, data.item_positions)
        prompt[1] = tok.token_id("<neg>")
        prompt += [*item_entries(tok, data.codes, np.array([candidate]), data.item_positions), sep]
        out.append(Example(prompt, [yes if positive else no], "neg", int(user)))
    return out


def _sample_unseen(seq: np.ndarray, pool: np.ndarray, rng: np.random.Generator, tries: int = 20) -> int:
    seen = set(seq.tolist())
    for _ in range(tries):
        item = int(pool[rng.integers(len(pool))])
        if item not in seen:
            return item
    return -1


def _sample(pool: list[Example], n: int, rng: np.random.Generator) -> list[Example]:
    if not pool or n <= 0:
        return []
    idx = rng.choice(len(pool), n, replace=n > len(pool))
    return [pool[i] for i in idx]


def build_epoch(cfg: GenConfig, data: TaskData, epoch: int, rng: np.random.Generator,
                text_pool: list[Example] | None = None,
                intent_pool: list[Example] | None = None) -> list[Example | Packed]:
    """One epoch of shuffled examples following the mixing schedule (weights relative to the sequential count).

    The text and intent pools do not change between epochs: pass them in to avoid re-tokenising every epoch.
    """
    if cfg.history_layout not in LAYOUTS:
        raise GenerativeError(f"unknown gen.history_layout {cfg.history_layout!r}: use one of {', '.join(LAYOUTS)}")
    unknown = set(cfg.tasks) - set(TASKS)
    if unknown:
        raise GenerativeError(f"unknown generative tasks {sorted(unknown)}: choose from {', '.join(TASKS)}")
    seq: list[Example] | list[Packed] = []
    if "seq" in cfg.tasks:
        build = packed_sequential_examples if cfg.pack else sequential_examples
        seq = build(data, cfg.history_len, cfg.windows_per_user, rng)
    base = max(sum(targets(e) for e in seq), len(data.sequences))
    examples: list[Example | Packed] = list(seq)
    if not cfg.aux_until_epoch or epoch <= cfg.aux_until_epoch:
        if "text" in cfg.tasks:
            pool = text_pool if text_pool is not None else text_examples(data, cfg.text_tokens)
            examples += _sample(pool, round(cfg.text_weight * base), rng)
        if "intent" in cfg.tasks:
            pool = intent_pool if intent_pool is not None else intent_examples(data, cfg.text_tokens)
            examples += _sample(pool, round(cfg.intent_weight * base), rng)
        if "neg" in cfg.tasks:
            examples += negative_examples(data, round(cfg.neg_weight * base), cfg.history_len, rng)
    order = rng.permutation(len(examples))
    return [examples[i] for i in order]
