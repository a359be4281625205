"""A serving node's parts from the appliance config: the CF and generative services over their bundle
directories, the API-key verifier, and the customer-id pseudonymizer that walks the rotated key chain
(appliance.data.rotation), so the HTTP app and the worker processes are assembled the same way. Starting also
removes the staging directories that interrupted exports left in the bundle roots (export.bundle).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from appliance.data.keys import PUBLIC_FILE, load_pseudonym_key, load_public_key
from appliance.data.rotation import RotationError, chained_pseudonym, load_key_chain
from appliance.serve.apikeys import KEYS_FILE, KeyVerifier
from appliance.serve.errors import ServeError
from appliance.serve.service import GenBundle, Service
from export.bundle import remove_stale_staging

log = logging.getLogger("tanaban.serve")

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig


def build_service(cfg: ApplianceConfig) -> tuple[Service, KeyVerifier, Callable[[str, str | None], str], Service]:
    """CF service, key verifier, pseudonymizer and generative service for an appliance config."""
    chain = load_key_chain(cfg.keys_dir, load_pseudonym_key(cfg.keys_dir))  # rotated keys chain (rotation.py)
    trusted = [load_public_key(cfg.keys_dir / PUBLIC_FILE)]
    roots = (cfg.artifacts_dir / "bundles", cfg.artifacts_dir / "bundles-gen")
    stale = sum(remove_stale_staging(root) for root in roots)
    log.info("removed %d staging director%s of interrupted exports under %s", stale, "y" if stale == 1 else "ies",
             cfg.artifacts_dir)
    service = Service(cfg.artifacts_dir / "bundles", trusted)
    service.reload()
    gen_service = Service(cfg.artifacts_dir / "bundles-gen", trusted, loader=GenBundle.load)
    if (gen_service.root / "CURRENT").exists():  # the generative bundle is optional
        gen_service.reload()

    known, reread = {key.key_id for key in chain}, set()  # key ids in `chain`; unknown ids the disk was read for

    def to_pseudonym(raw_id: str, key_id: str | None = None) -> str:
        """The store pseudonym under `key_id` (the bundle's key; None: the current one). A bundle exported after a
        `tanaban keys rotate` names a key this process has not loaded yet: the chain is read again, once per id."""
        nonlocal chain, known
        try:
            if key_id is not None and key_id not in known and key_id not in reread:
                reread.add(key_id)
                chain = load_key_chain(cfg.keys_dir, load_pseudonym_key(cfg.keys_dir))
                known = {key.key_id for key in chain}
            return chained_pseudonym(raw_id, chain, upto=key_id)
        except RotationError as exc:  # a key the bundle needs is gone, or a rotation is half done: 503
            raise ServeError(str(exc)) from None

    return service, KeyVerifier(cfg.data_dir / KEYS_FILE), to_pseudonym, gen_service
