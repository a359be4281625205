"""API key scopes and fail-closed authentication over HTTP, and the serving side's audit entries
(appliance.serve.events): apikey.create / apikey.revoke, service.start / service.stop (with the egress state),
bundle.reload (admin key, SIGHUP, bundle watcher) and bundle.publish (export/bundle.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appliance.data.home import Home
from appliance.privacy.audit.log import AuditEvent, AuditWriteError
from appliance.serve import server
from appliance.serve.apikeys import KEYS_FILE, ApiKeyError, create_key, list_keys
from appliance.serve.events import create_api_key, open_serve_audit, revoke_api_key
from appliance.serve.http import create_app
from appliance.serve.node import build_service
from appliance.serve.workers import AuditedMultiprocess, BundleWatcher, config_fingerprint
from export.cf import export_cf


def _entries(home: Home, action: str) -> list[dict]:
    with open_serve_audit(home.config) as log:
        return [e for e in log.entries() if e["action"] == action]


@pytest.fixture
def exported(bundle_home: tuple[Home, Path]) -> Home:
    home, _ = bundle_home
    export_cf(home, "lightgcn", version="v1", quantize=False)
    return home


def test_admin_routes_need_the_admin_scope_and_reload_is_audited(exported: Home) -> None:
    home = exported
    events: list[AuditEvent] = []
    client = TestClient(create_app(*build_service(home.config), audit=events.append))
    reader = create_key(home.config.data_dir / KEYS_FILE, "shop")
    admin = create_key(home.config.data_dir / KEYS_FILE, "ops", ("admin",))
    refused = client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403 and "--scope admin" in refused.json()["error"]["message"] and not events
    assert client.post("/v1/admin/reload").status_code == 401
    assert client.post("/v1/admin/reload", headers={"X-API-Key": admin}).json() == {"bundle": "v1"}
    assert client.get("/v1/items/nope/similar", headers={"X-API-Key": admin}).status_code == 404  # admin reads too
    (event,) = events
    assert (event.action, event.outcome, event.actor) == ("bundle.reload", "ok", f"apikey:{admin.split('_')[1]}")
    assert admin.split("_", 2)[2] not in repr(event)


def test_broken_key_file_is_503_and_not_ready_never_500(exported: Home) -> None:
    home = exported
    token = create_key(home.config.data_dir / KEYS_FILE, "shop")
    client = TestClient(create_app(*build_service(home.config)), raise_server_exceptions=False)
    assert client.get("/readyz").status_code == 200
    (home.config.data_dir / KEYS_FILE).write_text("{truncated", encoding="utf-8")
    for response in (client.post("/v1/recommendations", json={"history": []}, headers={"X-API-Key": token}),
                     client.post("/v1/admin/reload", headers={"X-API-Key": token}),
                     client.post("/v1/recommendations", json={"history": []})):
        assert response.status_code == 503 and "api_keys.json" in response.json()["error"]["message"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["ready"] is False and "restore" in ready.json()["reason"]
    assert client.get("/healthz").status_code == 200  # the process is alive; it is not ready


def test_cli_functions_audit_create_and_revoke_without_the_secret(home: Home) -> None:
    token = create_api_key(home.config, "ops", ("admin",))
    _, key_id, secret = token.split("_", 2)
    revoke_api_key(home.config, key_id)
    revoke_api_key(home.config, key_id)  # already revoked: no second entry
    created, revoked = _entries(home, "apikey.create"), _entries(home, "apikey.revoke")
    assert len(created) == 1 and len(revoked) == 1
    assert f"API key {key_id} (ops) scopes admin" == created[0]["reason"] == revoked[0]["reason"]
    assert created[0]["actor"] and not created[0]["actor"].startswith("apikey:")  # the OS user
    assert all(secret not in str(entry) for entry in created + revoked)


def _audit_log_unavailable(home: Home) -> Home:
    """`home` with an audit log that cannot be opened, on the backend the home's log is on: the SQLite file replaced
    by a directory, or (TANABAN_TEST_BACKEND=postgresql) the log's URL pointed at a loopback port nothing listens on."""
    if not home.config.audit.url:
        home.config.audit_path.unlink(missing_ok=True)
        home.config.audit_path.mkdir()  # a directory where the database should be: opening it fails
        return home
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    url = home.config.audit.url.rsplit("@", 1)[0] + f"@127.0.0.1:{port}/tanaban_audit_gone"
    audit = dataclasses.replace(home.config.audit, url=url)
    return Home(dataclasses.replace(home.config, audit=audit), home.engine)


def test_no_key_when_the_audit_log_cannot_be_written(home: Home) -> None:
    broken = _audit_log_unavailable(home)
    with pytest.raises(AuditWriteError, match="audit log"):
        create_api_key(broken.config, "ops", ("read",))
    assert list_keys(home.config.data_dir / KEYS_FILE) == []


def test_unknown_scope_is_refused_before_anything_is_written(home: Home) -> None:
    with pytest.raises(ApiKeyError, match="choose from"):
        create_api_key(home.config, "ops", ("superuser",))
    assert _entries(home, "apikey.create") == []


def test_serve_writes_start_and_stop_with_the_config_fingerprint(exported: Home,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    home = exported
    ran: list[object] = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kw: ran.append(kw))
    monkeypatch.setattr(server.signal, "signal", lambda *a: None)  # leave the test process's SIGHUP alone
    server.run_server(home.config, "127.0.0.1", 8089, workers=1)
    (start,), (stop,) = _entries(home, "service.start"), _entries(home, "service.stop")
    assert ran and start["seq"] < stop["seq"] and stop["outcome"] == "ok"
    fingerprint = config_fingerprint(home.config, redact=True)
    for entry in (start, stop):
        assert f"config sha256 {fingerprint}" in entry["reason"] and "bundle v1" in entry["reason"]
        assert "127.0.0.1:8089 with 1 worker(s)" in entry["reason"]
    assert start["reason"].endswith(f"; egress off, destination none; policy {start['policy_version']}")
    assert start["policy_version"].startswith("pol-") and start["destination"]["enabled"] is False


def test_service_start_records_egress_on_its_destination_and_policy(exported: Home,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    egress = dataclasses.replace(exported.config.egress, enabled=True, base_url="https://llm.example.org/v1",
                                 model="m", allowed_hosts=("llm.example.org",))
    cfg = dataclasses.replace(exported.config, egress=egress)
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kw: None)
    monkeypatch.setattr(server.signal, "signal", lambda *a: None)
    server.run_server(cfg, "127.0.0.1", 8089, workers=1)
    (start,) = _entries(exported, "service.start")
    assert "; egress on, destination llm.example.org; policy pol-" in start["reason"]
    assert start["destination"] == {"host": "llm.example.org", "port": 443, "model": "m", "enabled": True}
    assert not _entries(exported, "service.stop")[0]["policy_version"]  # the egress state is taken at start


def test_export_writes_bundle_publish_before_current_changes(exported: Home) -> None:
    (entry,) = _entries(exported, "bundle.publish")
    assert entry["reason"] == f"bundle v1 kind cf; int8 no (scorer fp32); signed by key {exported.signing_key.key_id}"
    assert entry["outcome"] == "ok" and entry["destination"]["file"].endswith("bundles/v1")
    with pytest.raises(AuditWriteError):  # the audit log cannot be opened: nothing may be published
        export_cf(_audit_log_unavailable(exported), "lightgcn", version="v2", quantize=False)
    bundles = exported.config.artifacts_dir / "bundles"
    assert (bundles / "CURRENT").read_text().strip() == "v1" and not (bundles / "v2").exists()


def test_sighup_reload_is_audited_with_actor_signal(exported: Home) -> None:
    service, _, _, gen_service = build_service(exported.config)
    events: list[AuditEvent] = []
    export_cf(exported, "lightgcn", version="v2", quantize=False)
    server.reload_on_signal(service, gen_service, events.append)
    (exported.config.artifacts_dir / "bundles" / "v2" / "items.json").write_text("[]")
    server.reload_on_signal(service, gen_service, events.append)  # refused: still serving v2, no exception
    assert [(e.action, e.actor, e.outcome) for e in events] == [("bundle.reload", "signal", "ok"),
                                                                ("bundle.reload", "signal", "failed")]
    assert events[0].reason == "bundle v2" and events[1].reason.startswith("still serving the previous bundle")

    def broken(event: AuditEvent) -> None:
        raise AuditWriteError("disk full")

    server.reload_on_signal(service, gen_service, broken)  # a signal handler never raises


def test_watcher_audits_each_load_and_refusal_once_not_each_poll(exported: Home) -> None:
    service, *_ = build_service(exported.config)
    events: list[AuditEvent] = []
    watcher = BundleWatcher([service], audit=events.append)
    assert watcher.check() == [] and watcher.check() == [] and not events  # nothing changed: nothing written
    export_cf(exported, "lightgcn", version="v2", quantize=False)
    assert watcher.check() == ["v2"] and watcher.check() == []
    export_cf(exported, "lightgcn", version="v3", quantize=False)
    (exported.config.artifacts_dir / "bundles" / "v3" / "items.json").write_text("[]")
    assert watcher.check() == [] and watcher.check() == []
    assert [(e.actor, e.outcome) for e in events] == [("watcher", "ok"), ("watcher", "failed")]
    assert events[0].reason == "bundles v2" and events[1].reason.startswith("bundles v3 refused, still serving v2")


def test_a_crashed_serve_is_recorded_as_an_error_stop(exported: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    home = exported

    def crash(app: object, **kw: object) -> None:
        raise OSError("address already in use")

    monkeypatch.setattr(server.uvicorn, "run", crash)
    monkeypatch.setattr(server.signal, "signal", lambda *a: None)
    with pytest.raises(OSError):
        server.run_server(home.config, "127.0.0.1", 8089, workers=1)
    (stop,) = _entries(home, "service.stop")
    assert stop["outcome"] == "error" and stop["reason"].endswith("stopped by OSError")


def test_sighup_to_the_worker_supervisor_is_audited_once(exported: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    monkeypatch.setattr(signal, "signal", lambda *a: None)  # leave the test process's handlers alone
    events: list[AuditEvent] = []
    roots = (exported.config.artifacts_dir / "bundles", exported.config.artifacts_dir / "bundles-gen")
    supervisor = AuditedMultiprocess(uvicorn.Config("x:y", workers=2), [], roots=roots, audit=events.append)
    supervisor.processes = [object(), object()]  # type: ignore[list-item]
    monkeypatch.setattr(Multiprocess, "restart_all", lambda self: setattr(self, "processes", [object(), object()]))
    supervisor.handle_hup()
    monkeypatch.setattr(Multiprocess, "restart_all", lambda self: None)  # uvicorn aborted: the old workers stay
    supervisor.handle_hup()
    assert [(e.actor, e.outcome) for e in events] == [("signal", "ok"), ("signal", "failed")]
    assert events[0].reason == "2 workers restarted, serving bundles v1, bundles-gen none"
