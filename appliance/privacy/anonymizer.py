"""The appliance side of the anonymizer: build the two-layer anonymizer (anonymize.layers) from `AnonymizeConfig`
with the catalog's allow-list (brands and product-title words that are not names), and anonymize JSONL records
`{"id", "text"}` for `tanaban anonymize` (with `--explain`, which layer found each span).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, select

from anonymize.engine import AnonymizeResult
from anonymize.findings import Finding
from anonymize.layers import LayeredAnonymizer, LayeredFinding, default_layered
from anonymize.policy import ENTITY_TYPES, Policy, PolicyError
from anonymize.recognizers.name_lists import AMBIGUOUS, COMMON_WORDS, FIRST_NAMES, SURNAMES
from appliance.config import AnonymizeConfig
from appliance.data.store import Item

if TYPE_CHECKING:
    from appliance.data.keys import PseudonymKey
from appliance.errors import UserError

BATCH_RECORDS = 64  # texts per batched NER pass: spaCy's nlp.pipe gains little beyond this on 2 cores
MIN_TITLE_WORD = 4  # shorter title words ("gel", "red") are rarely tagged as names or places anyway
_TITLE_WORD = re.compile(r"[A-Za-z][a-z]+")


class AnonymizeInputError(UserError, ValueError):
    """A JSONL input line is not a JSON object with a string `text`; the message names file and line."""


@dataclass(frozen=True)
class InputRecord:
    line: int
    id: object
    text: str


def catalog_allow_list(engine: Engine) -> tuple[str, ...]:
    """Brands, plus product-title words that are not names: catalog vocabulary is not personal data."""
    brands: set[str] = set()
    words: set[str] = set()
    names = FIRST_NAMES | AMBIGUOUS | SURNAMES | COMMON_WORDS
    with engine.connect() as conn:
        for brand, title in conn.execute(select(Item.brand, Item.title)):
            if brand and brand.strip():
                brands.add(brand.strip())
            for word in _TITLE_WORD.findall(title or ""):
                if len(word) >= MIN_TITLE_WORD and word.lower() not in names:
                    words.add(word.lower())
    return tuple(sorted(brands)) + tuple(sorted(words))


def build_anonymizer(cfg: AnonymizeConfig, engine: Engine | None = None, *, hash_key: bytes | None = None,
                     policy: str | None = None) -> LayeredAnonymizer:
    """The configured two-layer anonymizer (anonymize.layers); with a store engine and `cfg.catalog_allow_list` on
    (the default), the catalog allow-list is added to `cfg.allow_list`; `cfg.workers` = 2 detects large batches in
    two processes (anonymize.split)."""
    catalog = catalog_allow_list(engine) if engine is not None and cfg.catalog_allow_list else ()
    allow = tuple(cfg.allow_list) + catalog
    chosen = config_policy(cfg, policy)
    if chosen.operator == "keyed_hash" and hash_key is None:
        raise PolicyError("the keyed_hash policy needs the appliance's pseudonym key: run `tanaban init` first, "
                          "or choose another policy (placeholder, redact, generalize)")
    return default_layered(allow, cfg.deny_list, chosen, hash_key, use_ner=cfg.use_ner, workers=cfg.workers)


def config_policy(cfg: AnonymizeConfig, operator: str | None = None) -> Policy:
    """The `Policy` an `AnonymizeConfig` asks for (`operator` overrides cfg.policy, as `tanaban anonymize --policy`
    does); empty `entities` means every supported type."""
    return Policy(operator=operator or cfg.policy, threshold=cfg.score_threshold,
                  entities=cfg.entities or ENTITY_TYPES)


class AnonymizerHome(Protocol):
    """The part of an opened appliance (appliance.data.home.Home) the anonymizer is built from."""

    engine: Engine

    @property
    def pseudonym_key(self) -> PseudonymKey: ...


def home_anonymizer(cfg: AnonymizeConfig, home: AnonymizerHome | None, *,
                    policy: str | None = None) -> LayeredAnonymizer:
    """The appliance's anonymizer, the one way callers build it from a home: `cfg` plus the store's catalog
    allow-list and the keyed_hash key derived from the home's pseudonym key. Without a home (`tanaban anonymize`
    before `tanaban init`) there is neither: everything but the keyed_hash policy works."""
    if home is None:
        return build_anonymizer(cfg, policy=policy)
    return build_anonymizer(cfg, home.engine, hash_key=derive_hash_key(home.pseudonym_key.secret), policy=policy)


def read_records(lines: Iterable[str], source: str) -> list[InputRecord]:
    """Parse JSONL input; blank lines are skipped, anything else that is not `{"text": str, ...}` is an error."""
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AnonymizeInputError(f"{source}:{number}: not valid JSON ({exc.msg}); expected "
                                      '{"id": ..., "text": "..."} per line') from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise AnonymizeInputError(f'{source}:{number}: text: expected a JSON object with a string "text" field')
        records.append(InputRecord(number, obj.get("id"), obj["text"]))
    return records


def anonymize_records(anonymizer: LayeredAnonymizer, records: list[InputRecord],
                      batch: int = BATCH_RECORDS) -> Iterator[tuple[InputRecord, AnonymizeResult]]:
    """Each record anonymized on its own (numbering restarts per record), NER batched over `batch` records."""
    for i in range(0, len(records), batch):
        chunk = records[i:i + batch]
        yield from zip(chunk, anonymizer.anonymize_batch([r.text for r in chunk]), strict=True)


def output_record(record: InputRecord, result: AnonymizeResult, *, explain: bool = False) -> dict[str, object]:
    """The output line; with `explain`, each finding also says which layer found it and what each layer saw."""
    return {"id": record.id, "text": result.text,
            "findings": [explain_finding(f) if explain else f.to_dict() for f in result.findings]}


def explain_finding(finding: Finding) -> dict[str, Any]:
    """`--explain`'s view of a finding: its fields, the layer that found it, and each layer's own spans."""
    if isinstance(finding, LayeredFinding):
        return finding.explain()
    return {**finding.to_dict(), "layer": "", "detections": []}  # a single-layer anonymizer's finding


def derive_hash_key(pseudonym_secret: bytes) -> bytes:
    """The keyed_hash operator's key, derived from the appliance's pseudonym key (HMAC as a KDF, RFC 5869 style
    extract step) so a text token can never be joined with a store or egress pseudonym."""
    return hmac.new(pseudonym_secret, b"tanaban/anonymize/keyed-hash-key/v1", hashlib.sha256).digest()
