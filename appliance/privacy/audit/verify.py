"""Verification of a whole audit log or of an export against trusted Ed25519 public keys: the hash chain, then
every signed checkpoint's RFC 6962 root against the log's prefix (truncation and rewrites after signing). It fails
closed: a non-empty log without a signed checkpoint, or entries after the latest one (beyond an unsigned tail the
auditor explicitly accepts), fail.

Needs only the standard library and `cryptography`:  python -m appliance.privacy.audit.verify EXPORT --public-key PEM
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.data.keys import KeyMaterialError, load_public_key, public_key_id, public_key_pem
from appliance.privacy.audit.chain import GENESIS_PREV_HASH, AuditVerificationError, checked_bodies
from appliance.privacy.audit.checkpoints import Checkpoint, trusted_keys, verify_checkpoint_signature
from appliance.privacy.audit.export import RangePrefix, read_checkpoints, read_export
from appliance.privacy.audit.keyring import KeyValidity
from appliance.privacy.audit.merkle import MerkleFrontier, hash_leaf

Progress = Callable[[int], None]  # called with the number of entries verified so far


@dataclass(frozen=True)
class VerifyReport:
    entries: int  # entries in the log (or the range), all chained and hashed correctly
    checkpoints: int  # signed checkpoints, all verified
    root_hash: str  # RFC 6962 root over all entries (hex)
    signed_size: int  # entries covered by the latest checkpoint; the rest is protected by the chain only
    latest_checkpoint: Checkpoint | None
    key_ids: tuple[str, ...]  # the trusted keys that signed the checkpoints
    prefix: RangePrefix | None = None  # a range export's prefix record: the entries are prefix.tree_size + 1..end
    unchecked: int = 0  # checkpoints outside a range: signatures verified, roots not checkable from the range

    def summary(self) -> str:
        latest = self.latest_checkpoint
        signed = (f"latest checkpoint: tree size {latest.tree_size}, root {latest.root_hash}, signed {latest.time} "
                  f"by key {latest.key_id}") if latest else "no signed checkpoint"
        first = self.prefix.tree_size if self.prefix else 0
        tail = first + self.entries - self.signed_size
        text = (f"verified {self.entries} entries and {self.checkpoints} checkpoints: chain intact, every checkpoint "
                f"signed and matching; {signed}; entries after it, protected by the hash chain only: {tail}")
        return text + (_range_note(self.prefix, self.unchecked) if self.prefix else "")


def _range_note(prefix: RangePrefix, unchecked: int) -> str:
    """What a range export could not prove, said in the OK line itself."""
    first, end = prefix.tree_size + 1, prefix.end
    return (f". RANGE export of entries {first}..{end}: entries 1..{first - 1} are summarised by the prefix record, "
            "whose hashes are proven only through the signed roots of trees that end inside the range; not checked: "
            f"entry {first}'s link to entry {first - 1} (not in the export), {unchecked} checkpoint(s) outside the "
            f"range, and anything after entry {end}" if first > 1 else
            f". RANGE export of entries 1..{end}: not checked: {unchecked} checkpoint(s) after the range, and "
            f"anything after entry {end}")


def verify_log(entries: Iterable[Mapping[str, Any]], checkpoints: Sequence[Checkpoint],
               public_keys: Sequence[Ed25519PublicKey], *, progress: Progress | None = None,
               allow_unsigned_tail: int = 0, prefix: RangePrefix | None = None) -> VerifyReport:
    """Verify the chain and every checkpoint; raise AuditVerificationError for the first problem found.

    Checkpoint signatures are checked first (a forged checkpoint names no entry); then entries in log order,
    each checkpoint's key validity (`.keyring`: a retired or revoked key's later checkpoints fail) and root being
    checked when the walk reaches its tree size; then coverage
    (`check_signed_coverage`): entries after the latest checkpoint fail unless at most `allow_unsigned_tail`.
    With a range export's `prefix`, the walk starts from its compact range and chain link, and the checkpoints of
    trees that end outside the range are only signature-checked (counted in `unchecked`).
    """
    keys = trusted_keys(public_keys)
    for checkpoint in checkpoints:
        verify_checkpoint_signature(checkpoint, keys)
    start, end = (prefix.tree_size, prefix.end) if prefix else (0, None)
    inside = [c for c in checkpoints if start <= c.tree_size and (end is None or c.tree_size <= end)]
    pending = sorted(inside, key=lambda c: c.tree_size)
    frontier = MerkleFrontier.from_compact_range(start, [bytes.fromhex(h) for h in prefix.compact_range]) \
        if prefix else MerkleFrontier()
    validity = KeyValidity()
    check_keys_at(pending, start, validity)
    last_good = check_roots_at(pending, start, frontier.root, start)
    for body in checked_bodies(entries, start, prefix.entry_hash if prefix else GENESIS_PREV_HASH.hex()):
        frontier.append(hash_leaf(body))
        validity.observe(frontier.size, body)
        check_keys_at(pending, frontier.size, validity)
        last_good = check_roots_at(pending, frontier.size, frontier.root, last_good)
        if progress is not None and frontier.size % 1000 == 0:
            progress(frontier.size)
    if pending:
        size = pending[-1].tree_size
        raise AuditVerificationError(f"log ends after {frontier.size} entries but a checkpoint signed at "
                                     f"{pending[-1].time} covers {size}: entries {frontier.size + 1}..{size} are "
                                     "missing (truncated)", frontier.size + 1)
    if end is not None and frontier.size != end:
        raise AuditVerificationError(f"the prefix record says the range ends at entry {end}, the export's entries "
                                     f"end at {frontier.size}", min(frontier.size, end) + 1)
    latest = max(reversed(inside), key=lambda c: (c.tree_size, c.time), default=None)  # ties: the last signed
    signed = latest.tree_size if latest and latest.tree_size > start else 0
    check_signed_coverage(frontier.size, signed, allow_unsigned_tail, start=start)
    return VerifyReport(frontier.size - start, len(checkpoints), frontier.root().hex(), signed or start, latest,
                        tuple(sorted({c.key_id for c in checkpoints})), prefix, len(checkpoints) - len(inside))


def check_signed_coverage(size: int, signed_size: int, allow_unsigned_tail: int, *, start: int = 0) -> None:
    """Fail closed: a non-empty log (or range after entry `start`) needs a signed checkpoint (always), and at most
    `allow_unsigned_tail` entries may follow the latest one (the chain alone protects them only against someone
    without write access)."""
    if allow_unsigned_tail < 0:
        raise AuditVerificationError(f"the accepted unsigned tail must be 0 or more entries, got {allow_unsigned_tail}")
    if size > start and not signed_size:
        raise AuditVerificationError(f"no signed checkpoint covers any of the {size - start} entries: an unsigned log "
                                     "proves nothing (checkpoints deleted, or an export forged without them)",
                                     start + 1)
    tail = size - max(signed_size, start)
    if tail > allow_unsigned_tail:
        raise AuditVerificationError(f"entries {signed_size + 1}..{size} ({tail}) come after the latest signed "
                                     f"checkpoint, more than the {allow_unsigned_tail} accepted: sign a checkpoint "
                                     "(tanaban audit checkpoint) or accept them explicitly (--allow-unsigned-tail "
                                     f"{tail})", signed_size + 1)


def check_keys_at(pending: Sequence[Checkpoint], size: int, validity: KeyValidity) -> None:
    """Check the key validity of the checkpoints of this tree size (the first of `pending`, sorted by size)."""
    for checkpoint in pending:
        if checkpoint.tree_size != size:
            break
        validity.check(checkpoint)


def check_roots_at(pending: list[Checkpoint], size: int, root: bytes | Callable[[], bytes], last_good: int) -> int:
    """Compare (and drop) the checkpoints of this tree size; returns the largest size known to match."""
    while pending and pending[0].tree_size == size:
        checkpoint = pending.pop(0)
        actual = root() if callable(root) else root
        if actual.hex() != checkpoint.root_hash:
            first = last_good + 1 if last_good < size else None  # None: an equal-size checkpoint matched
            where = f": entries {first}..{size} were changed after signing" if first else ""
            raise AuditVerificationError(f"the log's first {size} entries do not match the Merkle root signed by "
                                         f"the checkpoint of {checkpoint.time}{where}", first)
        last_good = size
    return last_good


def check_public_keys(stated: Sequence[tuple[str | None, str]], public_keys: Sequence[Ed25519PublicKey]) -> None:
    """The keys an export names (key id, PEM) must be keys the auditor trusts: its own copy proves nothing."""
    trusted = {public_key_pem(k).decode("ascii"): public_key_id(k) for k in public_keys}
    for key_id, pem in stated:
        if pem not in trusted:
            raise AuditVerificationError("the export's public key is not one of the trusted keys given "
                                         f"({', '.join(sorted(trusted.values()))}); get the appliance's key from "
                                         "its administrator, not from the export")
        if key_id is not None and key_id != trusted[pem]:
            raise AuditVerificationError(f"the export states key id {key_id} for a key whose id is {trusted[pem]}")


def verify_export(path: Path, public_keys: Sequence[Ed25519PublicKey], *, pinned: Sequence[Checkpoint] = (),
                  progress: Progress | None = None, allow_unsigned_tail: int = 0) -> VerifyReport:
    """Verify an export (JSONL, or CSV with its sidecars) with nothing but trusted public keys.

    `pinned` are checkpoints the auditor kept from earlier: the export must still contain and match them, which
    catches a log cut short together with its later checkpoints, and history rewritten and re-signed since.
    """
    exported = read_export(path)
    check_public_keys(exported.public_keys, public_keys)
    if not exported.checkpoints and not exported.entries:  # entries without one fail in check_signed_coverage
        raise AuditVerificationError("the export holds no entry and no signed checkpoint, while every export of the "
                                     "appliance holds both (`tanaban audit export` logs itself and signs a "
                                     "checkpoint): it is empty, truncated or not an export")
    prefix = exported.prefixes[0] if exported.prefixes else None
    return verify_log(exported.entries, [*exported.checkpoints, *pinned], public_keys, progress=progress,
                      allow_unsigned_tail=allow_unsigned_tail, prefix=prefix)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone verifier for auditors: exit 0 if the export verifies, 1 if it does not, 2 on bad arguments."""
    parser = argparse.ArgumentParser(prog="python -m appliance.privacy.audit.verify", description=main.__doc__)
    parser.add_argument("export", type=Path, help="the export: JSONL, or CSV with FILE.checkpoints.jsonl")
    parser.add_argument("--public-key", type=Path, action="append", required=True,
                        help="trusted Ed25519 public key (PEM) of the appliance; repeat for rotated keys")
    parser.add_argument("--checkpoint", type=Path, action="append", default=[],
                        help="file of checkpoint lines you kept from earlier (an earlier export, or the "
                             "appliance's witness file audit-witness/checkpoints.log); repeatable")
    parser.add_argument("--allow-unsigned-tail", type=int, default=0, metavar="N",
                        help="accept at most N entries after the latest signed checkpoint (default 0); a log "
                             "with entries and no checkpoint always fails")
    args = parser.parse_args(argv)
    try:
        keys = [load_public_key(p) for p in args.public_key]
    except KeyMaterialError as exc:
        parser.error(str(exc))
    try:
        pinned = [c for path in args.checkpoint for c in read_checkpoints(path)]
        report = verify_export(args.export, keys, pinned=pinned, allow_unsigned_tail=args.allow_unsigned_tail)
    except AuditVerificationError as exc:
        print(f"FAILED: {exc}")
        return 1
    print(f"OK: {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
