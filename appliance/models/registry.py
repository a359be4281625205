"""The registry of models that `tanaban evaluate` knows: name -> factory of an unfitted Recommender.

Factories import their model lazily, so listing or running the baselines never loads torch; the models import only
appliance.models.contract, never this module (no import cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from appliance.errors import UserError

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig
    from appliance.models.contract import Recommender


class UnknownModelError(UserError, ValueError):
    """A model name that is not in the registry; the message lists the known ones."""


def _popularity(cfg: ApplianceConfig) -> Recommender:
    from appliance.models.baselines import PopularityRecommender

    return PopularityRecommender()


def _item_knn(cfg: ApplianceConfig) -> Recommender:
    from appliance.models.baselines import ItemKNNRecommender

    return ItemKNNRecommender(cfg.eval)


def _lightgcn(cfg: ApplianceConfig) -> Recommender:
    from appliance.models.graph_cf import make_lightgcn  # torch is imported only when the model is built

    return make_lightgcn(cfg)


def _irllrec(cfg: ApplianceConfig) -> Recommender:
    from appliance.models.graph_cf import make_irllrec

    return make_irllrec(cfg)


def _sasrec(cfg: ApplianceConfig) -> Recommender:
    from appliance.models.sasrec import make_sasrec  # torch is imported only when the model is built

    return make_sasrec(cfg)


def _generative(cfg: ApplianceConfig) -> Recommender:
    from appliance.generative.pipeline import StoreGenerativeRecommender  # needs `tanaban tokenize build`; beam only

    return StoreGenerativeRecommender(cfg)


# name -> factory taking the ApplianceConfig and returning an unfitted model; factories import lazily.
MODELS: dict[str, Callable[[ApplianceConfig], Recommender]] = {
    "popularity": _popularity,
    "item-knn": _item_knn,
    "lightgcn": _lightgcn,
    "irllrec": _irllrec,
    "sasrec": _sasrec,
    "generative": _generative,
}
DEFAULT_MODELS = ("popularity", "item-knn")  # what `tanaban evaluate` runs when no --model is given


def create_model(name: str, cfg: ApplianceConfig) -> Recommender:
    """An unfitted model from the registry (its module is imported only now)."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise UnknownModelError(f"unknown model {name!r}: use one of {', '.join(sorted(MODELS))}") from None
    return factory(cfg)
