"""The workspace API (/api/conversations, /api/feedback) behind a token, on real answers."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from assistant.citations import Answer
from assistant.engine import Engine
from tests.conftest import local_client, make_engine
from tests.test_api import ASK, AUTH, assert_error
from ui.api.app import create_api


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder, seed_engine) -> Engine:
    """SANAD_API_TOKEN=secret, conversations and feedback of its own, answers from the
    session's read-only seed index (no second ingest of the seeds)."""
    engine = make_engine(
        tmp_path_factory.mktemp("api-workspace"),
        embedder,
        api_token="secret",
        login_attempts=1000,  # the tests send many wrong tokens on purpose
    )
    engine.store = seed_engine.store
    return engine


@pytest.fixture(scope="module")
def api(engine) -> TestClient:
    return local_client(create_api(engine))


@pytest.fixture(scope="module")
def asked(api) -> dict[str, dict]:
    """A grounded answer in English and one in Arabic, each in its own conversation."""
    answers = {}
    for lang in ("en", "ar"):
        response = api.post("/api/ask", json={"question": ASK[lang]}, headers=AUTH)
        assert response.status_code == 200, response.text
        answers[lang] = response.json()
        assert answers[lang]["grounded"] and answers[lang]["citations"]
    return answers


def copy_conversation(engine: Engine, question: str, answer: dict) -> str:
    """A new conversation holding a copy of a real answer (a little later than the last)."""
    time.sleep(0.002)
    cid = engine.conversations.create()
    engine.conversations.add_turn(
        cid, question, question, Answer.model_validate(answer), engine.answer_settings(None)
    )
    return cid


def listed(api: TestClient, **params) -> dict:
    response = api.get("/api/conversations", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def routes(cid: str, citation_id: str) -> list[tuple[str, str, dict]]:
    """Every workspace route as (method, path, request arguments)."""
    export = f"/api/conversations/{cid}/export"
    return [
        ("GET", "/api/conversations", {"params": {"q": "haftar", "limit": 5}}),
        ("GET", f"/api/conversations/{cid}", {}),
        ("PATCH", f"/api/conversations/{cid}", {"json": {"title": "Taken over"}}),
        ("DELETE", f"/api/conversations/{cid}", {}),
        ("GET", export, {"params": {"format": "md"}}),
        ("GET", export, {"params": {"format": "json"}}),
        (
            "POST",
            "/api/feedback",
            {"json": {"conversation_id": cid, "turn": 0, "rating": "down"}},
        ),
        (
            "POST",
            "/api/feedback",
            {
                "json": {
                    "conversation_id": cid,
                    "turn": 0,
                    "rating": "up",
                    "citation_id": citation_id,
                }
            },
        ),
        ("GET", "/api/feedback", {}),
        ("GET", "/api/feedback", {"params": {"format": "jsonl", "conversation_id": cid}}),
    ]


def test_every_workspace_route_needs_the_token(api, engine, asked):
    en = asked["en"]
    cid = copy_conversation(engine, "Guarded conversation", en)
    for method, path, kwargs in routes(cid, en["citations"][0]["id"]):
        missing = api.request(method, path, **kwargs)
        assert "missing" in assert_error(missing, 401, "unauthorized"), (method, path)
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = api.request(method, path, headers={"Authorization": "Bearer nope"}, **kwargs)
        assert "wrong" in assert_error(wrong, 401, "unauthorized"), (method, path)
        basic = api.request(method, path, headers={"Authorization": "Basic secret"}, **kwargs)
        assert_error(basic, 401, "unauthorized")
    # nothing happened without the token
    assert engine.conversations.summary(cid).title == "Guarded conversation"
    assert engine.feedback.records(cid) == []
    # and everything works with it (DELETE last)
    expected = {"POST": 201}
    for method, path, kwargs in sorted(
        routes(cid, en["citations"][0]["id"]), key=lambda r: r[0] == "DELETE"
    ):
        response = api.request(method, path, headers=AUTH, **kwargs)
        assert response.status_code == expected.get(method, 200), (method, path, response.text)
    assert not engine.conversations.exists(cid)
    schema = api.get("/api/openapi.json").json()
    assert {
        "/api/conversations",
        "/api/conversations/{conversation_id}",
        "/api/conversations/{conversation_id}/export",
        "/api/feedback",
    } <= set(schema["paths"])
    assert schema["paths"]["/api/feedback"]["post"]["security"] == [{"HTTPBearer": []}]


def test_the_list_is_paged_and_searched(api, engine, asked):
    made = [copy_conversation(engine, f"Okapi paging question {i}", asked["en"]) for i in range(3)]
    first = listed(api, q="okapi paging", limit=2)
    assert (first["total"], first["offset"], first["limit"]) == (3, 0, 2)
    assert [c["conversation_id"] for c in first["conversations"]] == made[:0:-1]
    rest = listed(api, q="OKAPI PAGING", offset=2, limit=2)
    assert rest["total"] == 3 and [c["conversation_id"] for c in rest["conversations"]] == made[:1]
    summary = first["conversations"][0]
    assert set(summary) == {"conversation_id", "title", "created", "updated", "turns"}
    assert summary["title"] == "Okapi paging question 2" and summary["turns"] == 1
    everything = listed(api)
    ids = [c["conversation_id"] for c in everything["conversations"]]
    assert everything["total"] == len(ids) >= 5
    assert {asked["en"]["conversation_id"], asked["ar"]["conversation_id"], *made} <= set(ids)
    updated = [c["updated"] for c in everything["conversations"]]
    assert updated == sorted(updated, reverse=True)
    ar, en = asked["ar"]["conversation_id"], asked["en"]["conversation_id"]
    # the question says درّب, the answer إلى أن: harakat and alef variants do not matter
    for query in ("درب ميليشيات", "دَرَّبَ ميليشيات", "الى ان التدريب"):
        found = {c["conversation_id"] for c in listed(api, q=query)["conversations"]}
        assert ar in found and en not in found, query
    assert listed(api, q="no such words anywhere") == {
        "total": 0,
        "offset": 0,
        "limit": 50,
        "conversations": [],
    }
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"q": "x" * 501}, {"limit": "all"}):
        response = api.get("/api/conversations", params=bad, headers=AUTH)
        assert_error(response, 422, "invalid_request")


def test_a_conversation_reads_back_with_its_settings(api, asked):
    en = asked["en"]
    response = api.get(f"/api/conversations/{en['conversation_id']}", headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["conversation_id"] == en["conversation_id"]
    (turn,) = body["turns"]
    assert turn["n"] == 1 and turn["question"] == ASK["en"]
    assert turn["answer"]["citations"] == en["citations"] and turn["answer"]["text"] == en["text"]
    assert turn["settings"]["answer_mode"] == "extractive" and turn["settings"]["top_k"] >= 1


def test_rename(api, engine, asked):
    cid = copy_conversation(engine, "To be renamed", asked["en"])
    newer = copy_conversation(engine, "Newer than the renamed one", asked["en"])
    before = engine.conversations.summary(cid)
    response = api.patch(
        f"/api/conversations/{cid}", json={"title": "  Street\tokapi\n warfare "}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        **before.model_dump(),
        "title": "Street okapi warfare",
    }
    page = listed(api, q="OKAPI WARFARE")
    assert [c["conversation_id"] for c in page["conversations"]] == [cid]
    order = [c["conversation_id"] for c in listed(api)["conversations"]]
    assert order.index(newer) < order.index(cid)  # renaming does not make it the newest
    for body in ({"title": "   "}, {"title": "\x00\n"}, {}, {"title": "x", "extra": 1}, ["x"]):
        assert_error(
            api.patch(f"/api/conversations/{cid}", json=body, headers=AUTH), 422, "invalid_request"
        )
    assert engine.conversations.summary(cid).title == "Street okapi warfare"
    unknown = api.patch("/api/conversations/nope", json={"title": "x"}, headers=AUTH)
    assert "nope" in assert_error(unknown, 404, "not_found")


def test_export_markdown_is_an_attachment_with_the_citations(api, asked):
    for lang in ("en", "ar"):
        answer = asked[lang]
        cid = answer["conversation_id"]
        response = api.get(
            f"/api/conversations/{cid}/export", params={"format": "md"}, headers=AUTH
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/markdown; charset=utf-8"
        disposition = response.headers["content-disposition"]
        assert disposition == f'attachment; filename="sanad-{cid}.md"'
        md = response.text
        assert md.startswith("# ") and ASK[lang] in md.splitlines()[0]
        assert f"- Conversation: `{cid}`" in md
        for c in answer["citations"]:
            assert f"- Citation id: `{c['id']}`" in md
            assert f"### [{c['n']}] " in md
        assert ("\u200f" in md.splitlines()[0]) == (lang == "ar")  # the Arabic title is marked


def test_export_json_matches_the_citation_lookup(api, asked):
    answer = asked["ar"]
    cid = answer["conversation_id"]
    response = api.get(f"/api/conversations/{cid}/export", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == f'attachment; filename="sanad-{cid}.json"'
    export = response.json()
    assert export["conversation_id"] == cid and export["title"] == ASK["ar"]
    (turn,) = export["turns"]
    assert (turn["turn"], turn["question"], turn["answer"]) == (0, ASK["ar"], answer["text"])
    assert turn["citations"] == answer["citations"]
    for c in turn["citations"]:
        found = api.get(f"/api/citations/{c['id']}", headers=AUTH)
        assert found.status_code == 200, found.text
        assert found.json()["citation"]["quote"] == c["quote"]
        text = api.get(f"/api/documents/{c['doc_id']}", headers=AUTH).json()["text"]
        assert text[c["start"] : c["end"]] == c["quote"]
    bad = api.get(f"/api/conversations/{cid}/export", params={"format": "pdf"}, headers=AUTH)
    assert_error(bad, 422, "invalid_request")


def test_feedback_is_recorded_replaced_and_validated(api, asked):
    en, ar = asked["en"], asked["ar"]
    cid, cited = en["conversation_id"], en["citations"][0]

    def post(body: dict):
        return api.post("/api/feedback", json=body, headers=AUTH)

    up = post({"conversation_id": cid, "turn": 0, "rating": "up"})
    assert up.status_code == 201, up.text
    record = up.json()
    assert record["question"] == ASK["en"] and record["answer"] == en["text"]
    assert record["citations"] == en["citations"] and record["language"] == "en"
    assert record["settings"]["answer_mode"] == "extractive" and record["citation"] is None
    down = post(
        {
            "conversation_id": cid,
            "turn": 0,
            "rating": "down",
            "citation_id": cited["id"],
            "comment": "does not support the statement",
        }
    )
    assert down.status_code == 201, down.text
    assert down.json()["citation"] == cited and down.json()["comment"].startswith("does not")
    again = post({"conversation_id": cid, "turn": 0, "rating": "down"})
    assert again.status_code == 201
    mine = api.get("/api/feedback", params={"conversation_id": cid}, headers=AUTH).json()
    assert mine["total"] == 2 and len(mine["feedback"]) == 2
    verdicts = {(r["citation_id"], r["rating"]) for r in mine["feedback"]}
    assert verdicts == {(None, "down"), (cited["id"], "down")}

    unknown = post({"conversation_id": "nope", "turn": 0, "rating": "up"})
    assert "nope" in assert_error(unknown, 404, "not_found")
    past = post({"conversation_id": cid, "turn": 3, "rating": "up"})
    assert "turn 3" in assert_error(past, 404, "not_found")
    not_cited = next(
        c["id"] for c in ar["citations"] if c["id"] not in {x["id"] for x in en["citations"]}
    )
    for body, says in (
        ({"conversation_id": cid, "turn": 0, "rating": "meh"}, "rating"),
        ({"conversation_id": cid, "turn": 0, "rating": "up", "extra": True}, "extra"),
        ({"conversation_id": cid, "turn": -1, "rating": "up"}, "turn"),
        ({"conversation_id": cid, "turn": 0, "rating": "up", "citation_id": not_cited}, "cite"),
        ({"conversation_id": cid, "turn": 0, "rating": "up", "comment": "x" * 2001}, "comment"),
        ({"turn": 0, "rating": "up"}, "conversation_id"),
    ):
        assert says in assert_error(post(body), 422, "invalid_request"), body
    assert api.get("/api/feedback", params={"conversation_id": cid}, headers=AUTH).json() == mine


def test_feedback_lists_as_json_and_jsonl(api, asked):
    for lang in ("en", "ar"):
        body = {"conversation_id": asked[lang]["conversation_id"], "turn": 0, "rating": "up"}
        assert api.post("/api/feedback", json=body, headers=AUTH).status_code == 201
    everything = api.get("/api/feedback", headers=AUTH).json()
    assert set(everything) == {"total", "feedback"}
    assert everything["total"] == len(everything["feedback"]) >= 2
    ar_cid = asked["ar"]["conversation_id"]
    only = api.get("/api/feedback", params={"conversation_id": ar_cid}, headers=AUTH).json()
    assert only["feedback"] and {r["conversation_id"] for r in only["feedback"]} == {ar_cid}
    assert only["feedback"] == [r for r in everything["feedback"] if r["conversation_id"] == ar_cid]
    for params, expected in (({}, everything), ({"conversation_id": ar_cid}, only)):
        response = api.get("/api/feedback", params={**params, "format": "jsonl"}, headers=AUTH)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert "attachment" in response.headers["content-disposition"]
        lines = response.text.splitlines()
        assert [json.loads(line) for line in lines] == expected["feedback"]
        assert response.text.endswith("\n")
    assert ASK["ar"] in response.text  # UTF-8, not \u escapes
    empty = api.get("/api/feedback", params={"conversation_id": "nope"}, headers=AUTH).json()
    assert empty == {"total": 0, "feedback": []}
    bad = api.get("/api/feedback", params={"format": "csv"}, headers=AUTH)
    assert_error(bad, 422, "invalid_request")


def test_delete_is_final_also_after_a_restart(api, engine, asked, embedder):
    cid = copy_conversation(engine, "Delete me: Haftar training", asked["ar"])
    body = {"conversation_id": cid, "turn": 0, "rating": "down", "comment": "remove"}
    assert api.post("/api/feedback", json=body, headers=AUTH).status_code == 201
    deleted = api.delete(f"/api/conversations/{cid}", headers=AUTH)
    assert deleted.status_code == 200, deleted.text
    summary = deleted.json()
    assert summary["conversation_id"] == cid and summary["title"] == "Delete me: Haftar training"
    assert summary["turns"] == 1

    def gone(client: TestClient) -> None:
        for method, path, kwargs in (
            ("GET", f"/api/conversations/{cid}", {}),
            ("GET", f"/api/conversations/{cid}/export", {"params": {"format": "md"}}),
            ("GET", f"/api/conversations/{cid}/export", {"params": {"format": "json"}}),
            ("PATCH", f"/api/conversations/{cid}", {"json": {"title": "back"}}),
            ("DELETE", f"/api/conversations/{cid}", {}),
            ("POST", "/api/feedback", {"json": {**body, "comment": None}}),
        ):
            response = client.request(method, path, headers=AUTH, **kwargs)
            assert_error(response, 404, "not_found")
        page = client.get("/api/conversations", params={"limit": 500}, headers=AUTH).json()
        assert cid not in {c["conversation_id"] for c in page["conversations"]}
        search = client.get("/api/conversations", params={"q": "delete me"}, headers=AUTH)
        assert search.json()["total"] == 0
        feedback = client.get("/api/feedback", params={"conversation_id": cid}, headers=AUTH)
        assert feedback.json() == {"total": 0, "feedback": []}
        everything = client.get("/api/feedback", params={"format": "jsonl"}, headers=AUTH)
        assert cid not in everything.text

    gone(api)
    ask = api.post("/api/ask", json={"question": "And then?", "conversation_id": cid}, headers=AUTH)
    assert_error(ask, 404, "not_found")

    restarted = local_client(create_api(Engine(engine.settings, embedder=embedder)))
    gone(restarted)
    kept = asked["en"]["conversation_id"]
    export = restarted.get(f"/api/conversations/{kept}/export", headers=AUTH)
    assert export.status_code == 200 and export.json()["turns"][0]["question"] == ASK["en"]
