"""The generative recommender over the appliance home: `tanaban train gen` (split, semantic IDs, item and intent
texts from the store, training, evaluation, the versioned "gen" artifact) and the registry's `generative` model
for `tanaban evaluate` (Semantic Convergence, Li et al., AAAI 2025).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select

from appliance.config import GenConfig
from appliance.data.artifacts import ArtifactError, data_fingerprint, load_artifact, save_artifact
from appliance.data.home import Home, open_home
from appliance.data.locks import store_writer
from appliance.data.splits import Split, load_split, sample_evaluation
from appliance.data.store import Item
from appliance.generative.model import GenerativeRecommender
from appliance.generative.tasks import GenerativeError
from appliance.generative.train import GenFitReport
from appliance.models.metrics import evaluate

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig
    from appliance.models.contract import FitInfo

KIND = "gen"  # artifact kind of trained generative models


@dataclass(frozen=True)
class GenTrainResult:
    path: Path  # artifact version directory
    report: GenFitReport
    valid: dict[str, float]
    test: dict[str, float]


@store_writer("train-gen")
def train_gen(home: Home, cfg: GenConfig, *, progress: bool = True) -> GenTrainResult:
    """Load the split, codes, item texts and (if built) intents; train; evaluate; save the "gen" artifact."""
    split = sample_evaluation(load_split(home.engine), home.config.eval.max_customers, home.config.eval.seed)
    model, codes_version = model_from_home(home, split, cfg)
    model.fit(split, progress=progress)
    report = model.fit_report
    from appliance.models.distributed import current

    if not current().is_main:  # a DDP rank other than 0 only trains: rank 0 evaluates and saves
        return GenTrainResult(Path(), report, {}, {})
    ks = home.config.eval.ks
    valid = evaluate(model, split, "valid", ks, batch_users=256, progress=progress)
    test = evaluate(model, split, "test", ks, batch_users=256, progress=progress)
    arrays, meta = model.to_state()
    meta.update(semantic_ids_version=codes_version, data_fingerprint=data_fingerprint(home.engine),
                item_ids=[int(i) for i in split.item_ids], valid=valid, test=test,
                evaluation=split.evaluation_record())
    return GenTrainResult(save_artifact(home.config.artifacts_dir, KIND, arrays, meta), report, valid, test)


def model_from_home(home: Home, split: Split, cfg: GenConfig) -> tuple[GenerativeRecommender, str]:
    """An unfitted model with the latest semantic IDs, item texts and (for the intent task) intent texts of the
    split's users and items; also returns the semantic-ids artifact version."""
    codes, level_sizes, codes_version = _aligned_codes(home, split)
    texts = _item_texts(home, split)
    intents = _intent_texts(home, split) if "intent" in cfg.tasks else None
    model = GenerativeRecommender(cfg, codes, item_texts=texts, intent_texts=intents, level_sizes=level_sizes)
    return model, codes_version


def _aligned_codes(home: Home, split: Split) -> tuple[np.ndarray, tuple[int, ...], str]:
    """Codes of the split's items from the latest semantic-ids artifact (rows follow split.item_ids)."""
    try:
        art = load_artifact(home.config.artifacts_dir, "semantic-ids")
    except ArtifactError:
        raise GenerativeError("no semantic IDs yet: run `tanaban tokenize build` first") from None
    row = {int(i): r for r, i in enumerate(art.arrays["item_ids"])}
    missing = [int(i) for i in split.item_ids if int(i) not in row]
    if missing:
        raise GenerativeError(f"{len(missing)} items (e.g. store id {missing[0]}) have no semantic ID: the catalog "
                            "changed since `tanaban tokenize build`; run it again")
    codes = art.arrays["codes"][[row[int(i)] for i in split.item_ids]].astype(np.int64)
    return codes, tuple(int(s) for s in art.meta["level_sizes"]), str(art.meta["version"])


def _item_texts(home: Home, split: Split) -> list[str]:
    """'title brand categories' per split item (the text task and the tokenizer's vocabulary)."""
    with home.engine.connect() as conn:
        rows = conn.execute(select(Item.id, Item.title, Item.brand, Item.categories)).all()
    text = {r.id: " ".join([r.title or "", r.brand or "", " ".join(r.categories or [])]).strip() for r in rows}
    return [text.get(int(i), "") for i in split.item_ids]


def _intent_texts(home: Home, split: Split) -> dict[int, str] | None:
    """User row -> intent text from the latest intents artifact (built from training data), or None."""
    from appliance.text.intents import load_intents

    try:
        intents = load_intents(home.config.artifacts_dir)
    except ArtifactError:
        return None
    row = {int(u): r for r, u in enumerate(split.user_ids)}
    return {row[int(u)]: intents.text(intents.user_dist[r]) for r, u in enumerate(intents.user_ids)
            if int(u) in row}


class StoreGenerativeRecommender:
    """`tanaban evaluate --model generative`: the generative recommender built from the appliance home at fit time.

    fit(split) loads the latest semantic IDs (`tanaban tokenize build`), the item texts and, for the intent task,
    the intent texts, exactly as `tanaban train gen` does, and trains with `cfg.gen`. score() gives beam
    log-probabilities for the `cfg.gen.beam` items of the constrained beam and -inf for every other item, so only
    the beam's items are ranked: metrics at cut-offs past @beam mean nothing (they count the rest as misses).
    """

    name = "generative"

    def __init__(self, cfg: ApplianceConfig) -> None:
        self.cfg = cfg
        self.model: GenerativeRecommender | None = None
        self.show_progress = False  # the training loop's own report: a step bar, or one line per epoch

    @property
    def stopped_by(self) -> str:
        report = self.model.fit_report if self.model is not None else None
        return str(getattr(report, "stopped_by", ""))

    def fit(self, split: Split) -> FitInfo:
        home = open_home(self.cfg)
        try:
            self.model, _ = model_from_home(home, split, self.cfg.gen)
        finally:
            home.engine.dispose()
        return self.model.fit(split, progress=self.show_progress)

    def score(self, users: np.ndarray, stage: str = "test") -> np.ndarray:
        """(len(users), n_items) float32: beam log-probabilities, -inf outside the beam."""
        return self._fitted().score(users, stage)

    def save(self, directory: Path) -> None:
        self._fitted().save(directory)

    @classmethod
    def load(cls, directory: Path) -> GenerativeRecommender:
        """The saved model itself (bind() it to a split before scoring)."""
        return GenerativeRecommender.load(directory)

    def _fitted(self) -> GenerativeRecommender:
        if self.model is None:
            raise GenerativeError("the generative model is not fitted: call fit(split) first")
        return self.model
