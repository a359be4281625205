"""Key material kept outside the database: the pseudonym key (HMAC-SHA256, RFC 2104) and the Ed25519 signing key
(RFC 8032) used for audit checkpoints and model bundles.

Files are created with O_EXCL and mode 0600, never overwritten, and refused at load time when group or others can
read them. Each key has a key id derived from the key by a one-way hash, recorded wherever the key was used.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.errors import UserError

PSEUDONYM_FILE = "pseudonym.key"
SIGNING_FILE = "signing.key"
PUBLIC_FILE = "signing.pub"  # the auditors' copy; not secret
NODE_KEY_FILE = "node.key"  # a serving replica's own Ed25519 key: signs its audit log's checkpoints, nothing else
NODE_PUBLIC_FILE = "node.pub"  # for the auditor who verifies that node's log (`tanaban audit verify --public-key`)
# audit signing keys started by `tanaban audit key rotate`: <n>-<key id>.key (0600) and .pub; the highest n signs
# the audit log from its rotation entry on (appliance.privacy.audit.keyring); bundles stay signed by signing.key
AUDIT_KEYS_DIR = "audit-keys"
_KEY_ID_DOMAIN = b"tanaban/key-id/v1\x00"
PSEUDONYM_KEY_BYTES = 32  # 256-bit HMAC-SHA256 key, the hash's block-size guidance (RFC 2104 section 3)


class KeyMaterialError(UserError, RuntimeError):
    """Key files are missing, unreadable, malformed or too widely readable; the message says how to fix it."""


@dataclass(frozen=True)
class PseudonymKey:
    key_id: str
    secret: bytes = field(repr=False)


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private: Ed25519PrivateKey = field(repr=False)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()


def pseudonym_key_id(secret: bytes) -> str:
    return hashlib.sha256(_KEY_ID_DOMAIN + secret).hexdigest()[:16]


def public_key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(_KEY_ID_DOMAIN + raw).hexdigest()[:16]


def public_key_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def create_keys(keys_dir: Path, *, rng: Callable[[int], bytes] = os.urandom,
                now: datetime | None = None) -> tuple[PseudonymKey, SigningKey]:
    """Create both keys in `keys_dir` (mode 0700). Refuses if any key file already exists."""
    keys_dir = Path(keys_dir)
    existing = [n for n in (PSEUDONYM_FILE, SIGNING_FILE, PUBLIC_FILE) if (keys_dir / n).exists()]
    if existing:
        raise KeyMaterialError(
            f"refusing to overwrite existing key material in {keys_dir}: {', '.join(existing)}. "
            "Keys protect stored pseudonyms and signed logs; move them away yourself if you really mean to."
        )
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(keys_dir, 0o700)
    created = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    secret = rng(PSEUDONYM_KEY_BYTES)
    pseudo = PseudonymKey(pseudonym_key_id(secret), secret)
    doc = {"kind": "hmac-sha256", "key_id": pseudo.key_id, "created": created,
           "key": base64.b64encode(secret).decode("ascii")}
    _write_exclusive(keys_dir / PSEUDONYM_FILE, (json.dumps(doc, indent=1) + "\n").encode(), 0o600)
    private = Ed25519PrivateKey.from_private_bytes(rng(32))
    signing = SigningKey(public_key_id(private.public_key()), private)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    _write_exclusive(keys_dir / SIGNING_FILE, pem, 0o600)
    _write_exclusive(keys_dir / PUBLIC_FILE, public_key_pem(private.public_key()), 0o644)
    return pseudo, signing


def load_pseudonym_key(keys_dir: Path) -> PseudonymKey:
    data = _read_private(Path(keys_dir) / PSEUDONYM_FILE)
    try:
        doc = json.loads(data)
        secret = base64.b64decode(doc["key"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyMaterialError(f"{Path(keys_dir) / PSEUDONYM_FILE} is malformed ({exc})") from None
    if len(secret) != PSEUDONYM_KEY_BYTES or doc.get("key_id") != pseudonym_key_id(secret):
        raise KeyMaterialError(f"{Path(keys_dir) / PSEUDONYM_FILE}: key length or key id does not match the key")
    return PseudonymKey(doc["key_id"], secret)


def load_signing_key(keys_dir: Path) -> SigningKey:
    return _load_ed25519(Path(keys_dir) / SIGNING_FILE)


def load_node_key(keys_dir: Path) -> SigningKey:
    """A serving replica's node.key (`tanaban replica init`), checked as signing.key is: private mode, PEM, Ed25519."""
    path = Path(keys_dir) / NODE_KEY_FILE
    if not path.exists():
        raise KeyMaterialError(f"key file {path} is missing: run `tanaban replica init`")
    return _load_ed25519(path)


def audit_signer(keys_dir: Path) -> SigningKey:
    """The key that signs this machine's audit log: the newest rotated key in audit-keys/ if any, else `signing.key`
    on the primary, `node.key` on a replica."""
    keys_dir = Path(keys_dir)
    rotated = rotated_audit_keys(keys_dir)
    if rotated:
        return _load_ed25519(rotated[-1])
    if (keys_dir / SIGNING_FILE).exists():
        return load_signing_key(keys_dir)
    if (keys_dir / NODE_KEY_FILE).exists():
        return load_node_key(keys_dir)
    raise KeyMaterialError(f"no {SIGNING_FILE} (a primary) and no {NODE_KEY_FILE} (a replica) in {keys_dir}: run "
                           "`tanaban init` on the training machine, or `tanaban replica init` on a serving node")


def rotated_audit_keys(keys_dir: Path) -> list[Path]:
    """The private key files `tanaban audit key rotate` made (audit-keys/<n>-<key id>.key), oldest first."""
    folder = Path(keys_dir) / AUDIT_KEYS_DIR
    found = [p for p in folder.glob("*-*.key") if p.stem.split("-", 1)[0].isdigit()] if folder.is_dir() else []
    return sorted(found, key=lambda p: int(p.stem.split("-", 1)[0]))


def create_audit_key(keys_dir: Path, *, rng: Callable[[int], bytes] = os.urandom) -> tuple[SigningKey, Path]:
    """A new audit signing key, written as audit-keys/<n>-<key id>.key.pending (0600, O_EXCL) with its .pub next to
    it; the caller renames the pending file once the log records the rotation."""
    folder = Path(keys_dir) / AUDIT_KEYS_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    numbers = [int(p.name.split("-", 1)[0]) for p in folder.iterdir() if p.name.split("-", 1)[0].isdigit()]
    private = Ed25519PrivateKey.from_private_bytes(rng(32))
    key = SigningKey(public_key_id(private.public_key()), private)
    stem = folder / f"{max(numbers, default=0) + 1}-{key.key_id}"
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    _write_exclusive(stem.with_suffix(".pub"), public_key_pem(key.public), 0o644)
    pending = stem.with_suffix(".key.pending")
    _write_exclusive(pending, pem, 0o600)
    return key, pending


def load_pending_audit_key(path: Path) -> SigningKey:
    return _load_ed25519(path)


def audit_public_keys(keys_dir: Path) -> list[Ed25519PublicKey]:
    """Every public key that signed, or signs, this machine's audit log: signing.pub (or node.pub on a replica) and
    the .pub of each rotated key; what the live log is verified with by default."""
    keys_dir = Path(keys_dir)
    node = (keys_dir / NODE_PUBLIC_FILE) if not (keys_dir / SIGNING_FILE).exists() else None
    first = [node] if node is not None and node.exists() else [keys_dir / PUBLIC_FILE]
    folder = keys_dir / AUDIT_KEYS_DIR  # every rotated key's .pub: retired keys' private files are deleted
    found = [p for p in folder.glob("*-*.pub") if p.stem.split("-", 1)[0].isdigit()] if folder.is_dir() else []
    rotated = sorted(found, key=lambda p: int(p.stem.split("-", 1)[0]))
    return [load_public_key(p) for p in [*first, *rotated] if p.exists()]


def _load_ed25519(path: Path) -> SigningKey:
    try:
        private = serialization.load_pem_private_key(_read_private(path), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyMaterialError(f"{path} is not a PEM private key ({exc})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyMaterialError(f"{path} is not an Ed25519 key")
    return SigningKey(public_key_id(private.public_key()), private)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An auditor's public key file (PEM); no permission check, it is not secret."""
    try:
        public = serialization.load_pem_public_key(Path(path).read_bytes())
    except FileNotFoundError:
        raise KeyMaterialError(f"public key file {path} does not exist") from None
    except ValueError as exc:
        raise KeyMaterialError(f"{path} is not a PEM public key ({exc})") from None
    if not isinstance(public, Ed25519PublicKey):
        raise KeyMaterialError(f"{path} is not an Ed25519 public key")
    return public


def _read_private(path: Path) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyMaterialError(f"key file {path} is missing: run `tanaban init` first "
                               "(or point paths.keys_dir at the existing keys)") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyMaterialError(f"key file {path} is accessible by group or others (mode "
                               f"{stat.S_IMODE(st.st_mode):04o}); fix it with: chmod 600 {path}")
    try:
        return path.read_bytes()
    except PermissionError:
        raise KeyMaterialError(f"key file {path} is not readable by this user ({os.getuid()})") from None


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # the umask may have narrowed the public key's mode; set it exactly
