"""Schemathesis fuzzing of the HTTP API from its own OpenAPI schema, on the real seed index.

Every generated request, valid (positive) or not (negative), must get a status code the
schema documents, a body of the documented content type and shape, and never a 500.
"""

from __future__ import annotations

import io

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

from assistant.engine import Engine
from tests.conftest import make_engine
from ui.api.app import create_api

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
    ("GET", "/api/conversations"),
    ("GET", "/api/conversations/{conversation_id}"),
    ("GET", "/api/conversations/{conversation_id}/export"),
    ("GET", "/api/feedback"),
    ("POST", "/api/ingest"),
    ("GET", "/healthz"),
    ("GET", "/v1/models"),
    ("POST", "/v1/chat/completions"),
]
# Routes that change the corpus run against a private index, not the shared seed index.
FUZZER_HOST = "testserver"  # the Host schemathesis's in-process client sends

WRITES = [
    ("POST", "/api/documents"),
    ("DELETE", "/api/documents/{doc_id}"),
    ("POST", "/api/documents/{doc_id}/reindex"),
    ("PATCH", "/api/conversations/{conversation_id}"),
    ("DELETE", "/api/conversations/{conversation_id}"),
    ("POST", "/api/feedback"),
]


@pytest.fixture(scope="module")
def api_schema(seed_engine):
    """The API's own OpenAPI schema, served in process over the shared seed index."""
    settings = seed_engine.settings.model_copy(update={"allowed_hosts": FUZZER_HOST})
    engine = Engine(settings, embedder=seed_engine.embedder)
    engine.store = seed_engine.store
    return schemathesis.openapi.from_asgi("/api/openapi.json", create_api(engine))


@pytest.fixture(scope="module")
def write_schema(tmp_path_factory, embedder):
    """The same schema over a private index with one uploaded document."""
    engine = make_engine(tmp_path_factory.mktemp("fuzz"), embedder, allowed_hosts=FUZZER_HOST)
    engine.library.upload([("note.txt", io.BytesIO(b"The port of Rades will double in size."))])
    return schemathesis.openapi.from_asgi("/api/openapi.json", create_api(engine))


def test_the_schema_lists_exactly_the_fuzzed_operations(api_schema):
    listed = {(r.ok().method.upper(), r.ok().path) for r in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS + WRITES)


CASES = [
    (method, path, mode)
    for method, path in OPERATIONS + WRITES
    for mode in GenerationMode
    if not (path in ("/healthz", "/v1/models") and mode is GenerationMode.NEGATIVE)  # no input
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=str)
def test_every_generated_request_gets_a_documented_answer(request, method, path, mode):
    schema = request.getfixturevalue("write_schema" if (method, path) in WRITES else "api_schema")
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def check(case):
        case.call_and_validate(checks=CHECKS)

    check()
