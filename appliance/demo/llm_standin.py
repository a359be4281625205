"""A loopback stand-in for an OpenAI-compatible chat-completions server (the Chat Completions API response shape),
for tests and `tanaban demo`: stdlib `http.server` in a thread, bound to 127.0.0.1 only, recording every request it
receives and answering with deterministic canned text. It never opens outbound connections.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK_HOSTS = ("127.0.0.1", "::1")  # the stand-in refuses to listen anywhere else
MAX_REQUEST_BYTES = 8 * 1024 * 1024  # larger bodies are answered 413 and not recorded in full


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    note: Any = None  # what the on_request hook returned (e.g. the audit row count at receipt)

    def json(self) -> Any:
        return json.loads(self.body)


def canned_answer(payload: Any) -> str:
    """The deterministic answer: names the message count and a digest of the last message, nothing else."""
    messages = payload.get("messages", []) if isinstance(payload, dict) else []
    last = messages[-1].get("content", "") if messages and isinstance(messages[-1], dict) else ""
    digest = hashlib.sha256(str(last).encode("utf-8")).hexdigest()[:12]
    return f"stand-in answer to {len(messages)} message(s), last message sha256 {digest}"


@dataclass
class StandinBehaviour:
    """How the stand-in answers; tests change it between requests."""

    status: int = 200  # HTTP status of the answer
    redirect_to: str = ""  # when set, answer 307 with this Location (the gateway must not follow it)
    delay_s: float = 0.0  # wait before answering (timeouts, killed-process tests)
    on_request: Callable[[RecordedRequest], Any] | None = None  # called at receipt, before answering
    answer: Callable[[Any], str] = field(default=canned_answer)


class LLMStandin:
    """`with LLMStandin() as llm:` serves on an ephemeral loopback port; `llm.base_url` is the /v1 URL."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, behaviour: StandinBehaviour | None = None) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the LLM stand-in listens on loopback only ({', '.join(LOOPBACK_HOSTS)}), not {host}")
        self.behaviour = behaviour or StandinBehaviour()
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="llm-standin", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def start(self) -> LLMStandin:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LLMStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, request: RecordedRequest) -> RecordedRequest:
        hook = self.behaviour.on_request
        if hook is not None:
            request = RecordedRequest(request.method, request.path, request.headers, request.body, hook(request))
        with self._lock:
            self.requests.append(request)
        return request


def _handler_for(standin: LLMStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BYTES:
                self._reply(413, {"error": {"message": "request too large"}})
                return
            body = self.rfile.read(length)
            standin.record(RecordedRequest("POST", self.path, dict(self.headers.items()), body))
            self._answer(body)

        def do_GET(self) -> None:
            standin.record(RecordedRequest("GET", self.path, dict(self.headers.items()), b""))
            self._reply(404, {"error": {"message": "only POST /v1/chat/completions is served"}})

        def _answer(self, body: bytes) -> None:
            behaviour = standin.behaviour
            if behaviour.delay_s:
                threading.Event().wait(behaviour.delay_s)
            if behaviour.redirect_to:
                self._reply(307, {"error": {"message": "moved"}}, {"Location": behaviour.redirect_to})
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._reply(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                payload = json.loads(body)
            except ValueError:
                self._reply(400, {"error": {"message": "body is not JSON"}})
                return
            self._reply(behaviour.status, _completion(payload, behaviour.answer(payload), len(standin.requests)))

        def _reply(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(doc).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: tests and the demo print what matters themselves."""

    return Handler


def _completion(payload: Any, text: str, number: int) -> dict[str, Any]:
    model = payload.get("model", "") if isinstance(payload, dict) else ""
    return {
        "id": f"chatcmpl-standin-{number}", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }
