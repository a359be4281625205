"""The HTTP API over `appliance.serve.Service` (FastAPI; the OpenAPI document is at /openapi.json).

- Every /v1 route needs an API key (`Authorization: Bearer tnb_...` or `X-API-Key`), checked against the hashed key
  file; /healthz, /readyz and /metrics do not (bind the service to a trusted interface; see docs/SERVING.md).
- A raw customer id is pseudonymized on arrival with the appliance's store key and never logged: the access log
  records method, route template, status, latency and the API key id only.
- Bodies over `MAX_BODY_BYTES` get 413; invalid input gets 422 with the field that is wrong.
- `POST /v1/admin/reload` verifies and swaps in the newest bundle without dropping requests.
- Prometheus text metrics, hand-written (no client library): request counts by route and status, latency sums.
"""


import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from appliance.apikeys import KeyVerifier
from appliance.serve import MAX_K, Answer, GenBundle, RequestError, ServeError, Service
from export.bundle import BundleError

MAX_BODY_BYTES = 64 * 1024  # a request holds at most a few hundred skus; anything larger is a mistake or abuse
MAX_LIST = 500  # skus per history or exclusion list
access_log = logging.getLogger("tanaban.access")


class RecommendRequest(BaseModel):
    user_id: str | None = Field(None, max_length=256, description="the shop's customer id (pseudonymized on arrival)")
    history: list[Annotated[str, Field(max_length=1000)]] | None = Field(
        None, max_length=MAX_LIST, description="skus bought, oldest first; scored live (overrides user_id)")
    k: int = Field(10, ge=1, le=MAX_K)
    exclude: list[Annotated[str, Field(max_length=1000)]] = Field(default_factory=list, max_length=MAX_LIST)
    explain: bool = Field(False, description="add the intents linking the customer to each item (cf model)")
    model: Literal["cf", "generative"] = Field(
        "cf", description="cf: the CF bundle (cached top-K); generative: live constrained beam search")


class Item(BaseModel):
    sku: str
    title: str
    score: float
    because: list[tuple[str, float]] = []


class RecommendResponse(BaseModel):
    items: list[Item]
    source: str
    bundle: str


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


def create_app(service: Service, keys: KeyVerifier, pseudonymize: Callable[[str], str],
               gen_service: Service | None = None) -> FastAPI:
    app = FastAPI(title="Tanaban recommendations", version="1", docs_url=None, redoc_url=None)
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

    async def bundle() -> Any:
        try:
            return service.current()
        except ServeError as exc:
            raise HTTPException(503, str(exc)) from None

    @app.exception_handler(RequestError)
    async def _not_found(_: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.post("/v1/recommendations", response_model=RecommendResponse, dependencies=[Depends(api_key)])
    async def recommendations(body: RecommendRequest, b: Annotated[Any, Depends(bundle)]) -> JSONResponse:
        if body.model == "generative":
            if gen_service is None or gen_service.bundle is None:
                raise HTTPException(503, "no generative bundle loaded: run `tanaban export gen`, then reload")
            b = gen_service.bundle
        if body.history is not None:
            return _response(b.for_history(body.history, body.k, body.exclude, body.explain))
        if body.user_id is None:
            raise HTTPException(422, "give user_id or history")
        return _response(b.for_user(pseudonymize(body.user_id), body.k, body.exclude, body.explain))

    @app.get("/v1/items/{sku}/similar", response_model=RecommendResponse, dependencies=[Depends(api_key)])
    async def similar(sku: str, b: Annotated[Any, Depends(bundle)], k: int = 10) -> JSONResponse:
        if not 1 <= k <= MAX_K:
            raise HTTPException(422, f"k must be between 1 and {MAX_K}")
        return _response(b.similar(sku, k))

    @app.post("/v1/admin/reload", dependencies=[Depends(api_key)])
    def reload() -> dict[str, str]:
        try:
            out = {"bundle": service.reload()}
            if gen_service is not None and (gen_service.root / "CURRENT").exists():
                out["generative"] = gen_service.reload()
            return out
        except (BundleError, ServeError) as exc:
            raise HTTPException(409, f"reload refused, still serving the previous bundle: {exc}") from None

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        ready = service.bundle is not None
        return JSONResponse({"ready": ready, "bundle": service.bundle.version if ready else None},
                            status_code=200 if ready else 503)

    @app.get("/metrics", response_class=PlainTextResponse)
    def prometheus() -> str:
        return metrics.text(service.bundle.version if service.bundle else None)

    return app


def build_service(cfg: Any) -> tuple[Service, KeyVerifier, Callable[[str], str], Service]:
    """CF service, key verifier, pseudonymizer and generative service for an appliance config."""
    from appliance.apikeys import KEYS_FILE
    from appliance.keys import PUBLIC_FILE, load_pseudonym_key, load_public_key
    from appliance.rotation import chained_pseudonym, load_key_chain

    chain = load_key_chain(cfg.keys_dir, load_pseudonym_key(cfg.keys_dir))  # rotated keys chain (rotation.py)
    trusted = [load_public_key(cfg.keys_dir / PUBLIC_FILE)]
    service = Service(cfg.artifacts_dir / "bundles", trusted)
    service.reload()
    gen_service = Service(cfg.artifacts_dir / "bundles-gen", trusted, loader=GenBundle.load)
    if (gen_service.root / "CURRENT").exists():  # the generative bundle is optional
        gen_service.reload()

    def to_pseudonym(raw_id: str) -> str:
        return chained_pseudonym(raw_id, chain)

    return service, KeyVerifier(cfg.data_dir / KEYS_FILE), to_pseudonym, gen_service


def run_server(cfg: Any, host: str, port: int) -> None:
    """Serve until stopped; SIGHUP reloads the newest bundle (a bad one is refused and logged)."""
    import signal

    import uvicorn

    service, keys, to_pseudonym, gen_service = build_service(cfg)
    app = create_app(service, keys, to_pseudonym, gen_service)

    def _reload(*_: Any) -> None:
        try:
            access_log.warning("bundle %s loaded", service.reload())
            if (gen_service.root / "CURRENT").exists():
                access_log.warning("generative bundle %s loaded", gen_service.reload())
        except (BundleError, ServeError) as exc:
            access_log.error("reload refused, still serving the previous bundle: %s", exc)

    signal.signal(signal.SIGHUP, _reload)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", server_header=False)


@contextlib.contextmanager
def serving_on_loopback(cfg: Any) -> Iterator[int]:
    """Run the service on 127.0.0.1 (ephemeral port) in a background thread; yields the port (demo, tests)."""
    import uvicorn

    app = create_app(*build_service(cfg))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="tanaban-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ServeError("the HTTP service did not start on 127.0.0.1")
        time.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def loopback_json(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One JSON request to the service on 127.0.0.1:port; (status, decoded body)."""
    import http.client
    import json

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/json", **({"X-API-Key": token} if token else {})}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()
