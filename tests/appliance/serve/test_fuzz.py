"""Property-based fuzzing of the HTTP API from its own OpenAPI document (schemathesis, in-process over ASGI).

Every operation the live app documents gets generated valid and invalid requests with a valid API key; schemathesis
checks that nothing answers 5xx, and that status codes, content types and bodies match the document.
docs/bench/fuzz.md records a longer run (FUZZ_EXAMPLES=200).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
import schemathesis.specs.openapi.schemas  # imported here, at collection: see the note below
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.core.transport import Response
from schemathesis.generation.modes import GenerationMode
from schemathesis.schemas import BaseSchema

from appliance.data.home import Home
from appliance.serve.apikeys import KEYS_FILE, create_key
from appliance.serve.bodies import REASONS
from appliance.serve.http import create_app
from appliance.serve.node import build_service
from export.cf import export_cf

# schemathesis is a pytest plugin, so pytest rewrites its modules when they are first imported; `from_asgi` imports
# the OpenAPI ones lazily, and that first parse of its large `definitions.py` inside a fixture's deep stack once failed
# in CI with CPython 3.11's "SystemError: AST constructor recursion depth mismatch" (pytest-dev/pytest#10874). They are
# imported above, at collection, where the stack is shallow and no test's server thread runs.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))  # per operation; small so the default suite stays fast


# 413 (body over the limit) is a rejection too; schemathesis' default list lacks it
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]}}})


@pytest.fixture
def api_key(bundle_home: tuple[Home, Path]) -> str:
    home, _ = bundle_home
    export_cf(home, "lightgcn", version="v1")
    return create_key(home.config.data_dir / KEYS_FILE, "fuzz", ("read", "admin"))  # reaches /v1/admin/* too


@pytest.fixture
def api_schema(bundle_home: tuple[Home, Path], api_key: str) -> BaseSchema:
    home, _ = bundle_home
    app = create_app(*build_service(home.config), serve_cfg=home.config.serve)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


def no_server_error(ctx: object, response: Response, case: schemathesis.Case) -> None:
    """schemathesis' not_a_server_error, except the documented 503 of a model whose bundle is not loaded."""
    if response.status_code >= 500 and not (response.status_code == 503 and "bundle loaded" in response.text):
        raise AssertionError(f"{response.status_code} from {case.operation.label}: {response.text[:300]}")


# schemathesis.pytest.from_fixture() needs pytest < 9.2 (it sets Node._nodeid), so the operations are looped here.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_api_conforms_to_its_openapi_document(api_schema: BaseSchema, api_key: str, mode: GenerationMode) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /v1/recommendations", "GET /v1/items/{sku}/similar",
                                                "POST /v1/admin/reload", "GET /readyz", "GET /metrics"}
    failures, calls = {}, dict.fromkeys((op.label for op in operations), 0)
    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            calls[case.operation.label] += 1
            case.call_and_validate(headers={"X-API-Key": api_key}, excluded_checks=[not_a_server_error],
                                   additional_checks=[no_server_error])

        try:
            fuzz()
        except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters, or free strings only)
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = exc
    print(f"{mode.value}: {sum(calls.values())} requests over {len(calls)} operations: {calls}")  # -s shows it
    assert not failures, "\n\n".join(f"{label}: {exc}" for label, exc in failures.items())


# Values Python's json or pydantic's lax mode would take but the API must refuse (issue 14): each lands in a
# field of an otherwise valid body; the answer is a 422 with a reason, never a 5xx, and the body is never echoed.
MALFORMED = [b"NaN", b"-Infinity", b"1e400", b'"\\ud800"', b'"ok\\udfff"', b'["\\udbff"]', b"true", b'"5"',
             b"1" + b"0" * 5000, b"[" * 5000 + b"]" * 5000]


def test_malformed_values_in_any_field_get_422(bundle_home: tuple[Home, Path], api_key: str) -> None:
    from fastapi.testclient import TestClient

    home, _ = bundle_home
    client = TestClient(create_app(*build_service(home.config)), raise_server_exceptions=False)
    marker = b"fuzz-marker@example.org"

    fields = [("/v1/recommendations", f) for f in ("user_id", "k", "exclude", "explain", "history")]
    fields += [("/v1/search", f) for f in ("query", "k", "exclude")]

    @given(where=st.sampled_from(fields), value=st.sampled_from(MALFORMED))
    @settings(max_examples=4 * EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(where: tuple[str, str], value: bytes) -> None:
        route, field = where
        assume((value, field in ("user_id", "query")) != (b'"5"', True) and (value, field) != (b"true", "explain"))
        named = b"user_id" if route == "/v1/recommendations" else b"query"  # unknown fields are refused first
        body = b'{"%s": "%s", "%s": %s}' % (named, marker, field.encode(), value)
        if field in ("user_id", "query"):  # a duplicate of a member is refused for that reason instead
            body = b'{"%s": %s, "k": 3}' % (field.encode(), value)
        response = client.post(route, content=body, headers={"X-API-Key": api_key, "content-type": "application/json"})
        assert response.status_code == 422, (route, field, value[:20], response.text[:200])
        code = response.json()["error"]["code"]
        assert code != "unknown_field" and marker.decode() not in response.text
        assert code in ("invalid_field", "json_invalid", *REASONS), code

    fuzz()
