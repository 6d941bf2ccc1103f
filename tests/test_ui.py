"""The Gradio UI in a real browser (Playwright driving Debian's chromium) over the real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from assistant.engine import Engine
from tests.conftest import local_client, owner_view
from tests.ui_browser import TIMEOUT_MS, ask, screenshot
from ui.app import make_respond
from ui.outputs import keyed
from ui.pickers import document_choices, sorted_documents
from ui.render import render_article, render_transcript
from ui.server import create_app
from ui.turns import ChatTurn, stored_turns
from ui.viewer import owner_viewer
from ui.workspace import Workspace

pytest_plugins = ["tests.ui_browser"]  # browser, server_url, page
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
INJECTION_DOC = f"""Misrata port strike {IMG} halts fuel imports

MISRATA, Libya - Dockworkers at the port of Misrata went on strike on Monday over unpaid wages, \
halting fuel and grain imports into western Libya.
Striking workers hung a banner reading {SCRIPT} on the main gate of Misrata port during the strike.
The port authority said ships were waiting offshore and that talks with the dockworkers' union \
would resume on Wednesday.
A union spokesman said the strike at Misrata port would continue until the workers were paid \
{IMG} in full.
"""
Q_AR = "من يدرّب قوات حفتر على حرب الشوارع؟"
Q_EN = "Who has been training Haftar's forces in street warfare?"
Q_ID = "Siapa yang melatih pasukan Haftar dalam perang jalanan?"
Q_INJECTION = "What did the banner at Misrata port say during the strike?"
TEXT_GAPS = """el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const text = range.getBoundingClientRect(), box = el.getBoundingClientRect();
  return {left: text.left - box.left, right: box.right - text.right};
}"""


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ui_engine(tmp_path_factory: pytest.TempPathFactory, seeded) -> Engine:
    """The seeds plus a news article that carries script and onerror injections."""
    tmp = tmp_path_factory.mktemp("ui")
    extra = tmp / "extra"
    extra.mkdir()
    (extra / "misrata.txt").write_text(INJECTION_DOC, encoding="utf-8")
    return seeded(tmp, extra)


# --- browser tests -----------------------------------------------------------------------------
def test_arabic_and_english_in_one_conversation(page: Any) -> None:
    ar = ask(page, Q_AR)
    en = ask(page, Q_EN)
    messages = page.locator("#sanad-transcript .sanad-msg")
    assert messages.count() == 4  # two questions, two answers
    for i in range(4):
        assert messages.nth(i).get_attribute("dir") == "auto"
    direction = "el => getComputedStyle(el).direction"
    assert [messages.nth(i).evaluate(direction) for i in range(4)] == ["rtl", "rtl", "ltr", "ltr"]
    # Rendered alignment: the Arabic question hugs the right edge, the English one the left.
    gaps = [messages.nth(i).locator(".sanad-line").evaluate(TEXT_GAPS) for i in (0, 2)]
    assert gaps[0]["right"] < 20 < gaps[0]["left"], gaps
    assert gaps[1]["left"] < 20 < gaps[1]["right"], gaps

    for answer in (ar, en):
        markers = answer.locator("a.sanad-marker")
        assert markers.count() >= 1
        assert markers.first.inner_text() == "[1]"
        assert markers.first.get_attribute("href").startswith("/api/citations/")
        # the markers close their sentence: last thing inside the same dir=auto element
        assert answer.locator(".sanad-line").first.evaluate(
            "el => el.lastElementChild.classList.contains('sanad-markers')"
        )

    sources = page.locator("#sanad-sources li.sanad-source")
    cited = {m.get_attribute("data-cid") for m in en.locator("a.sanad-marker").all()}
    assert {s.get_attribute("data-cid") for s in sources.all()} == cited
    langs = sources.locator(".sanad-badge").all_inner_texts()
    assert set(langs) <= {"AR", "EN", "ID", "ar", "en", "id"} and len(langs) == sources.count()
    assert {lang.lower() for lang in langs} >= {"en"}
    for i in range(sources.count()):
        assert sources.nth(i).locator(".sanad-quote").get_attribute("dir") == "auto"
        assert sources.nth(i).locator(".sanad-quote").inner_text().strip()
    assert "ms" in page.locator("#sanad-timings").inner_text()
    screenshot(page, "chat_ar_en.png")

    page.click("#sanad-new")
    page.wait_for_function(
        "() => !document.querySelector('#sanad-transcript .sanad-msg')", timeout=TIMEOUT_MS
    )
    assert page.locator("#sanad-sources li.sanad-source").count() == 0


def test_indonesian_question_gets_a_cited_answer(page: Any) -> None:
    answer = ask(page, Q_ID)
    assert answer.locator("a.sanad-marker").count() >= 1
    assert answer.evaluate("el => getComputedStyle(el).direction") == "ltr"
    assert page.locator("#sanad-sources li.sanad-source").count() >= 1


def test_marker_opens_article_with_highlight(page: Any, server_url: str) -> None:
    answer = ask(page, Q_AR)
    marker = answer.locator("a.sanad-marker").last
    cid = marker.get_attribute("data-cid")
    marker.click()
    article = page.locator(f'#sanad-article .sanad-article[data-cid="{cid}"]')
    article.wait_for()
    mark = article.locator("mark")
    assert mark.count() == 1
    citation = page.request.get(f"{server_url}/api/citations/{cid}").json()["citation"]
    assert mark.text_content() == citation["quote"]
    inside = mark.evaluate(
        """m => {
          const r = m.getBoundingClientRect();
          const b = m.closest('.sanad-article-body').getBoundingClientRect();
          return r.bottom > b.top && r.top < b.bottom && r.bottom > 0 && r.top < innerHeight;
        }"""
    )
    assert inside, "the highlighted quote is not scrolled into view"
    for paragraph in article.locator(".sanad-article-body p").all()[:5]:
        assert paragraph.get_attribute("dir") == "auto"
    screenshot(page, "article_highlight.png")

    # The drawer covers the sources panel until Escape closes it; a source opens its article
    # too, and "copy link" copies the API URL.
    page.keyboard.press("Escape")
    source = page.locator("#sanad-sources li.sanad-source").first
    first_cid = source.get_attribute("data-cid")
    source.locator(".sanad-quote").click()
    page.locator(f'#sanad-article .sanad-article[data-cid="{first_cid}"] mark').wait_for()
    page.keyboard.press("Escape")
    source.locator("a.sanad-copy").click()
    page.wait_for_function(
        "() => document.querySelector('a.sanad-copy').textContent !== 'copy link'"
    )
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == f"{server_url}/api/citations/{first_cid}"
    assert page.request.get(copied).json()["citation"]["id"] == first_cid


def test_injected_markup_renders_as_text(page: Any) -> None:
    answer = ask(page, Q_INJECTION)
    assert SCRIPT in answer.inner_text()
    sources = page.locator("#sanad-sources")
    assert SCRIPT in sources.inner_text()
    assert IMG in sources.inner_text()  # the title carries the <img onerror>
    injected = answer.locator("a.sanad-marker").first
    injected.click()
    page.locator("#sanad-article mark").wait_for()
    article_text = page.locator("#sanad-article").inner_text()
    assert SCRIPT in article_text and IMG in article_text
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    for panel in ("#sanad-transcript", "#sanad-sources", "#sanad-article"):
        assert page.locator(f"{panel} script, {panel} img").count() == 0
    assert page.dialogs == []
    screenshot(page, "injection_literal.png")


# --- API and server tests (no browser) ---------------------------------------------------------
def test_gradio_client_ask_returns_the_answer(server_url: str, ui_engine: Engine) -> None:
    from gradio_client import Client

    client = Client(server_url + "/", verbose=False)
    answer = client.predict(Q_EN, api_name="/ask")
    assert isinstance(answer, dict) and answer["grounded"] and answer["citations"]
    for citation in answer["citations"]:
        _, text = ui_engine.store.document(citation["doc_id"])
        assert text[citation["start"] : citation["end"]] == citation["quote"]
    assert "[1]" in answer["text"] and answer["conversation_id"]


def test_token_puts_the_ui_behind_a_login(ui_engine: Engine, embedder) -> None:
    settings = ui_engine.settings.model_copy(update={"api_token": "s3cret-token"})
    guarded = Engine(settings, embedder=embedder)
    guarded.__dict__["store"] = ui_engine.store  # share the open Chroma store
    with local_client(create_app(guarded)) as client:
        assert client.get("/config").status_code == 401
        assert client.get("/api/documents").status_code == 401
        wrong = client.post("/login", data={"username": "me", "password": "nope"})
        assert wrong.status_code == 400
        right = client.post("/login", data={"username": "me", "password": "s3cret-token"})
        assert right.status_code == 200
        assert client.get("/config").status_code == 200
        headers = {"Authorization": "Bearer s3cret-token"}
        assert client.get("/api/documents", headers=headers).status_code == 200
        for _ in range(settings.login_attempts):  # guessing the password...
            assert client.post("/login", data={"username": "x", "password": "y"}).status_code == 400
        locked = client.post("/login", data={"username": "me", "password": "s3cret-token"})
        assert locked.status_code == 429 and locked.headers["retry-after"]  # ...is throttled


# --- rendering (pure functions) ----------------------------------------------------------------
def test_rendering_escapes_everything(ui_engine: Engine) -> None:
    html = render_transcript([ChatTurn(SCRIPT, IMG)])
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html
    doc = next(d for d in ui_engine.store.documents() if "Misrata" in d.origin.title)
    _, text = ui_engine.store.document(doc.doc_id)
    start = text.index("Striking")
    end = text.index("strike.", start) + len("strike.")
    article = render_article(owner_view(ui_engine).store, f"{doc.doc_id}:{start}-{end}")
    assert "<script" not in article and "<img" not in article
    assert article.count("<mark>") == 1
    assert "no document" in render_article(owner_view(ui_engine).store, "0123456789abcdef:1-5")
    assert "malformed" in render_article(owner_view(ui_engine).store, '"><img src=x>')
    assert "<img" not in render_article(owner_view(ui_engine).store, '"><img src=x>')


def test_filters_restrict_languages_and_documents(ui_engine: Engine) -> None:
    respond = make_respond(owner_viewer(ui_engine))
    *_, done = respond(Q_EN, None, ["ar"], [])
    conversation_id = done["conversation"]
    turns = stored_turns(owner_view(ui_engine), conversation_id)
    citations = turns[-1].answer.citations
    assert citations and {c.lang for c in citations} == {"ar"}
    assert all(f'data-cid="{c.id}"' in done["sources"] for c in citations)
    choices = dict(document_choices(sorted_documents(ui_engine.store)))
    misrata = next(doc_id for title, doc_id in choices.items() if "Misrata" in title)
    *_, done = respond(Q_INJECTION, conversation_id, [], [misrata])
    turns = stored_turns(owner_view(ui_engine), conversation_id)
    citations = turns[-1].answer.citations
    assert done["conversation"] == conversation_id and len(turns) == 2
    assert citations and {c.doc_id for c in citations} == {misrata}
    assert done["transcript"].count('class="sanad-turn"') == 2
    assert 'data-feedback="up" data-turn="1"' in done["transcript"]  # stored: can be judged


def test_handlers_update_only_the_outputs_they_name() -> None:
    with gr.Blocks():
        parts = {"a": gr.Textbox(), "b": gr.Textbox(), "c": gr.HTML()}
    fn, outputs = keyed(lambda: {"b": "x"}, parts, ("a", "b"))
    assert outputs == [parts["a"], parts["b"]] and fn() == [gr.skip(), "x"]
    wrong, _ = keyed(lambda: {"c": "x"}, parts, ("a", "b"))
    with pytest.raises(KeyError, match="not wired"):
        wrong()


def test_a_deleted_conversation_takes_its_downloads_with_it(ui_engine: Engine) -> None:
    workspace = Workspace(owner_viewer(ui_engine))
    conversation_id = ui_engine.ask(Q_EN).conversation_id
    view = workspace.view(owner_view(ui_engine), conversation_id, "")
    files = [Path(view[name]["value"]) for name in ("markdown", "json")]
    assert all(f.is_file() for f in files)
    for f in files:  # Gradio serves the file itself: it keeps no copy that would outlive it
        assert gr.DownloadButton().move_resource_to_block_cache(f) == str(f)
    workspace.delete(conversation_id, "")
    assert not any(f.exists() for f in files)
    workspace.files.close()
    assert not workspace.files.root.exists()
