"""The HTTP API over `appliance.serve.service.Service` (FastAPI; the OpenAPI document is at /openapi.json).

- Every /v1 route needs an API key (`Authorization: Bearer tnb_...` or `X-API-Key`), checked against the hashed key
  file; /healthz, /readyz and /metrics do not (bind the service to a trusted interface; see docs/SERVING.md).
- A raw customer id is pseudonymized on arrival with the appliance's store key and never logged: the access log
  records method, route template, status, latency and the API key id only.
- Bodies over `MAX_BODY_BYTES` get 413; invalid input gets 422 with the field that is wrong.
- `POST /v1/admin/reload` verifies and swaps in the newest bundle without dropping requests.
- `POST /v1/search` ranks the catalog by text similarity (appliance.serve.search); the query is never logged.
- Prometheus text metrics, hand-written (no client library): request counts by route and status, latency sums.
"""


import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from appliance.config import ServeConfig
from appliance.serve.apikeys import KeyVerifier
from appliance.serve.batching import GenBatcher, batcher_lifespan
from appliance.serve.errors import RequestError, ServeError
from appliance.serve.search import MAX_QUERY_CHARS
from appliance.serve.service import MAX_K, Answer, Bundle, Service
from export.bundle import BundleError

MAX_BODY_BYTES = 64 * 1024  # a request holds at most a few hundred skus; anything larger is a mistake or abuse
MAX_LIST = 500  # skus per history or exclusion list
access_log = logging.getLogger("tanaban.access")


class RecommendRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"anyOf": [  # documents "give user_id or history" (else 422)
        {"required": ["user_id"], "properties": {"user_id": {"type": "string"}}},
        {"required": ["history"], "properties": {"history": {"type": "array"}}}]})
    user_id: str | None = Field(None, min_length=1, max_length=256,
                                description="the shop's customer id (pseudonymized on arrival)")
    history: list[Annotated[str, Field(max_length=1000)]] | None = Field(
        None, max_length=MAX_LIST, description="skus bought, oldest first; scored live (overrides user_id)")
    k: int = Field(10, ge=1, le=MAX_K)
    exclude: list[Annotated[str, Field(max_length=1000)]] = Field(default_factory=list, max_length=MAX_LIST)
    explain: bool = Field(False, description="add the intents linking the customer to each item (cf model)")
    model: Literal["cf", "generative"] = Field(
        "cf", description="cf: the CF bundle (cached top-K); generative: live constrained beam search")


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, pattern=r"\S",  # blank queries get 422
                       description="free text; never logged or stored")
    k: int = Field(10, ge=1, le=MAX_K)
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


_ERROR_TEXT = {400: "body is not decodable text", 401: "missing, invalid or revoked API key",
               404: "unknown user or sku, empty history", 409: "reload refused: the new bundle failed verification",
               413: f"body over {MAX_BODY_BYTES} bytes", 422: "malformed JSON or an invalid field",
               503: "no bundle loaded yet"}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses a route can answer (docs/SERVING.md); 413 on every route."""
    return {code: {"model": ErrorResponse, "description": _ERROR_TEXT[code]} for code in sorted({*codes, 413})}


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
    """Pure ASGI middleware (no per-request task like BaseHTTPMiddleware): body-size limit, metrics, access log."""

    def __init__(self, app: Any, metrics: _Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500
        length = dict(scope["headers"]).get(b"content-length", b"0")

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        too_large = JSONResponse({"detail": f"request body over {MAX_BODY_BYTES} bytes"}, 413)
        try:
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                await too_large(scope, receive, send_status)
                return
            body = await _read_body(receive)  # also bounds chunked bodies, which carry no content-length
            if body is None:
                await too_large(scope, receive, send_status)
                return
            replayed = False

            async def replay() -> dict[str, Any]:
                nonlocal replayed
                if replayed:
                    return await receive()  # http.disconnect when the client goes away
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - start
            self.metrics.observe(route, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                key_id = scope.get("state", {}).get("key_id", "-")
                access_log.info("%s %s %d %.1fms key=%s", scope["method"], route, status, elapsed * 1e3, key_id)


def create_app(service: Service, keys: KeyVerifier, pseudonymize: Callable[[str, str | None], str],
               gen_service: Service | None = None, lifespan: Any = None,
               serve_cfg: ServeConfig | None = None) -> FastAPI:
    serve_cfg = serve_cfg or ServeConfig()
    batcher = GenBatcher(serve_cfg.gen_batch_max, serve_cfg.gen_batch_wait_ms)  # live generative requests
    app = FastAPI(title="Tanaban recommendations", version="1", docs_url=None, redoc_url=None,
                  lifespan=batcher_lifespan(batcher, lifespan))
    metrics = _Metrics()

    app.add_middleware(_GuardAndLog, metrics=metrics)

    async def api_key(request: Request, authorization: Annotated[str | None, Header()] = None,
                x_api_key: Annotated[str | None, Header()] = None) -> str:
        token = x_api_key or (authorization[7:] if authorization and authorization.startswith("Bearer ") else None)
        key_id = keys.verify(token)
        if key_id is None:
            raise HTTPException(401, "missing or invalid API key (create one with `tanaban apikey create`)")
        request.state.key_id = key_id
        return key_id

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
                raise HTTPException(422, "give user_id or history")
            plan = (gen.plan_history(body.history, body.k, body.exclude) if body.history is not None
                    else gen.plan_user(pseudonymize(body.user_id, gen.pseudonym_key_id), body.k, body.exclude))
            return _response(plan if isinstance(plan, Answer) else await batcher.answer(gen, plan))
        if body.history is not None:
            return _response(b.for_history(body.history, body.k, body.exclude, body.explain))
        if body.user_id is None:
            raise HTTPException(422, "give user_id or history")
        return _response(b.for_user(pseudonymize(body.user_id, b.pseudonym_key_id), body.k, body.exclude, body.explain))

    @app.get("/v1/items/{sku}/similar", response_model=RecommendResponse, dependencies=[Depends(api_key)],
             responses=_errors(401, 404, 422, 503))
    async def similar(sku: str, b: Annotated[Any, Depends(bundle)],  # CFBundle: similar() is not in Bundle
                      k: Annotated[int, Query(ge=1, le=MAX_K)] = 10) -> JSONResponse:
        return _response(b.similar(sku, k))

    @app.post("/v1/search", response_model=RecommendResponse, dependencies=[Depends(api_key)],
              responses=_errors(400, 401, 404, 422, 503))
    def search(body: SearchRequest, b: Annotated[Any, Depends(bundle)]) -> JSONResponse:  # def: runs in the pool
        """Catalog items ranked by the cosine of their text embedding with the query's (source "live")."""
        if not hasattr(b, "search"):
            raise RequestError("the current bundle cannot search: serve a CF bundle exported with its encoder")
        return _response(b.search(body.query, body.k, body.exclude))

    @app.post("/v1/admin/reload", dependencies=[Depends(api_key)], responses=_errors(401, 409, 422))
    def reload() -> dict[str, str]:
        try:
            out = {"bundle": service.reload()}
            if gen_service is not None and (gen_service.root / "CURRENT").exists():
                out["generative"] = gen_service.reload()
            return out
        except (BundleError, ServeError) as exc:
            raise HTTPException(409, f"reload refused, still serving the previous bundle: {exc}") from None

    @app.get("/healthz", responses=_errors())
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", responses={**_errors(), 503: {"description": "no bundle loaded yet (ready false)"}})
    def readyz() -> JSONResponse:
        ready = service.bundle is not None
        return JSONResponse({"ready": ready, "bundle": service.bundle.version if ready else None},
                            status_code=200 if ready else 503)

    @app.get("/metrics", response_class=PlainTextResponse, responses=_errors())
    def prometheus() -> str:
        return metrics.text(service.bundle.version if service.bundle else None) + batcher.metrics_text()

    return app
