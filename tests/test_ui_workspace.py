"""Browser tests of the research workspace: the conversations sidebar, downloads, feedback and
the article drawer, on this module's own index of the seeds (its conversations are its own)."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from assistant.engine import Engine
from tests.test_ui import Q_AR, Q_EN, Q_ID
from tests.ui_browser import TIMEOUT_MS, ask, screenshot

pytest_plugins = ["tests.ui_browser"]  # browser, server_url, page
CONVERSATIONS = "#sanad-history button.sanad-conv"
BLOCKQUOTE = re.compile(r"<blockquote>\s*<p>(.*?)</p>\s*</blockquote>", re.S)
CITATION_ID = re.compile(r"Citation id: `([^`]+)`")
ON_SCREEN = (
    "el => { const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }"
)
IN_VIEW = """m => {
  const r = m.getBoundingClientRect();
  const body = m.closest('.sanad-article-body').getBoundingClientRect();
  return r.top >= body.top - 1 && r.bottom <= body.bottom + 1 && r.top >= 0
    && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth;
}"""


@pytest.fixture(scope="module")
def ui_engine(tmp_path_factory: pytest.TempPathFactory, seeded) -> Engine:
    """The seeds in a private data directory: only this module's conversations are listed."""
    return seeded(tmp_path_factory.mktemp("ui-workspace"))


def conversation_button(page: Any, title: str) -> Any:
    """The sidebar entry whose title is `title`."""
    return page.locator(CONVERSATIONS).filter(
        has=page.locator(".sanad-conv-title", has_text=re.compile(f"^{re.escape(title)}$"))
    )


def new_conversation(page: Any) -> None:
    """Press "New conversation" and wait for the empty chat."""
    page.click("#sanad-new")
    page.wait_for_function(
        "() => !document.querySelector('#sanad-transcript .sanad-msg')", timeout=TIMEOUT_MS
    )


def listed(server_url: str, page: Any) -> dict[str, str]:
    """Conversation id → title, as GET /api/conversations lists them."""
    body = page.request.get(f"{server_url}/api/conversations").json()
    return {c["conversation_id"]: c["title"] for c in body["conversations"]}


def cited_ids(answer: Any) -> list[str]:
    """The citation ids an answer's markers point to, in order, without repeats."""
    ids = [m.get_attribute("data-cid") for m in answer.locator("a.sanad-marker").all()]
    return list(dict.fromkeys(ids))


def test_history_reopens_renames_and_deletes(page: Any, server_url: str) -> None:
    first = ask(page, Q_EN)
    first_cids = cited_ids(first)
    assert first_cids, "the first answer cites nothing"
    new_conversation(page)
    ask(page, Q_AR)
    conversation_button(page, Q_AR).wait_for()

    page.reload()
    page.wait_for_selector(CONVERSATIONS)
    titles = page.locator(f"{CONVERSATIONS} .sanad-conv-title").all_inner_texts()
    assert titles[:2] == [Q_AR, Q_EN], titles  # newest first, titled by the first question
    assert page.locator("#sanad-transcript .sanad-msg").count() == 0

    conversation_button(page, Q_EN).click()
    page.wait_for_selector("#sanad-transcript .sanad-user")
    assert page.locator("#sanad-transcript .sanad-user").inner_text().strip() == Q_EN
    restored = page.locator("#sanad-transcript .sanad-bot")
    assert cited_ids(restored.first) == first_cids
    sources = page.locator("#sanad-sources li.sanad-source")
    assert [s.get_attribute("data-cid") for s in sources.all()] == first_cids
    assert conversation_button(page, Q_EN).get_attribute("aria-current") == "true"
    restored.first.locator("a.sanad-marker").first.click()
    mark = page.locator(f'#sanad-article .sanad-drawer[data-cid="{first_cids[0]}"] mark')
    mark.wait_for()
    assert mark.evaluate(IN_VIEW)
    page.keyboard.press("Escape")

    # Rename the open conversation; the list and the API show the new title.
    title = page.locator("#sanad-conv-title input, #sanad-conv-title textarea").first
    assert title.input_value() == Q_EN
    title.fill("Haftar training — checked")
    page.click("#sanad-rename")
    conversation_button(page, "Haftar training — checked").wait_for()
    assert "Haftar training — checked" in listed(server_url, page).values()

    # Search narrows the list; Arabic matches without its harakat.
    page.fill("#sanad-history-search textarea, #sanad-history-search input", "checked")
    page.wait_for_function(
        f"() => document.querySelectorAll('{CONVERSATIONS}').length === 1", timeout=TIMEOUT_MS
    )
    page.fill("#sanad-history-search textarea, #sanad-history-search input", "يدرب")
    conversation_button(page, Q_AR).wait_for()  # "يدرّب" without its shadda
    page.fill("#sanad-history-search textarea, #sanad-history-search input", "")
    page.wait_for_function(
        f"() => document.querySelectorAll('{CONVERSATIONS}').length >= 2", timeout=TIMEOUT_MS
    )

    # Delete the Arabic one, with confirmation; it is gone from the list and the API.
    conversation_button(page, Q_AR).click()
    page.wait_for_function(
        "q => document.querySelector('#sanad-transcript .sanad-user')?.innerText.trim() === q",
        arg=Q_AR,
        timeout=TIMEOUT_MS,
    )
    page.click("#sanad-conv-delete")
    page.locator("#sanad-conv-confirm").wait_for(state="visible")
    assert Q_AR in page.locator("#sanad-conv-status .sanad-status").inner_text()
    assert conversation_button(page, Q_AR).count() == 1  # nothing gone before confirming
    page.click("#sanad-conv-confirm")
    conversation_button(page, Q_AR).wait_for(state="detached")
    assert page.locator("#sanad-transcript .sanad-msg").count() == 0
    assert Q_AR not in listed(server_url, page).values()
    assert not page.dialogs


def test_markdown_export_matches_the_citations(page: Any, server_url: str, tmp_path: Path) -> None:
    answer = ask(page, Q_ID)
    cids = cited_ids(answer)
    assert cids
    page.wait_for_function(
        "() => !document.querySelector('#sanad-export-md').disabled", timeout=TIMEOUT_MS
    )
    with page.expect_download() as download:
        page.click("#sanad-export-md")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".md"
    markdown = path.read_text(encoding="utf-8")
    assert CITATION_ID.findall(markdown) == cids
    quotes = [
        unescape(q).replace("\u200f", "").replace("\u200e", "").strip()
        for q in BLOCKQUOTE.findall(MarkdownIt().render(markdown))
    ]
    for cid, quote in zip(cids, quotes, strict=True):
        citation = page.request.get(f"{server_url}/api/citations/{cid}").json()["citation"]
        assert " ".join(citation["quote"].split()) == " ".join(quote.split())
        assert citation["title"] in unescape(markdown.replace("\\", ""))

    with page.expect_download() as download:
        page.click("#sanad-export-json")
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [t["question"] for t in exported["turns"]] == [Q_ID]
    for c in exported["turns"][0]["citations"]:
        citation = page.request.get(f"{server_url}/api/citations/{c['id']}").json()["citation"]
        assert citation["quote"] == c["quote"]


def test_feedback_on_an_answer_and_a_citation(page: Any, server_url: str) -> None:
    ask(page, Q_EN)
    page.locator("#sanad-transcript .sanad-turn").last.locator('[data-feedback="up"]').click()
    page.locator("#sanad-feedback-comment textarea").wait_for(state="visible")
    assert "helpful" in page.locator("#sanad-feedback-note").inner_text()
    page.fill("#sanad-feedback-comment textarea", "Named the trainers — «مفيد»")
    page.click("#sanad-feedback-send")
    page.locator("#sanad-feedback-comment textarea").wait_for(state="hidden")
    page.wait_for_selector('#sanad-transcript .sanad-verdict button[aria-pressed="true"]')

    source = page.locator("#sanad-sources li.sanad-source").last
    cid = source.get_attribute("data-cid")
    source.locator("button.sanad-flag").click()
    page.wait_for_selector(f'#sanad-sources li[data-cid="{cid}"] .sanad-flag[aria-pressed="true"]')
    assert page.locator("#sanad-article .sanad-drawer[data-cid]").count() == 0  # no article

    conversation_id = page.evaluate(
        "() => document.querySelector('#sanad-history .sanad-conv[aria-current=\"true\"]')"
        ".dataset.conv"
    )
    records = page.request.get(
        f"{server_url}/api/feedback", params={"conversation_id": conversation_id}
    ).json()["feedback"]
    by_citation = {r["citation_id"]: r for r in records}
    assert set(by_citation) == {None, cid}
    assert by_citation[None]["rating"] == "up"
    assert by_citation[None]["comment"] == "Named the trainers — «مفيد»"
    assert by_citation[None]["question"] == Q_EN and by_citation[None]["turn"] == 0
    assert by_citation[cid]["rating"] == "down" and by_citation[cid]["citation"]["id"] == cid
    assert by_citation[cid]["settings"]["answer_mode"] == "extractive"


def test_marker_opens_the_article_beside_the_answer(page: Any) -> None:
    answer = ask(page, Q_AR)
    marker = answer.locator("a.sanad-marker").first
    cid = marker.get_attribute("data-cid")
    marker.focus()
    page.keyboard.press("Enter")  # keyboard reachable: a marker is a link
    drawer = page.locator(f'#sanad-article .sanad-drawer[data-cid="{cid}"]')
    drawer.wait_for(state="visible")
    mark = drawer.locator("mark")
    assert mark.evaluate(IN_VIEW), "the highlighted span is not in the viewport"
    assert answer.evaluate(ON_SCREEN), "the answer left the viewport"
    beside = "([a, d]) => a.getBoundingClientRect().right <= d.getBoundingClientRect().left + 1"
    assert page.evaluate(beside, [answer.element_handle(), drawer.element_handle()])
    assert drawer.evaluate("el => document.activeElement === el")
    screenshot(page, "workspace_drawer.png", full_page=False)

    page.keyboard.press("Escape")
    drawer.wait_for(state="hidden")
    assert marker.evaluate("el => document.activeElement === el"), "focus did not come back"

    source = page.locator("#sanad-sources li.sanad-source").first
    source.focus()
    page.keyboard.press("Enter")
    opened = page.locator(
        f'#sanad-article .sanad-drawer[data-cid="{source.get_attribute("data-cid")}"]'
    )
    opened.wait_for(state="visible")
    assert opened.locator("mark").evaluate(IN_VIEW)
    opened.locator(".sanad-drawer-close").click()
    opened.wait_for(state="hidden")
