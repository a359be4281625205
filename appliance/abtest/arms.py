"""What an A/B arm serves from ([[abtest.arms]] source): the published bundle, a pinned bundle, the shop's imported
champion lists, or popularity; and the pilot scope a bundle's manifest declares (`pilot: {"categories": [...]}`).

Every source answers with the serving runtime's `Answer` (appliance.serve.answers), so the HTTP layer treats all arms
alike. Champion lists and popularity are read from the store once, when serving starts: lists keyed by the store
pseudonym (users.pseudonym), items by SKU; nothing raw is kept. Popularity follows the popularity baseline of the
evaluation harness (interactions per item, most first), the usual A/B control (Kohavi, Tang & Xu, "Trustworthy Online
Controlled Experiments", 2020, ch. 3).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from appliance.errors import UserError
from appliance.serve.answers import Answer, Recommendation, read_json
from appliance.serve.errors import RequestError

SOURCES = ("bundle", "champion", "popularity")  # appliance.config.AB_SOURCES; plus "bundle:<directory>"


class ArmSourceError(UserError, RuntimeError):
    """An arm's source does not exist or cannot be read (no champion lists imported, no such bundle directory)."""


Pseudonymize = Callable[[str, str | None], str]  # raw customer id, key id (None: current key) -> store pseudonym


class ArmRequest(NamedTuple):  # a NamedTuple: built on every request, and cheaper than a dataclass
    """One recommendation request as the arms see it (the raw id goes no further than `pseudonym`)."""

    user_id: str | None
    history: Sequence[str] | None
    k: int
    exclude: Sequence[str]
    explain: bool


class BundleSource:
    """A bundle arm: `get()` returns the bundle to answer with (the CURRENT one, or a pinned one)."""

    def __init__(self, get: Callable[[], Any], label: str) -> None:
        self.get, self.label = get, label

    def answer(self, request: ArmRequest, pseudonymize: Pseudonymize) -> tuple[Answer, Any]:
        bundle = self.get()
        if request.history is not None:
            return bundle.for_history(request.history, request.k, request.exclude, request.explain), bundle
        pseudonym = pseudonymize(request.user_id or "", bundle.pseudonym_key_id)
        return bundle.for_user(pseudonym, request.k, request.exclude, request.explain), bundle


class ListSource:
    """Ranked item lists: per customer (champion lists, keyed by store pseudonym) or one for all (popularity)."""

    def __init__(self, label: str, version: str, skus: list[str], titles: list[str],
                 lists: dict[str, np.ndarray] | None, ranking: np.ndarray | None) -> None:
        self.label, self.version, self.skus, self.titles = label, version, skus, titles
        # lists: pseudonym -> item indices; ranking: item indices. Python lists: walked per request up to k only
        self.lists = None if lists is None else {p: items.tolist() for p, items in lists.items()}
        self.ranking = None if ranking is None else ranking.tolist()
        self.sku_index = {sku: i for i, sku in enumerate(skus)}

    def answer(self, request: ArmRequest, pseudonymize: Pseudonymize) -> tuple[Answer, None]:
        leave_out = {self.sku_index[s] for s in (*request.exclude, *(request.history or ())) if s in self.sku_index}
        if self.lists is None:
            ranked = self.ranking
        elif request.user_id is None:
            raise RequestError(f"arm source {self.label} answers customers only: send user_id")
        else:
            ranked = self.lists.get(pseudonymize(request.user_id, None))
            if ranked is None:
                raise RequestError("no champion list for this customer in the imported lists: send `history`, or "
                                   "re-import the lists with `tanaban ingest lists`")
        top: list[int] = []
        for i in ranked:  # type: ignore[union-attr]  # stops at k: the ranking may cover the whole catalog
            if i not in leave_out:
                top.append(i)
                if len(top) == request.k:
                    break
        n = len(top)
        items = [Recommendation(self.skus[i], self.titles[i], float(n - rank)) for rank, i in enumerate(top)]
        return Answer(items, self.label, self.version), None


def champion_source(engine: Any, artifacts_dir: Path) -> ListSource:
    """The imported champion lists (`tanaban ingest lists`), keyed by the store pseudonym of each customer."""
    from sqlalchemy import select

    from appliance.data.artifacts import ArtifactError, load_artifact
    from appliance.data.imports import LISTS_KIND
    from appliance.data.store import Item, User

    try:
        art = load_artifact(artifacts_dir, LISTS_KIND)
    except ArtifactError as exc:
        raise ArmSourceError(f"an arm's source is champion, but no lists were imported ({exc}): run `tanaban ingest "
                             "lists FILE` first, or change the arm's source") from None
    with engine.connect() as conn:
        users = dict(conn.execute(select(User.id, User.pseudonym)).all())
        catalog = conn.execute(select(Item.id, Item.sku, Item.title).order_by(Item.id)).all()
    index = {row.id: i for i, row in enumerate(catalog)}
    lists = {}
    for uid, row in zip(art.arrays["user_ids"].tolist(), art.arrays["items"], strict=True):
        if uid in users:
            lists[users[uid]] = np.array([index[i] for i in row.tolist() if i in index], dtype=np.int64)
    return ListSource("champion", f"champion-lists/{art.path.name}", [r.sku for r in catalog],
                      [r.title for r in catalog], lists, None)


def popularity_source(engine: Any) -> ListSource:
    """Items by their number of interactions in the store, most first (ties: lower item id first)."""
    from sqlalchemy import func, select

    from appliance.data.store import Interaction, Item

    with engine.connect() as conn:
        catalog = conn.execute(select(Item.id, Item.sku, Item.title).order_by(Item.id)).all()
        counts = dict(conn.execute(select(Interaction.item_id, func.count()).group_by(Interaction.item_id)).all())
        total = sum(counts.values())
    popular = np.array([counts.get(row.id, 0) for row in catalog], dtype=np.int64)
    ranking = np.lexsort((np.arange(len(catalog)), -popular))
    return ListSource("popularity", f"popularity/{total}-interactions", [r.sku for r in catalog],
                      [r.title for r in catalog], None, ranking)


def pilot_categories(bundle: Any) -> tuple[str, ...] | None:
    """The categories a pilot bundle was trained, evaluated and exported for (its manifest's `pilot`, top level or in
    `meta`); None for a bundle that is not a pilot."""
    cached = getattr(bundle, "_abtest_pilot", False)
    if cached is not False:
        return cached
    try:
        data = read_json(Path(bundle.path) / "manifest.json")
    except (OSError, ValueError, TypeError):
        data = {}
    pilot = data.get("pilot") or data.get("meta", {}).get("pilot")
    categories = tuple(str(c) for c in pilot.get("categories", ())) if isinstance(pilot, dict) else None
    with contextlib.suppress(AttributeError):  # a bundle class with __slots__: read again next time
        bundle._abtest_pilot = categories  # the manifest is verified and fixed for the bundle's life
    return categories


def in_pilot(bundle: Any, request: ArmRequest, pseudonymize: Pseudonymize) -> bool:
    """Whether a pilot bundle covers the request: a customer it was trained on, or a history with one of its items."""
    if request.history is not None:
        return any(sku in bundle.sku_index for sku in request.history)
    return pseudonymize(request.user_id or "", bundle.pseudonym_key_id) in bundle.users
