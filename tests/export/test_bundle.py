"""Signed bundles: a good bundle verifies; every kind of tampering is refused with a message naming the problem."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.data.keys import SigningKey, public_key_id
from export.bundle import (
    MANIFEST,
    SIGNATURE,
    BundleError,
    canonical,
    current_bundle,
    publish_bundle,
    sign_bundle,
    verify_bundle,
)


def _key() -> SigningKey:
    private = Ed25519PrivateKey.generate()
    return SigningKey(public_key_id(private.public_key()), private)


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, SigningKey]:
    bundle = tmp_path / "staging"
    (bundle / "models").mkdir(parents=True)
    (bundle / "models" / "encoder.onnx").write_bytes(b"\x08\x07onnx-bytes")
    (bundle / "items.json").write_text('{"0": "sku-1"}')
    key = _key()
    sign_bundle(bundle, key, {"metrics": {"ndcg@10": 0.04}}, version="v1")
    return bundle, key


def test_signed_bundle_verifies_and_lists_every_file(signed: tuple[Path, SigningKey]) -> None:
    bundle, key = signed
    manifest = verify_bundle(bundle, [key.public])
    assert set(manifest.files) == {"models/encoder.onnx", "items.json"}
    assert manifest.version == "v1" and manifest.data["meta"]["metrics"]["ndcg@10"] == 0.04
    assert (bundle / MANIFEST).read_bytes() == canonical(manifest.data)


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("tamper", "message"), [
    (lambda b: _flip_byte(b / "models" / "encoder.onnx"), "does not match its sha256"),
    (lambda b: (b / "items.json").unlink(), "listed in the manifest but missing"),
    (lambda b: (b / "extra.onnx").write_bytes(b"x"), "not listed in the signed manifest"),
    (lambda b: (b / MANIFEST).write_bytes((b / MANIFEST).read_bytes().replace(b'"v1"', b'"v2"')),
     "signature does not verify"),
    (lambda b: (b / SIGNATURE).unlink(), "not a signed bundle"),
    (lambda b: (b / SIGNATURE).write_text("not base64!"), "not base64"),
])
def test_tampered_bundle_is_refused(signed: tuple[Path, SigningKey], tamper, message: str) -> None:
    bundle, key = signed
    tamper(bundle)
    with pytest.raises(BundleError, match=message):
        verify_bundle(bundle, [key.public])


def test_bundle_from_an_untrusted_key_is_refused(signed: tuple[Path, SigningKey]) -> None:
    bundle, _ = signed
    with pytest.raises(BundleError, match="not a trusted key"):
        verify_bundle(bundle, [_key().public])


def test_rehashed_manifest_without_the_private_key_is_refused(signed: tuple[Path, SigningKey]) -> None:
    """An attacker who swaps a model and rewrites the hash in the manifest still fails on the signature."""
    bundle, key = signed
    _flip_byte(bundle / "items.json")
    data = json.loads((bundle / MANIFEST).read_bytes())
    data["files"]["items.json"] = hashlib.sha256((bundle / "items.json").read_bytes()).hexdigest()
    (bundle / MANIFEST).write_bytes(canonical(data))
    with pytest.raises(BundleError, match="signature does not verify"):
        verify_bundle(bundle, [key.public])


def test_publish_moves_atomically_and_points_current(signed: tuple[Path, SigningKey], tmp_path: Path) -> None:
    bundle, key = signed
    root = tmp_path / "bundles"
    final = publish_bundle(bundle, root)
    assert not bundle.exists() and current_bundle(root) == final
    verify_bundle(final, [key.public])
    with pytest.raises(BundleError, match="no bundle has been exported"):
        current_bundle(tmp_path / "empty")
