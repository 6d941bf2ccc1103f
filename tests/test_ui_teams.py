"""Two users in the browser (Debian chromium): each signs in on the login page and sees only
their collections in answers, the sources panel and the documents tab, and only their own
history."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.engine import Engine
from tests.ui_browser import TIMEOUT_MS, ask, screenshot

pytest_plugins = ["tests.ui_browser"]  # browser, server_url
PASSWORD = "two users, one server"
MEMO_TITLE = "Desk B budget memo"
MEMO = (
    f"{MEMO_TITLE}\n\nThe confidential investigation budget of desk B for the Haftar inquiry "
    "is 4.2 million dollars, approved by the editor in chief on 3 March 2020."
)
QUESTIONS = {
    "alice": "What is the confidential investigation budget of desk B for the Haftar inquiry?",
    "bob": "How large is the confidential investigation budget of desk B?",
}


@pytest.fixture(scope="module")
def ui_engine(tmp_path_factory: pytest.TempPathFactory, seeded) -> Engine:
    """The seeds in `default` (alice reads them) and a memo in `desk-b` (bob writes it)."""
    tmp = tmp_path_factory.mktemp("ui-teams")
    engine = seeded(tmp)
    memo = tmp / "memo" / "budget.txt"
    memo.parent.mkdir()
    memo.write_text(MEMO, encoding="utf-8")
    engine.accounts.add_collection("desk-b")
    engine.library.ingest_paths([memo.parent], progress=False, collection="desk-b")
    engine.accounts.add_user("alice", "reader", PASSWORD)
    engine.accounts.add_user("bob", "editor", PASSWORD)
    engine.accounts.grant("default", "alice", "read")
    engine.accounts.grant("desk-b", "bob", "write")
    return engine


def signed_in(browser: Any, server_url: str, user: str) -> Any:
    """A page of its own (cookies apart) where `user` signed in on the login page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server_url + "/")
    page.wait_for_url("**/login")  # no session: the login page, not the chat
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#sanad-question textarea")
    return page


def documents_table(page: Any) -> str:
    """The Documents tab's table text."""
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#sanad-doc-table")
    table.wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll('#sanad-doc-table tbody tr').length > 0",
        timeout=TIMEOUT_MS,
    )
    text = table.inner_text()
    page.get_by_role("tab", name="Chat").click()
    return text


def test_each_user_sees_only_their_collections_and_history(browser: Any, server_url: str):
    pages = {user: signed_in(browser, server_url, user) for user in ("alice", "bob")}
    try:
        for user, page in pages.items():
            ask(page, QUESTIONS[user])
        alice, bob = pages["alice"], pages["bob"]

        # answers and the sources panel
        assert "4.2 million" not in alice.locator("#sanad-transcript").inner_text()
        assert MEMO_TITLE not in alice.locator("#sanad-sources").inner_text()
        assert "4.2 million" in bob.locator("#sanad-transcript").inner_text()
        assert MEMO_TITLE in bob.locator("#sanad-sources").inner_text()

        # the documents tab
        alice_docs, bob_docs = documents_table(alice), documents_table(bob)
        assert MEMO_TITLE not in alice_docs and "budget.txt" not in alice_docs
        assert "seeds/" in alice_docs
        assert "budget.txt" in bob_docs and "seeds/" not in bob_docs
        bob.get_by_role("tab", name="Documents").click()
        target = bob.locator("#sanad-upload-collection input")
        assert target.input_value() == "desk-b"  # the one collection bob may write
        bob.get_by_role("tab", name="Chat").click()

        # history: each their own conversation only
        for user, page in pages.items():
            page.reload()
            page.wait_for_selector("#sanad-history button.sanad-conv")
            titles = page.locator("#sanad-history .sanad-conv-title").all_inner_texts()
            assert titles == [QUESTIONS[user]], (user, titles)
        assert "4.2 million" not in alice.content()  # nothing of desk B in alice's page
        screenshot(bob, "teams_bob.png")
        assert "alice" in alice.locator("#sanad-account").inner_text()
        alice.click("#sanad-sign-out")
        alice.wait_for_url("**/login")
        alice.goto(server_url + "/")
        alice.wait_for_url("**/login")  # signed out: the chat is closed again
    finally:
        for page in pages.values():
            page.context.close()
