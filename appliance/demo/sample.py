"""Deterministic synthetic retail sample in the generic ingest format (docs/INGEST.md), from one seed only.

Writes `items.jsonl`, `interactions.csv`, `reviews.jsonl` and `pii_labels.jsonl`. Shoppers follow 1-3 latent
intents (weighted product types plus a price tilt); popularity within a product type is Zipf-distributed; the next
purchase often completes the previous one (tent -> sleeping bag), so both co-occurrence (item-kNN) and order
(sequential models) carry signal. About a quarter of purchases get a review, and a share of reviews carry planted
personal data labelled with exact character spans (appliance.demo.sample_pii). Raw customer ids exist only here.

A `pii_labels.jsonl` row: `{"sku", "customer_id" (null for guest reviews), "timestamp", "line" (1-based line of
reviews.jsonl), "entities": [{"entity_type", "start", "end", "text"}], "decoys": [{"kind": "BRAND", ...}]}`.
"""

from __future__ import annotations

import bisect
import csv
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from appliance.config import SampleConfig
from appliance.demo.sample_pii import Draws, compose_review
from appliance.demo.sample_vocab import (
    ADJECTIVES,
    BRANDS,
    COLOURS,
    COMPLEMENTS,
    DESCRIPTION_TEMPLATES,
    INTENTS,
    MATERIALS,
    PRODUCT_TYPES,
    USES,
    ProductType,
)
from appliance.errors import UserError

START_TS = 1_735_689_600  # 2025-01-01T00:00:00Z: a fixed epoch keeps output independent of the clock
YEAR_S = 365 * 86_400
PRICE_SIGMA = 0.35  # lognormal spread of prices around a product type's median
MAX_ITEMS = 900_000  # SKUs are <DEPT>-<6 digits from 100000>
MAX_USERS = 1_000_000  # customer ids are C + 6 digits
FILES = ("items.jsonl", "interactions.csv", "reviews.jsonl", "pii_labels.jsonl")
_TYPE_INDEX = {t.name: i for i, t in enumerate(PRODUCT_TYPES)}


class SampleError(UserError, ValueError):
    """The requested sample cannot be generated (bad size or output path); the message says what to change."""


@dataclass(frozen=True)
class Catalog:
    items: list[dict]  # generic-format item records, in sku order of creation
    item_type: np.ndarray  # (n_items,) index into PRODUCT_TYPES
    price_z: np.ndarray  # (n_items,) log(price / type median) / PRICE_SIGMA
    popularity: np.ndarray  # (n_items,) Zipf weight within the item's product type
    quality: np.ndarray  # (n_items,) latent quality that shifts ratings


@dataclass(frozen=True)
class Sample:
    """Everything generated, in memory; `user_intents` is the ground truth the files do not contain."""

    catalog: Catalog
    customers: list[str]  # raw retailer ids ("C004217"), index = user
    user_intents: list[tuple[str, ...]]  # intent names per user
    purchases: list[tuple[int, int, int]]  # (user, item, unix ts), chronological within each user
    ratings: dict[int, int]  # purchase index -> rating, for reviewed purchases
    reviews: list[dict]  # generic-format review records
    pii_labels: list[dict]  # one per review with planted personal data


@dataclass(frozen=True)
class SampleReport:
    """What `write_sample` wrote: counts per file."""

    out_dir: Path
    n_items: int
    n_users: int
    n_interactions: int
    n_reviews: int
    n_pii_reviews: int
    n_pii_spans: int


def _check(cfg: SampleConfig) -> None:
    if not len(PRODUCT_TYPES) <= cfg.n_items <= MAX_ITEMS:
        raise SampleError(f"n_items={cfg.n_items}: use {len(PRODUCT_TYPES)} (one per product type) to {MAX_ITEMS}")
    if not 1 <= cfg.n_users <= MAX_USERS:
        raise SampleError(f"n_users={cfg.n_users}: use 1 to {MAX_USERS}")
    if not 1 <= cfg.min_purchases <= cfg.max_purchases:
        raise SampleError("need 1 <= min_purchases <= max_purchases")
    rates = (cfg.complement_rate, cfg.repeat_rate, cfg.noise_rate)
    if min(rates) < 0 or sum(rates) > 1:
        raise SampleError("complement_rate, repeat_rate and noise_rate must be >= 0 and sum to at most 1")
    if not 0 <= cfg.intent_stickiness <= 1:
        raise SampleError("intent_stickiness must be between 0 and 1")


def _describe(rng: Draws, ptype: ProductType, brand: str, adj: str, variant: str) -> str:
    materials = MATERIALS[ptype.path[0]]
    material = rng.pick(materials)
    uses = USES[ptype.path[0]]
    values = {"adj": adj, "type": ptype.name, "material": material, "variant": variant, "brand": brand,
              "use": rng.pick(uses)}
    extra = sorted(1 + i for i in rng.permutation(len(DESCRIPTION_TEMPLATES) - 1)[: rng.integers(3)])
    return " ".join(DESCRIPTION_TEMPLATES[i].format(**values) for i in [0, *extra])


def _make_item(rng: Draws, t: int, sku: str) -> tuple[dict, float]:
    ptype = PRODUCT_TYPES[t]
    brands = [name for name, depts in BRANDS if ptype.path[0] in depts]
    brand, adj, colour = str(rng.pick(brands)), str(rng.pick(ADJECTIVES)), str(rng.pick(COLOURS))
    size = str(rng.pick(ptype.sizes)) if ptype.sizes else "one size"
    variant = size if ptype.sizes else colour
    z = rng.normal()
    price = max(0.99, round(ptype.median_price * math.exp(PRICE_SIGMA * z)) - 0.01)
    item = {"sku": sku, "title": f"{brand} {adj} {ptype.name}, {variant}", "brand": brand,
            "categories": list(ptype.path), "description": _describe(rng, ptype, brand, adj, variant),
            "price": round(price, 2), "attributes": {"colour": colour, "size": size}}
    return item, math.log(price / ptype.median_price) / PRICE_SIGMA


def build_catalog(rng: Draws, cfg: SampleConfig) -> Catalog:
    """Items spread over all product types (at least one each), with Zipf popularity inside each type."""
    n_types, vec = len(PRODUCT_TYPES), rng.rng
    type_weight = vec.uniform(0.6, 1.4, size=n_types)
    rest = vec.choice(n_types, size=cfg.n_items - n_types, p=type_weight / type_weight.sum())
    item_type = np.concatenate([np.arange(n_types), rest])[vec.permutation(cfg.n_items)]
    numbers = vec.choice(900_000, size=cfg.n_items, replace=False) + 100_000
    items, price_z = [], np.empty(cfg.n_items)
    for i, t in enumerate(item_type.tolist()):
        prefix = PRODUCT_TYPES[t].path[0][:3].upper()
        item, price_z[i] = _make_item(rng, t, f"{prefix}-{numbers[i]}")
        items.append(item)
    popularity = np.empty(cfg.n_items)
    for t in range(n_types):
        members = np.flatnonzero(item_type == t)
        ranks = vec.permutation(len(members))
        popularity[members] = 1.0 / (ranks + 1.0) ** cfg.zipf_exponent
    quality = vec.normal(0.0, 0.5, size=cfg.n_items)
    return Catalog(items, item_type, price_z, popularity, quality)


def _intent_type_weights() -> np.ndarray:
    """(n_intents, n_types) purchase weights; '@Dept', a sub-category or a type name spreads its weight."""
    out = np.zeros((len(INTENTS), len(PRODUCT_TYPES)))
    for row, intent in enumerate(INTENTS):
        for key, weight in intent.types.items():
            name = key.lstrip("@")
            members = [i for i, t in enumerate(PRODUCT_TYPES) if name in (t.name, t.path[0], t.path[1])]
            out[row, members] += weight / len(members)
    return out / out.sum(axis=1, keepdims=True)


class _Shopper:
    """Draws one user's purchase sequence; holds the per-type cumulative weights shared by all users."""

    def __init__(self, rng: Draws, cfg: SampleConfig, catalog: Catalog) -> None:
        self.rng, self.cfg, self.catalog = rng, cfg, catalog
        self.intent_cdf = np.cumsum(_intent_type_weights(), axis=1).tolist()
        self.members = [np.flatnonzero(catalog.item_type == t) for t in range(len(PRODUCT_TYPES))]
        self.brand = np.array([item["brand"] for item in catalog.items])
        self.types = catalog.item_type.tolist()
        self._cdf: dict[tuple[int, float], list[float]] = {}
        counts = np.bincount(catalog.item_type, minlength=len(PRODUCT_TYPES))
        self.global_type_cdf = np.cumsum(counts / counts.sum()).tolist()

    def _item_cdf(self, t: int, tilt: float) -> list[float]:
        key = (t, tilt)
        if key not in self._cdf:
            members = self.members[t]
            weight = self.catalog.popularity[members] * np.exp(tilt * self.catalog.price_z[members])
            self._cdf[key] = np.cumsum(weight).tolist()
        return self._cdf[key]

    def _draw(self, cdf: list[float]) -> int:
        """Index drawn with probability proportional to the increments of the cumulative weights `cdf`."""
        return min(bisect.bisect_right(cdf, self.rng.random() * cdf[-1]), len(cdf) - 1)

    def _pick_item(self, t: int, tilt: float, loyal: dict[str, str]) -> int:
        dept = PRODUCT_TYPES[t].path[0]
        members = self.members[t]
        if dept in loyal and self.rng.random() < self.cfg.brand_loyalty:
            same = members[self.brand[members] == loyal[dept]]
            if len(same):
                return int(same[self._draw(np.cumsum(self.catalog.popularity[same]).tolist())])
        item = int(members[self._draw(self._item_cdf(t, tilt))])
        loyal[dept] = str(self.brand[item])
        return item

    def _next_type(self, prev: int | None, intent: int) -> tuple[int, float]:
        """Product type of the next purchase and the price tilt to pick it with."""
        cfg, r = self.cfg, self.rng.random()
        prev_name = PRODUCT_TYPES[self.types[prev]].name if prev is not None else ""
        if prev_name in COMPLEMENTS and r < cfg.complement_rate:
            return _TYPE_INDEX[str(self.rng.pick(COMPLEMENTS[prev_name]))], INTENTS[intent].price_tilt
        if r > 1.0 - cfg.noise_rate:
            return self._draw(self.global_type_cdf), 0.0
        return self._draw(self.intent_cdf[intent]), INTENTS[intent].price_tilt

    def sequence(self, intents: list[int], mix: list[float]) -> list[int]:
        """Item indices of one user's purchases in order."""
        cfg, rng = self.cfg, self.rng
        length = round(rng.rng.lognormal(math.log(cfg.median_purchases), 0.6))
        length = max(cfg.min_purchases, min(cfg.max_purchases, length))
        mix_cdf = np.cumsum(mix).tolist()
        bought: list[int] = []
        loyal: dict[str, str] = {}
        intent = intents[self._draw(mix_cdf)]
        for _ in range(length):
            consumables = [i for i in bought if PRODUCT_TYPES[self.types[i]].consumable]
            if consumables and rng.random() < cfg.repeat_rate:
                bought.append(int(rng.pick(consumables)))
                continue
            if rng.random() >= cfg.intent_stickiness:
                intent = intents[self._draw(mix_cdf)]
            t, tilt = self._next_type(bought[-1] if bought else None, intent)
            bought.append(self._pick_item(t, tilt, loyal))
        return bought


def _timestamps(rng: Draws, n: int) -> list[int]:
    """n strictly increasing unix seconds inside the sample year, with irregular gaps."""
    vec = rng.rng
    start = START_TS + int(vec.uniform(0.0, 0.5) * YEAR_S)
    span = vec.uniform(0.2, 1.0) * (START_TS + YEAR_S - start)
    gaps = vec.exponential(1.0, size=n)
    offsets = np.cumsum(gaps) / gaps.sum() * span * (1.0 - 1.0 / (n + 1))
    out: list[int] = []
    for offset in offsets.tolist():
        ts = start + int(offset)
        out.append(max(ts, out[-1] + 60) if out else ts)  # a minute apart at least: order is never ambiguous
    return out


def _draw_users(rng: Draws, cfg: SampleConfig, catalog: Catalog) -> tuple[list, list, list]:
    """Customer ids, intents per user and the chronological (user, item, ts) purchases."""
    vec = rng.rng
    numbers = vec.choice(1_000_000, size=cfg.n_users, replace=False)
    customers = [f"C{n:06d}" for n in numbers.tolist()]
    shopper = _Shopper(rng, cfg, catalog)
    intents_per_user, purchases = [], []
    for user in range(cfg.n_users):
        k = 1 + int(vec.choice(3, p=[0.5, 0.35, 0.15]))
        intents = vec.choice(len(INTENTS), size=k, replace=False).tolist()
        mix = vec.dirichlet(np.full(k, 2.0)).tolist()
        intents_per_user.append(tuple(INTENTS[i].name for i in intents))
        items = shopper.sequence(intents, mix)
        purchases.extend((user, item, ts) for item, ts in zip(items, _timestamps(rng, len(items)), strict=True))
    return customers, intents_per_user, purchases


def _rating(rng: Draws, quality: float, user_bias: float) -> int:
    return max(1, min(5, round(4.0 + quality + user_bias + rng.normal(0.0, 0.8))))


def _write_reviews(rng: Draws, cfg: SampleConfig, catalog: Catalog, customers: list[str],
                   purchases: list[tuple[int, int, int]]) -> tuple[dict, list, list]:
    """Ratings and review records for about review_rate of purchases, with PII planted in pii_rate of them."""
    user_bias = rng.rng.normal(0.0, 0.4, size=len(customers))
    ratings, reviews, labels = {}, [], []
    for index, (user, item, ts) in enumerate(purchases):
        if rng.random() >= cfg.review_rate:
            continue
        rating = _rating(rng, float(catalog.quality[item]), float(user_bias[user]))
        ptype = PRODUCT_TYPES[catalog.item_type[item]]
        plant = bool(rng.random() < cfg.pii_rate)
        record = catalog.items[item]
        text = compose_review(rng, ptype.name, ptype.path, record["brand"], rating, plant)
        customer = None if rng.random() < cfg.anonymous_review_rate else customers[user]
        review_ts = ts + rng.integers(2 * 86_400, 20 * 86_400)
        review = {"customer_id": customer, "sku": record["sku"], "timestamp": review_ts, "rating": rating,
                  "text": text.text}
        if customer is None:
            del review["customer_id"]
        if plant:
            labels.append({"sku": record["sku"], "customer_id": customer, "timestamp": review_ts,
                           "line": len(reviews) + 1, "entities": text.entities, "decoys": text.decoys})
        ratings[index] = rating
        reviews.append(review)
    return ratings, reviews, labels


def build_sample(cfg: SampleConfig) -> Sample:
    """Generate the whole sample in memory from `cfg.seed` alone."""
    _check(cfg)
    rng = Draws(np.random.default_rng(cfg.seed))
    catalog = build_catalog(rng, cfg)
    customers, intents, purchases = _draw_users(rng, cfg, catalog)
    ratings, reviews, labels = _write_reviews(rng, cfg, catalog, customers, purchases)
    return Sample(catalog, customers, intents, purchases, ratings, reviews, labels)


def _jsonl(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def _write_interactions(path: Path, sample: Sample) -> None:
    """One CSV row per purchase, in global time order (ties: user order), as a shop export would be."""
    order = sorted(range(len(sample.purchases)), key=lambda i: (sample.purchases[i][2], i))
    items = sample.catalog.items
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["customer_id", "sku", "timestamp", "event", "rating"])
        for i in order:
            user, item, ts = sample.purchases[i]
            writer.writerow([sample.customers[user], items[item]["sku"], ts, "purchase", sample.ratings.get(i, "")])


def write_sample(sample: Sample, out_dir: Path) -> SampleReport:
    """Write the four files of `FILES` into out_dir (created if missing; existing sample files are replaced)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SampleError(f"{out_dir} exists and is not a directory: choose a new or empty directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    _jsonl(out_dir / "items.jsonl", sample.catalog.items)
    _write_interactions(out_dir / "interactions.csv", sample)
    _jsonl(out_dir / "reviews.jsonl", sample.reviews)
    _jsonl(out_dir / "pii_labels.jsonl", sample.pii_labels)
    return SampleReport(out_dir, len(sample.catalog.items), len(sample.customers), len(sample.purchases),
                        len(sample.reviews), len(sample.pii_labels),
                        sum(len(label["entities"]) for label in sample.pii_labels))


def generate_sample(out_dir: Path, *, seed: int = 0, n_items: int = 3000, n_users: int = 1500,
                    cfg: SampleConfig | None = None) -> SampleReport:
    """Generate and write a sample; `seed`, `n_items` and `n_users` override the same fields of `cfg`."""
    base = cfg or SampleConfig()
    return write_sample(build_sample(replace(base, seed=seed, n_items=n_items, n_users=n_users)), out_dir)
