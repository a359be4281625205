"""Verify before signing: the appliance signs a checkpoint only after checking the hash chain since the previous
checkpoint, that checkpoint's signature and root, and that every witnessed checkpoint is still in audit.db, so its
key never vouches for a history someone rewrote (the C2SP tlog-witness rule: a new tree head must extend the last
one). Incremental per process; a fresh process, or any surprise, re-checks from the first entry. It also refuses
to sign with a key the log has retired or revoked (`.keyring`): a process still holding the key a rotation replaced
never signs with it; `.log` then loads the key the log names as current, or stops appending.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.privacy.audit.backends import AuditBackend
from appliance.privacy.audit.chain import GENESIS_PREV_HASH, AuditVerificationError, hash_entry
from appliance.privacy.audit.checkpoints import Checkpoint, trusted_keys, verify_checkpoint_signature
from appliance.privacy.audit.keyring import KeyValidity
from appliance.privacy.audit.merkle import MerkleFrontier, hash_leaf
from appliance.privacy.audit.verify import check_roots_at
from appliance.privacy.audit.witness import WitnessFile, missing_witness_error

_CHECKPOINT_COLUMNS = "tree_size, root_hash, time, key_id, signature"


@dataclass
class _Verified:
    """What this process has checked: entries 1..size chain to `head`, and their tree is `frontier`."""

    size: int = 0
    head: str = GENESIS_PREV_HASH.hex()
    frontier: MerkleFrontier = field(default_factory=MerkleFrontier)
    checkpoint_id: int = 0  # checkpoints rows 1..checkpoint_id have been compared
    latest: Checkpoint | None = None  # the checkpoint of largest tree size seen, its signature verified
    keys: KeyValidity = field(default_factory=KeyValidity)  # rotations and revocations in entries 1..size


class SigningGuard:
    """Call `frontier(conn)` inside the write transaction that will insert the checkpoint, then `signed(...)`."""

    def __init__(self, public: Ed25519PublicKey, witness: WitnessFile) -> None:
        self._keys = trusted_keys([public])
        self._key_id = next(iter(self._keys))
        self._witness = witness
        self._state = _Verified()

    def use_key(self, public: Ed25519PublicKey) -> None:
        """Sign with `public`'s key from now on (the hand-over of a rotation); the old one stays trusted."""
        keys = trusted_keys([public])
        self._key_id = next(iter(keys))
        self._keys.update(keys)

    def reset(self) -> None:
        """Forget what was checked (after a rollback, or a surprise): the next call starts from entry 1."""
        self._state = _Verified()
        self._witness.rewind()

    def frontier(self, conn: AuditBackend) -> MerkleFrontier:
        """The Merkle frontier over the whole log, once everything since the last check verifies; raises
        AuditVerificationError naming the first bad entry otherwise (the log turns it into SigningRefusedError)."""
        try:
            if not self._still_holds(conn):
                self.reset()
            self._check(conn)
        except AuditVerificationError:
            self.reset()
            raise
        self._state.keys.may_sign(self._key_id, self._state.size)  # RetiredKeyError; what was checked still holds
        return self._state.frontier

    @property
    def log_key(self) -> str | None:
        """The key the latest rotation in the entries checked so far introduced (None before any rotation)."""
        return self._state.keys.current

    def signed(self, checkpoint: Checkpoint, checkpoint_id: int) -> None:
        """Record the checkpoint this process has just inserted (as row `checkpoint_id`)."""
        self._state.checkpoint_id, self._state.latest = checkpoint_id, checkpoint

    def _still_holds(self, conn: AuditBackend) -> bool:
        """Whether the rows this process verified last time are still there, unchanged (cheap spot checks)."""
        state = self._state
        if state.size:
            row = conn.execute("SELECT entry_hash FROM entries WHERE seq = ?", (state.size,)).fetchone()
            if row is None or row[0] != state.head:
                return False
        if state.checkpoint_id:
            row = conn.execute(f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE id = ?",
                               (state.checkpoint_id,)).fetchone()
            if row is None or Checkpoint(*row) != state.latest:
                return False
        return True

    def _check(self, conn: AuditBackend) -> None:
        state = self._state
        rows = conn.execute(f"SELECT id, {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE id > ? ORDER BY id",
                            (state.checkpoint_id,)).fetchall()
        new = [Checkpoint(*row[1:]) for row in rows]
        signed_size = state.latest.tree_size if state.latest else 0
        sizes = [signed_size, *(c.tree_size for c in new)]
        if sizes != sorted(sizes):
            raise AuditVerificationError("checkpoint rows are not in tree-size order (rows inserted or replaced)")
        unstored = self._unstored_witnessed(conn, has_checkpoints=bool(rows) or state.checkpoint_id > 0)
        if any(c.tree_size < state.size for c in [*new, *unstored]):  # not incremental: re-check from entry 1
            self.reset()
            return self._check(conn)
        previous = new[-1] if new else None  # the checkpoint the next one extends: its signature must verify
        if previous is not None and previous.key_id in self._keys:
            verify_checkpoint_signature(previous, self._keys)
        pending = sorted([*new, *unstored], key=lambda c: c.tree_size)
        last_good = check_roots_at(pending, state.size, state.frontier.root(), signed_size)
        links = conn.iterate("SELECT seq, body, prev_hash, entry_hash FROM entries WHERE seq > ? ORDER BY seq",
                             (state.size,))
        with contextlib.closing(links):  # a server-side cursor is closed here, before any rollback
            for seq, body, prev_hash, entry_hash in links:
                self._check_link(seq, body, prev_hash, entry_hash)
                last_good = check_roots_at(pending, state.size, state.frontier.root, last_good)
        if previous is not None and previous.key_id not in self._keys:  # a key rotated in: the walk named it
            verify_checkpoint_signature(previous, {**self._keys, **state.keys.public_keys})
        if pending:
            raise AuditVerificationError(f"the log ends after {state.size} entries but a checkpoint signed at "
                                         f"{pending[-1].time} covers {pending[-1].tree_size}: entries "
                                         f"{state.size + 1}..{pending[-1].tree_size} are missing (truncated)",
                                         state.size + 1)
        if unstored:
            raise AuditVerificationError(f"the checkpoint of tree size {unstored[0].tree_size} signed at "
                                         f"{unstored[0].time} is in the witness file {self._witness.path} but not "
                                         "in audit.db (checkpoint rows deleted, or the database replaced)")
        if new:
            state.latest, state.checkpoint_id = new[-1], rows[-1][0]
        return None

    def _check_link(self, seq: int, body: str, prev_hash: str, entry_hash: str) -> None:
        state = self._state
        if seq != state.size + 1:
            raise AuditVerificationError(f"expected seq {state.size + 1} here, found {seq} (entry deleted, inserted "
                                         "or reordered)", state.size + 1)
        if prev_hash != state.head:
            raise AuditVerificationError("prev_hash does not link to the previous entry", seq)
        data = body.encode("utf-8")
        if hash_entry(bytes.fromhex(prev_hash), data).hex() != entry_hash:
            raise AuditVerificationError("entry_hash does not match the entry's content", seq)
        state.frontier.append(hash_leaf(data))
        state.size, state.head = seq, entry_hash
        state.keys.observe(seq, data)

    def _unstored_witnessed(self, conn: AuditBackend, *, has_checkpoints: bool) -> list[Checkpoint]:
        """Witnessed checkpoints (read since the last check) that audit.db lacks; a missing witness file is an
        error once the database holds checkpoints."""
        if has_checkpoints and not self._witness.exists():
            raise missing_witness_error(self._witness.path)
        unstored = []
        for witnessed in self._witness.read_new():
            row = conn.execute(f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE signature = ?",
                               (witnessed.signature,)).fetchone()
            if row is None or Checkpoint(*row) != witnessed:
                unstored.append(witnessed)
        return unstored
