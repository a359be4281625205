"""Issue 14's bad-input sweep through the CLI: 100+ generated cases (malformed files of each ingest kind and format,
bad input paths, bad configs and CLI arguments, a missing home, corrupt key files, a corrupt api_keys.json and a
broken store file), each with an e-mail address, a phone number and a review sentence planted in it.

Every case must end with an exit status from docs/OPERATIONS.md, no traceback, and none of the planted values in the
output or in any crash report. The default suite runs one case of each kind (`REPRESENTATIVE`); the slow test runs
them all (docs/BENCHMARKS.md, Reliability, records the result).
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner

from appliance.config import load_config
from appliance.data.home import init_home, open_home
from appliance.data.ingest import ingest_file
from cli.main import app

EMAIL, PHONE, SENTENCE = "planted.payload@example.org", "+49 176 5550 9876", "The plum velvet lipstick smudged badly"
NEEDLES = (EMAIL, "planted.payload", "5550 9876", SENTENCE[:22])
DOCUMENTED_EXITS = {0, 2, 70, 74, 75, 77, 130}  # docs/OPERATIONS.md "Errors and exit codes"
TS = 1714564800
GOOD = {"items": {"sku": "A1", "title": "Lipstick"},
        "interactions": {"customer_id": EMAIL, "sku": "A1", "timestamp": TS},
        "reviews": {"customer_id": EMAIL, "sku": "A1", "timestamp": TS, "rating": 5, "text": f"{SENTENCE} {PHONE}"}}
TEXT_FIELD = {"items": "title", "interactions": "customer_id", "reviews": "text"}
NUMBER_FIELD = {"items": "price", "interactions": "timestamp", "reviews": "rating"}


class Run(NamedTuple):
    """One CLI call: args after `--config <config>` (work/config.toml unless given), stdin, extra environment."""

    args: list[str]
    stdin: str | None = None
    env: dict[str, str] | None = None
    config: Path | None = None


class Case(NamedTuple):
    """`make(work_dir)` writes what the case needs (work/data is an initialised home) and returns the call."""

    name: str
    make: Callable[[Path], Run]


def _row(kind: str, **changes: object) -> dict[str, object]:
    return {**GOOD[kind], **changes}


def _jsonl(kind: str, raw: str = "", **changes: object) -> bytes:
    """A JSONL row with changes; `raw` is JSON text spliced in for the value "RAW" (what json.dumps cannot write)."""
    return json.dumps(_row(kind, **changes)).replace('"RAW"', raw).encode()


def _jsonl_lines(kind: str) -> dict[str, bytes]:
    """One bad JSONL line per malformation of this kind (each carries a payload)."""
    text, num = TEXT_FIELD[kind], NUMBER_FIELD[kind]
    good = json.dumps(_row(kind))
    return {
        "missing-field": json.dumps({k: v for k, v in _row(kind, note=EMAIL).items() if k != "sku"}).encode(),
        "bad-number": _jsonl(kind, **{num: f"{EMAIL} {PHONE}"}),
        "unknown-key": _jsonl(kind, comment=f"{SENTENCE} {EMAIL}"),
        "lone-surrogate": _jsonl(kind, f'"{EMAIL} \\ud800 {SENTENCE}"', **{text: "RAW"}),
        "huge-integer": _jsonl(kind, "9" * 5000, **{num: "RAW", text: f"{EMAIL} {SENTENCE}"}),
        "deep-nesting": (f'{{"sku": "A1", "title": "{EMAIL}", "attributes": ' + "[" * 200_000 + "]" * 200_000
                         + "}").encode(),
        "duplicate-key": good[:-1].encode() + f', "sku": "{EMAIL}"}}'.encode(),
        "truncated": _jsonl(kind, **{text: f"{SENTENCE} {EMAIL}"})[:-7],
        "invalid-utf8": _jsonl(kind, **{text: f"{EMAIL} {SENTENCE}"}).replace(b"@", b"\xff@"),
        "nan": _jsonl(kind, "NaN", **{num: "RAW", text: f"{EMAIL} {SENTENCE}"}),
        "array-line": json.dumps([EMAIL, PHONE, SENTENCE]).encode(),
        "over-long-line": _jsonl(kind, **{text: f"{EMAIL} {SENTENCE} " * 40_000}),
        "nul-byte": _jsonl(kind, **{text: f"{EMAIL}\x00{SENTENCE}"}).replace(b"\\u0000", b"\0"),
    }


def _csv(kind: str, **changes: object) -> str:
    """Header and one row (every cell quoted) of this kind, with changes."""
    row = _row(kind, **changes)
    return ",".join(row) + "\n" + ",".join(f'"{value}"' for value in row.values()) + "\n"


def _csv_files(kind: str) -> dict[str, bytes]:
    """One bad CSV file per malformation of this kind (each carries a payload)."""
    text, num = TEXT_FIELD[kind], NUMBER_FIELD[kind]
    header, good = _csv(kind).splitlines()
    rows = {
        "missing-column": f"{','.join(list(GOOD[kind])[1:])}\n\"{EMAIL}\",\"{SENTENCE}\"\n",
        "unknown-column": f"{header},note\n{good},\"{EMAIL} {SENTENCE}\"\n",
        "bad-number": _csv(kind, **{num: f"{EMAIL} {PHONE}"}),
        "unterminated-quote": f"{header}\n{good}\n\"{EMAIL},{SENTENCE}\n",
        "too-many-cells": f"{header}\n{good},\"{EMAIL}\",\"{PHONE}\"\n",
        "header-only": f"{header},{EMAIL}\n",
        "huge-integer": _csv(kind, **{num: "9" * 5000, text: f"{EMAIL} {SENTENCE}"}).replace(f'"{"9" * 5000}"',
                                                                                              "9" * 5000),
    }
    files = {name: body.encode() for name, body in rows.items()}
    files["invalid-utf8"] = f"{header}\n{good}\n".encode() + f'"{EMAIL}",'.encode() + b"\xff\xfe" + SENTENCE.encode()
    return files


def _ingest_case(kind: str, fmt: str, name: str, body: bytes, *flags: str) -> Case:
    def make(work: Path) -> Run:
        path = work / f"input.{fmt}"
        first = json.dumps(_row(kind)).encode() + b"\n" if fmt == "jsonl" else b""
        path.write_bytes(first + body + b"\n")
        return Run(["ingest", kind, str(path), *flags])
    return Case(f"{kind}-{fmt}-{name}{'-skip' if flags else ''}", make)


def _file_cases() -> list[Case]:
    cases = []
    for kind in GOOD:
        cases += [_ingest_case(kind, "jsonl", name, line) for name, line in _jsonl_lines(kind).items()]
        cases += [_ingest_case(kind, "csv", name, body) for name, body in _csv_files(kind).items()]
    lines = _jsonl_lines("interactions")
    for name in ("lone-surrogate", "huge-integer", "deep-nesting", "duplicate-key", "invalid-utf8"):
        cases.append(_ingest_case("interactions", "jsonl", name, lines[name], "--skip-invalid"))
    return cases


def _write(work: Path, name: str, data: bytes) -> Path:
    path = work / name
    path.write_bytes(data)
    return path


def _path_cases() -> list[Case]:
    row = json.dumps(_row("reviews")).encode()
    return [
        Case("path-directory", lambda w: Run(["ingest", "reviews", str(w)])),
        Case("path-missing", lambda w: Run(["ingest", "reviews", str(w / "nope.jsonl")])),
        Case("path-stdin-bad", lambda w: Run(["ingest", "reviews", "-", "--format", "jsonl"], f"{{{EMAIL}\n")),
        Case("path-stdin-no-format", lambda w: Run(["ingest", "reviews", "-"], row.decode() + "\n")),
        Case("path-bad-format", lambda w: Run(["ingest", "reviews", str(_write(w, "r.jsonl", row)), "--format",
                                               "xml"])),
        Case("path-gz-not-gzip", lambda w: Run(["ingest", "reviews", str(_write(w, "r.jsonl.gz", row))])),
        Case("path-gzip-truncated", lambda w: Run(["ingest", "reviews",
                                                   str(_write(w, "r.jsonl", gzip.compress(row * 50)[:40]))])),
        Case("dataset-unknown", lambda w: Run(["ingest", "dataset", EMAIL, str(w)])),
        Case("dataset-empty-dir", lambda w: Run(["ingest", "dataset", "amazon-beauty-2014", str(w / "data")])),
    ]


def _config_case(name: str, toml: str, *args: str, env: dict[str, str] | None = None) -> Case:
    def make(work: Path) -> Run:
        (work / "config.toml").write_text(f'[paths]\ndata_dir = "{work / "data"}"\n{toml}', encoding="utf-8")
        return Run(list(args), env=env)
    return Case(f"config-{name}", make)


def _uncreatable(work: Path) -> Run:
    _write(work, "a-file", b"")
    (work / "config.toml").write_text(f'[paths]\ndata_dir = "{work / "a-file" / "data"}"\n', encoding="utf-8")
    return Run(["init"])


def _config_cases() -> list[Case]:
    return [
        _config_case("invalid-toml", f'[store]\nlock_timeout_s = "{EMAIL}\n', "keys", "show"),
        _config_case("unknown-key", f'[store]\n"{EMAIL}" = 1\n', "keys", "show"),
        _config_case("wrong-type", f'[store]\nlock_timeout_s = "{EMAIL}"\n', "keys", "show"),
        _config_case("wrong-type-list", f'[ingest]\nbatch_rows = ["{SENTENCE}"]\n', "ingest", "items", "x.csv"),
        _config_case("env-bad-value", "", "keys", "show", env={"TANABAN_STORE__LOCK_TIMEOUT_S": EMAIL}),
        _config_case("env-unknown-key", "", "keys", "show", env={"TANABAN_STORE__PLANTED_PAYLOAD": EMAIL}),
        Case("config-is-directory", lambda w: Run(["keys", "show"], config=w)),
        Case("config-missing-file", lambda w: Run(["keys", "show"], config=w / "none.toml")),
        Case("config-uncreatable-data-dir", _uncreatable),
    ]


def _cli_cases() -> list[Case]:
    return [Case(f"cli-{i}", lambda w, args=args: Run(args)) for i, args in enumerate((
        [EMAIL], ["ingest", EMAIL], ["ingest", "reviews"], ["ingest", "reviews", "--bogus", EMAIL],
        ["keys", "rotate", f"--reason={SENTENCE}"], ["recommend", "--k", EMAIL, EMAIL],
        ["audit", "show", EMAIL], ["apikey", "revoke", EMAIL]))]


def _corrupt_case(name: str, relative: str, data: bytes, *args: str) -> Case:
    def make(work: Path) -> Run:
        path = work / "data" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o600)  # key files must be 0600: a wider mode would be refused before the content is read
        return Run(list(args), stdin=f"sku,title\nA2,{EMAIL}\n")
    return Case(name, make)


def _no_home(*args: str) -> Callable[[Path], Run]:
    def make(work: Path) -> Run:
        shutil.rmtree(work / "data")
        return Run([a.replace("FILE", str(_write(work, "i.jsonl", JUNK))) for a in args])
    return make


JUNK = f"{EMAIL} {PHONE} {SENTENCE}".encode()


def _home_cases() -> list[Case]:
    return [
        Case("home-missing-ingest", _no_home("ingest", "interactions", "FILE")),
        Case("home-missing-keys-show", _no_home("keys", "show")),
        Case("home-missing-audit-verify", _no_home("audit", "verify")),
        Case("home-missing-rotate", _no_home("keys", "rotate", "--yes")),
        _corrupt_case("key-pseudonym-junk", "keys/pseudonym.key", JUNK, "keys", "show"),
        _corrupt_case("key-pseudonym-empty", "keys/pseudonym.key", b"", "keys", "rotate", "--yes"),
        _corrupt_case("key-signing-junk", "keys/signing.key", JUNK, "audit", "verify"),
        _corrupt_case("key-pending-junk", "keys/pseudonym.key.pending", JUNK, "keys", "rotate", "--yes"),
        _corrupt_case("key-archive-junk", "keys/pseudonym-archive/0001-0000000000000000.key", JUNK, "keys", "show"),
        _corrupt_case("apikeys-junk-list", "api_keys.json", JUNK, "apikey", "list"),
        _corrupt_case("apikeys-junk-revoke", "api_keys.json", b'{"keys": [' + JUNK, "apikey", "revoke", "abc"),
        _corrupt_case("apikeys-wrong-shape", "api_keys.json", json.dumps([EMAIL]).encode(), "apikey", "create",
                      "--name", "x"),
        _corrupt_case("store-junk", "tanaban.db", JUNK * 100, "keys", "show"),
        _corrupt_case("store-junk-ingest", "tanaban.db", b"SQLite format 3\0" + JUNK * 400, "ingest", "items",
                      "-", "--format", "csv"),
        _corrupt_case("store-truncated", "tanaban.db", b"SQLite format 3\0", "ingest", "items", "-", "--format",
                      "csv"),
    ]


ALL_CASES = [*_file_cases(), *_path_cases(), *_config_cases(), *_cli_cases(), *_home_cases()]
REPRESENTATIVE = ["items-jsonl-missing-field", "interactions-jsonl-lone-surrogate", "reviews-jsonl-huge-integer",
                  "reviews-jsonl-deep-nesting", "items-jsonl-duplicate-key", "reviews-jsonl-invalid-utf8",
                  "interactions-jsonl-nan", "reviews-csv-unterminated-quote", "interactions-csv-bad-number",
                  "interactions-jsonl-deep-nesting-skip", "path-directory", "path-stdin-bad",
                  "path-gzip-truncated", "config-wrong-type", "config-env-bad-value", "cli-2",
                  "home-missing-ingest", "key-pseudonym-junk", "apikeys-junk-list", "store-junk"]


@pytest.fixture(scope="module")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised data directory with one item, copied for each case."""
    work = tmp_path_factory.mktemp("template")
    cfg = load_config(None, env={"TANABAN_PATHS__DATA_DIR": str(work / "data")})
    init_home(cfg)
    items = work / "items.jsonl"
    items.write_text(json.dumps(GOOD["items"]) + "\n", encoding="utf-8")
    home = open_home(cfg)
    ingest_file(home, items, "items", progress=False)
    # Close the engine now: left to the garbage collector, its last connection closes (checkpointing and deleting
    # tanaban.db-wal) at an arbitrary moment, which once fell inside a case's copytree of this directory.
    home.engine.dispose()
    return work / "data"


def _output_of(case: Case, template: Path, work: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """(exit code, output, every crash report's text) of one case in a fresh copy of the template home."""
    shutil.copytree(template, work / "data")
    (work / "config.toml").write_text(f'[paths]\ndata_dir = "{work / "data"}"\n', encoding="utf-8")
    (work / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work / "tmp"))  # crash reports of a missing home land here
    run = case.make(work)
    args = ["--config", str(run.config or work / "config.toml"), *run.args]
    result = CliRunner().invoke(app, args, input=run.stdin, env=run.env)
    reports = [p.read_text(encoding="utf-8", errors="replace") for p in work.rglob("tanaban-crash-*")]
    return result.exit_code, result.output, "\n".join(reports)


# Where the payload is a value the operator typed (a config value or key, a command-line word) or a header cell of an
# item file (catalog, never customer data; appliance/data/readers.py echoes those by design), the error names it to
# help fix it: only the exit status and the absence of a traceback are checked there.
OPERATOR_TYPED = {"config-invalid-toml", "config-unknown-key", "config-wrong-type", "config-wrong-type-list",
                  "config-env-bad-value", "config-env-unknown-key", "cli-0", "cli-1", "cli-3", "cli-5", "cli-6",
                  "cli-7", "dataset-unknown", "items-csv-header-only"}


def _check(case: Case, template: Path, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output, reports = _output_of(case, template, work, monkeypatch)
    assert code in DOCUMENTED_EXITS and code != 70, (code, output)  # 70 (a bug) is documented, but not for these
    assert code == 74 or not case.name.startswith("store-"), output  # a broken store file: cli/failures.py
    assert "Traceback" not in output and "Traceback" not in reports, output
    for needle in () if case.name in OPERATOR_TYPED else NEEDLES:
        assert needle not in output and needle not in reports, (needle, output)


BY_NAME = {case.name: case for case in ALL_CASES}


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_bad_input_is_one_clean_error(name: str, template_home: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _check(BY_NAME[name], template_home, tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BY_NAME))
def test_every_bad_input_is_one_clean_error(name: str, template_home: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _check(BY_NAME[name], template_home, tmp_path, monkeypatch)


def test_the_sweep_has_100_distinct_cases() -> None:
    assert len(BY_NAME) == len(ALL_CASES) >= 100 and set(REPRESENTATIVE) <= set(BY_NAME)
