"""`tanaban demo`: the whole appliance on a generated retail sample, in a directory of its own.

Each step calls the same library functions as the admin commands (init, ingest, evaluate, recommend, anonymize,
egress, audit), so the demo shows what the product does, not a parallel code path. Rendering is left to the caller
through the small `DemoOutput` protocol, which keeps this module free of terminal code.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select

from appliance.config import ApplianceConfig, load_config
from appliance.data.home import Home, init_home, open_home
from appliance.data.ingest import ingest_file
from appliance.data.splits import Split, load_split, sample_evaluation
from appliance.data.store import Item, User
from appliance.demo.sample import generate_sample
from appliance.errors import UserError
from appliance.models.contract import recommend
from appliance.models.metrics import evaluate
from appliance.models.registry import create_model

DEMO_MODELS = ("popularity", "item-knn")  # fast enough for every run of the demo on 2 cores


class DemoError(UserError, RuntimeError):
    """The demo directory cannot be used (it holds something that is not a previous demo)."""


class DemoOutput(Protocol):
    def step(self, title: str) -> None: ...
    def text(self, line: str) -> None: ...
    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None: ...


@dataclass(frozen=True)
class DemoSize:
    items: int = 3000  # "a few thousand items": big enough for item-kNN to beat popularity clearly
    users: int = 1500  # about 20k purchases: every step stays under a minute on 2 cores
    seed: int = 0  # the sample is a pure function of the seed
    intents: int = 24  # K for the demo: readable labels on a 3,000-item catalog (the reference K=128 is for 12k+)
    cf_epochs: int = 60  # IRLLRec epochs at most (early stopping usually ends sooner); keeps the demo in minutes
    codes: int = 32  # codes per semantic-ID level: 3 x 32 suits a few thousand items (3 x 256 is for 10k+)
    gen_epochs: int = 3  # a tiny generative model: shows the pipeline, not its accuracy (that needs a GPU run)


def demo_config(directory: Path, base: ApplianceConfig | None = None) -> ApplianceConfig:
    """The config the demo runs under: `base` (or defaults) with every path inside `directory`."""
    cfg = base or load_config(None, env={})
    data = directory / "data"
    fresh = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(data)})
    return dataclasses.replace(cfg, paths=fresh.paths, store=fresh.store, audit=fresh.audit)


def run_demo(directory: Path, out: DemoOutput, *, size: DemoSize = DemoSize(),
             base: ApplianceConfig | None = None) -> dict[str, Any]:
    """Run every step; returns the figures shown (metrics per model, the customer shown, timings)."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()) and not (directory / "data").is_dir():
        raise DemoError(f"{directory} is not empty and holds no previous demo: give an empty or new directory")
    cfg = demo_config(directory, base)
    results: dict[str, Any] = {"directory": str(directory)}
    home = _step_init(cfg, out)
    sample_dir = _step_sample(directory / "sample", size, out)
    _step_ingest(home, sample_dir, out)
    split, metrics, models = _step_evaluate(home, cfg, out)
    results["metrics"] = metrics
    results["customer"] = _step_recommend(home, split, models["item-knn"], sample_dir, out)
    results["irllrec"] = _step_intents(home, cfg, split, results["customer"], size, out)
    results["generative"] = _step_generative(home, cfg, split, results["customer"], size, out)
    results["served"] = _step_serve(home, results["customer"], out)
    results["egress"] = _step_privacy(home, cfg, sample_dir, out)
    results["abtest"] = _step_abtest(home, split, models, out)  # last: its simulated purchases train nothing
    return results


def _step_init(cfg: ApplianceConfig, out: DemoOutput) -> Home:
    out.step("init: data directory, SQLite store, pseudonymization and signing keys")
    report = init_home(cfg)
    out.text(f"store {report.store_url} (schema v{report.schema_version}); keys in {report.keys_dir} (0600): "
             f"pseudonym key {report.pseudonym_key_id}, signing key {report.signing_key_id}"
             + ("" if report.created_keys else " (existing keys kept)"))
    return open_home(cfg)


def _step_sample(sample_dir: Path, size: DemoSize, out: DemoOutput) -> Path:
    out.step("sample: a generated retail catalog, customers with latent intents, reviews with planted PII")
    report = generate_sample(sample_dir, seed=size.seed, n_items=size.items, n_users=size.users)
    out.text(f"{report.n_items} items, {report.n_users} customers, {report.n_interactions} purchases, "
             f"{report.n_reviews} reviews ({report.n_pii_reviews} with planted personal data) in {sample_dir}")
    return sample_dir


def _step_ingest(home: Home, sample_dir: Path, out: DemoOutput) -> None:
    out.step("ingest: customer ids become keyed pseudonyms at once; each file is all-or-nothing")
    rows = []
    for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv"), ("reviews", "reviews.jsonl")):
        rep = ingest_file(home, sample_dir / name, kind, progress=True)  # the bar shows on terminals only
        rows.append((name, rep.read, rep.added, rep.present, rep.rejected))
    out.table("ingested", ("file", "read", "added", "already present", "rejected"), rows)


def _step_evaluate(home: Home, cfg: ApplianceConfig, out: DemoOutput) -> tuple[Split, dict, dict]:
    out.step("evaluate: leave-one-out, full ranking over all items, history masked")
    split = sample_evaluation(load_split(home.engine, "auto"), cfg.eval.max_customers, cfg.eval.seed)
    metrics, models, rows = {}, {}, []
    for name in DEMO_MODELS:
        start = time.perf_counter()
        model = create_model(name, cfg)
        model.fit(split)
        metrics[name] = evaluate(model, split, "test", cfg.eval.ks, progress=True)
        models[name] = model
        rows.append((name, *(f"{metrics[name][f'{m}@{k}']:.4f}" for m in ("recall", "ndcg") for k in cfg.eval.ks),
                     f"{time.perf_counter() - start:.1f}"))
    columns = ("model", *(f"{m}@{k}" for m in ("R", "N") for k in cfg.eval.ks), "seconds")
    out.table(f"Recall (R) and NDCG (N) at K; {split.n_users} users, {split.n_items} items, {split.protocol}",
              columns, rows)
    return split, metrics, models


def _step_recommend(home: Home, split: Split, model: Any, sample_dir: Path, out: DemoOutput) -> str:
    out.step("recommend: next items for one customer (item-kNN), history excluded")
    raw_id = _first_customer(sample_dir)
    pseudonym = home.store_pseudonym(raw_id)
    with home.engine.connect() as conn:
        user_id = conn.scalar(select(User.id).where(User.pseudonym == pseudonym))
        titles = {item_id: title for item_id, title in conn.execute(select(Item.id, Item.title))}
    user = int(np.flatnonzero(split.user_ids == user_id)[0])
    history = [titles[int(split.item_ids[i])] for i in split.sequences("test")[user][-4:]]
    top = recommend(model, split, np.array([user]), 5, "test")[0]
    out.text(f"customer {raw_id} is stored only as {pseudonym}; last purchases: " + "; ".join(history))
    out.table("recommended", ("rank", "item"), [(r + 1, titles[int(split.item_ids[i])]) for r, i in enumerate(top)])
    return raw_id


def _first_customer(sample_dir: Path) -> str:
    with (sample_dir / "interactions.csv").open(encoding="utf-8") as fh:
        next(fh)
        return next(fh).split(",", 1)[0]


def _pii_review(sample_dir: Path) -> tuple[str, str | None, list[dict[str, Any]]]:
    """(text, raw customer id, planted spans) of the first review with planted personal data and a customer."""
    with (sample_dir / "pii_labels.jsonl").open(encoding="utf-8") as labels:
        candidates = [json.loads(raw) for raw in labels]
    candidates = [c for c in candidates if c.get("customer_id")]
    if not candidates:
        raise DemoError("the sample holds no review with planted personal data")
    label = max(candidates, key=lambda c: (len({e["entity_type"] for e in c["entities"]}), -c["line"]))
    with (sample_dir / "reviews.jsonl").open(encoding="utf-8") as reviews:
        for number, line in enumerate(reviews, 1):
            if number == label["line"]:
                return json.loads(line)["text"], label["customer_id"], label["entities"]
    raise DemoError("the sample holds no review with planted personal data")


def _step_privacy(home: Home, cfg: ApplianceConfig, sample_dir: Path, out: DemoOutput) -> dict[str, Any]:
    """Anonymize a review, send it through the gateway to a loopback LLM stand-in, then verify the audit log."""
    from appliance.demo.llm_standin import LLMStandin
    from appliance.privacy.audit.admin import checkpoint_log, list_entries, verify_home
    from appliance.privacy.egress import open_gateway

    out.step("privacy: anonymize, send through the egress gateway (audit record first), verify the log")
    text, customer, planted = _pii_review(sample_dir)
    out.text(f"review with planted personal data ({', '.join(sorted({e['entity_type'] for e in planted}))}):")
    out.text(f"  {text}")
    prompt = [{"role": "system", "content": "Describe this customer's shopping intent in a few words."},
              {"role": "user", "content": f"Customer {customer} wrote: {text}"}]
    with LLMStandin() as llm:
        egress = dataclasses.replace(cfg.egress, enabled=True, base_url=llm.base_url, model="demo-standin",
                                     allowed_hosts=("127.0.0.1",))
        result = open_gateway(home, cfg=egress).chat(prompt, purpose="intent-extraction",
                                                     customer_ids=[customer] if customer else [])
        received = llm.requests[-1].body.decode("utf-8")
    sent = json.loads(received)["messages"][1]["content"]
    leaked = [e["text"] for e in planted if e["text"] in received] + ([customer] if customer in received else [])
    out.text(f"what the LLM stand-in received:\n  {sent}")
    out.text(f"answer: {result.text!r}; planted values that reached it: {leaked or 'none'}")
    entries = list_entries(home, limit=5)
    out.table("audit list (newest entries)", ("seq", "action", "outcome", "destination", "categories"),
              [(e["seq"], e["action"], e["outcome"], e["destination"].get("host", ""),
                ", ".join(f"{k} {v}" for k, v in sorted(e["categories"].items()))) for e in entries])
    checkpoint_log(home)
    report = verify_home(home)
    out.text(f"audit verify: {report.summary()}")
    return {"leaked": leaked, "entries": report.entries}


def _step_intents(home: Home, cfg: ApplianceConfig, split: Split, customer: str, size: DemoSize,
                  out: DemoOutput) -> dict[str, float]:
    """Local text embeddings -> intents -> IRLLRec; recommendations with the intents that explain them."""
    from appliance.models.graph_cf import load_cf, train_cf
    from appliance.text.embed import embed_items
    from appliance.text.intents import build_intents, show_user

    out.step("intents: local text embeddings (MiniLM), K intent prototypes with labels, IRLLRec on LightGCN")
    embed_items(home)
    build_intents(home, cfg=dataclasses.replace(cfg.intents, k=size.intents), split=split)
    top = show_user(home, customer, n=3)
    out.text(f"customer {customer}'s intents: " + "; ".join(f"{label} ({w:.2f})" for label, w in top))
    _, metrics, info = train_cf(home, "irllrec", epochs=size.cf_epochs)
    out.text(f"IRLLRec: {info.epochs} epochs (best {info.best_epoch}), test Recall@10 {metrics['test/recall@10']:.4f}, "
             f"NDCG@10 {metrics['test/ndcg@10']:.4f}")
    model = load_cf(home.config.artifacts_dir, "irllrec")
    with home.engine.connect() as conn:
        user_id = conn.scalar(select(User.id).where(User.pseudonym == home.store_pseudonym(customer)))
        titles = {item_id: title for item_id, title in conn.execute(select(Item.id, Item.title))}
    user = int(np.flatnonzero(split.user_ids == user_id)[0])
    top_items = recommend(model, split, np.array([user]), 5, "test")[0]
    why = model.explain(user, top_items)
    out.table("IRLLRec recommendations with explanations", ("rank", "item", "because"),
              [(r + 1, titles[int(split.item_ids[i])],
                "; ".join(f"{lab} {w:.2f}" for lab, w in reasons))  # weak second reasons already dropped
               for r, (i, reasons) in enumerate(zip(top_items, why, strict=True))])
    return {k: float(v) for k, v in metrics.items()}


def _step_serve(home: Home, customer: str, out: DemoOutput) -> dict[str, Any]:
    """Export a signed bundle, serve it on loopback and call the API once with `explain`."""
    from appliance.serve.apikeys import KEYS_FILE, create_key
    from appliance.serve.server import loopback_json, serving_on_loopback
    from export.cf import export_cf

    out.step("serve: signed ONNX bundle (int8 if it passes the gate), HTTP API on 127.0.0.1, one call with explain")
    bundle = export_cf(home, "irllrec")
    gate = json.loads((bundle / "metrics.json").read_text(encoding="utf-8"))["gate"]
    out.text(f"bundle {bundle.name}: scorer {gate['chosen']} ({gate['reason']}); manifest signed")
    token = create_key(home.config.data_dir / KEYS_FILE, "demo")
    request = {"user_id": customer, "k": 3, "explain": True}
    with serving_on_loopback(home.config) as port:
        status, body = loopback_json(port, "POST", "/v1/recommendations", request, token)
    out.text(f"POST http://127.0.0.1:{port}/v1/recommendations {json.dumps(request)} -> {status}")
    out.text(json.dumps(body, indent=1, ensure_ascii=False))
    if status != 200:
        raise DemoError(f"the service answered {status}: {body}")
    return {"status": status, "source": body["source"], "items": len(body["items"])}


def _step_generative(home: Home, cfg: ApplianceConfig, split: Split, customer: str, size: DemoSize,
                     out: DemoOutput) -> dict[str, float]:
    """Semantic IDs from fused text + IRLLRec embeddings, then a tiny generative model; its list beside IRLLRec's."""
    from appliance.data.artifacts import load_artifact
    from appliance.generative.model import GenerativeRecommender
    from appliance.generative.pipeline import train_gen
    from appliance.generative.quantize import codes_to_tokens
    from appliance.generative.semantic_ids import build_semantic_ids

    out.step("generative: semantic IDs (text + CF fused, residual k-means), a tiny causal LM, constrained beams")
    rq = dataclasses.replace(cfg.tokenize, levels=(size.codes,) * 3, last_level_size=size.codes * 2)
    built = build_semantic_ids(home, rq)
    stats = built.ids.stats
    example = codes_to_tokens(built.ids.codes[:1], stats.level_sizes)[0]
    out.text(f"{len(built.ids.codes)} items coded ({'fused' if built.fused else 'text only'}); collisions before "
             f"the last level {stats.collision_rate:.1%}; example code {example}")
    gen = dataclasses.replace(cfg.gen, preset="tiny", tasks=("seq", "text"), max_epochs=size.gen_epochs,
                              valid_users=min(300, split.n_users))
    result = train_gen(home, gen, progress=True)
    test = result.test
    out.text(f"tiny generative model, {result.report.epochs_run} epochs: test Recall@10 {test['recall@10']:.4f}, "
             f"NDCG@10 {test['ndcg@10']:.4f} (undertrained on purpose: the demo shows the pipeline)")
    art = load_artifact(home.config.artifacts_dir, "gen", result.path.name)
    model = GenerativeRecommender.from_state(art.arrays, art.meta)
    model.bind(split)
    with home.engine.connect() as conn:
        user_id = conn.scalar(select(User.id).where(User.pseudonym == home.store_pseudonym(customer)))
        titles = {item_id: title for item_id, title in conn.execute(select(Item.id, Item.title))}
    user = int(np.flatnonzero(split.user_ids == user_id)[0])
    items, _ = model.recommend_topk(np.array([user]), 5, "test")
    out.table("generative recommendations (valid codes only, history excluded)", ("rank", "item"),
              [(r + 1, titles[int(split.item_ids[i])]) for r, i in enumerate(items[0]) if i >= 0])
    return dict(result.test)


def _step_abtest(home: Home, split: Split, models: dict, out: DemoOutput) -> dict[str, Any]:
    """A simulated A/B test (appliance.abtest.simulate): popularity lists against item-kNN lists, with a planted
    effect (customers shown item-kNN lists buy 1.8 times as often), then the report."""
    from appliance.abtest.assignment import assignment_key
    from appliance.abtest.report import build_report
    from appliance.abtest.simulate import SimSpec, run_simulation

    out.step("abtest: simulated customers react to popularity (control) vs item-kNN (treatment) lists; the report")
    spec = SimSpec(experiment="demo-ab", lift=(1.0, 1.8), base_rate=0.12)
    with home.engine.connect() as conn:
        tokens = dict(conn.execute(select(User.id, User.pseudonym)).all())
        skus = dict(conn.execute(select(Item.id, Item.sku)).all())
    users = np.arange(split.n_users)
    lists = {arm: {tokens[int(split.user_ids[u])]: [skus[int(split.item_ids[i])] for i in top if i >= 0]
                   for u, top in zip(users, recommend(models[name], split, users, spec.list_size, "test"), strict=True)}
             for arm, name in (("control", "popularity"), ("treatment", "item-knn"))}
    sim = run_simulation(home.engine, spec, assignment_key(home.pseudonym_key.secret, "demo"),
                         lists=lambda arm, token: lists[arm].get(token, []))
    report = build_report(home.engine, now=sim.now, experiment=spec.experiment, window_days=spec.window_days)
    out.table(f"{sim.exposures} exposures; planted buyer shares "
              + ", ".join(f"{a} {p:.1%}" for a, p in sim.planted_share.items()),
              ("arm", "exposed", "bought a recommended item", "always-valid interval", "coverage"),
              [(s.arm, s.customers, f"{s.share.estimate:.1%}", f"{s.share.low:.1%} to {s.share.high:.1%}",
                f"{report.lists[s.arm]['coverage']:.1%}") for s in report.summaries])
    out.text(f"decision: {report.decision}")
    return {"customers": sim.customers, "winner": report.winner, "verdict": report.comparisons[0].verdict}
