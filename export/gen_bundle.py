"""`tanaban export gen`: the latest trained generative model as a signed, torch-free serving bundle.

Adds to what export/generative.py writes (decoder, tokenizer, codes, gates) the tables serving needs: the item map,
the users' stored pseudonyms and their full known sequences (the input and the exclusion list of a cached-history
request), and every user's top list decoded once with the exported decoder serving uses (the Semantic Convergence
paper's pre-caching: `gen_precomputed.npy`, `gen_precomputed_scores.npy`). Published under `<artifacts>/bundles-gen/`
with its own CURRENT, next to the CF bundles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from appliance.data.artifacts import load_artifact
from appliance.data.home import Home
from appliance.data.locks import store_writer
from appliance.data.splits import load_split
from appliance.privacy.audit.admin import open_audit_log
from appliance.serve.service import GEN_PRECOMPUTED, GEN_PRECOMPUTED_SCORES
from export.bundle import make_staging, publish_audited, remove_staging, sign_bundle
from export.cf import ExportError, _json, _tables
from export.intent_tables import write_intent_tables

GEN_BUNDLES = "bundles-gen"
PRECOMPUTE_BATCH = 64  # users per beam search at export: larger batches gain little and hold more KV cache


@store_writer("export-gen")
def export_gen_bundle(home: Home, *, quantize: bool = True, version: str | None = None,
                      progress: bool = True) -> Path:
    """Gate, sign and publish the latest "gen" artifact; returns the bundle directory."""
    from appliance.generative.model import GenerativeRecommender
    from export.generative import export_generative

    art = load_artifact(home.config.artifacts_dir, "gen")
    split = load_split(home.engine)
    if [int(i) for i in split.item_ids] != list(art.meta["item_ids"]):
        raise ExportError("the generative model's items differ from the store's now: run `tanaban train gen` again")
    model = GenerativeRecommender.from_state(art.arrays, art.meta)
    model.bind(split)
    root = home.config.artifacts_dir / GEN_BUNDLES
    staging = make_staging(root)  # pid in the name: `tanaban serve` removes it if this export dies
    try:
        gate = export_generative(model, staging, split=split, quantize=quantize)
        items, users = _tables(home, split)
        known = split.history("test") + split.test
        seqs = [np.concatenate([s, known[u].indices[~np.isin(known[u].indices, s)]])
                for u, s in enumerate(split.sequences("test"))]  # chronological history, then the held-out test item
        np.save(staging / "seq_indptr.npy", np.cumsum([0, *map(len, seqs)]).astype(np.int64))
        np.save(staging / "seq_items.npy", np.concatenate(seqs).astype(np.int64) if seqs else np.zeros(0, np.int64))
        _precompute(staging, seqs, progress)
        intents = write_intent_tables(home, split, staging, seqs)  # explanations, as for every bundle kind
        _json(staging / "items.json", items)
        _json(staging / "users.json", users)
        sign_bundle(staging, home.signing_key, {"kind": "generative", "artifact": art.path.name,
                                                "decoder": gate["chosen"], "gate": gate,
                                                "intents": intents}, version=version)
        with open_audit_log(home) as log:  # bundle.publish is written before CURRENT changes
            return publish_audited(staging, root, log.append)
    except BaseException:
        remove_staging(staging)
        raise


def _precompute(bundle: Path, seqs: list[np.ndarray], progress: bool) -> None:
    """Decode every user's known sequence with the bundle's own (chosen fp32/int8) decoder; beam-length lists."""
    from rich.progress import Progress

    from appliance.serve.decoder import GenerativeDecoder

    decoder = GenerativeDecoder(bundle)
    items = np.full((len(seqs), decoder.beam), -1, np.int32)
    scores = np.full((len(seqs), decoder.beam), -np.inf, np.float32)
    with Progress(transient=True, disable=not progress) as bar:
        task = bar.add_task("decoding every user's top list", total=len(seqs))
        for start in range(0, len(seqs), PRECOMPUTE_BATCH):
            stop = min(start + PRECOMPUTE_BATCH, len(seqs))
            items[start:stop], scores[start:stop] = decoder.recommend_scored(seqs[start:stop], decoder.beam,
                                                                            batch_users=PRECOMPUTE_BATCH)
            bar.advance(task, stop - start)
    np.save(bundle / GEN_PRECOMPUTED, items, allow_pickle=False)
    np.save(bundle / GEN_PRECOMPUTED_SCORES, scores, allow_pickle=False)
