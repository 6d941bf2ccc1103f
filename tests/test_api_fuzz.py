"""Schemathesis fuzzing of the HTTP API from its own OpenAPI schema, on the real seed index.

Every generated request, valid (positive) or not (negative), must get a status code the
schema documents, a body of the documented content type and shape, and never a 500.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assistant.api import create_api

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
OPERATIONS = [
    ("POST", "/api/ask"),
    ("POST", "/api/search"),
    ("GET", "/api/citations/{citation_id}"),
    ("GET", "/api/documents"),
    ("GET", "/api/documents/{doc_id}"),
    ("GET", "/api/conversations/{conversation_id}"),
    ("POST", "/api/ingest"),
    ("GET", "/healthz"),
]


@pytest.fixture(scope="module")
def api_schema(seed_engine):
    """The API's own OpenAPI schema, served in process over the shared seed index."""
    return schemathesis.openapi.from_asgi("/api/openapi.json", create_api(seed_engine))


def test_the_schema_lists_exactly_the_fuzzed_operations(api_schema):
    listed = {(r.ok().method.upper(), r.ok().path) for r in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS)


CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in GenerationMode
    if not (path == "/healthz" and mode is GenerationMode.NEGATIVE)  # no input to get wrong
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=str)
def test_every_generated_request_gets_a_documented_answer(api_schema, method, path, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def check(case):
        case.call_and_validate(checks=CHECKS)

    check()
