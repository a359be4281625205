"""A fixed "today" for the learned PII detector's synthetic corpus (issue 12: a build reproducible on any day).

Faker computes some values from the machine's clock: national ids that encode a birth date (Swedish, Finnish,
Norwegian, Estonian, Latvian, Chinese), US passport dates, and the end of every date range (`date_of_birth`,
`date_between`). A corpus drawn with the same seed on another day therefore differed, and so would a detector
rebuilt from it. `reference_day()` pins the clock that Faker's modules see to `REFERENCE_DAY` while a corpus is
drawn, the way freezegun does: the `datetime` and `date` names inside the loaded `faker.*` modules (and the `datetime`
module where a provider imported the module itself) are swapped for subclasses whose `now()`/`today()` return the
reference day; an `isinstance` check against them still accepts ordinary dates and datetimes. Nothing outside
Faker's modules is touched, and everything is put back on exit.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import sys
import threading
import types
from collections.abc import Iterator

REFERENCE_DAY = _dt.date(2026, 12, 5)  # the day the corpus digests in tests/anonymize/test_detector_kinds.py were taken
_NOON = _dt.time(12, 0)
# The swap changes module globals for the whole process: two threads drawing corpora at once take turns (reentrant,
# so a draw inside a draw in one thread is fine) instead of one putting the real clock back under the other.
_LOCK = threading.RLock()


class _Instancecheck(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, cls.__bases__[0])

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, cls.__bases__[0])


class FrozenDate(_dt.date, metaclass=_Instancecheck):
    @classmethod
    def today(cls) -> _dt.date:  # type: ignore[override]
        return _dt.date(REFERENCE_DAY.year, REFERENCE_DAY.month, REFERENCE_DAY.day)


class FrozenDatetime(_dt.datetime, metaclass=_Instancecheck):
    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:  # type: ignore[override]
        fixed = _dt.datetime.combine(REFERENCE_DAY, _NOON)
        return fixed.replace(tzinfo=tz) if tz is not None else fixed

    @classmethod
    def today(cls) -> _dt.datetime:  # type: ignore[override]
        return cls.now()

    @classmethod
    def utcnow(cls) -> _dt.datetime:  # type: ignore[override]
        return cls.now()


def _frozen_module() -> types.ModuleType:
    module = types.ModuleType("datetime")
    module.__dict__.update({k: v for k, v in vars(_dt).items() if not k.startswith("__")})
    module.datetime = FrozenDatetime  # type: ignore[attr-defined]
    module.date = FrozenDate  # type: ignore[attr-defined]
    return module


@contextlib.contextmanager
def reference_day() -> Iterator[None]:
    """Faker's modules see `REFERENCE_DAY` (at noon) as now while the block runs (one thread at a time)."""
    with _LOCK, _swapped():
        yield


@contextlib.contextmanager
def _swapped() -> Iterator[None]:
    frozen = _frozen_module()
    swaps = {_dt.datetime: FrozenDatetime, _dt.date: FrozenDate}
    undo: list[tuple[types.ModuleType, str, object]] = []
    for name, module in list(sys.modules.items()):
        if not (name == "faker" or name.startswith("faker.")) or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if value is _dt:
                undo.append((module, attr, value))
                setattr(module, attr, frozen)
            elif isinstance(value, type) and value in swaps:
                undo.append((module, attr, value))
                setattr(module, attr, swaps[value])
    try:
        yield
    finally:
        for module, attr, value in reversed(undo):
            setattr(module, attr, value)
