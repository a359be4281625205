"""Resumable text generation for the slow intent backends (local-llm, external; IRLLRec, Wang et al. SIGIR 2025):
every finished answer is appended to a JSONL journal as one complete line, flushed and fsync'd, keyed by a sha256
of the backend identity and the prompt, so an interrupted `tanaban intents build` continues where it stopped.

The journal holds only keys and answers, never the prompts (which quote catalog text). A line torn by a crash in
the middle of a write does not parse and is ignored; the artifact itself is written atomically elsewhere
(appliance.data.artifacts), and the journal is removed once it is.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from appliance.errors import UserError


class JournalError(UserError, RuntimeError):
    """The backend produced fewer answers than prompts (it stopped early without raising)."""


def prompt_key(identity: str, prompt: str) -> str:
    """sha256 hex of the backend identity and the full prompt: a changed catalog or model gives a new key."""
    return hashlib.sha256(f"{identity}\x00{prompt}".encode()).hexdigest()


def read_journal(path: Path) -> dict[str, str]:
    """key -> answer of the complete lines of `path` (absent file: empty; torn or foreign lines skipped)."""
    done: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return done
    for line in lines:
        try:
            row = json.loads(line)
            done[str(row["key"])] = str(row["answer"])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash: its answer is simply produced again
    return done


class _Appender:
    """O_APPEND file: each answer is one write() of a whole line, then fsync, so a finished answer survives."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if os.fstat(self.fd).st_size and not _ends_with_newline(path):
            os.write(self.fd, b"\n")  # isolate a torn last line from the next record

    def add(self, key: str, answer: str) -> None:
        os.write(self.fd, (json.dumps({"key": key, "answer": answer}) + "\n").encode())
        os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def run_journaled(keys: Sequence[str], produce: Callable[[list[int]], Iterable[str]], path: Path, *,
                  what: str = "answers", progress: bool = True, rate: Callable[[], str] | None = None) -> list[str]:
    """Answers for all `keys`, producing only those not yet in the journal at `path`.

    Args:
        keys: one key per prompt (see `prompt_key`), in output order.
        produce: given the pending indices, yields their answers in that order (one backend session).
        what: noun for the progress bar.
        rate: optional speed text shown after the bar (e.g. the local LLM's "9.8 tok/s"), refreshed per answer.
    """
    done = read_journal(path)
    pending = [i for i, key in enumerate(keys) if key not in done]
    skipped = len(keys) - len(pending)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
               TextColumn("{task.fields[rate]}"))
    with Progress(*columns, transient=True, disable=not progress) as bar:
        task = bar.add_task(f"{what} ({skipped} done in an earlier run, skipped)", total=len(keys),
                            completed=skipped, rate="")
        if pending:
            out = _Appender(path)
            try:
                for i, answer in zip(pending, produce(pending), strict=False):
                    out.add(keys[i], answer)
                    done[keys[i]] = answer
                    bar.update(task, advance=1, rate=rate() if rate else "")
            finally:
                out.close()
    missing = [i for i in pending if keys[i] not in done]
    if missing:
        raise JournalError(f"the backend returned {len(pending) - len(missing)} of {len(pending)} {what}; "
                           "run the command again to continue")
    return [done[key] for key in keys]
