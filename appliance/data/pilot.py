"""Pilot scope: train, evaluate and export a model for a subset of the catalog's categories (issue 18, "pilot one
category"), so the new recommender can be tried on one popular category while the shop's current one serves the rest.

A scope is one or more categories given with `--category` (repeatable). Matching is case-insensitive and ignores
runs of whitespace. A category is a name (`Skin Care`) or a path of names separated by `>` (`Feeding > Bottles`, to
tell apart two `Bottles` under different departments). Item categories are stored most general first
(docs/INGEST.md), so an item is **in the scope** when its category path contains a given name, or a given path as a
run of consecutive levels, anywhere: the item's category equals the given one or lies under it. Several categories
are a union. Store items in scope form the pilot's catalog (rankable even if nobody bought them yet).

The scope filters the split, not the raw rows: the store's split (appliance.data.splits.load_split) is taken apart
into its chronological per-user rows (de-duplicated as every split is), the rows on out-of-scope items are dropped,
and the rest is split again by the same protocol. So under leave-one-out a customer's held-out items are their last
in-scope ones, as if the shop sold only the pilot's categories; a given split keeps its labels.

**Which customers are in the pilot.** Every customer with at least one in-scope item (`MIN_ITEMS_PER_USER`): their
in-scope interactions train the model and the exported bundle serves them; everyone else is outside the pilot and
gets serving's fallback (docs/ROLLOUT.md). Customers with at least 3 distinct in-scope items (the leave-one-out rule,
`MIN_LOO_INTERACTIONS`) also get a held-out validation and test item. A scope must leave at least `MIN_PILOT_USERS`
such customers, or training could not stop early on validation and the evaluation would measure noise; the error
names broader categories to try.

Artifacts, evaluation reports and bundle manifests record the scope as
`pilot: {"categories": [...], "items": N, "users": M}` (the categories as given, N in-scope items, M customers in the
pilot); a record without `pilot` means the whole catalog. `check_same_scope` refuses to mix scopes.
"""

from __future__ import annotations

import difflib
import json
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine, select

from appliance.data.artifacts import LATEST, MANIFEST
from appliance.data.splits import MIN_LOO_INTERACTIONS, Split, load_split, sample_evaluation, split_from_arrays
from appliance.data.store import Item
from appliance.errors import UserError

if TYPE_CHECKING:
    from appliance.config import EvalConfig

MIN_ITEMS_PER_USER = 1  # in-scope items a customer needs to be in the pilot (trained on, served by the bundle)
MIN_PILOT_USERS = 20  # customers with a held-out validation and test item a scope must leave
SEPARATOR = ">"  # between the levels of a category path: "Baby > Feeding"
_SHOWN = 80  # characters of a category name shown in a message


class PilotScopeError(UserError, ValueError):
    """A `--category` that matches no item, or a scope that leaves too few customers to train and evaluate."""


class ScopeMismatchError(UserError, RuntimeError):
    """A saved model was trained for another pilot scope (or for the whole catalog) than the command asks for."""


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _levels(categories: Iterable[Any]) -> tuple[str, ...]:
    """An item's category path as normalised levels; an entry that is itself a `A > B` path counts as its levels."""
    out = []
    for entry in categories or ():
        if isinstance(entry, str):
            out.extend(k for k in (_key(part) for part in entry.split(SEPARATOR)) if k)
    return tuple(out)


def _shown(name: str) -> str:
    return repr(name if len(name) <= _SHOWN else name[:_SHOWN] + "...")


@dataclass(frozen=True)
class PilotScope:
    """The categories of a pilot, as the admin wrote them (trimmed, inner whitespace collapsed, order kept)."""

    categories: tuple[str, ...]

    @classmethod
    def parse(cls, values: Sequence[str] | None) -> PilotScope | None:
        """The scope of `--category` values, one category each (a comma is part of a name: category names may
        hold one); None for none given.

        Raises PilotScopeError for an empty name or path level. Two spellings of one category count once.
        """
        if not values:
            return None
        seen: dict[tuple[str, ...], str] = {}
        for value in values:
            raw = str(value)
            if not raw.strip():
                raise PilotScopeError("--category was given without a name: name a category, e.g. --category Beauty")
            parts = [" ".join(part.split()) for part in raw.split(SEPARATOR)]
            if not all(parts):
                raise PilotScopeError(f"--category {_shown(raw.strip())} has an empty level: write a name, or a "
                                      f"path of names separated by '{SEPARATOR}' (e.g. 'Baby > Feeding')")
            seen.setdefault(tuple(p.casefold() for p in parts), f" {SEPARATOR} ".join(parts))
        return cls(tuple(seen.values()))

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> PilotScope | None:
        """The scope of an artifact's, report's or manifest's `pilot` entry (None: the whole catalog)."""
        if not isinstance(record, Mapping) or not record.get("categories"):
            return None
        return cls.parse([str(c) for c in record["categories"]])

    @property
    def paths(self) -> tuple[tuple[str, ...], ...]:
        """The normalised category paths, in the order given."""
        return tuple(_levels([c]) for c in self.categories)

    @property
    def key(self) -> frozenset[tuple[str, ...]]:
        """What makes two scopes the same: the set of normalised paths (order and spelling do not matter)."""
        return frozenset(self.paths)

    def matches(self, categories: Iterable[Any]) -> bool:
        """Whether an item with this category list (most general first) is in the scope."""
        return _contains_any(_levels(categories), self.paths)

    def describe(self) -> str:
        """`'Beauty', 'Kitchen > Tools'` for messages."""
        return ", ".join(_shown(c) for c in self.categories)

    def options(self) -> str:
        """The command-line options that name this scope: `--category Beauty --category 'Kitchen > Tools'`."""
        return " ".join(f"--category {shlex.quote(c)}" for c in self.categories)

    def record(self, split: Split) -> dict[str, Any]:
        """The `pilot` entry of artifacts, reports and bundle manifests for a split made with this scope."""
        return {"categories": list(self.categories), "items": int(split.n_items), "users": int(split.n_users)}


def _contains(levels: tuple[str, ...], path: tuple[str, ...]) -> bool:
    n = len(path)
    return any(levels[i:i + n] == path for i in range(len(levels) - n + 1))


def _contains_any(levels: tuple[str, ...], paths: Iterable[tuple[str, ...]]) -> bool:
    return any(_contains(levels, path) for path in paths)


def pilot_meta(scope: PilotScope | None, split: Split) -> dict[str, Any]:
    """`{"pilot": scope.record(split)}` to merge into a manifest, or {} for the whole catalog."""
    return {} if scope is None else {"pilot": scope.record(split)}


def same_scope(a: PilotScope | None, b: PilotScope | None) -> bool:
    return (a.key if a is not None else None) == (b.key if b is not None else None)


def describe_scope(scope: PilotScope | None) -> str:
    """`the pilot scope 'Beauty'` or `the whole catalog`, for messages."""
    return "the whole catalog" if scope is None else f"the pilot scope {scope.describe()}"


def check_same_scope(what: str, meta: Mapping[str, Any], scope: PilotScope | None, retrain_fix: str) -> None:
    """Raise ScopeMismatchError unless the artifact manifest `meta` was trained for `scope`.

    `what` names the artifact (`the saved lightgcn model cf-lightgcn/<version>`), `retrain_fix` the other way out
    (`run `tanaban train cf --model lightgcn --category Beauty``), appended after the option that matches the model.
    """
    trained = PilotScope.from_record(meta.get("pilot"))
    if same_scope(trained, scope):
        return
    use = "leave out --category" if trained is None else f"pass {trained.options()}"
    raise ScopeMismatchError(f"{what} was trained for {describe_scope(trained)}, this command asks for "
                             f"{describe_scope(scope)}: {use}, or {retrain_fix}")


# --- the scoped split ------------------------------------------------------------------------------------------------

def load_scoped_split(engine: Engine, scope: PilotScope | None, protocol: str = "auto", *,
                      min_users: int = MIN_PILOT_USERS, evaluation: EvalConfig | None = None) -> Split:
    """The store's split (load_split), restricted to `scope` when one is given (see the module docstring); with
    `evaluation` (the `[eval]` settings), its evaluation limited to `evaluation.max_customers` customers drawn with
    `evaluation.seed` (appliance.data.splits.sample_evaluation).

    Raises PilotScopeError when a category matches no item (naming the closest existing ones) or when fewer than
    `min_users` customers keep a held-out validation and test item.
    """
    split = load_split(engine, protocol)
    if scope is None:
        return _sampled(split, evaluation)
    paths_by_id, display = _item_paths(engine)
    for category, path in zip(scope.categories, scope.paths, strict=True):
        if not any(_contains(levels, path) for levels in paths_by_id.values()):
            raise PilotScopeError(_no_match_message(category, path, paths_by_id.values(), display))
    keep = np.fromiter((_contains_any(paths_by_id.get(int(i), ()), scope.paths) for i in split.item_ids),
                       dtype=bool, count=split.n_items)
    scoped = restrict_split(split, keep)
    evaluated = min(int((np.diff(scoped.valid.indptr) > 0).sum()), int((np.diff(scoped.test.indptr) > 0).sum()))
    if evaluated < min_users:
        raise PilotScopeError(_too_few_message(scope, evaluated, min_users, paths_by_id.values(), display))
    return _sampled(scoped, evaluation)


def _sampled(split: Split, evaluation: EvalConfig | None) -> Split:
    return split if evaluation is None else sample_evaluation(split, evaluation.max_customers, evaluation.seed)


def _item_paths(engine: Engine) -> tuple[dict[int, tuple[str, ...]], dict[str, str]]:
    """Every item's normalised category path, and each normalised name's first spelling in the catalog."""
    paths, display = {}, {}
    with engine.connect() as conn:
        for item_id, categories in conn.execute(select(Item.id, Item.categories)):
            paths[int(item_id)] = _levels(categories or ())
            for entry in categories or ():
                for part in str(entry).split(SEPARATOR):
                    display.setdefault(_key(part), " ".join(part.split()))
    return paths, display


def restrict_split(split: Split, keep_items: np.ndarray, *, min_items: int = MIN_ITEMS_PER_USER) -> Split:
    """`split` on the items where `keep_items` (bool, one per split item) is true, split again by its protocol.

    Rows are taken per user in their order (training, then validation, then test items); customers with fewer than
    `min_items` kept items are dropped. Leave-one-out re-labels the kept rows (the last in-scope items are held
    out); a given split keeps each row's label.
    """
    keep_items = np.asarray(keep_items, dtype=bool)
    if keep_items.shape != (split.n_items,):
        raise ValueError(f"keep_items must have one entry per item ({split.n_items}), got {keep_items.shape}")
    valid_seqs = split.valid_sequences
    if valid_seqs is None:
        valid_seqs = np.split(split.valid.indices, split.valid.indptr[1:-1])
    parts = [(split.train_sequences, 0), (valid_seqs, 1), (np.split(split.test.indices, split.test.indptr[1:-1]), 2)]
    users, items, labels = [], [], []
    for seqs, label in parts:
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        users.append(np.repeat(np.arange(len(seqs), dtype=np.int64), lengths))
        items.append(np.concatenate([np.asarray(s, dtype=np.int64) for s in seqs]) if len(seqs) else
                     np.zeros(0, np.int64))
        labels.append(np.full(int(lengths.sum()), label, dtype=np.int8))
    user, item, label = np.concatenate(users), np.concatenate(items), np.concatenate(labels)
    order = np.argsort(user, kind="stable")  # per user: training rows, then validation, then test, each in order
    user, item, label = user[order], item[order], label[order]
    mask = keep_items[item]
    user, item, label = user[mask], item[mask], label[mask]
    kept_users = np.flatnonzero(np.bincount(user, minlength=split.n_users) >= max(min_items, 1))
    user_index = np.full(split.n_users, -1, dtype=np.int64)
    user_index[kept_users] = np.arange(len(kept_users))
    item_index = np.full(split.n_items, -1, dtype=np.int64)
    item_index[keep_items] = np.arange(int(keep_items.sum()))
    rows = user_index[user] >= 0
    return split_from_arrays(user_index[user[rows]], item_index[item[rows]], len(kept_users), int(keep_items.sum()),
                             labels=label[rows] if split.protocol == "given" else None,
                             user_ids=split.user_ids[kept_users], item_ids=split.item_ids[keep_items])


# --- messages --------------------------------------------------------------------------------------------------------

def _names(paths: Iterable[tuple[str, ...]]) -> dict[str, int]:
    """Every category name (normalised) -> the number of items under it."""
    counts: dict[str, int] = {}
    for levels in paths:
        for name in set(levels):
            counts[name] = counts.get(name, 0) + 1
    return counts


def _no_match_message(category: str, path: tuple[str, ...], paths: Iterable[tuple[str, ...]],
                      display: Mapping[str, str]) -> str:
    paths = list(paths)
    names = _names(paths)
    if not names:
        return (f"no item is in the category {_shown(category)}: the store's items have no categories; ingest "
                "items with a `categories` field (docs/INGEST.md) to pilot one category")
    if len(path) > 1 and all(level in names for level in path):
        examples = sorted({f" {SEPARATOR} ".join(display.get(n, n) for n in levels)
                           for levels in paths if _in_order(levels, path)})[:3]
        hint = (f"; these paths hold them in order: {', '.join(_shown(e) for e in examples)}" if examples else "")
        return (f"no item lies under the path {_shown(category)}: each name exists, but never one directly under the "
                f"other{hint}; give one of those paths or a single name to --category")
    missing = next(level for level in path if level not in names) if len(path) > 1 else path[0]
    close = difflib.get_close_matches(missing, list(names), n=3, cutoff=0.6)
    if not close:  # nothing alike: the most general names, the likeliest pilots
        tops = sorted({levels[0] for levels in paths if levels}, key=lambda n: (-names[n], n))
        return (f"no item is in the category {_shown(category)}: no category name is alike; the top-level "
                f"categories are {', '.join(_shown(display.get(n, n)) for n in tops[:5])}; pass one of them to "
                "--category")
    return (f"no item is in the category {_shown(category)}: the closest existing categories are "
            f"{', '.join(_shown(display.get(n, n)) for n in close)} (matching ignores case); pass one of them to "
            "--category")


def _in_order(levels: tuple[str, ...], path: tuple[str, ...]) -> bool:
    it = iter(levels)
    return all(level in it for level in path)


def _too_few_message(scope: PilotScope, evaluated: int, needed: int, paths: Iterable[tuple[str, ...]],
                     display: Mapping[str, str]) -> str:
    parents = []  # the level just above each given category: the natural broader pilot
    for path in scope.paths:
        if len(path) > 1:  # 'Feeding > Bottles' -> 'Feeding'
            parents.append(path[-2])
            continue
        for levels in paths:
            above = [levels[i - 1] for i in range(1, len(levels)) if levels[i] == path[0]]
            parents.extend(p for p in above if p not in parents)
    shown = [_shown(display.get(p, p)) for p in list(dict.fromkeys(parents))[:3]]
    broader = f" (e.g. {', '.join(shown)})" if shown else ""
    customers = f"{evaluated} customer{'' if evaluated == 1 else 's'}"
    return (f"{describe_scope(scope)} leaves {customers} with a held-out validation and test item in it "
            f"(leave-one-out holds out from customers with {MIN_LOO_INTERACTIONS}+ distinct items), too few to train "
            f"and evaluate (at least {needed} are needed): add categories (--category is repeatable) or choose a "
            f"broader one{broader}")


def find_scoped_version(artifacts_dir: Path, kind: str, scope: PilotScope | None) -> str | None:
    """The version of `kind` trained for `scope`: LATEST when it was, else the newest saved version that was (a
    pilot's training moves LATEST, yet the whole catalog's model stays the one its commands use, and back); None
    when no version was trained for `scope` or there is no artifact. Version names start with their UTC time."""
    kind_dir = Path(artifacts_dir) / kind
    try:
        latest = (kind_dir / LATEST).read_text(encoding="utf-8").strip()
        older = sorted((p.name for p in kind_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
                        and p.name != latest), reverse=True)
    except OSError:
        return None
    for version in (latest, *older):
        try:
            meta = json.loads((kind_dir / version / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a damaged version: never chosen here (loading LATEST says what is wrong)
        if same_scope(PilotScope.from_record(meta.get("pilot")), scope):
            return version
    return None


def scoped_version(artifacts_dir: Path, kind: str, scope: PilotScope | None, retrain_fix: str) -> str | None:
    """`find_scoped_version`, read before the artifact is loaded (a model loaded on another scope's split would fail
    on its sizes first); ScopeMismatchError naming LATEST's scope when no version was trained for `scope`. No
    artifact at all: None (loading LATEST then says so)."""
    version = find_scoped_version(artifacts_dir, kind, scope)
    if version is not None:
        return version
    kind_dir = Path(artifacts_dir) / kind
    try:
        latest = (kind_dir / LATEST).read_text(encoding="utf-8").strip()
        meta = json.loads((kind_dir / latest / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    check_same_scope(f"the saved model {kind}/{latest}", meta, scope, retrain_fix)
    return latest  # LATEST moved to a version for `scope` meanwhile
