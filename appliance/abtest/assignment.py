"""Sticky, deterministic A/B arm assignment by weighted rendezvous hashing over a keyed hash (issue 18).

Each arm draws u = HMAC-SHA256(key, experiment || arm || token) mapped into (0, 1) (RFC 2104; 64 bits of the tag) and
scores -ln(u) / weight; the lowest score wins. That is an exponential race (Efraimidis & Spirakis, "Weighted random
sampling with a reservoir", IPL 2006; weighted rendezvous hashing: Thaler & Ravishankar, "Using name-based mappings
to increase hit rates", IEEE/ACM ToN 1998, and Schindelhauer & Schomaker, "Weighted distributed hash tables", SPAA
2005), so:

- an arm wins with probability weight / sum(weights), exactly;
- changing one arm's weight moves customers only into that arm (weight raised) or only out of it (weight lowered),
  never between two other arms, and only the share that must move; adding an arm takes customers only into the new
  arm, removing one moves only that arm's customers;
- a new experiment name gives an independent, fresh assignment (the name is part of the hashed input).

The token is the customer's pseudonym (anonymize.pseudonym), never a raw id, and nothing is stored: the assignment is
recomputed from (key, experiment, token) on every request. `assignment_key` derives the key from the appliance's
pseudonym key, so a customer's arm cannot be guessed without the key store.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping
from typing import Any

from appliance.errors import UserError

_DOMAIN = b"tanaban/abtest/v1\x00"  # domain separation: the pseudonym key's other uses never see this input
_KEY_DOMAIN = b"tanaban/abtest-key/v1\x00"  # derives the assignment key from a pseudonym key (HMAC as a PRF)
_SEP = b"\x00"  # names cannot hold NUL (checked in arm_weights), so the input is unambiguous
_SCALE = 2.0 ** -64


class AssignmentError(UserError, ValueError):
    """The arms given to assign_arm cannot be used (none, a weight <= 0, a repeated or empty name)."""


def assignment_key(pseudonym_secret: bytes, salt: str = "") -> bytes:
    """The 32-byte assignment key derived from a pseudonym key's secret and the experiment salt (abtest.salt)."""
    return hmac.digest(pseudonym_secret, _KEY_DOMAIN + salt.encode("utf-8"), hashlib.sha256)


def assignment_key_id(key: bytes) -> str:
    """A short public id of an assignment key (shown by `tanaban abtest status`; reveals nothing of the key)."""
    return hashlib.sha256(b"tanaban/abtest-key-id/v1\x00" + key).hexdigest()[:16]


def arm_weights(arms: Mapping[str, float] | Iterable[Any]) -> tuple[tuple[str, float], ...]:
    """(name, weight) pairs of `arms`: a mapping name -> weight, or objects with `name` and `weight` attributes
    (appliance.config.AbArmConfig), or (name, weight) pairs. Raises AssignmentError on a bad arm."""
    if isinstance(arms, Mapping):
        pairs = [(str(name), float(weight)) for name, weight in arms.items()]
    else:
        pairs = [(str(a[0]), float(a[1])) if isinstance(a, tuple) else (str(a.name), float(a.weight)) for a in arms]
    if not pairs:
        raise AssignmentError("no arms to assign to: configure at least one [[abtest.arms]]")
    names = [name for name, _ in pairs]
    for name, weight in pairs:
        if not name or "\x00" in name:
            raise AssignmentError("an arm name is empty or holds a NUL character: give each arm a plain name")
        if not weight > 0 or not math.isfinite(weight):
            raise AssignmentError(f"arm {name!r}: weight must be a finite number > 0")
    if len(set(names)) != len(names):
        raise AssignmentError("two arms share a name: give each arm its own name")
    return tuple(pairs)


def arm_uniform(token: str, arm: str, key: bytes, experiment: str) -> float:
    """The arm's uniform draw u in (0, 1) for this token: 64 bits of HMAC-SHA256(key, domain|experiment|arm|token)."""
    tag = hmac.digest(key, b"".join((_DOMAIN, experiment.encode(), _SEP, arm.encode(), _SEP, token.encode())),
                      hashlib.sha256)
    return (int.from_bytes(tag[:8], "big") + 0.5) * _SCALE  # never 0 or 1: -ln(u) stays finite and positive


def assign_arm(token: str, arms: Mapping[str, float] | Iterable[Any], key: bytes, experiment: str) -> str:
    """The arm of the customer whose pseudonym is `token`: the lowest -ln(u_arm) / weight_arm (ties: first arm).

    Args:
        token: the customer's pseudonym (never a raw id).
        arms: name -> weight, objects with `name` and `weight`, or (name, weight) pairs; weights > 0, any scale.
        key: the assignment key (assignment_key); another key gives another, independent assignment.
        experiment: the experiment name; another name gives another, independent assignment.
    """
    return choose_arm(token, arm_weights(arms), key, experiment)


def choose_arm(token: str, pairs: tuple[tuple[str, float], ...], key: bytes, experiment: str) -> str:
    """assign_arm over (name, weight) pairs already checked by arm_weights (the serving path checks them once)."""
    best, best_score = "", math.inf
    for name, weight in pairs:
        score = -math.log(arm_uniform(token, name, key, experiment)) / weight
        if score < best_score:
            best, best_score = name, score
    return best


class Assigner:
    """`assign_arm` for fixed arms, key and experiment: the serving path. The same HMAC-SHA256, computed with the
    precomputation RFC 2104 section 4 describes: the hash states after (K xor ipad) || domain || experiment || arm
    and after (K xor opad) are built once per arm, so a request costs two state copies per arm instead of a full
    HMAC (about 4 us instead of 9 us with OpenSSL 3's per-call setup; docs/BENCHMARKS.md)."""

    def __init__(self, arms: Mapping[str, float] | Iterable[Any], key: bytes, experiment: str) -> None:
        block = hashlib.sha256().block_size  # 64 bytes
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\x00")
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
        self.arms = []
        for name, weight in arm_weights(arms):
            state = inner.copy()
            state.update(b"".join((_DOMAIN, experiment.encode(), _SEP, name.encode(), _SEP)))
            self.arms.append((name, weight, state))

    def __call__(self, token: str) -> str:
        raw, best, best_score = token.encode(), "", math.inf
        for name, weight, state in self.arms:
            inner = state.copy()
            inner.update(raw)
            outer = self.outer.copy()
            outer.update(inner.digest())
            u = (int.from_bytes(outer.digest()[:8], "big") + 0.5) * _SCALE
            score = -math.log(u) / weight
            if score < best_score:
                best, best_score = name, score
        return best
