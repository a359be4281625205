"""What every bundle kind answers with (a list of `Recommendation`s in an `Answer`), the sku -> item index lookup
and the small file readers they share, so that each bundle module (service.py: CF and generative; sequential.py:
SASRec) imports these and no bundle module imports another; also which models a bundle answers to
(`bundle_models`, `models_of`, `ModelView`: the API's and `tanaban recommend`'s `model` parameter). Plain dataclasses
and numpy: no torch (tests/test_imports.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from appliance.serve.errors import RequestError, ServeError

if TYPE_CHECKING:
    from appliance.serve.tables import TableReader


@dataclass(frozen=True)
class Recommendation:
    sku: str
    title: str
    score: float
    because: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    items: list[Recommendation]
    source: str  # "cached" (precomputed top-K) or "live"
    bundle: str


def sku_indices(sku_index: dict[str, int], skus: Sequence[str], *, strict: bool) -> np.ndarray:
    """Bundle item indices of `skus`; an unknown sku raises RequestError when `strict`, else it is dropped."""
    idx = [sku_index.get(s) for s in skus]
    if strict and None in idx:
        raise RequestError(f"unknown sku {skus[idx.index(None)]!r}: not in the current bundle's catalog")
    return np.array([i for i in idx if i is not None], dtype=np.int64)


def key_id(users: dict[str, int]) -> str | None:
    """The pseudonym key the bundle's users were stored under (one key per export: rotation re-keys every user)."""
    from anonymize.pseudonym import token_key_id

    return token_key_id(next(iter(users))) if users else None


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_catalog(path: Path) -> tuple[list[dict[str, str]], dict[str, int], dict[str, int], str | None]:
    """What every bundle kind reads of its catalog and customers: (items: sku, title..., the sku -> item index
    lookup, users: pseudonym -> row, the pseudonym key the users are under)."""
    items: list[dict[str, str]] = read_json(path / "items.json")
    users: dict[str, int] = read_json(path / "users.json")
    return items, {row["sku"]: i for i, row in enumerate(items)}, users, key_id(users)


def read_intents(path: Path, tables: TableReader,
                 files: Mapping[str, str]) -> tuple[np.ndarray | None, np.ndarray | None, list[str]]:
    """A bundle's intent tables (export.intent_tables) through `tables` (appliance.serve.tables): (item_intents
    (n_items, K), user_intents (n_users, K), labels); None, None, [] where the export wrote none."""
    labels = path / "intent_labels.json"
    return (tables.optional(path / "item_intents.npy", files), tables.optional(path / "user_intents.npy", files),
            read_json(labels) if labels.is_file() else [])


def verified_manifest(path: Path, public_keys: Sequence[Any], kind: str, what: str) -> Any:
    """Verify a bundle's signatures (export.bundle.verify_bundle) and refuse one of another kind."""
    from export.bundle import verify_bundle  # lazy: the plain answer types above need no bundle code

    manifest = verify_bundle(path, public_keys)
    found = manifest.data.get("meta", {}).get("kind")
    if found != kind:
        raise ServeError(f"bundle {path} is not a {what} bundle (kind {found})")
    return manifest


GENERATIVE = "generative"  # the model name of the generative bundles, served beside the main bundle


def bundle_models(manifest: Any) -> tuple[list[str], str]:
    """(models, default) a verified bundle answers to, from its manifest's meta: `models` (the default first) and
    `model`; bundles from before `models` existed answer to their one `model`."""
    meta = manifest.data.get("meta", {})
    default = str(meta.get("model") or "")
    models = [str(m) for m in meta.get("models") or [default] if m]
    return ([default] + [m for m in models if m != default] if default else models), default or models[0]


def models_of(bundle: Any) -> tuple[list[str], str]:
    """(models, default) of a loaded bundle: its own `models`/`default_model`, else read from its manifest."""
    if hasattr(bundle, "models") and hasattr(bundle, "default_model"):
        return list(bundle.models), str(bundle.default_model)
    return bundle_models(bundle.manifest)


def served_models(bundle: Any, gen_bundle: Any = None) -> tuple[list[str], str]:
    """(models, default) the API's `model` accepts: the main bundle's, then generative when a generative bundle is
    loaded (`gen_bundle` not None)."""
    models, default = models_of(bundle)
    if gen_bundle is not None and GENERATIVE not in models:
        models.append(GENERATIVE)
    return models, default


def unknown_model(model: str, allowed: Sequence[str]) -> str:
    """The message for a model the served bundles do not hold (the name itself is not echoed)."""
    return f"unknown model: the served bundles hold {', '.join(allowed)}; ask one of these or leave model out"


def select_model(bundle: Any, model: str | None) -> Any:
    """`bundle` answering as `model` (None: the bundle's default); RequestError naming the allowed models when the
    bundle does not hold it."""
    models, default = models_of(bundle)
    if model is None or model == default:
        return bundle
    if model not in models:
        raise RequestError(unknown_model(model, models))
    return bundle.for_model(model)


class ModelView:
    """A bundle answering as one of its non-default models: `for_user`/`for_history` pass `model` on; everything
    else (version, tables, `similar`) is the bundle's own."""

    def __init__(self, bundle: Any, model: str) -> None:
        self.bundle, self.model = bundle, model

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bundle, name)

    def for_user(self, pseudonym: str, k: int, exclude: Sequence[str] = (), explain: bool = False) -> Answer:
        return self.bundle.for_user(pseudonym, k, exclude, explain, model=self.model)

    def for_history(self, skus: Sequence[str], k: int, exclude: Sequence[str] = (), explain: bool = False) -> Answer:
        return self.bundle.for_history(skus, k, exclude, explain, model=self.model)
