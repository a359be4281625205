"""The registry of models that `tanaban evaluate` knows: name -> factory of an unfitted Recommender, and, for the
models a `tanaban train ...` command saves, which versioned artifact holds the trained model and how to load it.

Factories and loaders import their model lazily, so listing or running the baselines never loads torch; the models
import only appliance.models.contract, never this module (no import cycle).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from appliance.errors import UserError

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig
    from appliance.data.artifacts import Artifact
    from appliance.data.splits import Split
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


def _hybrid(cfg: ApplianceConfig) -> Recommender:
    from appliance.models.hybrid import HybridRecommender  # fusion of SASRec and item-kNN, fitted on validation

    return HybridRecommender(cfg, k=max(cfg.eval.ks))


def _generative(cfg: ApplianceConfig) -> Recommender:
    from appliance.generative.pipeline import StoreGenerativeRecommender  # needs `tanaban tokenize build`; beam only

    return StoreGenerativeRecommender(cfg)


def _imported(cfg: ApplianceConfig) -> Recommender:
    from appliance.models.imported import ImportedRecommender  # needs `tanaban ingest embeddings`

    return ImportedRecommender(cfg.artifacts_dir)


def _champion(cfg: ApplianceConfig) -> Recommender:
    from appliance.models.imported import ChampionRecommender  # needs `tanaban ingest lists`

    return ChampionRecommender(cfg.artifacts_dir)


# name -> factory taking the ApplianceConfig and returning an unfitted model; factories import lazily.
MODELS: dict[str, Callable[[ApplianceConfig], Recommender]] = {
    "popularity": _popularity,
    "item-knn": _item_knn,
    "lightgcn": _lightgcn,
    "irllrec": _irllrec,
    "sasrec": _sasrec,
    "hybrid": _hybrid,
    "generative": _generative,
    "imported": _imported,
    "champion": _champion,
}
DEFAULT_MODELS = ("popularity", "item-knn")  # what `tanaban evaluate` runs when no --model is given


def create_model(name: str, cfg: ApplianceConfig) -> Recommender:
    """An unfitted model from the registry (its module is imported only now)."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise UnknownModelError(f"unknown model {name!r}: use one of {', '.join(sorted(MODELS))}") from None
    return factory(cfg)


def check_model_names(names: Sequence[str]) -> None:
    """Raise UnknownModelError for the first name that is not in the registry."""
    for name in names:
        if name not in MODELS:
            raise UnknownModelError(f"unknown model {name!r}: use one of {', '.join(sorted(MODELS))}")


# --- trained models saved as versioned artifacts (appliance.data.artifacts) by the `tanaban train` commands

@dataclass(frozen=True)
class SavedModel:
    """Where a trained model lives and how `tanaban evaluate` gets it back without retraining."""

    kinds: tuple[str, ...]  # artifact kinds to look for, first found wins
    train_command: str  # the command that writes it (named in messages)
    load: Callable[[Artifact, Split], Recommender]  # the artifact -> a model ready to score the split
    config_keys: tuple[str, ...]  # manifest keys that hold the model's resolved config


def _load_graph_cf(art: Artifact, split: Split) -> Recommender:
    from appliance.models.graph_cf import LightGCNRecommender

    return LightGCNRecommender.from_arrays(art.arrays, art.meta)


def _load_sasrec(art: Artifact, split: Split) -> Recommender:
    from appliance.models.sasrec import SASRecRecommender

    return SASRecRecommender.from_artifact(art.arrays, art.meta, split)  # input sequences rebuilt from the split


def _load_generative(art: Artifact, split: Split) -> Recommender:
    from appliance.generative.model import GenerativeRecommender

    model = GenerativeRecommender.from_state(art.arrays, art.meta)
    model.bind(split)
    return model


SAVED: dict[str, SavedModel] = {
    "lightgcn": SavedModel(("cf-lightgcn",), "tanaban train cf --model lightgcn", _load_graph_cf, ("lightgcn",)),
    "irllrec": SavedModel(("cf-irllrec",), "tanaban train cf --model irllrec", _load_graph_cf,
                          ("lightgcn", "irllrec")),
    "sasrec": SavedModel(("sasrec", "cf-sasrec"), "tanaban train sasrec", _load_sasrec, ("sasrec",)),
    "generative": SavedModel(("gen",), "tanaban train gen", _load_generative, ("gen_config",)),
}
