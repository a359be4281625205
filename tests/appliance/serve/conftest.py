"""The serving tests' data, built without training (serving needs no torch): `serve_sample` writes and ingests the
retail sample and fabricates a CF artifact and semantic IDs for it; `bundle_home` is a home holding all of that
but the codes. `fast_path_parity` sends the same recommendation requests through the HTTP middleware's fast path
and through FastAPI's route."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from appliance.data.artifacts import save_artifact
from appliance.data.home import Home
from appliance.data.ingest import ingest_file
from appliance.data.splits import load_split
from appliance.demo.sample import generate_sample

LABELS = ["hiking gear", "baby care", "home coffee"]


class ServeSample:
    """The retail sample every serving test uses (seed 3: 90 items, 40 customers) and what is built from it."""

    @staticmethod
    def write(directory: Path) -> Path:
        """The sample's files (items.jsonl, interactions.csv, ...) in directory; returns directory."""
        generate_sample(directory, seed=3, n_items=90, n_users=40)
        return directory

    def ingest(self, home: Home, directory: Path) -> Path:
        """Write the sample to directory and ingest its items and interactions into home; returns directory."""
        self.write(directory)
        for kind, name in (("items", "items.jsonl"), ("interactions", "interactions.csv")):
            ingest_file(home, directory / name, kind, progress=False)
        return directory

    @staticmethod
    def customers(directory: Path) -> list[str]:
        """The raw customer ids of a written sample, sorted."""
        with (directory / "interactions.csv").open() as fh:
            return sorted({row["customer_id"] for row in csv.DictReader(fh)})

    @staticmethod
    def fake_cf(home: Home, seed: int = 0, labels: Sequence[str] | None = LABELS) -> None:
        """A fabricated (not trained) `cf-lightgcn` artifact for the home's split: random 8-wide embeddings and, with
        labels, random intent distributions over them."""
        split = load_split(home.engine)
        rng = np.random.default_rng(seed)
        arrays = {"user_emb": rng.normal(size=(split.n_users, 8)).astype(np.float32),
                  "item_emb": rng.normal(size=(split.n_items, 8)).astype(np.float32)}
        meta: dict[str, object] = {"model": "lightgcn"}
        if labels:
            arrays["user_intents"] = rng.dirichlet(np.ones(len(labels)), size=split.n_users).astype(np.float32)
            arrays["item_intents"] = rng.dirichlet(np.ones(len(labels)), size=split.n_items).astype(np.float32)
            meta = {"labels": list(labels), "model": "lightgcn"}
        arrays |= {"user_ids": split.user_ids, "item_ids": split.item_ids}
        save_artifact(home.config.artifacts_dir, "cf-lightgcn", arrays, meta)

    @staticmethod
    def random_codes(home: Home, seed: int = 1) -> None:
        """A semantic-ids artifact of random 3-level codes (4 x 4 x n, last level unique) for the home's split items:
        stands in for `tanaban tokenize build` when only the generative mechanics are under test."""
        split = load_split(home.engine)
        rng = np.random.default_rng(seed)
        codes = np.stack([rng.integers(0, 4, split.n_items), rng.integers(0, 4, split.n_items),
                          np.zeros(split.n_items, int)], axis=1)
        _, first = np.unique(codes[:, :2], axis=0, return_inverse=True)
        codes[:, 2] = [np.sum(first[:i] == first[i]) for i in range(split.n_items)]  # unique last level
        save_artifact(home.config.artifacts_dir, "semantic-ids", {"codes": codes.astype(np.int32),
                      "item_ids": split.item_ids}, {"level_sizes": [4, 4, int(codes[:, 2].max()) + 1]})


@pytest.fixture(scope="session")
def serve_sample() -> ServeSample:
    """`ServeSample` (a class defined here: test modules take it as a fixture, they never import conftest)."""
    return ServeSample()


@pytest.fixture
def bundle_home(home: Home, tmp_path: Path, serve_sample: ServeSample) -> tuple[Home, Path]:
    """The shared `home` with the sample ingested and a fabricated CF artifact; returns (home, sample directory)."""
    sample = serve_sample.ingest(home, tmp_path / "sample")
    serve_sample.fake_cf(home)
    return home, sample


Case = tuple[dict[str, Any] | bytes, dict[str, str]]  # a request body (JSON, or raw bytes sent as JSON) and headers


class FastPathParity:
    """`POST /v1/recommendations` cases sent to two apps made alike: one with the middleware's fast path
    (appliance.serve.http._FastRecommendations) and one with it switched off, where every request takes FastAPI's
    route. The tests compare what comes back, and which cases the fast path answered itself."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def run(self, make_app: Callable[[], Any], cases: Sequence[Case]) -> tuple[Any, Any, list[bool]]:
        """(fast, route, answered): fast and route are ([(status, body, sorted headers)] per case, the app's
        deterministic tanaban_* metric lines after them, the access log's (method, route, status, key id, request
        id) per POST); answered[i] says whether the fast path took case i."""
        from appliance.serve import http

        answered: list[bool] = []
        original = http._FastRecommendations.__call__

        def counted(fast: Any, scope: dict[str, Any], body: bytes) -> Any:
            answer = original(fast, scope, body)
            answered.append(answer is not None)
            return answer

        self.monkeypatch.setattr(http._FastRecommendations, "__call__", counted)
        fast = self._post_all(make_app(), cases)
        self.monkeypatch.setattr(http._FastRecommendations, "__call__", lambda fast, scope, body: None)
        route = self._post_all(make_app(), cases)
        self.monkeypatch.setattr(http._FastRecommendations, "__call__", original)
        return fast, route, answered

    @staticmethod
    def _post_all(app: Any, cases: Sequence[Case]) -> tuple[list[tuple[int, bytes, list]], list[str], list[tuple]]:
        from fastapi.testclient import TestClient

        out = []
        access = logging.getLogger("tanaban.access")
        records: list[logging.LogRecord] = []
        handler = logging.Handler(logging.INFO)
        handler.emit = records.append  # type: ignore[method-assign]
        level, disabled = access.level, access.disabled
        access.setLevel(logging.INFO)  # setLevel, not the attribute: isEnabledFor's cache is cleared
        access.disabled = False
        access.addHandler(handler)
        try:
            with TestClient(app) as client:  # runs the lifespan: the A/B exposure writer and the batcher start, stop
                for body, headers in cases:
                    if isinstance(body, bytes):
                        response = client.post("/v1/recommendations", content=body,
                                               headers={**headers, "Content-Type": "application/json"})
                    else:
                        response = client.post("/v1/recommendations", json=body, headers=headers)
                    out.append((response.status_code, response.content, sorted(response.headers.items())))
                metrics = client.get("/metrics").text
        finally:
            access.removeHandler(handler)
            access.setLevel(level)
            access.disabled = disabled
        # every counter and gauge of the app; of the latency histogram only the counts (the rest is timing)
        series = [line for line in metrics.splitlines() if line.startswith("tanaban_")
                  and not line.startswith(("tanaban_request_duration_seconds_bucket",
                                           "tanaban_request_duration_seconds_sum"))]
        logged = [(r.method, r.route, r.status, r.key_id, r.request_id)  # type: ignore[attr-defined]
                  for r in records if r.method == "POST"]  # type: ignore[attr-defined]
        return out, series, logged


@pytest.fixture
def fast_path_parity(monkeypatch: pytest.MonkeyPatch) -> FastPathParity:
    return FastPathParity(monkeypatch)


@pytest.fixture(scope="session")
def self_signed() -> Callable[..., tuple[Path, Path]]:
    """`make(directory, name="server")`: a P-256 certificate for 127.0.0.1 (IP SAN, CA:TRUE so it can be its own
    trust anchor) signed by its own key, written as `<name>.crt` and `<name>.key` (mode 0600); returns the paths."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def make(directory: Path, name: str = "server") -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tanaban test")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
        return cert_path, key_path

    return make
