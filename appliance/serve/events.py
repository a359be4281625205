"""The audit entries of the serving side (docs/AUDITORS.md): `apikey.create` and `apikey.revoke` (written before the
key file changes, so an unaudited key never exists), `service.start` and `service.stop` (with the config
fingerprint, the bundles served and, at start, the egress state: on or off, destination host, policy fingerprint)
and `bundle.reload` (by an admin key over HTTP, by SIGHUP, or by a worker's bundle watcher), all through
appliance.privacy.audit.log's append API. Never the key secret, never a request body.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from appliance.data.keys import audit_signer
from appliance.privacy.audit.admin import rotated_key_loader
from appliance.privacy.audit.log import AuditEvent, AuditLog
from appliance.privacy.egress import egress_status
from appliance.privacy.policy import current_policy
from appliance.serve.apikeys import KEYS_FILE, ApiKey, create_key, revoke_key
from appliance.serve.metrics import reload_observed

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig
    from appliance.serve.service import Service

AuditSink = Callable[[AuditEvent], object]  # AuditLog.append, or a stand-in in tests


def open_serve_audit(cfg: ApplianceConfig) -> AuditLog:
    """The appliance's audit log, opened for appending (AuditWriteError / KeyMaterialError if it cannot be); signed
    by signing.key on the primary, by node.key on a replica, or by the key `tanaban audit key rotate` made
    (appliance.data.keys.audit_signer), and picking up a key rotated while it runs."""
    return AuditLog.open(cfg.audit_path, audit_signer(cfg.keys_dir), cfg=cfg.audit,
                         key_loader=rotated_key_loader(cfg.keys_dir))


def keys_path(cfg: ApplianceConfig) -> Path:
    return cfg.data_dir / KEYS_FILE


def key_event(action: str, key: ApiKey) -> AuditEvent:
    """apikey.create / apikey.revoke: key id, name and scopes; the actor is the OS user running the command."""
    return AuditEvent(action, "ok", reason=f"API key {key.key_id} ({key.name}) scopes {','.join(key.scopes)}")


def create_api_key(cfg: ApplianceConfig, name: str, scopes: tuple[str, ...]) -> str:
    """`tanaban apikey create`: a new key, audited (apikey.create) before it is stored; returns the token."""
    with open_serve_audit(cfg) as log:
        return create_key(keys_path(cfg), name, scopes, audit=lambda action, key: log.append(key_event(action, key)))


def revoke_api_key(cfg: ApplianceConfig, key_id: str) -> ApiKey:
    """`tanaban apikey revoke`: revoke a key, audited (apikey.revoke) before the file changes."""
    with open_serve_audit(cfg) as log:
        return revoke_key(keys_path(cfg), key_id, audit=lambda action, key: log.append(key_event(action, key)))


def _versions(service: Service, gen_service: Service | None) -> str:
    cf = service.bundle.version if service.bundle is not None else "none"
    gen = gen_service.bundle.version if gen_service is not None and gen_service.bundle is not None else "none"
    return f"bundle {cf}, generative bundle {gen}"


def service_event(action: str, fingerprint: str, service: Service, gen_service: Service | None, listen: str,
                  workers: int, outcome: str = "ok", cause: str = "") -> AuditEvent:
    """service.start / service.stop: the bundles served, where, with how many workers, and the config fingerprint
    (appliance.config.config_fingerprint, secrets redacted); `cause`: why a stop was not clean."""
    return AuditEvent(action, outcome, reason=f"{_versions(service, gen_service)}; listening on {listen} with "
                                              f"{workers} worker(s); config sha256 {fingerprint}"
                                              + (f"; stopped by {cause}" if cause else ""))


def egress_event(event: AuditEvent, cfg: ApplianceConfig) -> AuditEvent:
    """`event` (service.start) with the egress state seen now: on or off, the destination (host, port, model as
    configured, also when off) and the fingerprint of the policy egress would run under (policy_version)."""
    policy = current_policy(cfg)
    status = egress_status(cfg.egress, policy=policy)
    host = _host(status.base_url)
    state = f"egress {'on' if status.enabled else 'off'}, destination {host or 'none'}"
    if status.destination_problem and host:  # configured, but egress would refuse it
        state += " (refused by the destination checks)"
    weakened = "; policy WEAKENED" if policy.weakened else ""
    return dataclasses.replace(
        event, reason=f"{event.reason}; {state}; policy {policy.fingerprint}{weakened}",
        destination={"host": host, "port": _port(status.base_url), "model": status.model, "enabled": status.enabled},
        policy_version=policy.fingerprint)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _port(url: str) -> int | None:
    try:
        parts = urlsplit(url)
        return parts.port or ({"https": 443, "http": 80}.get(parts.scheme) if parts.hostname else None)
    except ValueError:
        return None


@contextlib.contextmanager
def audited_service(cfg: ApplianceConfig, fingerprint: str, service: Service, gen_service: Service | None,
                    listen: str, workers: int) -> Iterator[AuditLog]:
    """Write service.start (nothing is served if it cannot be written), yield the open log, and write service.stop
    when the block ends: outcome ok on a normal stop (SIGTERM, SIGINT), else error with the exception's class."""
    with open_serve_audit(cfg) as log:
        log.append(egress_event(service_event("service.start", fingerprint, service, gen_service, listen, workers),
                                cfg))
        try:
            yield log
        except BaseException as exc:
            clean = isinstance(exc, KeyboardInterrupt) or (isinstance(exc, SystemExit) and not exc.code)
            log.append(service_event("service.stop", fingerprint, service, gen_service, listen, workers,
                                     "ok" if clean else "error", "" if clean else type(exc).__name__))
            raise
        log.append(service_event("service.stop", fingerprint, service, gen_service, listen, workers))


def reload_event(actor: str, outcome: str, detail: str) -> AuditEvent:
    """bundle.reload by `actor`: `apikey:<id>` (an admin key over HTTP), `signal` (SIGHUP) or `watcher` (a worker's
    bundle watcher saw a new CURRENT); the versions loaded (ok), or why the reload was refused (failed). Every reload
    attempt makes exactly one such entry, so this is also where tanaban_bundle_reloads_total counts it
    (appliance.serve.metrics.reload_observed)."""
    reload_observed(actor, outcome)
    return AuditEvent("bundle.reload", outcome, actor=actor, reason=detail)
