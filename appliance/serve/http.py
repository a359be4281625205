"""The HTTP API over `appliance.serve.service.Service` (FastAPI; the OpenAPI document is at /openapi.json).

- Every /v1 route needs an API key (`Authorization: Bearer tnb_...` or `X-API-Key`), checked against the hashed key
  file; /v1/admin/* needs a key with the `admin` scope (403 otherwise); an unusable key file fails closed (503, and
  /readyz says why); /healthz, /readyz and /metrics need no key (bind the service to a trusted interface; see
  docs/SERVING.md).
- A raw customer id is pseudonymized on arrival with the appliance's store key and never logged: the access log
  records method, route template, status, latency and the API key id only.
- Bodies over `MAX_BODY_BYTES` get 413; invalid input (strict I-JSON: appliance.serve.bodies) gets 422 with the
  field that is wrong and a machine-readable `reason`, never the value; a body not read in time gets 408.
- `POST /v1/admin/reload` verifies and swaps in the newest bundle without dropping requests; audited
  (bundle.reload, appliance.serve.events) when the app is given an audit sink.
- `POST /v1/search` ranks the catalog by text similarity (appliance.serve.search); the query is never logged.
- Prometheus text metrics, hand-written (no client library): request counts by route and status, latency sums.
"""


import asyncio
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from appliance.config import ServeConfig
from appliance.errors import UserError
from appliance.privacy.audit.log import AuditEvent
from appliance.serve.apikeys import ApiKey, ApiKeyError, KeyVerifier
from appliance.serve.batching import GenBatcher, batcher_lifespan
from appliance.serve.bodies import StrictJSONRoute, invalid_body, json_integer, unexpected_error_line
from appliance.serve.errors import RequestError, ServeError
from appliance.serve.events import AuditSink, reload_event
from appliance.serve.search import MAX_QUERY_CHARS
from appliance.serve.service import MAX_K, Answer, Bundle, Service
from export.bundle import BundleError

MAX_BODY_BYTES = 64 * 1024  # a request holds at most a few hundred skus; anything larger is a mistake or abuse
MAX_LIST = 500  # skus per history or exclusion list
access_log = logging.getLogger("tanaban.access")
JSONInteger = Annotated[int, BeforeValidator(json_integer)]
error_log = logging.getLogger("tanaban.serve")


class RecommendRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"anyOf": [  # documents "give user_id or history" (else 422)
        {"required": ["user_id"], "properties": {"user_id": {"type": "string"}}},
        {"required": ["history"], "properties": {"history": {"type": "array"}}}]})
    user_id: str | None = Field(None, min_length=1, max_length=256,
                                description="the shop's customer id (pseudonymized on arrival)")
    history: list[Annotated[str, Field(max_length=1000)]] | None = Field(
        None, max_length=MAX_LIST, description="skus bought, oldest first; scored live (overrides user_id)")
    k: JSONInteger = Field(10, ge=1, le=MAX_K)  # `"k": true` is not k=1, "5" is not 5; 5.0 is (JSON Schema)
    exclude: list[Annotated[str, Field(max_length=1000)]] = Field(default_factory=list, max_length=MAX_LIST)
    explain: StrictBool = Field(False, description="add the intents linking the customer to each item (cf model)")
    model: Literal["cf", "generative"] = Field(
        "cf", description="cf: the CF bundle (cached top-K); generative: live constrained beam search")


class SearchRequest(BaseModel):
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


class ErrorResponse(BaseModel):
    detail: str | list[dict[str, Any]] = Field(description="what was wrong: a message, or the invalid fields")
    reason: str | None = Field(None, description="422: machine-readable cause (appliance.serve.bodies.REASONS, "
                                                 "invalid_field)")


_ERROR_TEXT = {400: "body is not decodable text", 401: "missing, invalid or revoked API key",
               403: "the API key lacks the scope the route needs (admin for /v1/admin/*)",
               404: "unknown user or sku, empty history",
               408: "request body not received in time (serve.body_timeout_seconds)",
               409: "reload refused: the new bundle, or the served one re-checked, failed verification",
               413: f"body over {MAX_BODY_BYTES} bytes",
               422: "malformed JSON, a non-finite number, a lone surrogate, a duplicate key or an invalid field",
               503: "no bundle loaded yet, or the API key file is unusable (fail closed; /readyz says why)"}


def _neither() -> RequestValidationError:
    """The 422 of a recommendation request with neither `user_id` nor `history` (the schema's anyOf)."""
    return RequestValidationError([{"type": "missing", "loc": ("body", "user_id"), "msg": "give user_id or history"}])


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can answer (docs/SERVING.md); 408 and 413 on every
    route."""
    return {code: {"model": ErrorResponse, "description": _ERROR_TEXT[code]} for code in sorted({*codes, 408, 413})}


def _response(answer: Answer) -> JSONResponse:
    """The answer as JSON; built directly (the schema stays documented by `response_model`), which is much faster
    than re-validating our own output with pydantic on every request."""
    return JSONResponse({"items": [{"sku": r.sku, "title": r.title, "score": r.score, "because": r.because}
                                   for r in answer.items], "source": answer.source, "bundle": answer.bundle})


class _Metrics:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count: dict[tuple[str, int], int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)

    def observe(self, route: str, status: int, seconds: float) -> None:
        with self.lock:
            self.count[(route, status)] += 1
            self.seconds[route] += seconds

    def text(self, version: str | None) -> str:
        lines = ["# TYPE tanaban_requests_total counter"]
        with self.lock:
            lines += [f'tanaban_requests_total{{route="{r}",status="{s}"}} {n}'
                      for (r, s), n in sorted(self.count.items())]
            lines.append("# TYPE tanaban_request_seconds_total counter")
            lines += [f'tanaban_request_seconds_total{{route="{r}"}} {v:.6f}' for r, v in sorted(self.seconds.items())]
        lines += ["# TYPE tanaban_bundle_info gauge", f'tanaban_bundle_info{{version="{version or ""}"}} 1']
        lines += ["# TYPE tanaban_worker_info gauge", f'tanaban_worker_info{{pid="{os.getpid()}"}} 1']  # per process
        return "\n".join(lines) + "\n"


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
    """Pure ASGI middleware (no per-request task like BaseHTTPMiddleware): body size and read-time limits, metrics,
    access log, and a JSON 500 for a bug, logged without its message."""

    def __init__(self, app: Any, metrics: _Metrics, body_seconds: float) -> None:
        self.app, self.metrics, self.body_seconds = app, metrics, body_seconds

    async def _body(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> bytes | None:
        """The whole request body, or None after answering 413 (too large) or 408 (not received in time)."""
        length = dict(scope["headers"]).get(b"content-length", b"0")
        too_large = JSONResponse({"detail": f"request body over {MAX_BODY_BYTES} bytes"}, 413)
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            await too_large(scope, receive, send)
            return None
        try:  # a client that trickles its body holds a connection and a task: bounded (docs/SERVING.md, Limits)
            async with asyncio.timeout(self.body_seconds):
                body = await _read_body(receive)  # also bounds chunked bodies, which carry no content-length
        except TimeoutError:
            late = {"detail": f"request body not received within {self.body_seconds:g} s", "reason": "body_timeout"}
            await JSONResponse(late, 408, {"connection": "close"})(scope, receive, send)
            return None
        if body is None:
            await too_large(scope, receive, send)
        return body

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status, started = time.perf_counter(), 500, False

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            body = await self._body(scope, receive, send_status)
            if body is None:
                return
            replayed = False

            async def replay() -> dict[str, Any]:
                nonlocal replayed
                if replayed:
                    return await receive()  # http.disconnect when the client goes away
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send_status)
        except Exception as exc:  # a bug: one log line without the exception's text, which may hold request data
            error_log.error(unexpected_error_line(scope["method"], getattr(scope.get("route"), "path", "?"), exc))
            if not started:
                await JSONResponse({"detail": "internal error (logged without request data)", "reason": "internal"},
                                   500)(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - start
            self.metrics.observe(route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                key_id = scope.get("state", {}).get("key_id", "-")
                access_log.info("%s %s %d %.1fms key=%s", scope["method"], route, status, elapsed * 1e3, key_id)


def _authenticated(keys: KeyVerifier, authorization: str | None, x_api_key: str | None) -> ApiKey:
    """The key a request presents (X-API-Key, else `Authorization: Bearer`): 401 if none is valid, 503 if the key
    file cannot be read (fail closed: a revocation may be in the part that cannot be read)."""
    token = x_api_key or (authorization[7:] if authorization and authorization.startswith("Bearer ") else None)
    try:
        key = keys.verify(token)
    except ApiKeyError as exc:
        access_log.error("API key check failed closed: %s", exc)
        raise HTTPException(503, f"API keys cannot be checked: {exc}") from None
    if key is None:
        raise HTTPException(401, "missing or invalid API key (create one with `tanaban apikey create`)")
    return key


def _audited(audit: AuditSink | None, event: AuditEvent) -> None:
    """Append `event` to the audit log; an entry that cannot be written is a 503 (the action itself is done)."""
    if audit is None:
        return
    try:
        audit(event)
    except UserError as exc:
        access_log.error("audit entry %s not written: %s", event.action, exc)
        raise HTTPException(503, f"done, but its audit entry could not be written: {exc}") from None


def create_app(service: Service, keys: KeyVerifier, pseudonymize: Callable[[str, str | None], str],
               gen_service: Service | None = None, lifespan: Any = None,
               serve_cfg: ServeConfig | None = None, audit: AuditSink | None = None) -> FastAPI:
    serve_cfg = serve_cfg or ServeConfig()
    batcher = GenBatcher(serve_cfg.gen_batch_max, serve_cfg.gen_batch_wait_ms)  # live generative requests
    app = FastAPI(title="Tanaban recommendations", version="1", docs_url=None, redoc_url=None,
                  lifespan=batcher_lifespan(batcher, lifespan))
    metrics = _Metrics()

    app.router.route_class = StrictJSONRoute  # NaN, Infinity, lone surrogates, duplicate keys: 422 (bodies.py)
    app.add_middleware(_GuardAndLog, metrics=metrics, body_seconds=serve_cfg.body_timeout_seconds)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(invalid_body(exc.errors()), status_code=422)  # FastAPI's default echoes the input

    async def api_key(request: Request, authorization: Annotated[str | None, Header()] = None,
                x_api_key: Annotated[str | None, Header()] = None) -> ApiKey:
        key = _authenticated(keys, authorization, x_api_key)
        request.state.key_id = key.key_id
        return key

    async def admin_key(key: Annotated[ApiKey, Depends(api_key)]) -> ApiKey:
        if "admin" not in key.scopes:
            raise HTTPException(403, "this API key lacks the admin scope: create one with "
                                     "`tanaban apikey create --name NAME --scope admin`")
        return key

    async def bundle() -> Bundle:
        try:
            return service.current()
        except ServeError as exc:
            raise HTTPException(503, str(exc)) from None

    @app.exception_handler(RequestError)
    async def _not_found(_: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(ServeError)
    async def _unavailable(_: Request, exc: ServeError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.post("/v1/recommendations", response_model=RecommendResponse, dependencies=[Depends(api_key)],
              responses=_errors(400, 401, 404, 422, 503))
    async def recommendations(body: RecommendRequest, b: Annotated[Bundle, Depends(bundle)]) -> JSONResponse:
        if body.model == "generative":
            if gen_service is None or gen_service.bundle is None:
                raise HTTPException(503, "no generative bundle loaded: run `tanaban export gen`, then reload")
            gen = gen_service.bundle
            if body.history is None and body.user_id is None:
                raise _neither()
            plan = (gen.plan_history(body.history, body.k, body.exclude) if body.history is not None
                    else gen.plan_user(pseudonymize(body.user_id, gen.pseudonym_key_id), body.k, body.exclude))
            return _response(plan if isinstance(plan, Answer) else await batcher.answer(gen, plan))
        if body.history is not None:
            return _response(b.for_history(body.history, body.k, body.exclude, body.explain))
        if body.user_id is None:
            raise _neither()
        return _response(b.for_user(pseudonymize(body.user_id, b.pseudonym_key_id), body.k, body.exclude, body.explain))

    @app.get("/v1/items/{sku:path}/similar", response_model=RecommendResponse, dependencies=[Depends(api_key)],
             responses=_errors(401, 404, 422, 503))
    async def similar(sku: str, b: Annotated[Any, Depends(bundle)],  # {sku:path}: a sku may hold "/"
                      k: Annotated[int, Query(ge=1, le=MAX_K)] = 10) -> JSONResponse:
        return _response(b.similar(sku, k))

    @app.post("/v1/search", response_model=RecommendResponse, dependencies=[Depends(api_key)],
              responses=_errors(400, 401, 404, 422, 503))
    def search(body: SearchRequest, b: Annotated[Any, Depends(bundle)]) -> JSONResponse:  # def: runs in the pool
        """Catalog items ranked by the cosine of their text embedding with the query's (source "live")."""
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
            raise HTTPException(409, f"reload refused, still serving the previous bundle: {exc}") from None
        _audited(audit, reload_event(actor, "ok", ", ".join(f"{name} {version}" for name, version in out.items())))
        return out

    @app.get("/healthz", responses=_errors())
    @app.head("/healthz", operation_id="healthz_head", responses=_errors())  # HEAD: the status, no body
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    not_ready = {**_errors(), 503: {"description": "no bundle loaded yet, a served bundle no longer verifies on disk "
                                                  "(after a reload), or the API key file is unusable (reason says)"}}

    @app.get("/readyz", responses=not_ready)
    @app.head("/readyz", operation_id="readyz_head", responses=not_ready)  # HEAD: the status, no body
    def readyz() -> JSONResponse:
        keys_problem = keys.problem()  # an unusable key file fails every /v1 call closed: not ready
        reasons = [f"API keys: {keys_problem}"] if keys_problem else []
        reasons += [] if service.bundle is not None else [f"no bundle loaded from {service.root} yet"]
        reasons += [s.fault for s in (service, gen_service) if s is not None and s.fault]  # set by a reload
        return JSONResponse({"ready": not reasons, "bundle": service.bundle.version if service.bundle else None,
                             **({"reason": "; ".join(reasons)} if reasons else {})},
                            status_code=503 if reasons else 200)

    @app.get("/metrics", response_class=PlainTextResponse, responses=_errors())
    def prometheus() -> str:
        return metrics.text(service.bundle.version if service.bundle else None) + batcher.metrics_text()

    return app
