"""A serving node's parts from the appliance config: the CF and generative services over their bundle
directories, the API-key verifier, and the customer-id pseudonymizer that walks the rotated key chain
(appliance.data.rotation), so the HTTP app and the worker processes are assembled the same way. Starting also
removes the staging directories that interrupted exports left in the bundle roots (export.bundle). A node starts
without any published bundle (not ready until the first export); a published bundle that fails to verify stops it.
Also where it listens: [serve] host/port (flags override) and the TLS files uvicorn serves HTTPS with (PEM, checked
before anything is loaded), and the one start-up log line.
"""

from __future__ import annotations

import functools
import logging
import ssl
import stat
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.data.keys import PUBLIC_FILE, load_pseudonym_key, load_public_key
from appliance.data.rotation import RotationError, chained_pseudonym, load_key_chain
from appliance.errors import UserError
from appliance.serve.apikeys import KEYS_FILE, KeyVerifier
from appliance.serve.errors import ServeError
from appliance.serve.service import GenBundle, Service, load_bundle
from appliance.serve.tables import MappedTables, remove_stale_tables, tables_dir
from export.bundle import remove_stale_staging

log = logging.getLogger("tanaban.serve")

if TYPE_CHECKING:
    from appliance.config import ApplianceConfig, ServeConfig


class ListenError(UserError, ValueError):
    """The address or the TLS files `tanaban serve` was given cannot be used: the message names the key and the fix."""


@dataclass(frozen=True)
class Listen:
    """Where and how `tanaban serve` listens: the config's [serve] host/port unless flags override them."""

    host: str
    port: int
    certfile: str = ""  # both set: uvicorn serves HTTPS itself (its ssl_certfile / ssl_keyfile)
    keyfile: str = ""

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal (RFC 3986, 3.2.2)
        return f"{'https' if self.certfile else 'http'}://{host}:{self.port}"

    def uvicorn_tls(self) -> dict[str, Any]:
        """uvicorn.Config keyword arguments for HTTPS (none for plain HTTP)."""
        return {"ssl_certfile": self.certfile, "ssl_keyfile": self.keyfile} if self.certfile else {}


def build_service(cfg: ApplianceConfig) -> tuple[Service, KeyVerifier, Callable[[str, str | None], str], Service]:
    """CF service, key verifier, pseudonymizer and generative service for an appliance config."""
    chain = load_key_chain(cfg.keys_dir, load_pseudonym_key(cfg.keys_dir))  # rotated keys chain (rotation.py)
    trusted = [load_public_key(cfg.keys_dir / PUBLIC_FILE)]
    roots = (cfg.artifacts_dir / "bundles", cfg.artifacts_dir / "bundles-gen")
    stale = sum(remove_stale_staging(root) for root in roots)
    log.info("removed %d staging director%s of interrupted exports under %s", stale, "y" if stale == 1 else "ies",
             cfg.artifacts_dir)
    loader, gen_loader = None, GenBundle.load
    if cfg.serve.mmap_tables:  # private, hash-checked copies, mapped (appliance.serve.tables), for both bundle kinds
        remove_stale_tables(tables_dir(cfg.data_dir))
        mapped = MappedTables(tables_dir(cfg.data_dir))
        loader = functools.partial(load_bundle, tables=mapped)
        gen_loader = functools.partial(GenBundle.load, tables=mapped)
    service = Service(cfg.artifacts_dir / "bundles", trusted, loader=loader)
    if (service.root / "CURRENT").exists():  # a published bundle that does not verify stops the start, loudly
        service.reload()
    else:  # a fresh node: /healthz 200, /readyz 503 until the first export is picked up (watcher or SIGHUP)
        log.warning("no bundle published in %s yet: serving /readyz 503 until `tanaban export cf` publishes one",
                    service.root)
    gen_service = Service(cfg.artifacts_dir / "bundles-gen", trusted, loader=gen_loader)
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


def resolve_listen(serve: ServeConfig, host: str | None = None, port: int | None = None) -> Listen:
    """The listening address (flags over config) with its TLS files checked: both or neither, each an existing,
    readable file, the key not world-readable, and the pair loadable as a certificate and its key."""
    listen = Listen(serve.host if host is None else host, serve.port if port is None else port,
                    serve.tls_certfile, serve.tls_keyfile)
    if not listen.host:
        raise ListenError("serve.host is empty: give an address to bind, e.g. 127.0.0.1 (or --host)")
    if not 0 < listen.port < 65536:
        raise ListenError(f"serve.port {listen.port} is not a TCP port: give 1-65535 (or --port)")
    if bool(listen.certfile) != bool(listen.keyfile):
        raise ListenError("serve.tls_certfile and serve.tls_keyfile: set both (HTTPS) or neither (plain HTTP, "
                          "e.g. behind a reverse proxy that terminates TLS)")
    if listen.certfile:
        _check_tls_file("serve.tls_certfile", Path(listen.certfile))
        mode = _check_tls_file("serve.tls_keyfile", Path(listen.keyfile))
        if mode & stat.S_IROTH:
            raise ListenError(f"serve.tls_keyfile {listen.keyfile} is readable by every user: "
                              "chmod 0640 (group tanaban) or 0600 it")
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(listen.certfile, listen.keyfile)
        except ssl.SSLError as exc:
            raise ListenError(f"serve.tls_certfile and serve.tls_keyfile are not a PEM certificate and its key "
                              f"({exc.reason or exc.strerror}): check the pair") from None
    return listen


def _check_tls_file(key: str, path: Path) -> int:
    """The file's mode bits, once it is known to be a readable regular file."""
    try:
        with path.open("rb") as fh:
            fh.read(1)
        info = path.stat()
    except FileNotFoundError:
        raise ListenError(f"{key} {path} does not exist: fix the path in [serve] or create the file") from None
    except IsADirectoryError:
        raise ListenError(f"{key} {path} is a directory: give the PEM file itself") from None
    except OSError as exc:
        raise ListenError(f"{key} {path} cannot be read ({exc.strerror}): let the service user read it "
                          "(e.g. chgrp tanaban and chmod 0640)") from None
    if not stat.S_ISREG(info.st_mode):
        raise ListenError(f"{key} {path} is not a regular file: give the PEM file itself")
    return info.st_mode


def start_line(fingerprint: str, service: Service, gen_service: Service, listen: Listen, workers: int) -> str:
    """The one log line `tanaban serve` writes when it starts: version, config fingerprint, bundles, address."""
    try:
        release = version("tanaban")
    except PackageNotFoundError:  # running from a checkout that was never pip-installed
        release = "unknown"
    bundle = service.bundle.version if service.bundle is not None else "none yet"
    gen = f", generative bundle {gen_service.bundle.version}" if gen_service.bundle is not None else ""
    tls = "TLS by uvicorn" if listen.certfile else "plain HTTP"
    return (f"tanaban {release} serving on {listen.url} ({tls}, {workers} worker(s)); config sha256 "
            f"{fingerprint}; bundle {bundle}{gen}")
