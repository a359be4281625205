"""Item and user profiles written by the local LLM, as RLMRec (Ren et al., WWW 2024) and IRLLRec (Wang et al.,
SIGIR 2025) write them with a hosted LLM: one or two sentences on what an item is for and who would enjoy it, and on
a user's interests from their TRAINING history only (never validation or test items).

The writer is `appliance.text.local_llm.LocalLLM` (the bundled SmolLM2-135M-Instruct by default). Every answer goes
through `check_profile`; a rejected one is replaced by the template profile (appliance.text.profiles) and its
reason recorded. Answers are journaled as they finish (appliance.text.label_journal), so an interrupted run resumes;
the result is the versioned artifact "llm-profiles" (texts in its manifest, store ids as arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from appliance.data.artifacts import ArtifactError, data_fingerprint, load_artifact, save_artifact
from appliance.data.home import Home
from appliance.data.locks import store_writer
from appliance.errors import UserError
from appliance.text.label_journal import JournalError, prompt_key, run_journaled
from appliance.text.local_llm import (
    ITEM_PREFILL,
    USER_PREFILL,
    LocalLLM,
    check_profile,
    clean_answer,
    item_ask,
    item_brand,
    user_ask,
)
from appliance.text.profiles import load_item_profiles, user_profile_text

KIND = "llm-profiles"
JOURNAL = ".journal.jsonl"


class ProfilesError(UserError, RuntimeError):
    """LLM profiles cannot be written or read; the message says what to do."""


def checked_profiles(answers: Sequence[str], templates: Sequence[str], titles: Sequence[Sequence[str]],
                     brands: Sequence[Sequence[str]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Answers passing `check_profile`, others replaced by their template text; [{"row", "reason"}] per replacement."""
    texts, fallbacks = [], []
    for row, (answer, template) in enumerate(zip(answers, templates, strict=True)):
        reason = check_profile(answer, titles[row], brands[row])
        texts.append(answer if reason is None else template)
        if reason is not None:
            fallbacks.append({"row": row, "reason": reason})
    return texts, fallbacks


def write_profiles(llm: LocalLLM, asks: Sequence[str], journal: Path | None, *, what: str, prefill: str = "",
                   progress: bool = False) -> list[str]:
    """Cleaned answers to `asks`, each starting with `prefill` (journaled when `journal` is given: finished answers
    are never asked again)."""
    def produce(pending: list[int]):
        return (clean_answer(f"{prefill} {a}") for a in llm.generate([asks[i] for i in pending], prefill=prefill))

    if journal is None:
        return list(produce(list(range(len(asks)))))
    keys = [prompt_key(llm.identity, f"{ask}\x00{prefill}") for ask in asks]
    try:
        return run_journaled(keys, produce, journal, what=what, progress=progress, rate=llm.rate)
    except JournalError as exc:
        raise ProfilesError(str(exc)) from None


@store_writer("llm-profiles")
def build_llm_profiles(home: Home, *, items: int | None = None, users: int | None = None, llm: LocalLLM | None = None,
                       progress: bool = False, log: Callable[[str], None] = lambda _m: None) -> Path:
    """Write LLM profiles for the first `items` items and `users` users (store-id order; None: all).

    Returns the artifact directory. Users are described from their training items of the saved split.
    """
    from appliance.data.splits import load_split

    cfg = home.config.intents
    llm = llm or LocalLLM(cfg.llm_dir, max_new_tokens=cfg.llm_profile_tokens)
    log(f"local LLM {llm.name} loaded in {llm.load_seconds:.0f} s")
    journal = Path(home.config.artifacts_dir) / KIND / JOURNAL
    profiles = load_item_profiles(home.engine)[:items]
    item_texts, item_fb = checked_profiles(
        write_profiles(llm, [item_ask(p.text) for p in profiles], journal, what="item profiles",
                       prefill=ITEM_PREFILL, progress=progress),
        [p.text for p in profiles], [[p.title] for p in profiles], [[item_brand(p.text)] for p in profiles])
    split = load_split(home.engine)
    title_of = {p.item_id: p.title for p in load_item_profiles(home.engine)}
    titles = [title_of.get(int(i), "") for i in split.item_ids]
    seqs = list(split.train_sequences)[:users]
    user_titles = [[titles[j] for j in seq][-10:] for seq in seqs]
    asked = [u for u, t in enumerate(user_titles) if t]  # a user with no training items keeps the template
    written = write_profiles(llm, [user_ask(user_titles[u]) for u in asked], journal, what="user profiles",
                             prefill=USER_PREFILL, progress=progress)
    answers = [""] * len(seqs)
    for u, answer in zip(asked, written, strict=True):
        answers[u] = answer
    user_texts, user_fb = checked_profiles(answers, [user_profile_text(titles, s) for s in seqs], user_titles,
                                           [[] for _ in seqs])
    arrays = {"item_ids": np.array([p.item_id for p in profiles], dtype=np.int64),
              "user_ids": np.asarray(split.user_ids, dtype=np.int64)[:len(seqs)]}
    meta = {"item_texts": item_texts, "user_texts": user_texts, "model": llm.name,
            "item_fallbacks": item_fb, "user_fallbacks": user_fb, "data_fingerprint": data_fingerprint(home.engine),
            "tokens_per_s": round(llm.stats.tokens_per_s, 2), "load_seconds": round(llm.load_seconds, 1)}
    path = save_artifact(home.config.artifacts_dir, KIND, arrays, meta)
    journal.unlink(missing_ok=True)
    return path


def load_llm_profiles(artifacts_dir: Path) -> tuple[dict[int, str], dict[int, str]]:
    """Store id -> LLM profile text, for items and for users, from the latest "llm-profiles" artifact."""
    try:
        art = load_artifact(artifacts_dir, KIND)
    except ArtifactError:
        raise ProfilesError("no LLM profiles yet: run `tanaban intents profiles` first") from None
    items = dict(zip((int(i) for i in art.arrays["item_ids"]), art.meta["item_texts"], strict=True))
    users = dict(zip((int(i) for i in art.arrays["user_ids"]), art.meta["user_texts"], strict=True))
    return items, users
