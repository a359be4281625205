"""The HTTP API over `appliance.serve.service.Service` (FastAPI): the contract a web team builds on.

The OpenAPI 3.1 document is at /openapi.json; Swagger UI (/docs) and ReDoc (/redoc) are served from the static files
of the pinned `fastapi-offline` package, so they work air-gapped (no CDN, no Swagger validator, no web fonts).

- Auth (OpenAPI `securitySchemes` from FastAPI's APIKeyHeader and HTTPBearer): every /v1 route needs an API key, as
  `X-API-Key: tnb_...` or `Authorization: Bearer tnb_...` (appliance.serve.apikeys), checked against the hashed key
  file; a 401 carries `WWW-Authenticate: Bearer realm="tanaban"` (RFC 6750 §3, `error="invalid_token"` when a key
  was presented). /v1/admin/* needs the `admin` scope (403). An unusable key file fails closed (503, /readyz says
  why). /healthz, /readyz, /metrics and the docs need no key (bind to a trusted interface; docs/SERVING.md).
- Errors: one body for every status, `{"error": {"code", "message", "request_id"}}` (422 adds `fields`), `code` one
  of ERROR_CODES (stable snake_case, listed in the OpenAPI components and docs/SERVING.md); messages never echo a
  request value.
- Request ids: `X-Request-ID` (1-128 visible ASCII characters) is kept, anything else replaced by a generated one;
  echoed on every response, in error bodies and in the access log.
- Request bodies are strict: I-JSON (appliance.serve.bodies), unknown fields refused (422 `unknown_field`, naming
  the field), bodies over MAX_BODY_BYTES 413, a body not read in time 408.
- A raw customer id is pseudonymized on arrival with the appliance's store key and never logged: the access log
  records method, route template, status, latency, API key id and request id only (text, or JSON lines with
  serve.log_format = "json": appliance.serve.metrics).
- `explain: true` on a bundle without intent explanations answers with empty reasons and a top-level
  `explain_unavailable` saying why.
- `POST /v1/admin/reload` verifies and swaps in the newest bundle without dropping requests; audited (bundle.reload,
  appliance.serve.events) when the app is given an audit sink. `POST /v1/search` ranks the catalog by text
  similarity (appliance.serve.search); the query is never logged.
- /metrics: Prometheus text exposition through prometheus_client (appliance.serve.metrics), summed across workers.
"""


import asyncio
import copy
import functools
import logging
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import fastapi_offline
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.security import APIKeyHeader, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from starlette.exceptions import HTTPException as StarletteHTTPException

from appliance.config import ServeConfig
from appliance.errors import UserError
from appliance.privacy.audit.log import AuditEvent
from appliance.serve.answers import GENERATIVE, models_of, select_model, served_models, unknown_model
from appliance.serve.apikeys import ApiKey, ApiKeyError, KeyVerifier
from appliance.serve.batching import GenBatcher, batcher_lifespan
from appliance.serve.bodies import (
    REASONS,
    StrictJSONRoute,
    invalid_body,
    json_integer,
    loads_strict,
    unexpected_error_line,
)
from appliance.serve.errors import RequestError, ServeError
from appliance.serve.events import AuditSink, reload_event
from appliance.serve.metrics import CONTENT_TYPE, ServeMetrics, configure_logging
from appliance.serve.search import MAX_QUERY_CHARS
from appliance.serve.service import MAX_K, Answer, Bundle, GenBundle, Service
from export.bundle import BundleError

MAX_BODY_BYTES = 64 * 1024  # a request holds at most a few hundred skus; anything larger is a mistake or abuse
MAX_LIST = 500  # skus per history or exclusion list
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(rb"[\x21-\x7e]{1,128}")  # visible ASCII: safe to echo in a header, a body and a log line
_DOCS_STATIC = Path(fastapi_offline.__file__).parent / "static"  # swagger-ui-bundle.js, swagger-ui.css, redoc, icon
REALM = 'Bearer realm="tanaban"'
access_log = logging.getLogger("tanaban.access")
JSONInteger = Annotated[int, BeforeValidator(json_integer)]
error_log = logging.getLogger("tanaban.serve")

# Every `error.code` the API answers with: stable snake_case names a client can branch on (docs/SERVING.md).
ERROR_CODES: dict[str, tuple[int, str]] = {
    "bad_request": (400, "the body is not decodable text"),
    "unauthenticated": (401, "missing, invalid or revoked API key (see WWW-Authenticate)"),
    "insufficient_scope": (403, "the API key lacks the scope the route needs (admin for /v1/admin/*)"),
    "not_found": (404, "unknown customer or sku, an empty history, or a bundle that cannot answer this request"),
    "route_not_found": (404, "no such route (the routes are in /openapi.json)"),
    "method_not_allowed": (405, "the route exists but not with this method"),
    "body_timeout": (408, "request body not received in time (serve.body_timeout_seconds)"),
    "reload_refused": (409, "the new bundle, or the served one re-checked, failed verification"),
    "body_too_large": (413, f"body over {MAX_BODY_BYTES} bytes"),
    "invalid_field": (422, "a field has the wrong type or value (error.fields says which)"),
    "unknown_field": (422, "a field the request schema does not have (error.fields says which)"),
    "json_invalid": (422, "the body is not JSON"),
    **{reason: (422, f"strict JSON: {reason.replace('_', ' ')} (RFC 8259, I-JSON)") for reason in REASONS},
    "internal_error": (500, "a bug, logged without request data"),
    "bundle_unavailable": (503, "no bundle loaded yet (or no generative bundle for model generative)"),
    "api_keys_unavailable": (503, "the API key file is unusable: every call fails closed (/readyz says why)"),
    "audit_unavailable": (503, "the action is done but its audit entry could not be written"),
}
_STATUS_CODE = {400: "bad_request", 401: "unauthenticated", 403: "insufficient_scope", 404: "route_not_found",
                405: "method_not_allowed", 408: "body_timeout", 409: "reload_refused", 413: "body_too_large",
                422: "invalid_field", 500: "internal_error", 503: "bundle_unavailable"}
ErrorCode = Literal[tuple(ERROR_CODES)]  # type: ignore[valid-type]  # the enum in the OpenAPI document


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [  # "give user_id or history" (else 422)
        {"required": ["user_id"], "properties": {"user_id": {"type": "string"}}},
        {"required": ["history"], "properties": {"history": {"type": "array"}}}]})
    user_id: str | None = Field(None, min_length=1, max_length=256,
                                description="the shop's customer id (pseudonymized on arrival)")
    history: list[Annotated[str, Field(max_length=1000)]] | None = Field(
        None, max_length=MAX_LIST, description="skus bought, oldest first; scored live (overrides user_id)")
    k: JSONInteger = Field(10, ge=1, le=MAX_K)  # `"k": true` is not k=1, "5" is not 5; 5.0 is (JSON Schema)
    exclude: list[Annotated[str, Field(max_length=1000)]] = Field(default_factory=list, max_length=MAX_LIST)
    explain: StrictBool = Field(False, description="add the intents linking the customer to each item (every "
                                                   "model); see explain_unavailable in the answer")
    model: str | None = Field(
        None, min_length=1, max_length=64,
        description="which model answers: one of those the served bundles hold (GET /v1/models; the enum here lists "
                    "the loaded ones), e.g. hybrid, sasrec, item-knn, lightgcn, irllrec, generative. Omitted: the "
                    "bundle's default, the export's winner on validation. Another name is a 422 listing them")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, pattern=r"\S",  # blank queries get 422
                       description="free text; never logged or stored")
    k: JSONInteger = Field(10, ge=1, le=MAX_K)  # `"k": true` is not k=1, "5" is not 5; 5.0 is (JSON Schema)
    exclude: list[Annotated[str, Field(max_length=1000)]] = Field(default_factory=list, max_length=MAX_LIST)


class Item(BaseModel):
    sku: str
    title: str
    score: float
    because: list[tuple[str, float]] = []


class RecommendResponse(BaseModel):
    items: list[Item]
    source: str
    bundle: str
    explain_unavailable: str | None = Field(None, description="set when explain was asked but this answer carries "
                                                              "no reasons: why")
    arm: str | None = Field(None, description="A/B experiment ([abtest]): the arm whose list this is (also the "
                                              "X-Tanaban-Arm header); `unassigned` without a user_id")
    fallback: str | None = Field(None, description="set when the fallback arm answered instead of the assigned one: "
                                                   "outside_pilot, arm_stopped or arm_error (also X-Tanaban-Fallback)")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where: body or query, then the field path")
    type: str = Field(description="pydantic's error type, or a strict-JSON reason")
    msg: str


class ErrorBody(BaseModel):
    code: ErrorCode = Field(description="stable machine-readable cause (docs/SERVING.md, Errors)")
    message: str = Field(description="what was wrong and how to fix it; never a request value")
    request_id: str = Field(description="the X-Request-ID of this request (also in the access log)")
    fields: list[FieldError] | None = Field(None, description="422: every invalid or unknown field")


class ErrorResponse(BaseModel):
    error: ErrorBody


class Readiness(BaseModel):
    ready: bool
    bundle: str | None
    reason: str | None = Field(None, description="why not ready")


class ApiError(HTTPException):
    """An HTTP error with its `error.code`."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, message, headers)
        self.code = code


def _request_id(scope: dict[str, Any]) -> str:
    return scope.get("state", {}).get("request_id", "")


def error_response(scope: dict[str, Any], status: int, code: str, message: str,
                   headers: dict[str, str] | None = None, fields: list[dict[str, Any]] | None = None) -> JSONResponse:
    """The one error body (ErrorResponse) with this request's id."""
    error = {"code": code, "message": message, "request_id": _request_id(scope), **({"fields": fields} if fields
                                                                                   else {})}
    return JSONResponse({"error": error}, status, headers)


def error_for(scope: dict[str, Any], exc: Exception) -> JSONResponse | None:
    """The error answer to `exc` (the app's exception handlers and the fast path both answer with it): 422 for a
    validation error (never echoing the input), an HTTP error's own status and code, 404 for a RequestError, 503 for
    a ServeError; None for anything else (a bug: the middleware answers 500)."""
    if isinstance(exc, RequestValidationError):
        code, message, fields = invalid_body(exc.errors())  # FastAPI's default echoes the input
        return error_response(scope, 422, code, message, fields=fields)
    if isinstance(exc, StarletteHTTPException):
        code = getattr(exc, "code", None) or _STATUS_CODE.get(exc.status_code, "bad_request")
        message = exc.detail if code != "route_not_found" else "no such route: the routes are in /openapi.json"
        return error_response(scope, exc.status_code, code, str(message), exc.headers)
    if isinstance(exc, RequestError):
        return error_response(scope, 404, "not_found", str(exc))
    if isinstance(exc, ServeError):
        return error_response(scope, 503, "bundle_unavailable", str(exc))
    return None


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can answer (docs/SERVING.md); 408 and 413 on every
    route, each description listing its codes."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 408, 413}):
        codes = [f"`{code}`: {text}" for code, (s, text) in ERROR_CODES.items() if s == status]
        out[status] = {"model": ErrorResponse, "description": "; ".join(codes)}
    return out


class ModelsResponse(BaseModel):
    models: list[str] = Field(description="the names `model` accepts, the default first")
    default: str = Field(description="the model answering when `model` is omitted (the export's winner)")
    bundle: str


def _model_choice(model: str | None, service: Service, gen_service: Service | None) -> str:
    """The model to answer with (appliance.serve.answers.served_models); a 422 on `model` listing them otherwise.
    Generative with no generative bundle loaded stays a 503 (the route checks), as before models were listed."""
    models, default = served_models(service.current(), gen_service and gen_service.bundle)
    if model is None or model in models or (model == GENERATIVE and gen_service is not None):
        return model or default
    raise RequestValidationError([{"type": "unknown_model", "loc": ("body", "model"),
                                   "msg": unknown_model(model, models)}])


def _neither() -> RequestValidationError:
    """The 422 of a recommendation request with neither `user_id` nor `history` (the schema's anyOf)."""
    return RequestValidationError([{"type": "missing", "loc": ("body", "user_id"), "msg": "give user_id or history"}])


def _response(answer: Answer, explain_unavailable: str | None = None, served: Any = None) -> JSONResponse:
    """The answer as JSON; built directly (the schema stays documented by `response_model`), which is much faster
    than re-validating our own output with pydantic on every request. `served`: an A/B answer
    (appliance.abtest.serving.Served), whose arm goes in the body and the headers."""
    out = {"items": [{"sku": r.sku, "title": r.title, "score": r.score, "because": r.because} for r in answer.items],
           "source": answer.source, "bundle": answer.bundle}
    if explain_unavailable:
        out["explain_unavailable"] = explain_unavailable
    if served is None:
        return JSONResponse(out)
    out["arm"] = served.arm
    if served.fallback:
        out["fallback"] = served.fallback
    response = JSONResponse(out)
    response.raw_headers += [(b"x-tanaban-arm", served.arm.encode("ascii", "replace"))] + (  # raw: 8x cheaper
        [(b"x-tanaban-experiment", served.experiment.encode("ascii", "replace"))] if served.experiment else []) + (
        [(b"x-tanaban-fallback", served.fallback.encode())] if served.fallback else [])
    return response


def explain_gap(bundle: Any) -> str | None:
    """Why answers of `bundle` carry no reasons (None: they do): every bundle kind explains from its intent tables
    (export.intent_tables), written when `tanaban intents build` ran before the export (`export gen` for a
    generative bundle, also when it serves an A/B arm; `export best` for the others)."""
    if not hasattr(bundle, "item_intents"):  # a bundle kind without intent tables at all
        return f"bundle {getattr(bundle, 'version', '?')} is of a model that gives no reasons"
    if getattr(bundle, "user_intents", None) is None or bundle.item_intents is None or \
            not getattr(bundle, "labels", None):
        export = "gen" if isinstance(bundle, GenBundle) else "best"
        return (f"bundle {getattr(bundle, 'version', '?')} has no intent explanations: run `tanaban intents build` "
                f"before `tanaban export {export}`, then reload")
    return None


async def _read_body(receive: Callable[..., Any]) -> bytes | None:
    """The whole request body, or None once it exceeds MAX_BODY_BYTES."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_BODY_BYTES:
            return None
        more = message.get("more_body", False)
    return b"".join(chunks)


class _GuardAndLog:
    """Pure ASGI middleware (no per-request task like BaseHTTPMiddleware): request id, body size and read-time
    limits, metrics, access log, and a JSON 500 for a bug, logged without its message."""

    def __init__(self, app: Any, metrics: ServeMetrics, body_seconds: float,
                 fast: Callable[[dict[str, Any], bytes], Callable[..., Any] | None] | None = None) -> None:
        self.app, self.metrics, self.body_seconds, self.fast = app, metrics, body_seconds, fast

    async def _body(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any],
                    length: bytes) -> bytes | None:
        """The whole request body, or None after answering 413 (too large) or 408 (not received in time)."""
        def too_large() -> JSONResponse:  # built only when needed: a response costs as much as a small request
            return error_response(scope, 413, "body_too_large", f"request body over {MAX_BODY_BYTES} bytes: send "
                                  "fewer skus")

        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            await too_large()(scope, receive, send)
            return None
        try:  # a client that trickles its body holds a connection and a task: bounded (docs/SERVING.md, Limits)
            async with asyncio.timeout(self.body_seconds):
                body = await _read_body(receive)  # also bounds chunked bodies, which carry no content-length
        except TimeoutError:
            late = error_response(scope, 408, "body_timeout", f"request body not received within "
                                  f"{self.body_seconds:g} s: send the whole body at once", {"connection": "close"})
            await late(scope, receive, send)
            return None
        if body is None:
            await too_large()(scope, receive, send)
        return body

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status, started = time.perf_counter(), 500, False
        length, rid = b"0", b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"x-request-id":
                rid = value
        if not _REQUEST_ID.fullmatch(rid):  # absent, too long or unprintable: ours instead
            rid = secrets.token_hex(8).encode()
        request_id = rid.decode()
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid)]
            await send(message)

        try:
            body = await self._body(scope, receive, send_status, length)
            if body is None:
                return
            replayed = False

            async def replay() -> dict[str, Any]:
                nonlocal replayed
                if replayed:
                    return await receive()  # http.disconnect when the client goes away
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            fast = self.fast(scope, body) if self.fast is not None and scope["path"] == FAST_PATH else None
            if fast is not None:  # a well-formed recommendation answered without FastAPI's routing and solving
                await fast(scope, replay, send_status)
                return
            await self.app(scope, replay, send_status)
        except Exception as exc:  # a bug: one log line without the exception's text, which may hold request data
            error_log.error("%s rid=%s", unexpected_error_line(scope["method"], getattr(scope.get("route"), "path",
                                                                                          "?"), exc), request_id)
            if not started:
                await error_response(scope, 500, "internal_error", "internal error (logged without request data); "
                                     f"quote request id {request_id} when reporting it")(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - start
            self.metrics.observe(route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                key_id = scope["state"].get("key_id", "-")
                access_log.info("%s %s %d %.1fms key=%s rid=%s", scope["method"], route, status, elapsed * 1e3,
                                key_id, request_id, extra={"method": scope["method"], "route": route, "status": status,
                                                           "duration_ms": round(elapsed * 1e3, 3), "key_id": key_id,
                                                           "request_id": request_id})


FAST_PATH = "/v1/recommendations"


class _Recommender:
    """`POST /v1/recommendations` from a parsed request onwards: the one implementation of the route's steps (the
    bundle, the model choice, the generative bundle and its micro-batcher, the customer's A/B arm, pseudonymisation,
    `for_user` / `for_history`, the explain gap and the response shape). The FastAPI route and the middleware's fast
    path (_FastRecommendations) both call it and differ only in how they parse the request and send the answer.
    Errors are raised (ServeError 503, RequestError 404, ApiError, RequestValidationError 422) and answered by
    `error_for`, the app's exception handlers and the fast path alike."""

    def __init__(self, service: Service, gen_service: Service | None, pseudonymize: Callable[[str, str | None], str],
                 experiment: Any, batcher: GenBatcher) -> None:
        self.service, self.gen_service, self.pseudonymize = service, gen_service, pseudonymize
        self.experiment, self.batcher = experiment, batcher

    async def __call__(self, body: RecommendRequest) -> JSONResponse:
        b: Bundle = self.service.current()  # no bundle: ServeError, a 503 bundle_unavailable
        model = _model_choice(body.model, self.service, self.gen_service)
        if model == GENERATIVE and GENERATIVE not in models_of(b)[0]:
            return await self._generative(body)
        if self.experiment is not None and "model" not in body.model_fields_set:  # A/B: the customer's arm answers
            if body.history is None and body.user_id is None:
                raise _neither()
            served = self.experiment.answer(body.user_id, body.history, body.k, body.exclude, body.explain)
            gap = None if not body.explain else explain_gap(served.bundle) if served.bundle is not None else \
                f"arm {served.arm} serves {served.answer.source} lists, which carry no reasons"
            return _response(served.answer, gap, served)
        b = select_model(b, model)
        gap = explain_gap(b) if body.explain else None
        if body.history is not None:
            return _response(b.for_history(body.history, body.k, body.exclude, body.explain), gap)
        if body.user_id is None:
            raise _neither()
        return _response(b.for_user(self.pseudonymize(body.user_id, b.pseudonym_key_id), body.k, body.exclude,
                                    body.explain), gap)

    async def _generative(self, body: RecommendRequest) -> JSONResponse:
        """model generative from the generative bundle (`tanaban export gen`): its cached list, else a live decode
        batched with other requests' (appliance.serve.batching)."""
        if self.gen_service is None or self.gen_service.bundle is None:
            raise ApiError(503, "bundle_unavailable", "no generative bundle loaded: run `tanaban export gen`, then "
                                                      "reload")
        gen = self.gen_service.bundle
        if body.history is None and body.user_id is None:
            raise _neither()
        plan = (gen.plan_history(body.history, body.k, body.exclude, body.explain) if body.history is not None
                else gen.plan_user(self.pseudonymize(body.user_id, gen.pseudonym_key_id), body.k, body.exclude,
                                   body.explain))
        answer = plan if isinstance(plan, Answer) else await self.batcher.answer(gen, plan)
        return _response(answer, explain_gap(gen) if body.explain else None)


class _FastRecommendations:
    """`POST /v1/recommendations` answered straight from the middleware when its body parses: a JSON body that
    `loads_strict` and RecommendRequest accept. What differs from the route is only the parsing (raw ASGI headers
    and body instead of FastAPI's request objects and dependency solving, which cost about as much as a live SASRec
    score: bench/serve_asgi.py); the key check (`_authenticated`), the answer (`_Recommender`) and the error bodies
    (`error_for`) are the route's own functions, and it sets what the router would (`route` in the scope for the
    metrics and access log, the key id), so status, body, headers and metrics are the route's. A body that does not
    parse (or any surprise while parsing it) returns None and goes through FastAPI unchanged, which answers its
    422 with FastAPI's field locations."""

    def __init__(self, app: FastAPI, keys: KeyVerifier, recommend: _Recommender) -> None:
        self.app, self.keys, self.recommend = app, keys, recommend
        self._route: Any = None

    def route(self) -> Any:
        """The APIRoute of POST /v1/recommendations (what the router puts in the scope: the metrics' label)."""
        if self._route is None:
            self._route = next(r for r in self.app.router.routes
                               if getattr(r, "path", None) == FAST_PATH and "POST" in getattr(r, "methods", ()))
        return self._route

    def __call__(self, scope: dict[str, Any], body: bytes) -> Callable[..., Any] | None:
        """An ASGI app answering this request, or None: the route answers it."""
        if scope["method"] != "POST" or scope.get("root_path"):
            return None
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in (b"content-type", b"x-api-key", b"authorization"):
                headers.setdefault(name, value)  # the first one, as request.headers.get gives
        content_type = headers.get(b"content-type")
        if content_type is None or content_type.split(b";", 1)[0].strip().lower() != b"application/json":
            return None
        try:
            data = loads_strict(body)
            request = RecommendRequest.model_validate(data) if isinstance(data, dict) else None
        except Exception:  # whatever it is, the route meets it again and answers as it always did
            return None
        if request is None:
            return None
        key, authorization = headers.get(b"x-api-key"), headers.get(b"authorization")
        token = _token(key.decode("latin-1") if key else None,
                       authorization.decode("latin-1") if authorization else None)  # as Starlette decodes headers
        return functools.partial(self._answer, request, token)

    async def _answer(self, request: RecommendRequest, token: str | None, scope: dict[str, Any],
                      receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        scope["route"] = self.route()
        try:
            scope["state"]["key_id"] = _authenticated(self.keys, token).key_id  # the route's api_key dependency
            response = await self.recommend(request)
        except Exception as exc:
            response = error_for(scope, exc)
            if response is None:  # a bug: _GuardAndLog logs it and answers 500, as for the route
                raise
        await response(scope, receive, send)


def _token(x_api_key: str | None, authorization: str | None) -> str | None:
    """The API key a request presents: X-API-Key, else an `Authorization: Bearer` token (None: neither)."""
    if x_api_key:
        return x_api_key
    scheme, _, credentials = (authorization or "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _authenticated(keys: KeyVerifier, token: str | None) -> ApiKey:
    """The key a request presents: 401 (with WWW-Authenticate) if none is valid, 503 if the key file cannot be read
    (fail closed: a revocation may be in the part that cannot be read)."""
    try:
        key = keys.verify(token)
    except ApiKeyError as exc:
        access_log.error("API key check failed closed: %s", exc)
        raise ApiError(503, "api_keys_unavailable", f"API keys cannot be checked: {exc}") from None
    if key is None:
        challenge = REALM if token is None else f'{REALM}, error="invalid_token"'
        raise ApiError(401, "unauthenticated", "missing, invalid or revoked API key: send X-API-Key or Authorization: "
                       "Bearer (create one with `tanaban apikey create`)", {"WWW-Authenticate": challenge})
    return key


def _audited(audit: AuditSink | None, event: AuditEvent) -> None:
    """Append `event` to the audit log; an entry that cannot be written is a 503 (the action itself is done)."""
    if audit is None:
        return
    try:
        audit(event)
    except UserError as exc:
        access_log.error("audit entry %s not written: %s", event.action, exc)
        raise ApiError(503, "audit_unavailable", f"done, but its audit entry could not be written: {exc}") from None


_api_key_header = APIKeyHeader(name="X-API-Key", scheme_name="ApiKey", auto_error=False,
                               description="An API key from `tanaban apikey create` (tnb_<id>_<secret>)")
_bearer = HTTPBearer(scheme_name="Bearer", bearerFormat="tnb_<id>_<secret>", auto_error=False,
                     description="The same API key as a bearer token: `Authorization: Bearer tnb_...`")


def _add_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc from the pinned fastapi-offline package's static files: nothing off-host."""
    app.mount("/docs/static", StaticFiles(directory=_DOCS_STATIC), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - Swagger UI",
                                   swagger_js_url=f"{root}/docs/static/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}/docs/static/swagger-ui.css",
                                   swagger_favicon_url=f"{root}/docs/static/favicon.png",
                                   swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False})

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}/docs/static/redoc.standalone.js",
                              redoc_favicon_url=f"{root}/docs/static/favicon.png", with_google_fonts=False)


def create_app(service: Service, keys: KeyVerifier, pseudonymize: Callable[[str, str | None], str],
               gen_service: Service | None = None, lifespan: Any = None,
               serve_cfg: ServeConfig | None = None, audit: AuditSink | None = None,
               experiment: Any = None) -> FastAPI:
    """`experiment`: the A/B arms of [abtest] (appliance.abtest.serving.build_experiment; None: no A/B)."""
    serve_cfg = serve_cfg or ServeConfig()
    configure_logging(serve_cfg.log_format)
    batcher = GenBatcher(serve_cfg.gen_batch_max, serve_cfg.gen_batch_wait_ms)  # live generative requests
    if experiment is not None:  # its exposure writer is flushed on shutdown
        lifespan = experiment.lifespan(lifespan)
    app = FastAPI(title="Tanaban recommendations", version="1", docs_url=None, redoc_url=None,
                  lifespan=batcher_lifespan(batcher, lifespan))
    metrics = ServeMetrics(service, gen_service, batcher)
    if experiment is not None:
        experiment.bind_metrics(metrics.registry if metrics.directory is None else None)

    app.router.route_class = StrictJSONRoute  # NaN, Infinity, lone surrogates, duplicate keys: 422 (bodies.py)
    recommend = _Recommender(service, gen_service, pseudonymize, experiment, batcher)
    fast = _FastRecommendations(app, keys, recommend)
    app.add_middleware(_GuardAndLog, metrics=metrics, body_seconds=serve_cfg.body_timeout_seconds, fast=fast)
    _add_docs(app)

    async def _error(request: Request, exc: Exception) -> JSONResponse:
        response = error_for(request.scope, exc)
        if response is None:  # not registered for anything else
            raise exc
        return response

    for handled in (RequestValidationError, StarletteHTTPException, RequestError, ServeError):
        app.add_exception_handler(handled, _error)

    async def api_key(request: Request) -> ApiKey:
        """X-API-Key, else `Authorization: Bearer` (read here: as FastAPI sub-dependencies the two schemes cost
        more per request than the rest of the auth; the OpenAPI document declares them, see _document_security)."""
        key = _authenticated(keys, _token(request.headers.get("x-api-key"), request.headers.get("authorization")))
        request.state.key_id = key.key_id
        return key

    async def admin_key(key: Annotated[ApiKey, Depends(api_key)]) -> ApiKey:
        if "admin" not in key.scopes:
            raise ApiError(403, "insufficient_scope", "this API key lacks the admin scope: create one with "
                                                      "`tanaban apikey create --name NAME --scope admin`")
        return key

    @app.post("/v1/recommendations", response_model=RecommendResponse, dependencies=[Depends(api_key)],
              responses=_errors(400, 401, 404, 422, 503))
    async def recommendations(body: RecommendRequest) -> JSONResponse:
        return await recommend(body)  # well-formed requests mostly arrive by the fast path: the same function

    @app.get("/v1/models", response_model=ModelsResponse, dependencies=[Depends(api_key)],
             responses=_errors(401, 503))
    def models() -> dict[str, Any]:
        """The models the `model` field of /v1/recommendations accepts now (they change with the bundle)."""
        names, default = served_models(service.current(), gen_service and gen_service.bundle)
        return {"models": names, "default": default, "bundle": service.current().version}

    @app.get("/v1/items/{sku:path}/similar", response_model=RecommendResponse, dependencies=[Depends(api_key)],
             responses=_errors(401, 404, 422, 503))
    async def similar(sku: str, k: Annotated[int, Query(ge=1, le=MAX_K)] = 10) -> JSONResponse:
        return _response(service.current().similar(sku, k))  # {sku:path}: a sku may hold "/"

    @app.post("/v1/search", response_model=RecommendResponse, dependencies=[Depends(api_key)],
              responses=_errors(400, 401, 404, 422, 503))
    def search(body: SearchRequest) -> JSONResponse:  # def: runs in the pool
        """Catalog items ranked by the cosine of their text embedding with the query's (source "live")."""
        b: Any = service.current()
        if not hasattr(b, "search"):
            raise RequestError("the current bundle cannot search: serve a CF bundle exported with its encoder")
        return _response(b.search(body.query, body.k, body.exclude))

    @app.post("/v1/admin/reload", responses=_errors(401, 403, 409, 422, 503))
    def reload(key: Annotated[ApiKey, Depends(admin_key)]) -> dict[str, str]:
        actor = f"apikey:{key.key_id}"
        try:
            out = {"bundle": service.reload()}
            if gen_service is not None and (gen_service.root / "CURRENT").exists():
                out["generative"] = gen_service.reload()
        except (BundleError, ServeError) as exc:
            _audited(audit, reload_event(actor, "failed", f"still serving the previous bundle: {exc}"))
            raise ApiError(409, "reload_refused", f"reload refused, still serving the previous bundle: {exc}") \
                from None
        _audited(audit, reload_event(actor, "ok", ", ".join(f"{name} {version}" for name, version in out.items())))
        return out

    @app.get("/healthz", responses=_errors())
    @app.head("/healthz", operation_id="healthz_head", responses=_errors())  # HEAD: the status, no body
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    not_ready = {**_errors(), 503: {"model": Readiness, "description": "not ready: no bundle loaded yet, a served "
                                    "bundle no longer verifies on disk (after a reload), or the API key file is "
                                    "unusable (reason says)"}}

    @app.get("/readyz", response_model=Readiness, responses=not_ready)
    @app.head("/readyz", operation_id="readyz_head", response_model=Readiness, responses=not_ready)  # HEAD: no body
    def readyz() -> JSONResponse:
        keys_problem = keys.problem()  # an unusable key file fails every /v1 call closed: not ready
        reasons = [f"API keys: {keys_problem}"] if keys_problem else []
        reasons += [] if service.bundle is not None else [  # none published: say how to publish one
            f"no bundle loaded from {service.root} yet" if (service.root / "CURRENT").exists() else
            "no bundle published yet: run `tanaban export cf` (or another export); the next poll or SIGHUP loads it"]
        reasons += [s.fault for s in (service, gen_service) if s is not None and s.fault]  # set by a reload
        return JSONResponse({"ready": not reasons, "bundle": service.bundle.version if service.bundle else None,
                             **({"reason": "; ".join(reasons)} if reasons else {})},
                            status_code=503 if reasons else 200)

    @app.get("/metrics", response_class=PlainTextResponse, responses=_errors())
    def prometheus() -> Response:
        """Prometheus text exposition (HELP and TYPE lines), summed across worker processes."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    _document_security(app)
    _document_models(app, service, gen_service)
    return app


def _document_security(app: FastAPI) -> None:
    """Declare the two ways to send a key in the OpenAPI document (FastAPI's "extending OpenAPI" hook): the schemes
    are the models of FastAPI's own APIKeyHeader and HTTPBearer, required (either one) by every /v1 operation, so
    Swagger UI's "Authorize" and generated clients send them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemes = {scheme.scheme_name: scheme.model.model_dump(mode="json", by_alias=True, exclude_none=True)
                       for scheme in (_api_key_header, _bearer)}
            schema.setdefault("components", {})["securitySchemes"] = schemes
            for path, operations in schema["paths"].items():
                for operation in operations.values() if path.startswith("/v1/") else ():
                    operation["security"] = [{name: []} for name in schemes]
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_models(app: FastAPI, service: Service, gen_service: Service | None) -> None:
    """List the served models as the enum of RecommendRequest.model in /openapi.json, read anew on each request for
    the document (a reload can change them); the cached document itself stays model-free."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        if service.bundle is None:
            return schema
        names = served_models(service.bundle, gen_service and gen_service.bundle)[0]
        doc = copy.deepcopy(schema)
        prop = doc["components"]["schemas"]["RecommendRequest"]["properties"]["model"]
        for option in prop.get("anyOf", [prop]):
            if option.get("type") == "string":
                option["enum"] = names
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
