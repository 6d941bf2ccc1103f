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
    ("GET", "/api/collections"),
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
# Account routes run on their own index, as the admin token: a user they create ends the open
# mode, and every later request then needs credentials.
ADMIN = [
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users"),
    ("PATCH", "/api/admin/users/{name}"),
    ("POST", "/api/admin/users/{name}/keys"),
    ("POST", "/api/admin/collections/{name}"),
    ("GET", "/api/admin/grants"),
    ("PUT", "/api/admin/collections/{collection}/grants"),
    ("DELETE", "/api/admin/collections/{collection}/grants/{user}"),
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


ADMIN_TOKEN = "admin token of the fuzzed accounts"


@pytest.fixture(scope="module")
def admin_schema(tmp_path_factory, embedder):
    """The schema over a private data directory whose admin token the fuzzer sends."""
    engine = make_engine(
        tmp_path_factory.mktemp("admin"),
        embedder,
        allowed_hosts=FUZZER_HOST,
        api_token=ADMIN_TOKEN,
    )
    engine.accounts.add_user("writer", "editor", "writer password")
    return schemathesis.openapi.from_asgi("/api/openapi.json", create_api(engine))


def test_the_schema_lists_exactly_the_fuzzed_operations(api_schema):
    listed = {(r.ok().method.upper(), r.ok().path) for r in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS + WRITES + ADMIN)


CASES = [
    (method, path, mode)
    for method, path in OPERATIONS + WRITES + ADMIN
    for mode in GenerationMode
    if not (path in ("/healthz", "/v1/models") and mode is GenerationMode.NEGATIVE)  # no input
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=str)
def test_every_generated_request_gets_a_documented_answer(request, method, path, mode):
    fixture = "api_schema"
    if (method, path) in WRITES:
        fixture = "write_schema"
    elif (method, path) in ADMIN:
        fixture = "admin_schema"
    schema = request.getfixturevalue(fixture)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"} if fixture == "admin_schema" else None

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def check(case):
        case.call_and_validate(checks=CHECKS, headers=headers)

    check()


# --- a reader never sees another collection --------------------------------------------------
READS = [op for op in OPERATIONS if op[1] not in ("/healthz", "/api/ingest")]
MEMO = (
    "Desk B budget memo\n\nThe confidential inquiry budget of desk B is 4.2 million dollars, "
    "approved in Tripoli on 3 March 2020 after the Haftar briefing."
)


@pytest.fixture(scope="module")
def reader_schema(tmp_path_factory, seeded):
    """The API as a reader of `default` sees it, beside a `desk-b` memo they cannot read."""
    tmp = tmp_path_factory.mktemp("reader")
    engine = seeded(tmp, allowed_hosts=FUZZER_HOST)
    engine.accounts.add_collection("desk-b")
    memo = tmp / "memo" / "budget.txt"
    memo.parent.mkdir()
    memo.write_text(MEMO, encoding="utf-8")
    report = engine.library.ingest_paths([memo.parent], progress=False, collection="desk-b")
    (memo_id,) = report.doc_ids.values()
    engine.accounts.add_user("reader", "reader", "reader password")
    engine.accounts.grant("default", "reader", "read")
    _, key = engine.accounts.create_key("reader")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_api(engine))
    return schema, key, memo_id


@pytest.mark.parametrize(("method", "path"), READS, ids=str)
def test_a_reader_never_receives_a_passage_of_a_collection_they_cannot_read(
    reader_schema, method, path
):
    schema, key, memo_id = reader_schema
    operation = schema[path][method]
    secrets = ("4.2 million", "Desk B budget memo", "desk-b")  # its text, title, collection

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(
        max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def check(case):
        for name in case.path_parameters or {}:  # aim every id at the memo
            case.path_parameters[name] = f"{memo_id}:0-40" if "citation" in name else memo_id
        if isinstance(case.body, dict):
            case.body.update(question="What is the confidential inquiry budget of desk B?")
            if "doc_ids" in case.body or path == "/api/search":
                case.body["doc_ids"] = [memo_id]
        response = case.call(headers={"Authorization": f"Bearer {key}"})
        assert response.status_code < 500, response.text
        assert not any(secret in response.text for secret in secrets), response.text[:300]
        if response.status_code == 200:  # an error may repeat the id asked for, nothing more
            assert memo_id not in response.text, response.text[:300]

    check()
