"""Teams: users, roles, keys and collections, enforced where passages are retrieved."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from assistant.accounts import Accounts
from assistant.engine import Engine
from index.store import StoreError
from tests.conftest import TEST_ENV, local_client, sanad, serving
from ui.api.callers import CSRF_COOKIE, SESSION_COOKIE
from ui.server import create_app, local_url, serve

DESK_B = (
    "Desk B budget memo\n\n"
    "The confidential investigation budget of desk B for the Haftar inquiry is 4.2 million "
    "dollars, approved by the editor in chief on 3 March 2020 after the Tripoli briefing."
)
SECRET_QUESTION = "What is the confidential investigation budget of desk B for the Haftar inquiry?"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory, seeded) -> dict:
    """Seeds in `default`, a memo in `desk-b`; alice reads default, bob writes desk-b."""
    tmp = tmp_path_factory.mktemp("team")
    engine: Engine = seeded(tmp)
    accounts = engine.accounts
    accounts.add_collection("desk-b")
    memo = tmp / "memos" / "budget.txt"
    memo.parent.mkdir()
    memo.write_text(DESK_B, encoding="utf-8")
    engine.library.ingest_paths([memo.parent], progress=False, collection="desk-b")
    accounts.add_user("alice", "reader", PASSWORD)
    accounts.add_user("bob", "editor", PASSWORD)
    accounts.add_user("root", "admin", PASSWORD)
    accounts.grant("default", "alice", "read")
    accounts.grant("desk-b", "bob", "write")
    keys = {name: accounts.create_key(name)[1] for name in ("alice", "bob", "root")}
    memo_id = next(d.doc_id for d in engine.store.documents() if d.origin.collection == "desk-b")
    client = local_client(create_app(engine))
    return {"engine": engine, "client": client, "keys": keys, "memo": memo_id, "tmp": tmp}


def as_(team: dict, user: str) -> dict[str, str]:
    """The Authorization header of a user's API key."""
    return {"Authorization": f"Bearer {team['keys'][user]}"}


def test_without_credentials_the_api_is_401_and_the_root_shows_the_login(team):
    client = team["client"]
    for method, path in (("GET", "/api/documents"), ("POST", "/api/search"), ("GET", "/v1/models")):
        response = client.request(method, path, json={"question": "x"})
        assert response.status_code == 401, (path, response.text)
    assert client.get("/healthz").status_code == 200
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 303 and root.headers["location"] == "/login"
    arabic = client.get("/login?lang=ar").text
    assert 'dir="rtl"' in arabic and "تسجيل الدخول" in arabic
    assert 'dir="ltr"' in client.get("/login?lang=id").text
    assert client.post("/mcp", json={}).status_code == 401  # MCP needs a key too


def test_each_user_retrieves_only_the_collections_they_may_read(team):
    client, memo = team["client"], team["memo"]
    question = {"question": SECRET_QUESTION, "k": 20}
    response = client.post("/api/search", json=question, headers=as_(team, "alice"))
    assert response.status_code == 200, response.text
    alice = response.json()
    assert alice["passages"] and {p["collection"] for p in alice["passages"]} == {"default"}
    bob = client.post("/api/search", json=question, headers=as_(team, "bob")).json()
    assert {p["doc_id"] for p in bob["passages"]} == {memo}  # no grant on the seeds
    root = client.post("/api/search", json=question, headers=as_(team, "root")).json()
    assert memo in {p["doc_id"] for p in root["passages"]}

    answer = client.post("/api/ask", json={"question": SECRET_QUESTION}, headers=as_(team, "bob"))
    cited = answer.json()["citations"]
    assert cited and {c["doc_id"] for c in cited} == {memo}
    assert {c["collection"] for c in cited} == {"desk-b"}
    asked = client.post("/api/ask", json={"question": SECRET_QUESTION}, headers=as_(team, "alice"))
    assert memo not in {c["doc_id"] for c in asked.json()["citations"]}
    assert "4.2 million" not in asked.text

    # lookups by id: a document or citation of another collection does not exist
    citation = cited[0]["id"]
    assert client.get(f"/api/citations/{citation}", headers=as_(team, "alice")).status_code == 404
    assert client.get(f"/api/citations/{citation}", headers=as_(team, "bob")).status_code == 200
    assert client.get(f"/api/documents/{memo}", headers=as_(team, "alice")).status_code == 404
    listed = client.get("/api/documents", headers=as_(team, "alice")).json()
    assert listed["total"] == 5 and memo not in {d["doc_id"] for d in listed["documents"]}
    assert client.get("/api/documents", headers=as_(team, "bob")).json()["total"] == 1
    collections = client.get("/api/collections", headers=as_(team, "alice")).json()
    assert collections == {"collections": ["default"], "writable": []}
    collections = client.get("/api/collections", headers=as_(team, "bob")).json()
    assert collections == {"collections": ["desk-b"], "writable": ["desk-b"]}


def test_history_feedback_and_exports_are_per_user(team):
    client = team["client"]
    answer = client.post(
        "/api/ask", json={"question": SECRET_QUESTION}, headers=as_(team, "bob")
    ).json()
    cid = answer["conversation_id"]
    vote = {"conversation_id": cid, "turn": 0, "rating": "up"}
    assert client.post("/api/feedback", json=vote, headers=as_(team, "bob")).status_code == 201
    for path in (f"/api/conversations/{cid}", f"/api/conversations/{cid}/export?format=md"):
        assert client.get(path, headers=as_(team, "alice")).status_code == 404
        assert client.get(path, headers=as_(team, "bob")).status_code == 200
    follow_up = {"question": "And who approved it?", "conversation_id": cid}
    assert client.post("/api/ask", json=follow_up, headers=as_(team, "alice")).status_code == 404
    assert client.post("/api/feedback", json=vote, headers=as_(team, "alice")).status_code == 404
    listed = client.get("/api/conversations", headers=as_(team, "alice")).json()
    assert cid not in {c["conversation_id"] for c in listed["conversations"]}
    assert client.get("/api/feedback", headers=as_(team, "alice")).json()["total"] == 0
    everyone = client.get("/api/feedback", headers=as_(team, "root")).json()["feedback"]
    assert cid in {r["conversation_id"] for r in everyone}  # an admin reads all feedback
    deleted = client.delete(f"/api/conversations/{cid}", headers=as_(team, "alice"))
    assert deleted.status_code == 404


def test_writes_need_write_access_to_the_collection(team):
    client, engine = team["client"], team["engine"]
    seed = next(d.doc_id for d in engine.store.documents() if d.origin.collection == "default")
    upload = {"files": ("note.txt", b"A note of the desk about Haftar and Tripoli.", "text/plain")}
    response = client.post("/api/documents", files=upload, headers=as_(team, "alice"))
    assert response.status_code == 403  # a reader never uploads
    assert client.delete(f"/api/documents/{seed}", headers=as_(team, "alice")).status_code == 403
    assert client.delete(f"/api/documents/{seed}", headers=as_(team, "bob")).status_code == 404
    into_default = client.post("/api/documents", files=upload, headers=as_(team, "bob"))
    assert into_default.status_code == 403
    into_desk = client.post(
        "/api/documents", files=upload, data={"collection": "desk-b"}, headers=as_(team, "bob")
    )
    assert into_desk.status_code == 200, into_desk.text
    by_query = client.post(
        "/api/documents?collection=desk-b", files=upload, headers=as_(team, "bob")
    )
    assert by_query.status_code == 200 and by_query.json()["files"][0]["status"] == "unchanged"
    (added,) = into_desk.json()["files"]
    assert added["status"] == "added"
    assert (team["engine"].settings.data_dir / "uploads" / "desk-b" / "note.txt").is_file()
    gone = client.delete(f"/api/documents/{added['doc_id']}", headers=as_(team, "bob"))
    assert gone.status_code == 200 and gone.json()["collection"] == "desk-b"
    ingest = {"paths": [str(team["tmp"])], "collection": "desk-b"}
    assert client.post("/api/ingest", json=ingest, headers=as_(team, "bob")).status_code == 403
    admin_only = client.get("/api/admin/users", headers=as_(team, "bob"))
    assert admin_only.status_code == 403
    users = client.get("/api/admin/users", headers=as_(team, "root")).json()
    assert {u["name"] for u in users} >= {"alice", "bob", "root"}


def test_a_browser_session_needs_its_csrf_token(team):
    client = team["client"]
    wrong = client.post("/login", data={"username": "alice", "password": "wrong password"})
    assert wrong.status_code == 401 and "Wrong user name" in wrong.text
    ok = client.post(
        "/login", data={"username": "alice", "password": PASSWORD}, follow_redirects=False
    )
    assert ok.status_code == 303
    cookies = ok.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in session and "SameSite=lax" in session
    csrf = ok.cookies[CSRF_COOKIE]
    jar = {SESSION_COOKIE: ok.cookies[SESSION_COOKIE]}
    browser = local_client(client.app, cookies=jar)
    assert browser.get("/api/collections").json()["collections"] == ["default"]
    body = {"question": "Who trained Haftar's militias in street warfare?"}
    assert browser.post("/api/ask", json=body).status_code == 403  # no CSRF token
    forged = browser.post("/api/ask", json=body, headers={"X-CSRF-Token": "guess"})
    assert forged.status_code == 403
    answered = browser.post("/api/ask", json=body, headers={"X-CSRF-Token": csrf})
    assert answered.status_code == 200 and answered.json()["citations"]
    assert browser.get("/", follow_redirects=False).status_code != 303  # logged in: no login
    out = browser.post("/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert local_client(client.app, cookies=jar).get("/api/collections").status_code == 401


def test_revoked_keys_and_disabled_users_are_refused(team):
    engine, client = team["engine"], team["client"]
    key, secret = engine.accounts.create_key("alice")
    header = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/collections", headers=header).status_code == 200
    engine.accounts.revoke_key(key.id)
    assert client.get("/api/collections", headers=header).status_code == 401
    engine.accounts.add_user("carol", "reader", PASSWORD)
    _, carol = engine.accounts.create_key("carol")
    engine.accounts.set_disabled("carol")
    assert (
        client.get("/api/collections", headers={"Authorization": f"Bearer {carol}"}).status_code
        == 401
    )
    assert engine.accounts.login("carol", PASSWORD) is None


def test_the_account_commands(tmp_path: Path):
    env = {**TEST_ENV, "SANAD_DATA_DIR": str(tmp_path / "data")}
    added = sanad(["users", "add", "dina", "--role", "editor", "--password-stdin"], env, PASSWORD)
    assert added.returncode == 0, added.stderr
    short = sanad(["users", "add", "eve", "--role", "reader", "--password-stdin"], env, "short")
    assert short.returncode == 2 and "at least 8" in short.stderr
    assert sanad(["users", "list"], env).stdout.split() == ["dina", "editor"]
    created = sanad(["keys", "create", "dina"], env)
    secret = created.stdout.strip().splitlines()[-1]
    assert created.returncode == 0 and secret.startswith("sanad_")
    key_id = sanad(["keys", "list"], env).stdout.split()[0]
    assert sanad(["collections", "add", "desk-c"], env).returncode == 0
    assert sanad(["collections", "grant", "desk-c", "dina", "write"], env).returncode == 0
    assert "desk-c\tdina:write" in sanad(["collections", "list"], env).stdout
    assert sanad(["collections", "revoke", "desk-c", "dina"], env).returncode == 0
    assert sanad(["keys", "revoke", key_id], env).returncode == 0
    assert "revoked" in sanad(["keys", "list"], env).stdout
    new_password = "a new password for dina"
    changed = sanad(["users", "passwd", "dina", "--password-stdin"], env, new_password)
    assert changed.returncode == 0, changed.stderr
    accounts = Accounts(tmp_path / "data" / "accounts.sqlite3")
    assert accounts.login("dina", PASSWORD) is None and accounts.login("dina", new_password)
    no_stdin = sanad(["users", "passwd", "dina"], env)
    assert no_stdin.returncode == 2 and "--password-stdin" in no_stdin.stderr
    assert sanad(["users", "disable", "dina"], env).stdout.strip() == "dina disabled"
    unknown = sanad(["ingest", str(tmp_path), "--collection", "nowhere"], env)
    assert unknown.returncode == 2 and "no collection nowhere" in unknown.stderr


def test_serving_open_on_a_public_address_is_refused(tmp_path: Path, embedder):
    from tests.conftest import make_engine

    engine = make_engine(tmp_path, embedder)
    with pytest.raises(StoreError, match="no users and no SANAD_API_TOKEN"):
        serve(engine, "0.0.0.0", 1)


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8123"),
        ("::", "http://127.0.0.1:8123"),
        ("::1", "http://[::1]:8123"),
        ("fe80::1", "http://[fe80::1]:8123"),
        ("10.1.2.3", "http://10.1.2.3:8123"),
    ],
)
def test_the_announced_url_reaches_the_bound_address(host, url):
    assert local_url(host, 8123) == url
    parsed = httpx2.URL(url)
    assert parsed.port == 8123 and parsed.host in (host, "127.0.0.1")


def test_logins_are_throttled_per_client(team):
    app = create_app(team["engine"])  # its own count of failures
    client = local_client(app)
    attempts = team["engine"].settings.login_attempts
    for _ in range(attempts):
        wrong = client.post("/login", data={"username": "alice", "password": "not hers at all"})
        assert wrong.status_code == 401
    right = {"username": "alice", "password": PASSWORD}
    refused = client.post("/login", data=right, follow_redirects=False)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    keyed = client.get("/api/collections", headers={"Authorization": "Bearer sanad_x_guess"})
    assert keyed.status_code == 429  # a key cannot be guessed meanwhile either


def test_mcp_tools_act_with_the_rights_of_the_calling_key(team):
    engine, memo = team["engine"], team["memo"]

    async def tools_as(user: str) -> dict[str, Any]:
        """What list_documents, search and cite give the user's key over /mcp."""
        async with httpx2.AsyncClient(headers=as_(team, user), timeout=120) as http:
            transport = streamable_http_client(f"{url}/mcp", http_client=http)
            async with Client(transport, read_timeout_seconds=120) as client:
                listed = await client.call_tool("list_documents", {})
                found = await client.call_tool("search", {"question": SECRET_QUESTION, "k": 20})
                cited = await client.call_tool("cite", {"citation_id": f"{memo}:0-20"})
                return {
                    "docs": {d["doc_id"] for d in listed.structured_content["documents"]},
                    "found": {p["doc_id"] for p in found.structured_content["passages"]},
                    "cite_error": cited.is_error,
                }

    with serving(create_app(engine)) as url:
        alice = asyncio.run(tools_as("alice"))
        bob = asyncio.run(tools_as("bob"))
    assert memo not in alice["docs"] and len(alice["docs"]) == 5
    assert memo not in alice["found"] and alice["found"] and alice["cite_error"]
    assert bob["docs"] == {memo} and bob["found"] == {memo} and not bob["cite_error"]
