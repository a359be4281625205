"""The HTTP API contract a web team builds on (issue 16): auth in the OpenAPI document and on 401, offline /docs and
/redoc, unknown fields refused, one error body with a stable code and the request id, X-Request-ID, explain without
explanations, HEAD on the health routes, JSON access logs."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appliance.config import ServeConfig
from appliance.data.home import Home
from appliance.errors import UserError
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.http import ERROR_CODES, MAX_BODY_BYTES, ErrorResponse, create_app
from appliance.serve.metrics import configure_logging
from appliance.serve.node import build_service
from export.cf import export_cf


@pytest.fixture
def api(bundle_home: tuple[Home, Path], serve_sample) -> tuple[TestClient, str, str, str]:
    """(client, admin token, read-only token, a known customer id) over a CF bundle with intents."""
    home, sample = bundle_home
    export_cf(home, "lightgcn", version="v1")
    admin = create_key(home.config.data_dir / KEYS_FILE, "admin", ("read", "admin"))
    read = create_key(home.config.data_dir / KEYS_FILE, "web", ("read",))
    client = TestClient(create_app(*build_service(home.config)), raise_server_exceptions=False)
    return client, admin, read, serve_sample.customers(sample)[0]


def _error(response) -> dict:
    """The error body, checked against the documented schema and against the response's X-Request-ID."""
    body = ErrorResponse.model_validate(response.json()).error
    assert body.code in ERROR_CODES and ERROR_CODES[body.code][0] == response.status_code, (body, response.status_code)
    assert body.request_id and body.request_id == response.headers["x-request-id"]
    return response.json()["error"]


def test_openapi_documents_both_auth_schemes_and_the_error_codes(api) -> None:
    client, *_ = api
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                 "description": schemes["ApiKey"]["description"]}
    assert schemes["Bearer"]["type"] == "http" and schemes["Bearer"]["scheme"] == "bearer"
    for path, method in (("/v1/recommendations", "post"), ("/v1/search", "post"), ("/v1/admin/reload", "post"),
                         ("/v1/items/{sku}/similar", "get")):
        assert {name for entry in spec["paths"][path][method]["security"] for name in entry} == {"ApiKey", "Bearer"}
    for path in ("/healthz", "/readyz", "/metrics"):
        assert "security" not in spec["paths"][path]["get"]
    code = spec["components"]["schemas"]["ErrorBody"]["properties"]["code"]
    assert set(code["enum"]) == set(ERROR_CODES) and {"unknown_field", "unauthenticated", "internal_error"} <= \
        set(code["enum"])
    four01 = spec["paths"]["/v1/recommendations"]["post"]["responses"]["401"]
    assert four01["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert "`unauthenticated`" in four01["description"]


def test_401_carries_www_authenticate_and_bearer_works(api) -> None:
    client, admin, _, user = api
    missing = client.post("/v1/recommendations", json={"user_id": user})
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == 'Bearer realm="tanaban"'
    assert _error(missing)["code"] == "unauthenticated"
    wrong = client.post("/v1/recommendations", json={"user_id": user}, headers={"Authorization": "Bearer tnb_x_y"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == 'Bearer realm="tanaban", error="invalid_token"'
    ok = client.post("/v1/recommendations", json={"user_id": user}, headers={"Authorization": f"Bearer {admin}"})
    assert ok.status_code == 200 and ok.json()["items"]


def test_docs_and_redoc_are_served_with_nothing_off_host(api) -> None:
    client, *_ = api
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        html = response.text
        assert not re.search(r"https?://", html), f"{page} references an off-host URL"
        urls = re.findall(r'(?:src|href)="([^"]+)"', html)
        urls += re.findall(r"""(?:url|spec-url)["']?\s*[:=]\s*["']([^"']+)["']""", html)  # the OpenAPI document
        assert {"/openapi.json"} <= set(urls) and len(urls) >= 3, urls
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), (page, url)
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 1000, (url, asset)
            if url.endswith(".js") or url.endswith(".css"):  # what the page loads: the pinned package's files
                assert len(asset.content) > 100_000, url
    assert '"validatorUrl": null' in client.get("/docs").text  # Swagger UI would post the spec to validator.swagger.io


def test_unknown_fields_get_422_naming_the_field(api) -> None:
    client, admin, _, user = api
    response = client.post("/v1/recommendations", json={"user_id": user, "kk": 2}, headers={"X-API-Key": admin})
    error = _error(response)
    assert response.status_code == 422 and error["code"] == "unknown_field" and "body.kk" in error["message"]
    assert error["fields"] == [{"type": "extra_forbidden", "loc": ["body", "kk"], "msg": "Extra inputs are not "
                                                                                        "permitted"}]
    search = client.post("/v1/search", json={"query": "tea", "user_id": user}, headers={"X-API-Key": admin})
    assert search.status_code == 422 and _error(search)["code"] == "unknown_field" and user not in search.text
    bad = client.post("/v1/recommendations", json={"user_id": user, "k": 0}, headers={"X-API-Key": admin})
    assert _error(bad)["code"] == "invalid_field" and "body.k" in _error(bad)["message"]


def test_every_error_has_the_one_schema(api, monkeypatch) -> None:
    from appliance.serve.service import CFBundle

    client, admin, read, user = api
    key = {"X-API-Key": admin}
    cases = {
        "route_not_found": client.get("/v2/nothing"),
        "method_not_allowed": client.get("/v1/recommendations", headers=key),
        "not_found": client.post("/v1/recommendations", json={"user_id": "nobody-at-all"}, headers=key),
        "insufficient_scope": client.post("/v1/admin/reload", headers={"X-API-Key": read}),
        "body_too_large": client.post("/v1/recommendations", content=b" " * (MAX_BODY_BYTES + 1),
                                      headers={**key, "content-type": "application/json"}),
        "json_invalid": client.post("/v1/recommendations", content=b"{", headers={**key,
                                                                                 "content-type": "application/json"}),
        "bundle_unavailable": client.post("/v1/recommendations", json={"user_id": user, "model": "generative"},
                                          headers=key),
    }
    monkeypatch.setattr(CFBundle, "for_user", lambda *a, **k: 1 / 0)
    cases["internal_error"] = client.post("/v1/recommendations", json={"user_id": user}, headers=key)
    for code, response in cases.items():
        assert _error(response)["code"] == code, (code, response.status_code, response.text)
        assert "nobody-at-all" not in response.text


def test_request_id_is_kept_or_generated_and_logged(api, caplog) -> None:
    client, admin, _, user = api
    with caplog.at_level(logging.INFO, logger="tanaban.access"):
        given = client.post("/v1/recommendations", json={"user_id": user}, headers={"X-API-Key": admin,
                                                                                    "X-Request-ID": "web-42:abc"})
    assert given.status_code == 200 and given.headers["x-request-id"] == "web-42:abc"
    assert "rid=web-42:abc" in caplog.text and [r for r in caplog.records if getattr(r, "request_id", "")
                                                == "web-42:abc"]
    failed = client.post("/v1/recommendations", json={}, headers={"X-API-Key": admin, "X-Request-ID": "trace-7"})
    assert _error(failed)["request_id"] == "trace-7"
    generated = {client.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(generated) == 5 and all(re.fullmatch(r"[0-9a-f]{16}", rid) for rid in generated)
    for bad in ("x" * 129, "with space", "tab\there", ""):  # over 128 characters or not visible ASCII: replaced
        rid = client.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert rid != bad and re.fullmatch(r"[0-9a-f]{16}", rid)
    assert client.get("/healthz", headers={"X-Request-ID": "y" * 128}).headers["x-request-id"] == "y" * 128


def test_explain_without_explanations_says_why(bundle_home: tuple[Home, Path], serve_sample) -> None:
    home, sample = bundle_home
    user = serve_sample.customers(sample)[0]
    export_cf(home, "lightgcn", version="v1")  # with intents (the fixture's artifact has labels)
    token = create_key(home.config.data_dir / KEYS_FILE, "web")
    client = TestClient(create_app(*build_service(home.config)))
    explained = client.post("/v1/recommendations", json={"user_id": user, "k": 3, "explain": True},
                            headers={"X-API-Key": token}).json()
    assert "explain_unavailable" not in explained and all(item["because"] for item in explained["items"])
    serve_sample.fake_cf(home, labels=None)  # an artifact without intents, as before `tanaban intents build`
    export_cf(home, "lightgcn", version="v2")
    client = TestClient(create_app(*build_service(home.config)))
    for body in ({"user_id": user, "k": 3, "explain": True}, {"history": [explained["items"][0]["sku"]],
                                                               "explain": True}):
        answer = client.post("/v1/recommendations", json=body, headers={"X-API-Key": token}).json()
        assert answer["bundle"] == "v2" and answer["items"] and all(not i["because"] for i in answer["items"])
        assert "no intent explanations" in answer["explain_unavailable"] and "tanaban intents build" in \
            answer["explain_unavailable"] and "`tanaban export best`" in answer["explain_unavailable"]
    plain = client.post("/v1/recommendations", json={"user_id": user}, headers={"X-API-Key": token}).json()
    assert "explain_unavailable" not in plain


def test_head_on_health_routes(api) -> None:
    client, *_ = api
    for route in ("/healthz", "/readyz"):
        head = client.head(route)
        assert head.status_code == 200 and head.content == b"" and head.headers["x-request-id"]


def test_json_access_log_lines(api, bundle_home) -> None:
    home, _ = bundle_home
    _, admin, _, user = api
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level = logging.getLogger("tanaban.access").level
    logging.getLogger("tanaban.access").setLevel(logging.INFO)
    try:
        client = TestClient(create_app(*build_service(home.config), serve_cfg=ServeConfig(log_format="json")))
        client.post("/v1/recommendations", json={"user_id": user}, headers={"X-API-Key": admin, "X-Request-ID": "r1"})
    finally:
        root.removeHandler(handler)
        logging.getLogger("tanaban.access").setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "tanaban.access"]
    assert access and access[-1] | {"time": "-", "duration_ms": 0} == {
        "time": "-", "level": "info", "logger": "tanaban.access", "method": "POST", "route": "/v1/recommendations",
        "status": 200, "duration_ms": 0, "key_id": access[-1]["key_id"], "request_id": "r1",
        "message": access[-1]["message"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", access[-1]["time"]) and user not in stream.getvalue()
    with pytest.raises(UserError, match=r"serve\.log_format must be one of text, json"):
        configure_logging("yaml")


def test_serving_doc_lists_every_error_code() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "SERVING.md").read_text()
    table = doc[doc.index("### Errors (one body for every status)"):doc.index("**Request ids.**")]
    assert {code for code in ERROR_CODES if f"`{code}`" not in table} == set()
