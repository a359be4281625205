"""Detection of one batch split over two processes, so that both cores of a small server work on one call: the
calling process analyses the first part of the texts while a child process, holding its own copy of the same
detector, analyses the rest, the parts holding equal shares of the characters (`split_point`). Each text is analysed
on its own, so the findings are those of one process; only detection moves to the child (replacement, and any
keyed-hash key, stay with the caller).

The child is `python -c "...; anonymize.split.main()"` with this code's root first on its path, fed length-prefixed
pickles over its stdin and stdout (the framing of `multiprocessing.connection`, without `multiprocessing`'s spawn,
which re-imports the caller's main module and so breaks scripts without an `if __name__ == "__main__"` guard). It
builds its detector once, from a picklable factory.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from anonymize.errors import AnonymizeUserError

MIN_SPLIT = 16  # smaller batches run in the caller: the round trip to the child costs more than half their work
_HEADER = 8  # bytes of the little-endian length before each pickle


class SplitDetectionError(AnonymizeUserError, RuntimeError):
    """The child detection process could not start or stopped; nothing was anonymized (fail closed)."""


def _send(stream: IO[bytes], obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(_HEADER, "little") + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    """The next object, or None at the end of the stream (the other side stopped)."""
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        return None
    size = int.from_bytes(header, "little")
    data = stream.read(size)
    return None if len(data) < size else pickle.loads(data)  # our own child's pipe, nothing else's


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.stdin.close()  # the child's loop ends at end of input
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


PER_TEXT_COST = 50  # characters' worth of the fixed work on each text (the rules' passes), for split_point


def split_point(texts: Sequence[str]) -> int:
    """Where the caller's share ends: the first index at which its texts hold half of the batch's work, counted as
    characters plus PER_TEXT_COST per text (detection time grows with a text's length), so that a batch of long texts
    followed by short ones does not leave one process waiting for the other. The caller keeps the middle text: it
    starts at once, the child after a pickle. At least one text each."""
    weights = [len(t) + PER_TEXT_COST for t in texts]
    total, done = sum(weights), 0
    for i, weight in enumerate(weights):
        done += weight
        if 2 * done >= total:
            return min(i + 1, len(texts) - 1)
    return len(texts) - 1


class SplitDetector:
    """`analyze_many` over the caller and one child process.

    Args:
        factory: a picklable callable (a module-level function or a `functools.partial` of one) that builds, in the
            child, a detector equal to the caller's: anything with `analyze_many(texts) -> list`.
    """

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one request in flight on the child's pipes: replies cannot cross threads

    def analyze_many(self, here: Callable[[Sequence[str]], list[Any]], texts: Sequence[str]) -> list[Any]:
        """`here(texts)`, computed as `here(first half) + child(second half)` for batches of `MIN_SPLIT` or more."""
        if len(texts) < MIN_SPLIT:
            return here(texts)
        with self._lock:
            return self._split(here, texts)

    def _split(self, here: Callable[[Sequence[str]], list[Any]], texts: Sequence[str]) -> list[Any]:
        half = split_point(texts)
        proc = self._child()
        try:
            _send(proc.stdin, list(texts[half:]))
        except OSError as exc:
            raise self._failed(type(exc).__name__) from None
        try:
            mine = here(texts[:half])  # runs while the child works on its half
        finally:
            reply = _receive(proc.stdout)  # read even when `here` raised, so the next call reads its own reply
        if reply is None:
            raise self._failed("it stopped")
        ok, theirs = reply
        if not ok:  # the child's own detection error (fail closed, as here); its message never holds the text
            raise theirs
        return mine + theirs

    def close(self) -> None:
        """Stop the child (a later large batch starts a new one)."""
        if self._proc is not None:
            _stop(self._proc)
            self._proc = None

    def _child(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            root = str(Path(os.path.abspath(__file__)).parents[1])  # first on its path: the child runs this code
            start = f"import sys; sys.path.insert(0, {root!r}); from anonymize.split import main; main()"
            self._proc = subprocess.Popen([sys.executable, "-c", start], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE)
            weakref.finalize(self, _stop, self._proc)  # the child stops with its detector
            try:
                _send(self._proc.stdin, self.factory)
            except OSError as exc:
                raise self._failed(type(exc).__name__) from None
        return self._proc

    def _failed(self, why: str) -> SplitDetectionError:
        self.close()
        return SplitDetectionError(f"the second detection process failed ({why}); nothing was anonymized: set "
                                   "anonymize.workers = 1 to detect in one process")


def child_main(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The child's loop: a factory first, then one batch of texts per request, answered (True, findings per text)
    or (False, the exception), until the end of input."""
    factory = _receive(stdin)
    if factory is None:
        return
    detector = factory()
    while (texts := _receive(stdin)) is not None:
        try:
            reply: tuple[bool, Any] = (True, detector.analyze_many(texts))
        except Exception as exc:  # sent back and raised in the caller
            reply = (False, exc)
        try:
            _send(stdout, reply)
        except (pickle.PicklingError, TypeError, AttributeError):  # an exception that does not pickle: its type
            _send(stdout, (False, SplitDetectionError(f"detection failed in the child ({type(reply[1]).__name__})")))


def main() -> None:
    """The child process's entry point (see `SplitDetector._child`)."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed by a library may corrupt the reply stream
    child_main(sys.stdin.buffer, out)
