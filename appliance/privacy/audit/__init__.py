"""Tamper-evident audit log of everything that leaves the appliance: SHA-256 hash chain, RFC 6962 Merkle tree,
Ed25519-signed checkpoints, and offline verification of exports (see docs/AUDITORS.md).

Importing this package needs only the standard library and `cryptography` (no database layer, no CLI).
"""

from appliance.privacy.audit.chain import ACTIONS, AuditVerificationError, canonical_json, verify_chain
from appliance.privacy.audit.checkpoints import Checkpoint, verify_checkpoint_signature
from appliance.privacy.audit.log import AuditEvent, AuditLog, AuditWriteError, SigningRefusedError
from appliance.privacy.audit.merkle import (
    consistency_proof,
    inclusion_proof,
    merkle_tree_hash,
    verify_consistency,
    verify_inclusion,
)
from appliance.privacy.audit.verify import VerifyReport, verify_export, verify_log

__all__ = [
    "ACTIONS",
    "AuditEvent",
    "AuditLog",
    "AuditVerificationError",
    "AuditWriteError",
    "Checkpoint",
    "SigningRefusedError",
    "VerifyReport",
    "canonical_json",
    "consistency_proof",
    "inclusion_proof",
    "merkle_tree_hash",
    "verify_chain",
    "verify_checkpoint_signature",
    "verify_consistency",
    "verify_export",
    "verify_inclusion",
    "verify_log",
]
