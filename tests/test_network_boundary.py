"""The network boundary (DESIGN.md): only appliance/privacy/egress.py may open outbound connections.

1. A static scan (ast) of every module in appliance/, anonymize/, export/ and cli/: network-capable modules are
   imported only by the files ALLOWED names, each exactly the modules it needs: the egress gateway, the serving
   HTTP server (appliance/serve/server.py and workers.py: uvicorn binds the configured address; server.py's
   `loopback_json` calls the service on 127.0.0.1 for the demo and tests; node.py checks the TLS pair with ssl)
   and the LLM stand-in. An allowance for a file that is gone, or that no longer uses what it is allowed, fails
   too: a renamed module leaves no stale permission behind.
2. A runtime check: a typical CLI flow runs with every non-loopback connect, sendto and DNS lookup refused.
"""

from __future__ import annotations

import ast
import ipaddress
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from appliance.demo.llm_standin import LLMStandin
from cli.main import app

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("appliance", "anonymize", "export", "cli")
CLIENTS = {"socket", "ssl", "http.client", "urllib.request", "httpx", "requests", "aiohttp", "urllib3", "ftplib",
           "smtplib", "poplib", "imaplib", "telnetlib", "xmlrpc.client", "websocket", "websockets", "grpc", "paramiko",
           "pycurl", "asyncio.streams"}
SERVERS = {"http.server", "socketserver", "uvicorn", "xmlrpc.server"}
CONNECT_CALLS = {"urlopen", "create_connection", "open_connection", "create_datagram_endpoint"}
ALLOWED = {  # file -> the network modules it imports, exactly
    "appliance/privacy/egress.py": {"http.client", "ssl", "socket"},  # socket: resolve-and-check of loopback http
    "appliance/demo/llm_standin.py": {"http.server"},  # the loopback stand-in for an external LLM
    "appliance/serve/server.py": {"uvicorn", "http.client"},  # serves; loopback_json calls it on 127.0.0.1
    "appliance/serve/workers.py": {"uvicorn", "socket"},  # N workers behind one listening socket (TCP_NODELAY)
    "appliance/serve/node.py": {"ssl"},  # load_cert_chain checks the TLS pair before serving; it opens nothing
}


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES if (ROOT / pkg).is_dir() for p in (ROOT / pkg).rglob("*.py"))


def _network_uses(tree: ast.AST) -> set[str]:
    """Network-capable modules imported (statically or via importlib / __import__) and connect-style calls."""
    found: set[str] = set()
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                names.append(str(node.args[0].value))
            if called in CONNECT_CALLS:
                found.add(f"call {called}()")
    for name in names:
        found |= {m for m in CLIENTS | SERVERS if name == m or name.startswith(m + ".")}
    return found


def test_scan_covers_the_egress_gateway_and_finds_its_client() -> None:
    sources = [p.relative_to(ROOT).as_posix() for p in _sources()]
    assert "appliance/privacy/egress.py" in sources and len(sources) > 20
    egress = ast.parse((ROOT / "appliance/privacy/egress.py").read_text(encoding="utf-8"))
    assert "http.client" in _network_uses(egress)  # the scan would see a client elsewhere too


@pytest.mark.parametrize("snippet", ["import socket", "from http import client", "import urllib.request as r",
                                     "import importlib\nimportlib.import_module('httpx')", "__import__('requests')",
                                     "from requests.adapters import HTTPAdapter", "loop.create_connection(f, h, 1)",
                                     "from urllib.request import urlopen"])
def test_scan_detects_each_way_of_reaching_the_network(snippet: str) -> None:
    assert _network_uses(ast.parse(snippet))


def test_only_the_gateway_and_loopback_servers_import_network_modules() -> None:
    offenders = {}
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        used = _network_uses(ast.parse(path.read_text(encoding="utf-8"), filename=rel)) - ALLOWED.get(rel, set())
        if used:
            offenders[rel] = sorted(used)
    assert not offenders, f"network access outside appliance/privacy/egress.py: {offenders}"


@pytest.mark.parametrize("rel", sorted(ALLOWED))
def test_every_allowance_names_an_existing_file_that_uses_it(rel: str) -> None:
    path = ROOT / rel
    assert path.is_file(), f"ALLOWED names {rel}, which does not exist: renamed or removed? update ALLOWED"
    used = _network_uses(ast.parse(path.read_text(encoding="utf-8"), filename=rel))
    assert used == ALLOWED[rel], f"{rel} uses {sorted(used)} but is allowed {sorted(ALLOWED[rel])}: update ALLOWED"


# --- runtime --------------------------------------------------------------------------------------------------------


def _local(address: object) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths
        return True
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def remote_blocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse (and record) every non-loopback connect, connect_ex, sendto and name lookup in this process."""
    attempts: list[str] = []

    def guard(name: str, real, address_index: int):
        def wrapper(self, *args):
            if not _local(args[address_index]):
                attempts.append(f"{name} {args[address_index]!r}")
                raise OSError(f"network boundary test: {name} to {args[address_index]!r} refused")
            return real(self, *args)
        return wrapper

    for name, index in (("connect", 0), ("connect_ex", 0), ("sendto", -1)):
        monkeypatch.setattr(socket.socket, name, guard(name, getattr(socket.socket, name), index))
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _local((host.decode() if isinstance(host, bytes) else host, 0)):
            attempts.append(f"getaddrinfo {host!r}")
            raise socket.gaierror(f"network boundary test: lookup of {host!r} refused")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts


def test_the_guard_refuses_remote_and_allows_loopback(remote_blocked: list[str]) -> None:
    with LLMStandin() as server, socket.socket() as sock:
        sock.connect(("127.0.0.1", server.port))
    with socket.socket() as sock, pytest.raises(OSError, match="refused"):
        sock.connect(("192.0.2.1", 443))  # RFC 5737 TEST-NET-1
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 443)
    assert remote_blocked == ["connect ('192.0.2.1', 443)", "getaddrinfo 'example.com'"]


def _has_command(path: str) -> bool:
    group = get_command(app)
    for word in path.split():
        group = getattr(group, "commands", {}).get(word)
        if group is None:
            return False
    return True


def _write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({"sku": f"SKU-{i}", "title": f"Item {i}", "brand": "Acme"}) + "\n"
                             for i in range(7)), encoding="utf-8")
    rows = [f"C-{u},SKU-{(u * 3 + k) % 7},{1_700_000_000 + 60 * k}" for u in range(5) for k in range(4)]
    interactions = tmp_path / "interactions.csv"
    interactions.write_text("customer_id,sku,timestamp\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return items, interactions


def test_a_typical_cli_flow_opens_no_remote_connection(tmp_path: Path, remote_blocked: list[str]) -> None:
    items, interactions = _write_inputs(tmp_path)
    with LLMStandin() as llm:
        config = tmp_path / "config.toml"
        config.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n[anonymize]\nuse_ner = false\n'
                          f'[egress]\nenabled = true\nbase_url = "{llm.base_url}"\nmodel = "tiny"\n'
                          'allowed_hosts = ["127.0.0.1"]\napi_key_env = ""\n'
                          "allow_weakened_policy = true\n", encoding="utf-8")  # use_ner = false is weaker
        steps = [["init"], ["ingest", "items", str(items)], ["ingest", "interactions", str(interactions)],
                 ["evaluate"], ["keys", "show"], ["egress", "status"],
                 ["egress", "test", "--dry-run", "--text", "Mail C-1 at c1@example.com"],
                 ["egress", "test", "--text", "Hello from the boundary test"], ["keys", "rotate", "--yes"],
                 ["audit", "verify"]]
        ran = []
        for step in steps:
            if not _has_command(" ".join(step[:2]) if step[0] in ("ingest", "keys", "egress", "audit") else step[0]):
                continue  # a command group that has not landed yet
            result = CliRunner().invoke(app, ["--config", str(config), *step])
            assert result.exit_code == 0, f"{step}: {result.output}"
            ran.append(step[0])
        assert len(llm.requests) == 1  # the one real egress test reached the loopback stand-in
    assert {"init", "keys", "egress", "audit"} <= set(ran), ran
    assert remote_blocked == []
