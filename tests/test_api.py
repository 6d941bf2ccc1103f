"""The HTTP API on the real seed index, a real Chroma server outage, tokens, SSE and ingest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from chromadb.errors import InternalError
from fastapi.testclient import TestClient

from assistant.accounts import Accounts
from assistant.config import Settings
from benchmarks.served import ChromaServer, free_port
from tests.conftest import SEEDS, local_client, make_engine
from ui.api.app import create_api

ASK = {
    "en": "Who trained Haftar's militias in street warfare?",
    "ar": "من درّب ميليشيات حفتر على حرب الشوارع؟",
    "id": "Siapa yang mengoordinasikan pelatihan pasukan Haftar?",
}


@pytest.fixture(scope="module")
def client(seed_engine) -> TestClient:
    """The API over the shared, read-only seed index (no token configured)."""
    return local_client(create_api(seed_engine))


@pytest.fixture
def admin(tmp_path, embedder) -> TestClient:
    """The API over an empty private index with SANAD_API_TOKEN=secret."""
    engine = make_engine(tmp_path, embedder, api_token="secret", ingest_roots=str(tmp_path))
    return local_client(create_api(engine))


AUTH = {"Authorization": "Bearer secret"}


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code
    assert body["error"]["message"] and "Traceback" not in body["error"]["message"]
    return body["error"]["message"]


def sse_events(text: str) -> list[tuple[str, dict]]:
    """Parse a text/event-stream body into (event, data) pairs."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


# --- happy paths ----------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ar", "en", "id"])
def test_ask_cites_exact_document_spans(client, lang):
    response = client.post("/api/ask", json={"question": ASK[lang]})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["grounded"] and answer["citations"], answer
    assert answer["language"] == lang and answer["conversation_id"]
    texts: dict[str, str] = {}
    for c in answer["citations"]:
        if c["doc_id"] not in texts:
            doc = client.get(f"/api/documents/{c['doc_id']}")
            assert doc.status_code == 200
            texts[c["doc_id"]] = doc.json()["text"]
        assert texts[c["doc_id"]][c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in answer["text"]


@pytest.mark.parametrize("lang", ["ar", "en", "id"])
def test_search_returns_exact_spans_best_first(client, lang):
    response = client.post("/api/search", json={"question": ASK[lang], "k": 4})
    assert response.status_code == 200, response.text
    passages = response.json()["passages"]
    assert len(passages) == 4
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)
    for p in passages:
        text = client.get(f"/api/documents/{p['doc_id']}").json()["text"]
        assert text[p["start"] : p["end"]] == p["text"]
    only = client.post(
        "/api/search", json={"question": ASK[lang], "doc_ids": [passages[-1]["doc_id"]]}
    )
    assert {p["doc_id"] for p in only.json()["passages"]} == {passages[-1]["doc_id"]}
    assert client.post("/api/search", json={"question": " "}).status_code == 422


def test_ask_filters_by_language(client):
    response = client.post("/api/ask", json={"question": ASK["en"], "languages": ["ar"]})
    assert response.status_code == 200, response.text
    assert {c["lang"] for c in response.json()["citations"]} <= {"ar"}


def test_citation_lookup_of_an_answer_id(client):
    answer = client.post("/api/ask", json={"question": ASK["en"]}).json()
    cited = answer["citations"][0]
    response = client.get(f"/api/citations/{cited['id']}")
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["citation"]["quote"] == cited["quote"]
    assert found["citation"]["id"] == cited["id"]
    assert cited["quote"] in found["context"]


def test_documents_are_paged(client):
    everything = client.get("/api/documents").json()
    assert everything["total"] == 5 and everything["offset"] == 0 and everything["limit"] == 50
    docs = everything["documents"]
    assert len(docs) == 5
    summary = {"doc_id", "title", "lang", "source", "site", "url", "author", "published", "pages"}
    assert set(docs[0]) == summary | {"n_chunks", "collection"}
    assert {d["collection"] for d in docs} == {"default"}
    assert {d["lang"] for d in docs} == {"ar", "en", "id"}
    page = client.get("/api/documents", params={"offset": 1, "limit": 2}).json()
    assert page["total"] == 5 and page["documents"] == docs[1:3]
    assert client.get("/api/documents", params={"offset": 9}).json()["documents"] == []
    doc = client.get(f"/api/documents/{docs[0]['doc_id']}").json()
    assert set(doc) == summary | {"n_chunks", "text", "page_starts", "collection"}
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "many"}):
        assert_error(client.get("/api/documents", params=bad), 422, "invalid_request")


def test_conversation_export_after_two_asks(client):
    first = client.post("/api/ask", json={"question": ASK["en"]}).json()
    cid = first["conversation_id"]
    follow = {"question": "Who coordinated it?", "conversation_id": cid}
    second = client.post("/api/ask", json=follow)
    assert second.status_code == 200 and second.json()["conversation_id"] == cid
    export = client.get(f"/api/conversations/{cid}")
    assert export.status_code == 200
    turns = export.json()["turns"]
    assert export.json()["conversation_id"] == cid
    assert [t["n"] for t in turns] == [1, 2]
    assert turns[0]["answer"]["citations"] == first["citations"]
    assert "Haftar" in turns[1]["standalone"]


def test_streamed_answer_as_server_sent_events(client):
    with client.stream("POST", "/api/ask", json={"question": ASK["ar"], "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r.read().decode())
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1 and "error" not in kinds
    deltas = [data["text"] for kind, data in events if kind == "delta"]
    assert deltas
    answer = events[-1][1]
    assert answer["grounded"] and answer["citations"] and answer["conversation_id"]
    assert "".join(deltas) == answer["text"]


def test_healthz(client, seed_engine):
    seed_engine.retriever.derived()  # health reports the index only once a search built it
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    index = body.pop("index")
    assert body == {
        "status": "ok",
        "model_loaded": True,
        "chroma": "reachable",
        "documents": 5,
        "chunks": body["chunks"],
    }
    assert body["chunks"] >= 5
    assert index["generation"] >= 1 and index["last_update"] in ("full", "incremental")
    assert index["last_update_ms"] > 0 and index["embed_dtype"] == "float32"


def test_openapi_lists_every_route(client):
    schema = client.get("/api/openapi.json").json()
    assert {
        "/api/ask",
        "/api/search",
        "/api/citations/{citation_id}",
        "/api/documents",
        "/api/documents/{doc_id}",
        "/api/conversations/{conversation_id}",
        "/api/ingest",
        "/healthz",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/api/ask"]["post"]["security"] == [{"HTTPBearer": []}]
    assert client.get("/api/docs").status_code == 200


# --- errors -----------------------------------------------------------------------------------
def test_bad_questions_and_bodies_are_422(client):
    assert "empty" in assert_error(
        client.post("/api/ask", json={"question": "   "}), 422, "invalid_request"
    )
    assert "2000" in assert_error(
        client.post("/api/ask", json={"question": "x" * 2001}), 422, "invalid_request"
    )
    message = assert_error(
        client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "invalid_request",
    )
    assert "JSON" in message
    undecodable = client.post(
        "/api/ask",
        content=b'{"question": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert "UTF-8" in assert_error(undecodable, 422, "invalid_request")  # was an undocumented 400
    assert "question" in assert_error(client.post("/api/ask", json={}), 422, "invalid_request")
    assert "languages" in assert_error(
        client.post("/api/ask", json={"question": "Who?", "languages": ["fr"]}),
        422,
        "invalid_request",
    )
    assert_error(client.post("/api/ask", json=["question"]), 422, "invalid_request")


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/api/ask", '{"question": "\\ud800 Who trained Haftar?"}'),
        ("/api/search", '{"question": "Who?", "sources": ["\\udfff"]}'),
        ("/api/feedback", '{"conversation_id": "\\ud83d", "turn": 0, "rating": "up"}'),
    ],
)
def test_lone_surrogates_in_json_are_422(client, route, body):
    # JSON may escape half a surrogate pair; the tokenizer and sqlite would fail with a 500.
    response = client.post(route, content=body, headers={"content-type": "application/json"})
    assert "surrogate" in assert_error(response, 422, "invalid_request")


def test_unknown_ids_are_404(client):
    assert "no document" in assert_error(
        client.get("/api/citations/0123456789abcdef:0-10"), 404, "not_found"
    )
    assert "malformed" in assert_error(client.get("/api/citations/not-an-id"), 404, "not_found")
    assert_error(client.get("/api/documents/0123456789abcdef"), 404, "not_found")
    assert_error(client.get("/api/conversations/no-such-conversation"), 404, "not_found")
    assert_error(
        client.post("/api/ask", json={"question": ASK["en"], "conversation_id": "nope"}),
        404,
        "not_found",
    )
    assert_error(client.get("/api/no-such-route"), 404, "not_found")
    assert_error(client.delete("/api/documents"), 405, "method_not_allowed")


def test_token_is_required_on_api_but_not_healthz(admin):
    assert "missing" in assert_error(admin.get("/api/documents"), 401, "unauthorized")
    wrong = admin.get("/api/documents", headers={"Authorization": "Bearer nope"})
    assert "wrong" in assert_error(wrong, 401, "unauthorized")
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert_error(admin.post("/api/ask", json={"question": ASK["en"]}), 401, "unauthorized")
    ok = admin.get("/api/documents", headers=AUTH)
    assert ok.status_code == 200 and ok.json()["total"] == 0
    assert admin.get("/healthz").status_code == 200


def test_healthz_tells_only_known_callers_the_corpus_size(admin):
    anonymous = admin.get("/healthz")
    assert anonymous.status_code == 200
    assert anonymous.json() == {
        "status": "ok",
        "model_loaded": anonymous.json()["model_loaded"],
        "chroma": "reachable",
    }
    for wrong in ({"Authorization": "Bearer nope"}, {"Authorization": "Basic c2VjcmV0"}):
        assert "documents" not in admin.get("/healthz", headers=wrong).json()
    known = admin.get("/healthz", headers=AUTH).json()
    assert known["documents"] == 0 and known["chunks"] == 0
    admin.app.state.engine.search_failure = (
        "Chroma at http://10.0.0.7:8000 refused"  # as _retrieve sets it
    )
    degraded = admin.get("/healthz")
    assert degraded.status_code == 503 and degraded.json()["error"]["code"] == "searches_failing"
    assert "10.0.0.7" not in degraded.text and degraded.json()["documents"] is None
    assert "10.0.0.7" in admin.get("/healthz", headers=AUTH).json()["error"]["message"]


def test_ingest_needs_a_configured_token(client, tmp_path):
    message = assert_error(
        client.post("/api/ingest", json={"paths": [str(tmp_path)]}), 403, "forbidden"
    )
    assert "SANAD_API_TOKEN" in message


def test_ingest_with_the_token(admin, tmp_path):
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Solar farm opens\n\nThe new solar farm near Tobruk produces 50 megawatts. "
        "Engineers from three countries built it in two years.\n",
        encoding="utf-8",
    )
    (folder / "b.txt").write_text(
        "Pelabuhan baru\n\nPelabuhan baru di Misrata dibuka pada hari Senin. "
        "Pelabuhan itu dapat menampung kapal kontainer besar.\n",
        encoding="utf-8",
    )
    body = {"paths": [str(folder)]}
    assert_error(admin.post("/api/ingest", json=body), 401, "unauthorized")
    missing = tmp_path / "missing"
    message = assert_error(
        admin.post("/api/ingest", json={"paths": [str(missing)]}, headers=AUTH),
        422,
        "invalid_request",
    )
    assert str(missing) in message
    assert_error(
        admin.post("/api/ingest", json={"paths": []}, headers=AUTH), 422, "invalid_request"
    )
    report = admin.post("/api/ingest", json=body, headers=AUTH)
    assert report.status_code == 200, report.text
    data = report.json()
    assert len(data["added"]) == 2 and data["chunks_embedded"] >= 2 and data["summary"]
    assert admin.get("/api/documents", headers=AUTH).json()["total"] == 2
    again = admin.post("/api/ingest", json={**body, "sync": True}, headers=AUTH).json()
    assert len(again["unchanged"]) == 2 and again["chunks_embedded"] == 0
    answer = admin.post(
        "/api/ask",
        json={"question": "How much power does the solar farm near Tobruk produce?"},
        headers=AUTH,
    ).json()
    assert answer["grounded"] and "50 megawatts" in answer["text"]


def test_unexpected_errors_are_500_without_details(tmp_path):
    def boom():
        raise RuntimeError("secret internal detail")

    engine = SimpleNamespace(
        settings=Settings(data_dir=tmp_path / "data"),
        accounts=Accounts(tmp_path / "accounts.sqlite3"),
        documents=lambda access: boom(),
    )
    client = local_client(create_api(engine), raise_server_exceptions=False)
    message = assert_error(client.get("/api/documents"), 500, "internal_error")
    assert "secret" not in message


# --- Chroma outage and recovery ----------------------------------------------------------------
def test_chroma_outage_is_503_and_recovers_without_restart(tmp_path, embedder):
    path, port = tmp_path / "chroma-server", free_port()
    server = ChromaServer(path, port).start()
    try:
        engine = make_engine(tmp_path, embedder, chroma_url=server.url)
        engine.ingest([SEEDS], progress=False)
        client = local_client(create_api(engine))
        question = {"question": ASK["en"]}
        assert client.post("/api/ask", json=question).json()["grounded"]
        assert client.get("/healthz").status_code == 200

        server.stop()
        message = assert_error(client.post("/api/ask", json=question), 503, "store_unavailable")
        assert server.url in message and "unreachable" in message
        assert_error(
            client.post("/api/ask", json={**question, "stream": True}), 503, "store_unavailable"
        )
        assert_error(client.get("/api/documents"), 503, "store_unavailable")
        cited = "0123456789abcdef:0-10"
        assert_error(client.get(f"/api/citations/{cited}"), 503, "store_unavailable")
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded"
        assert health.json()["chroma"] == "unreachable"
        assert health.json()["error"]["code"] == "store_unavailable"

        server = ChromaServer(path, port).start()  # same port and data: the app recovers
        again = client.post("/api/ask", json=question)
        assert again.status_code == 200, again.text
        assert again.json()["grounded"] and again.json()["citations"]
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["documents"] == 5
    finally:
        server.stop()


# --- filters, uploads, deletes ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("filters", "sources"),
    [
        ({"published_after": "2019-12-08"}, {"000"}),
        ({"published_before": "2019-12-07"}, {"001"}),
        ({"published_after": "2019-12-01", "published_before": "2019-12-31"}, {"000", "001"}),
        ({"sources": ["seeds/001_b8dc84c3be759f24.txt"]}, {"001"}),
        ({"sources": ["seeds"], "languages": ["ar"]}, {"002", "003", "004"}),
    ],
)
def test_search_and_ask_filters(client, filters, sources):
    for route in ("/api/search", "/api/ask"):
        body = {"question": ASK["en"], **filters}
        response = client.post(route, json={**body, "k": 20} if route.endswith("search") else body)
        assert response.status_code == 200, response.text
        data = response.json()
        spans = data["passages"] if route.endswith("search") else data["citations"]
        assert spans or route.endswith("ask")
        assert {s["source"].split("/")[1][:3] for s in spans} <= sources
        for span in spans:
            assert (
                "published_after" not in filters or span["published"] >= filters["published_after"]
            )


def test_filters_reject_bad_dates_and_empty_ranges(client):
    bad = {"question": ASK["en"], "published_after": "2019-13-45"}
    assert_error(client.post("/api/search", json=bad), 422, "invalid_request")
    empty = {
        "question": ASK["en"],
        "published_after": "2020-01-02",
        "published_before": "2020-01-01",
    }
    assert "empty" in assert_error(client.post("/api/ask", json=empty), 422, "invalid_request")


def test_upload_and_delete_need_the_token(admin):
    files = [
        (
            "files",
            (
                "tobruk.txt",
                b"Solar farm opens\n\nThe new solar farm near Tobruk produces "
                b"50 megawatts, engineers said on Monday.\n",
                "text/plain",
            ),
        ),
        ("files", ("../evil.txt", b"escape", "text/plain")),
    ]
    assert_error(admin.post("/api/documents", files=files), 401, "unauthorized")
    response = admin.post("/api/documents", files=files, headers=AUTH)
    assert response.status_code == 200, response.text
    results = response.json()["files"]
    assert [r["status"] for r in results] == ["added", "skipped"]
    assert "path separator" in results[1]["reason"]
    doc_id = results[0]["doc_id"]
    listed = admin.get("/api/documents", headers=AUTH).json()["documents"]
    assert [d["source"] for d in listed] == ["uploads/tobruk.txt"]
    assert_error(admin.delete(f"/api/documents/{doc_id}"), 401, "unauthorized")
    reindexed = admin.post(f"/api/documents/{doc_id}/reindex", headers=AUTH)
    assert reindexed.status_code == 200 and reindexed.json()["doc_ids"] == {
        "uploads/tobruk.txt": doc_id
    }
    deleted = admin.delete(f"/api/documents/{doc_id}", headers=AUTH)
    assert deleted.status_code == 200 and deleted.json()["doc_id"] == doc_id
    assert_error(admin.delete(f"/api/documents/{doc_id}", headers=AUTH), 404, "not_found")
    assert_error(admin.post(f"/api/documents/{doc_id}/reindex", headers=AUTH), 404, "not_found")
    hits = admin.post("/api/search", json={"question": "solar farm Tobruk"}, headers=AUTH).json()
    assert hits["passages"] == []


def test_upload_without_a_token_configured_is_open(tmp_path, embedder):
    client = local_client(create_api(make_engine(tmp_path, embedder)))
    files = [
        (
            "files",
            ("note.md", b"# Note\n\nA short note about the port of Rades.\n", "text/markdown"),
        )
    ]
    response = client.post("/api/documents", files=files)
    assert response.status_code == 200 and response.json()["files"][0]["status"] == "added"
    assert_error(client.post("/api/documents"), 422, "invalid_request")


def test_a_body_over_the_limit_is_refused_before_it_is_stored(tmp_path, embedder):
    """Issue 22, point 4: 413 at once for a declared size, and while reading a chunked one."""
    engine = make_engine(tmp_path, embedder, max_request_mb=1)
    client = local_client(create_api(engine))
    big = b"x" * (3 * 2**20)
    files = [("files", ("big.txt", big, "text/plain"))]
    message = assert_error(client.post("/api/documents", files=files), 413, "payload_too_large")
    assert "1 MB" in message

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        boundary = b"--sanad\r\n"
        yield boundary + b'Content-Disposition: form-data; name="files"; filename="big.txt"\r\n'
        yield b"Content-Type: text/plain\r\n\r\n"
        for _ in range(48):
            yield b"y" * 2**16
        yield b"\r\n--sanad--\r\n"

    response = client.post(
        "/api/documents",
        content=chunked(),
        headers={"Content-Type": "multipart/form-data; boundary=sanad"},
    )
    assert_error(response, 413, "payload_too_large")
    assert not (tmp_path / "data" / "uploads").exists() or not any(
        (tmp_path / "data" / "uploads").iterdir()
    )
    assert engine.store.documents() == []
    small = [("files", ("note.md", b"# Note\n\nThe port of Rades opens at dawn.\n", "text/md"))]
    assert client.post("/api/documents", files=small).status_code == 200


def test_errors_name_no_server_paths(tmp_path, embedder):
    """Issue 22, point 10: a 409 or 503 says what went wrong without the server's paths."""
    engine = make_engine(tmp_path, embedder)
    client = local_client(create_api(engine))
    files = [("files", ("gone.md", b"# Gone\n\nThe ferry to Cape Varrow leaves at nine.\n", "x"))]
    doc_id = client.post("/api/documents", files=files).json()["files"][0]["doc_id"]
    (tmp_path / "data" / "uploads" / "gone.md").unlink()
    message = assert_error(client.post(f"/api/documents/{doc_id}/reindex"), 409, "conflict")
    assert "uploads/gone.md" in message and str(tmp_path) not in message
    unavailable = engine.store_unavailable(ConnectionError("down"))
    assert "data directory" in str(unavailable) and str(tmp_path) not in str(unavailable)


def test_too_many_files_says_so(tmp_path, embedder):
    """Issue 22, point 10: 1,001 files are refused for their number, not as unreadable JSON."""
    client = local_client(create_api(make_engine(tmp_path, embedder)))
    files = [("files", (f"n{i}.txt", b"x", "text/plain")) for i in range(1001)]
    message = assert_error(client.post("/api/documents", files=files), 422, "invalid_request")
    assert "1000" in message and "JSON" not in message


# --- cross-site requests and DNS rebinding (no token set) ------------------------------------
def test_a_page_on_another_site_cannot_upload_and_a_foreign_host_is_refused(tmp_path, embedder):
    client = local_client(create_api(make_engine(tmp_path, embedder)))
    files = [("files", ("note.md", b"# Note\n\nThe port of Rades reopened.\n", "text/markdown"))]
    for origin in ("http://evil.example", "null", "http://127.0.0.1:9999"):
        refused = client.post("/api/documents", files=files, headers={"Origin": origin})
        assert_error(refused, 403, "foreign_origin")
    assert client.get("/api/documents").json()["total"] == 0  # nothing was ingested
    own = client.post("/api/documents", files=files, headers={"Origin": "http://127.0.0.1"})
    assert own.status_code == 200 and own.json()["files"][0]["status"] == "added"
    # A rebinding page reaches 127.0.0.1 under its own name: refused, reads included.
    for host in ("evil.example", "evil.example:7860", "127.0.0.1.nip.io"):
        assert_error(client.get("/api/documents", headers={"Host": host}), 421, "unknown_host")
    for host in ("localhost:7860", "127.0.0.1", "[::1]:7860"):
        assert client.get("/api/documents", headers={"Host": host}).status_code == 200, host
    named = local_client(
        create_api(make_engine(tmp_path / "b", embedder, allowed_hosts="news.example"))
    )
    assert named.get("/api/documents", headers={"Host": "news.example"}).status_code == 200
    assert named.get("/api/documents", headers={"Host": "other.example"}).status_code == 421


def test_server_side_ingest_reads_only_below_the_ingest_roots(admin, tmp_path):
    secret = tmp_path.parent / f"{tmp_path.name}-private"
    secret.mkdir()
    (secret / "id_rsa.txt").write_text("Private key\n\nThis is a private key file.\n")
    refused = [
        assert_error(
            admin.post("/api/ingest", json={"paths": [str(path)]}, headers=AUTH), 403, "forbidden"
        )
        for path in (secret / "id_rsa.txt", secret / "missing.txt", "/root/.ssh/id_rsa", "/")
    ]
    assert len(set(refused)) == 1 and "SANAD_INGEST_ROOTS" in refused[0]  # exists or not: alike
    assert all(str(secret) not in m and "/root" not in m for m in refused)
    inside = tmp_path / "inbox"
    inside.mkdir()
    (inside / "news.txt").write_text("Port news\n\nThe port of Rades reopened on Monday.\n")
    (inside / "link.txt").symlink_to(secret / "id_rsa.txt")  # a link out of the roots
    report = admin.post("/api/ingest", json={"paths": [str(inside)]}, headers=AUTH).json()
    assert [Path(p).name for p in report["added"]] == ["news.txt"]
    assert [Path(p).name for p, _ in report["skipped"]] == ["link.txt"]
    assert "outside" in report["skipped"][0][1]
    escape = admin.post("/api/ingest", json={"paths": [f"{inside}/../../"]}, headers=AUTH)
    assert_error(escape, 403, "forbidden")


def test_server_side_ingest_without_roots_reads_nothing(tmp_path, embedder):
    engine = make_engine(tmp_path, embedder, api_token="secret")
    client = local_client(create_api(engine))
    response = client.post("/api/ingest", json={"paths": [str(tmp_path)]}, headers=AUTH)
    assert "SANAD_INGEST_ROOTS" in assert_error(response, 403, "forbidden")
    assert engine.store.documents() == []


def test_wrong_tokens_are_throttled_per_client(admin):
    failures = admin.app.state.login_failures
    now = [1000.0]
    failures.clock = lambda: now[0]  # fake time: the window passes without sleeping
    wrong = {"Authorization": "Bearer guess"}
    for _ in range(failures.attempts):
        assert_error(admin.get("/api/documents", headers=wrong), 401, "unauthorized")
    refused = admin.get("/api/documents", headers=AUTH)  # even the right token waits now
    assert_error(refused, 429, "too_many_attempts")
    assert 0 < int(refused.headers["retry-after"]) <= failures.window
    assert admin.get("/healthz").status_code == 200  # requests without credentials pass
    now[0] += failures.window + 1
    assert admin.get("/api/documents", headers=AUTH).status_code == 200
    for _ in range(failures.attempts - 1):  # a success forgot the failures: the count restarts
        admin.get("/api/documents", headers=wrong)
    assert admin.get("/api/documents", headers=AUTH).status_code == 200


def test_healthz_reports_failing_searches_while_chroma_answers(tmp_path, seeded, monkeypatch):
    engine = seeded(tmp_path)
    client = local_client(create_api(engine))
    question = {"question": ASK["en"]}
    assert client.post("/api/search", json=question).status_code == 200
    assert client.get("/healthz").status_code == 200

    def failing(*args, **kwargs):
        raise InternalError("Error finding id")  # as a second process's writes once caused

    monkeypatch.setattr(engine.retriever, "search", failing)
    assert_error(client.post("/api/search", json=question), 503, "store_unavailable")
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["chroma"] == "reachable"
    assert health.json()["error"]["code"] == "searches_failing"
    monkeypatch.undo()
    assert client.post("/api/search", json=question).status_code == 200
    assert client.get("/healthz").status_code == 200
