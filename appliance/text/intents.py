"""Intent extraction for IRLLRec (Wang et al., SIGIR 2025): K intent prototypes over item text embeddings, each
with a readable label, plus an intent distribution per item and per user, stored as a versioned "intents" artifact.

The `local` backend (default, deterministic, numpy only) clusters item embeddings by spherical k-means
(Dhillon & Modha 2001) with k-means++ seeding (Arthur & Vassilvitskii 2007) and labels each prototype with the
terms that are most distinctive of its member items (TF-IDF with clusters as documents). `local-llm` and `external`
write the labels with an RLMRec/IRLLRec-style prompt instead (local causal LM, or the egress gateway). Users get a
recency-weighted mean of their TRAINING items' distributions only, so held-out items never shape a user's intents.
The slow backends' labels are journaled as they finish (appliance.text.label_journal), so an interrupted build resumes.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select

from appliance.config import IntentsConfig
from appliance.data.artifacts import data_fingerprint, load_artifact, save_artifact
from appliance.data.home import Home
from appliance.data.locks import store_writer
from appliance.data.store import User
from appliance.errors import UserError
from appliance.text.label_journal import JournalError, prompt_key, run_journaled
from appliance.text.profiles import load_item_profiles

KIND = "intents"
JOURNAL = ".journal.jsonl"  # under <artifacts>/intents/: finished labels of an interrupted build
BACKENDS = ("local", "local-llm", "external")
PROMPT = ("You will serve as an assistant to help me summarize which types of users would enjoy a group of items.\n"
          "Here are items that belong to one shopping intent:\n{items}\n"
          "Describe this shopping intent in 2 to 4 plain words (for example: hiking tent sleeping). Intent:")
_TOKEN = re.compile(r"[a-z][a-z'-]*[a-z]")
STOPWORDS = frozenset([  # function words, units and profile-template words: never readable labels
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
    "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he",
    "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me",
    "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "out",
    "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them", "then",
    "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we",
    "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your",
    "yours", "new", "one", "two", "set", "pack", "count", "size", "oz", "ounce", "ounces", "fl", "fluid", "ml",
    "inch", "inches", "lb", "lbs", "piece", "pieces", "brand", "categories", "category", "description", "reviews",
    "review", "purchased", "item", "items", "product", "products", "use", "used", "great", "good", "best", "like",
    "love", "well", "really", "get", "got", "x", "free", "made"
])


class IntentsError(UserError, RuntimeError):
    """Intents cannot be built or shown: missing inputs, unknown backend or user; the message says what to do."""


@dataclass(frozen=True)
class IntentSet:
    """Prototypes and distributions; rows follow `item_ids` / `user_ids` (store ids)."""

    labels: list[str]  # (K,) readable label per prototype
    prototypes: np.ndarray  # (K, D) unit vectors in text-embedding space
    item_ids: np.ndarray  # (I,) store Item.id
    item_dist: np.ndarray  # (I, K) rows sum to 1
    user_ids: np.ndarray  # (U,) store User.id
    user_dist: np.ndarray  # (U, K) rows sum to 1
    backend: str = "local"
    recency: float = 0.8  # the recency decay user_dist was built with (re-used when users are recomputed)

    def top(self, dist: np.ndarray, n: int = 3) -> list[tuple[str, float]]:
        """The n heaviest (label, weight) pairs of one distribution row (K,)."""
        order = np.argsort(-dist, kind="stable")[:n]
        return [(self.labels[k], float(dist[k])) for k in order]

    def text(self, dist: np.ndarray, n: int = 2) -> str:
        """Short intent text, e.g. 'outdoor camping; baby feeding'."""
        return "; ".join(label for label, _ in self.top(dist, n))


class IntentBackend(Protocol):
    """Writes one intent description per prototype profile (member item texts, one per line).

    Slow backends also offer `identity` (str) and `iter_labels(profiles)` (labels one by one, "" when the answer
    was empty): `label_prototypes` then journals each label as it arrives.
    """

    name: str

    def describe(self, profiles: Sequence[str]) -> list[str]: ...


# --- clustering ------------------------------------------------------------------------------------------------


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def spherical_kmeans(x: np.ndarray, k: int, *, seed: int = 0, iters: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Cluster rows of x (N, D) by cosine: returns unit centroids (k, D) and assignments (N,). Deterministic."""
    x = _unit(np.asarray(x, dtype=np.float32))
    n = len(x)
    if not 1 <= k <= n:
        raise IntentsError(f"cannot find {k} intents among {n} items: use --k between 1 and {n}")
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(n))]
    best = x @ x[chosen[0]]  # (N,) highest cosine to any chosen centre
    for _ in range(1, k):  # k-means++: sample proportional to 1 - cos (= half the squared distance)
        gap = np.clip(1.0 - best, 0.0, None).astype(np.float64)
        idx = int(rng.choice(n, p=gap / gap.sum())) if gap.sum() > 0 else int(rng.integers(n))
        chosen.append(idx)
        best = np.maximum(best, x @ x[idx])
    centroids = x[chosen].copy()
    assign = np.full(n, -1)
    for _ in range(iters):
        sims = x @ centroids.T  # (N, k)
        new = sims.argmax(axis=1)
        if np.array_equal(new, assign):
            break
        assign = new
        sums = np.zeros_like(centroids)
        np.add.at(sums, assign, x)
        empty = np.flatnonzero(np.bincount(assign, minlength=k) == 0)
        far = np.argsort(sims[np.arange(n), assign], kind="stable")[: len(empty)]  # worst-fit items reseed
        sums[empty] = x[far]
        centroids = _unit(sums)
    return centroids, assign


def soft_assign(x: np.ndarray, prototypes: np.ndarray, tau: float) -> np.ndarray:
    """softmax(cos(x, prototypes) / tau): (N, D), (K, D) -> (N, K) float32 rows summing to 1."""
    logits = (_unit(x) @ prototypes.T) / tau
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def user_distributions(train_sequences: Sequence[np.ndarray], item_dist: np.ndarray,
                       recency: float) -> np.ndarray:
    """(U, K): recency-weighted mean of each user's TRAINING items' distributions (uniform if none).

    Args:
        train_sequences: per user, chronological training item rows of `item_dist` (never valid/test items).
    """
    k = item_dist.shape[1]
    out = np.full((len(train_sequences), k), 1.0 / k, dtype=np.float32)
    for u, seq in enumerate(train_sequences):
        if len(seq):
            weights = recency ** np.arange(len(seq))[::-1]  # newest item weight 1
            out[u] = (weights / weights.sum()) @ item_dist[np.asarray(seq)]
    return out


# --- labels ----------------------------------------------------------------------------------------------------


def _terms(text: str) -> set[str]:
    return {t for t in _TOKEN.findall(text.lower()) if len(t) > 2 and t not in STOPWORDS and "'" not in t}


def distinctive_terms(profiles: Sequence[str], n_terms: int = 3) -> list[str]:
    """Label each profile (member texts, one per line) by its most distinctive terms.

    Score = share of the cluster's items containing the term x log(K / clusters containing it), so terms common to
    every cluster score 0; near-duplicates (plural/singular) are skipped. Returns 'term term term' per profile.
    """
    per_cluster = []
    for profile in profiles:
        lines = [line for line in profile.splitlines() if line.strip()]
        counts = Counter(t for line in lines for t in _terms(line))
        per_cluster.append({t: c / max(len(lines), 1) for t, c in counts.items()})
    df = Counter(t for shares in per_cluster for t in shares)
    k = len(profiles)
    labels = []
    for i, shares in enumerate(per_cluster):
        idf = {t: math.log(k / df[t]) if k > 1 else 1.0 for t in shares}  # 0 for terms found in every cluster
        scored = sorted((t for t in shares if idf[t] > 0), key=lambda t: (-shares[t] * idf[t], t))
        picked: list[str] = []
        for term in scored:
            if not any(term.rstrip("s") == p.rstrip("s") for p in picked):
                picked.append(term)
            if len(picked) == n_terms:
                break
        labels.append(" ".join(picked) if picked else f"intent {i}")
    return labels


@dataclass
class LocalBackend:
    """TF-IDF labels from the member items' profile text: deterministic, nothing leaves the machine."""

    n_terms: int = 3
    name: str = "local"

    def describe(self, profiles: Sequence[str]) -> list[str]:
        return distinctive_terms(profiles, self.n_terms)


def clean_label(text: str, max_words: int = 6) -> str:
    """First line of a model's answer, stripped of quotes and punctuation, at most `max_words` words."""
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    words = re.sub(r"[^\w\s-]", " ", line).split()
    return " ".join(words[:max_words]).lower()


class LocalLLMBackend:
    """Labels written on this machine by a local causal LM (appliance.text.local_llm): the bundled SmolLM2-135M-
    Instruct when `model_dir` is "", else an admin-provided transformers or GGUF directory. Greedy, offline, batched.

    `iter_labels` yields the raw (cleaned) answers, which the journal keeps; `label_prototypes` then checks them and
    falls back to the keyword label where an answer fails (`check_label`).
    """

    name = "local-llm"
    checks_output = True  # a 135M model restates its input: label_prototypes checks every answer

    def __init__(self, model_dir: str | Path = "", max_new_tokens: int = 24, batch_size: int = 4) -> None:
        from appliance.text.local_llm import LocalLLM, LocalLLMError

        try:
            self.llm = LocalLLM(model_dir, max_new_tokens=max_new_tokens, batch_size=batch_size)
        except LocalLLMError as exc:
            raise IntentsError(f"local-llm backend: {exc}") from None
        self.identity = self.llm.identity

    def describe(self, profiles: Sequence[str]) -> list[str]:
        return checked_labels(profiles, list(self.iter_labels(profiles)))[0]

    def iter_labels(self, profiles: Sequence[str]) -> Iterator[str]:
        from appliance.text.local_llm import LABEL_PREFILL, label_ask, label_phrase

        for answer in self.llm.generate([label_ask(p) for p in profiles], prefill=LABEL_PREFILL):
            yield " ".join(label_phrase(answer).split()[:12])

    def rate(self) -> str:
        return self.llm.rate()


def checked_labels(profiles: Sequence[str], answers: Sequence[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """Answers that pass `check_label`, others replaced by the keyword label (LocalBackend), with the reasons.

    Returns labels (one per profile) and [{"intent": i, "answer": a, "reason": r}] for each replaced answer.
    """
    from appliance.text.local_llm import check_label, item_brand, item_title

    keyword = distinctive_terms(profiles)
    labels, fallbacks = [], []
    for i, (profile, answer) in enumerate(zip(profiles, answers, strict=True)):
        lines = [ln for ln in profile.splitlines() if ln.strip()]
        reason = check_label(answer, [item_title(ln) for ln in lines], [b for ln in lines if (b := item_brand(ln))])
        if reason is None:
            labels.append(clean_label(answer))
        else:
            labels.append(keyword[i])
            fallbacks.append({"intent": i, "answer": answer[:120], "reason": reason})
    return labels, fallbacks


@dataclass
class ExternalBackend:
    """The same prompt sent through the egress gateway (it anonymizes, audits, and fails closed).

    `gateway()` opens a gateway (a context manager with `chat(messages, purpose=...)`), once per describe call;
    `send` replaces the whole transport with a plain function (tests, dry tooling).
    """

    gateway: Callable[[], Any] | None = None
    send: Callable[[str], str] | None = None
    purpose: str = "intent-extraction"
    name: str = "external"

    @property
    def identity(self) -> str:
        return f"external:{self.purpose}"

    def describe(self, profiles: Sequence[str]) -> list[str]:
        return [label or f"intent {i}" for i, label in enumerate(self.iter_labels(profiles))]

    def iter_labels(self, profiles: Sequence[str]) -> Iterator[str]:
        """Labels one by one; the gateway stays open for the whole run (one anonymizer, one audit session)."""
        if self.send is not None:
            yield from (clean_label(self.send(PROMPT.format(items=p))) for p in profiles)
            return
        if self.gateway is None:
            raise IntentsError("the external intents backend needs the egress gateway (none was given)")
        with self.gateway() as gw:
            for p in profiles:
                yield clean_label(gw.chat([{"role": "user", "content": PROMPT.format(items=p)}],
                                          purpose=self.purpose).text)


def make_backend(name: str, cfg: IntentsConfig, home: Home | None = None,
                 send: Callable[[str], str] | None = None) -> IntentBackend:
    """The backend called `name`; `send` replaces the egress gateway of the external backend (tests)."""
    if name == "local":
        return LocalBackend(cfg.label_terms)
    if name == "local-llm":
        return LocalLLMBackend(cfg.llm_dir, cfg.llm_max_new_tokens)  # llm_dir "": the bundled SmolLM2
    if name == "external":
        if send is None and home is None:
            raise IntentsError("the external intents backend needs an opened appliance (for its egress gateway)")
        from appliance.privacy.egress import open_gateway

        return ExternalBackend(gateway=lambda: open_gateway(home), send=send,
                               purpose=home.config.egress.purpose if home is not None else "intent-extraction")
    raise IntentsError(f"unknown intents backend {name!r}: choose one of {', '.join(BACKENDS)}")


def prototype_profiles(texts: Sequence[str], sims: np.ndarray, assign: np.ndarray, k: int,
                       max_items: int | None = None) -> list[str]:
    """Per prototype, its member texts (closest first, at most `max_items`), one per line."""
    out = []
    for c in range(k):
        members = np.flatnonzero(assign == c)
        members = members[np.argsort(-sims[members, c], kind="stable")][:max_items]
        out.append("\n".join(texts[i].replace("\n", " ") for i in members))
    return out


# --- building, storing, showing --------------------------------------------------------------------------------


def label_prototypes(backend: IntentBackend, profiles: Sequence[str], journal: Path | None = None, *,
                     progress: bool = False, fallbacks: list[dict[str, Any]] | None = None) -> list[str]:
    """One label per prototype profile; with a `journal` and a slow backend, finished answers survive a crash and
    are not asked for again (the local backend takes seconds and is simply recomputed).

    Answers of a backend with `checks_output` (local-llm) pass `checked_labels`; each one replaced by its keyword
    label is appended to `fallbacks` (when given) with the reason.
    """
    iter_labels = getattr(backend, "iter_labels", None)
    if iter_labels is None:
        return backend.describe(profiles)
    if journal is None:
        answers = list(iter_labels(profiles))
    else:
        prompts = [PROMPT.format(items=p) for p in profiles]
        keys = [prompt_key(backend.identity, prompt) for prompt in prompts]  # type: ignore[attr-defined]
        try:
            answers = run_journaled(keys, lambda pending: iter_labels([profiles[i] for i in pending]), journal,
                                    what=f"intent labels ({backend.name})", progress=progress,
                                    rate=getattr(backend, "rate", None))
        except JournalError as exc:
            raise IntentsError(str(exc)) from None
    if not getattr(backend, "checks_output", False):
        return [label or f"intent {i}" for i, label in enumerate(answers)]
    labels, replaced = checked_labels(profiles, answers)
    if fallbacks is not None:
        fallbacks.extend(replaced)
    return labels


def extract_intents(vectors: np.ndarray, texts: Sequence[str], train_sequences: Sequence[np.ndarray],
                    cfg: IntentsConfig, backend: IntentBackend, *, journal: Path | None = None,
                    progress: bool = False, fallbacks: list[dict[str, Any]] | None = None,
                    ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Labels (K,), prototypes (K, D), item distributions (I, K) and user distributions (U, K).

    `train_sequences` index rows of `vectors`; only training items may appear in them. `journal`, `fallbacks`: see
    `label_prototypes`.
    """
    if cfg.tau <= 0 or not 0 < cfg.recency <= 1:  # also checked by load_config, for configs built in code
        raise IntentsError(f"intents.tau must be > 0 and intents.recency in (0, 1]; got {cfg.tau}, {cfg.recency}")
    prototypes, assign = spherical_kmeans(vectors, cfg.k, seed=cfg.seed, iters=cfg.kmeans_iters)
    sims = _unit(vectors) @ prototypes.T  # (I, K)
    max_items = None if backend.name == "local" else cfg.llm_items
    labels = label_prototypes(backend, prototype_profiles(texts, sims, assign, len(prototypes), max_items), journal,
                              progress=progress, fallbacks=fallbacks)
    item_dist = soft_assign(vectors, prototypes, cfg.tau)
    return labels, prototypes, item_dist, user_distributions(train_sequences, item_dist, cfg.recency)


@store_writer("intents")
def build_intents(home: Home, *, cfg: IntentsConfig | None = None, backend: IntentBackend | None = None,
                  split: object | None = None, progress: bool = False) -> Path:
    """Build intents from the latest item embeddings and the training split; returns the artifact directory.

    Labels of the slow backends are journaled as they finish: rerunning after an interruption asks only for the
    missing ones. The artifact is written atomically, then the journal is removed.
    """
    cfg = cfg or home.config.intents
    backend = backend or make_backend(cfg.backend, cfg, home)
    emb = load_artifact(home.config.artifacts_dir, "item-embeddings")
    item_ids, vectors = emb.arrays["item_ids"], emb.arrays["vectors"]
    if split is None:
        from appliance.data.splits import load_split

        split = load_split(home.engine)
    row = {int(i): r for r, i in enumerate(item_ids)}
    missing = [int(i) for i in split.item_ids if int(i) not in row]
    if missing:
        raise IntentsError(f"{len(missing)} items (e.g. store id {missing[0]}) have no embedding: the catalog "
                           "changed since `tanaban embed`; run `tanaban embed` again")
    to_row = np.array([row[int(i)] for i in split.item_ids], dtype=np.int64)
    texts = {p.item_id: p.text for p in load_item_profiles(home.engine)}
    journal = Path(home.config.artifacts_dir) / KIND / JOURNAL
    fallbacks: list[dict[str, Any]] = []
    labels, protos, item_dist, user_dist = extract_intents(
        vectors, [texts.get(int(i), "") for i in item_ids], [to_row[s] for s in split.train_sequences], cfg, backend,
        journal=journal, progress=progress, fallbacks=fallbacks)
    arrays = {"prototypes": protos, "item_ids": item_ids, "item_dist": item_dist,
              "user_ids": np.asarray(split.user_ids, dtype=np.int64), "user_dist": user_dist}
    meta = {"labels": labels, "backend": backend.name, "config": dataclasses.asdict(cfg),
            "label_fallbacks": [{"intent": f["intent"], "reason": f["reason"]} for f in fallbacks],
            "data_fingerprint": data_fingerprint(home.engine), "embeddings_version": emb.meta["version"]}
    path = save_artifact(home.config.artifacts_dir, KIND, arrays, meta)
    journal.unlink(missing_ok=True)
    return path


def load_intents(artifacts_dir: Path, version: str | None = None) -> IntentSet:
    art = load_artifact(artifacts_dir, KIND, version)
    a = art.arrays
    return IntentSet(list(art.meta["labels"]), a["prototypes"], a["item_ids"], a["item_dist"], a["user_ids"],
                     a["user_dist"], art.meta["backend"],
                     float(art.meta["config"]["recency"]))


def resolve_user(home: Home, user: str) -> int:
    """Store User.id for a raw customer id (pseudonymized here) or an already stored pseudonym."""
    with home.engine.connect() as conn:
        for pseudonym in (user, home.store_pseudonym(user)):
            found = conn.scalar(select(User.id).where(User.pseudonym == pseudonym))
            if found is not None:
                return int(found)
    raise IntentsError("no such user in the store (give the raw customer id as ingested, or its stored pseudonym)")


def show_user(home: Home, user: str, n: int = 5) -> list[tuple[str, float]]:
    """A user's top `n` intents as (label, weight)."""
    intents = load_intents(home.config.artifacts_dir)
    user_id = resolve_user(home, user)
    rows = np.flatnonzero(intents.user_ids == user_id)
    if not len(rows):
        raise IntentsError("this user has no intents yet (ingested after `tanaban intents build`): run it again")
    return intents.top(intents.user_dist[rows[0]], n)
