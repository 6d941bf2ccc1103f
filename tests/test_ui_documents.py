"""The Documents tab: upload a PDF and a web page in the browser, cite a PDF page, delete it.

The browser fixtures come from tests/ui_browser.py; this module gives them its own engine
(`ui_engine`), so its uploads and deletes touch no other test.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from assistant.citations import Citation
from assistant.engine import Engine
from benchmarks.pdf_pages import print_pdf
from index.filters import Filters, facts_of
from index.provenance import Provenance
from index.store import DocRecord
from tests.conftest import owner_view
from tests.test_ui import IMG, Q_EN, SCRIPT
from tests.ui_browser import TIMEOUT_MS, ask, screenshot
from ui.app import make_respond
from ui.documents import (
    DOC_COLUMNS,
    delete_document,
    make_document_action,
    make_upload,
    refreshed,
    reindex_document,
    upload_rows,
)
from ui.pickers import source_choices
from ui.render import render_source, render_status
from ui.turns import stored_turns
from ui.viewer import owner_viewer

pytest_plugins = ["tests.ui_browser"]  # browser, server_url, page
PDF_NAME = "نقود-جرش.pdf"  # an Arabic file name: the stored name must be the original one
HTML_NAME = "cape-varrow.html"
BLANK_NAME = "blank.md"
PDF_TITLE = "بعثة أثرية تكشف عن مخبأ نقود نبطية قرب جرش"
HTML_TITLE = "Cape Varrow lighthouse reopens as a keepers' cooperative"
# One printed line: the PDF reader keeps the printed line breaks, which end a sentence too.
PDF_FACT = "وعثر المنقبون في تل الحمّة على 412 قطعة نقدية برونزية نبطية."
Q_PDF = "كم قطعة نقدية برونزية عثر عليها المنقبون في تل الحمّة؟"
PDF_HTML = f"""<!doctype html>
<html lang="ar" dir="rtl"><meta charset="utf-8"><title>{PDF_TITLE}</title>
<style>
  body {{ font-size: 15pt; line-height: 1.8; }}
  .page-two {{ break-before: page; }}
</style>
<body>
<p>عمّان، 5 مارس 2024 — أعلنت دائرة الآثار العامة في الأردن يوم الثلاثاء عن اكتشاف أثري جديد
في موقع تل الحمّة شمال مدينة جرش، بعد موسم تنقيب استمر ستة أسابيع.</p>
<h1>{PDF_TITLE}</h1>
<p>وقال مدير الدائرة إن البعثة المشتركة بين جامعة اليرموك وجامعة توبنغن الألمانية تعمل في الموقع
منذ مطلع العام، وإن أعمالها ستتواصل حتى نهاية الربيع.</p>
<section class="page-two">
<p>{PDF_FACT}</p>
<p>وأوضح الفريق أن القطع ستعرض في متحف جرش الأثري ابتداء من الصيف المقبل بعد ترميمها.</p>
</section>
</body></html>
"""
WEB_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{HTML_TITLE} | Harbour Ledger</title>
<meta property="og:site_name" content="Harbour Ledger">
<meta property="og:title" content="{HTML_TITLE}">
<meta property="article:published_time" content="2024-02-10T08:00:00Z">
</head><body>
<nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sport">Sport</a> |
<a href="/subscribe">Subscribe</a></nav>
<article>
<h1>{HTML_TITLE}</h1>
<p>The lighthouse at Cape Varrow reopened on Saturday after nine years in the dark, now run by
a cooperative of eleven former keepers and their families.</p>
<p>The cooperative bought the station from the coastal authority for one symbolic pound and
raised 86,000 pounds from local fishing crews to repair the lamp room.</p>
<p>Its chair, Morag Tulloch, said the light would shine every night from October to March and
that the keepers' cottage would open to visitors in the summer.</p>
</article>
<footer>© 2024 Harbour Ledger. All rights reserved. Privacy | Cookies | Contact us</footer>
</body></html>
"""


NOTE = "Harbour <b>note</b> on ferry times\n\nThe ferry to Cape Varrow leaves at nine.\n"


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ui_engine(tmp_path_factory: pytest.TempPathFactory, seeded) -> Engine:
    """This module's own corpus: the seeds (the browser test adds and deletes files)."""
    return seeded(tmp_path_factory.mktemp("ui-documents"))


@pytest.fixture(scope="module")
def upload_dir(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Path:
    """The files to upload: an Arabic PDF printed by chromium, a web page, an empty note."""
    folder = tmp_path_factory.mktemp("uploads")
    print_pdf(PDF_HTML, folder / PDF_NAME, chromium_path)
    (folder / HTML_NAME).write_text(WEB_PAGE, encoding="utf-8")
    (folder / BLANK_NAME).write_text(" \n\n", encoding="utf-8")
    return folder


def open_tab(page: Any, name: str) -> None:
    """Switch to the Chat or Documents tab."""
    page.get_by_role("tab", name=name).click()


def table_row(page: Any, table: str, text: str) -> Any:
    """The row of a Gradio table (`#table`, virtual rows) that contains `text`."""
    return page.locator(f"#{table} [role=row].virtual-row").filter(has_text=text)


def row_cells(row: Any) -> list[str]:
    """The texts of a table row's cells."""
    return [cell.strip() for cell in row.locator("[role=gridcell]").all_inner_texts()]


def stored(engine: Engine, source: str) -> DocRecord:
    """The stored document of a source."""
    return next(d for d in engine.store.documents() if d.origin.source == source)


def cited_ids(page: Any) -> set[str]:
    """The citation ids of every marker in the transcript and every entry of the sources."""
    found = page.locator("#sanad-transcript a.sanad-marker, #sanad-sources li.sanad-source")
    return {element.get_attribute("data-cid") for element in found.all()}


# --- the browser test --------------------------------------------------------------------------
def test_upload_cite_a_pdf_page_and_delete(page: Any, upload_dir: Path, ui_engine: Engine) -> None:
    open_tab(page, "Documents")
    names = [PDF_NAME, HTML_NAME, BLANK_NAME]
    page.set_input_files("#sanad-upload-files input[type=file]", [upload_dir / n for n in names])
    for name in names:  # each file has reached the server before the button is pressed
        page.locator(f'#sanad-upload-files td.filename[aria-label="{name}"]').wait_for()
    page.click("#sanad-upload-button")
    table_row(page, "sanad-upload-results", BLANK_NAME).wait_for(timeout=3 * TIMEOUT_MS)
    rows = {name: row_cells(table_row(page, "sanad-upload-results", name))[1:] for name in names}
    assert rows[PDF_NAME][0] == "added" and rows[HTML_NAME][0] == "added", rows
    assert rows[BLANK_NAME][0] == "skipped" and rows[BLANK_NAME][1].strip(), rows
    assert "2 added, 1 skipped" in page.locator("#sanad-doc-status").inner_text()

    pdf = stored(ui_engine, f"uploads/{PDF_NAME}")
    web = stored(ui_engine, f"uploads/{HTML_NAME}")
    assert (pdf.origin.published, web.origin.published, web.origin.site) == (
        "2024-03-05",
        "2024-02-10",
        "Harbour Ledger",
    )
    for doc in (pdf, web):
        row = table_row(page, "sanad-doc-table", doc.doc_id)
        row.wait_for()
        cells = dict(zip(DOC_COLUMNS, row_cells(row), strict=True))
        assert (cells["title"], cells["published"]) == (doc.origin.title, doc.origin.published)
        assert cells["site"] == (doc.origin.site or "") and cells["source"] == doc.origin.source
        assert cells["pages"] == ("2" if doc is pdf else "")
    screenshot(page, "documents.png")

    # The Arabic question is answered from page 2 of the PDF, and the sources say so.
    open_tab(page, "Chat")  # the chat's source filter offers the new site
    page.locator("#sanad-source-filter input").click()
    page.get_by_role("option", name="Harbour Ledger", exact=True).wait_for()
    page.keyboard.press("Escape")
    answer = ask(page, Q_PDF)
    pdf_sources = page.locator(f'#sanad-sources li.sanad-source[data-cid^="{pdf.doc_id}:"]')
    source = pdf_sources.filter(has_text="412")
    assert source.count() == 1, pdf_sources.all_inner_texts()
    origin = source.locator(".sanad-origin")
    assert origin.locator(".sanad-page").inner_text() == "p. 2"
    assert origin.locator(".sanad-date").inner_text() == "2024-03-05"
    cid = source.get_attribute("data-cid")
    answer.locator(f'a.sanad-marker[data-cid="{cid}"]').click()
    header = page.locator(f'#sanad-article .sanad-article[data-cid="{cid}"] .sanad-origin')
    assert " ".join(header.inner_text().split()).endswith("2024-03-05 · p. 2")
    assert "412" in page.locator("#sanad-article mark").inner_text()
    screenshot(page, "documents_pdf_page.png")

    # Deleting the PDF (a second step confirms) removes it from the table and from answers.
    open_tab(page, "Documents")
    page.locator("#sanad-doc-choice input").fill("بعثة أثرية")
    page.get_by_role("option", name=f"{PDF_TITLE} — uploads/{PDF_NAME}").click()
    page.click("#sanad-delete")
    page.click("#sanad-confirm-delete")
    page.locator("#sanad-doc-status").get_by_text("Deleted").wait_for()
    table_row(page, "sanad-doc-table", pdf.doc_id).wait_for(state="detached")
    assert table_row(page, "sanad-doc-table", web.doc_id).count() == 1
    assert page.locator("#sanad-confirm-delete").is_hidden()

    open_tab(page, "Chat")
    page.click("#sanad-new")
    page.locator("#sanad-transcript .sanad-msg").first.wait_for(state="detached")
    ask(page, Q_PDF)
    assert not any(cid.startswith(f"{pdf.doc_id}:") for cid in cited_ids(page))
    assert pdf.doc_id not in {d.doc_id for d in ui_engine.store.documents()}
    assert not (ui_engine.settings.data_dir / "uploads" / PDF_NAME).exists()
    assert page.dialogs == []


# --- handlers and rendering (no browser) -------------------------------------------------------
def test_upload_handlers_skip_bad_names_with_their_reason(
    ui_engine: Engine, tmp_path: Path
) -> None:
    rows, summary = upload_rows(
        owner_view(ui_engine).library,
        [("../x.txt", io.BytesIO(b"escape")), ("tool.exe", io.BytesIO(b"MZ"))],
        None,
    )
    assert [row[:2] for row in rows] == [["../x.txt", "skipped"], ["tool.exe", "skipped"]]
    assert "path separator" in rows[0][2] and "unsupported file type (.exe" in rows[1][2]
    assert summary == "Upload: 2 skipped."

    program = tmp_path / "setup.exe"  # what Gradio hands over: a temporary path
    program.write_bytes(b"MZ")
    result = make_upload(owner_viewer(ui_engine))([str(program)], [], [])
    assert result[0] == [["setup.exe", "skipped", rows[1][2]]]
    assert "1 skipped" in result[1]
    assert not list((ui_engine.settings.data_dir / "uploads").glob("*.exe"))


def test_reindex_and_delete_report_their_outcome(ui_engine: Engine) -> None:
    reindex = make_document_action(owner_viewer(ui_engine), reindex_document)
    delete = make_document_action(owner_viewer(ui_engine), delete_document)
    seed = next(d for d in ui_engine.store.documents() if d.origin.source.startswith("seeds/"))
    status, hidden, rows, *_ = reindex(seed.doc_id, [], [])
    assert "Re-indexed" in status and hidden["visible"] is False
    assert seed.doc_id in {row[-1] for row in rows}
    with pytest.warns(UserWarning, match="Choose a document"):
        reindex(None, [], [])

    results, _ = ui_engine.library.upload([("note.txt", io.BytesIO(NOTE.encode()))])
    doc_id = results[0].doc_id
    (ui_engine.settings.data_dir / "uploads" / "note.txt").unlink()
    with pytest.warns(UserWarning, match="its file is gone"):
        status, *_ = reindex(doc_id, [], [])
    assert "Cannot re-index" in status and "&lt;b&gt;" in status  # the title, escaped
    status, _, rows, chosen, *_ = delete(doc_id, [], [])
    assert status.startswith('<div class="sanad-status" dir="auto">Deleted ')
    assert doc_id not in {row[-1] for row in rows}
    assert doc_id not in {value for _, value in chosen["choices"]}
    with pytest.warns(UserWarning, match="no document"):
        delete(doc_id, [], [])


def test_sources_dates_and_pages_are_escaped() -> None:
    citation = Citation(
        id="0123456789abcdef:0-5",
        n=1,
        doc_id="0123456789abcdef",
        start=0,
        end=5,
        lang="en",
        title="A title",
        source="uploads/a.pdf",
        site=IMG,
        published="2024-03-05",
        page=2,
        quote=SCRIPT,
    )
    html = render_source(citation)
    assert "<img" not in html and "<script" not in html and "&lt;img src=x" in html
    assert '<bdi class="sanad-date" dir="ltr">2024-03-05</bdi>' in html
    assert '<bdi class="sanad-page" dir="ltr">p. 2</bdi>' in html
    without_site = render_source(citation.model_copy(update={"site": None, "page": None}))
    assert "uploads/a.pdf" in without_site and "sanad-page" not in without_site
    assert "<script" not in render_status(SCRIPT) and "&lt;script&gt;" in render_status(SCRIPT)


def test_source_choices_match_the_source_filter() -> None:
    docs = [
        DocRecord(
            "a" * 16, Provenance("T", "uploads/a.html", "en", "2024-02-10", "Ledger"), 1, 200
        ),
        DocRecord("b" * 16, Provenance("T", "https://www.example.org/x", "en"), 1, 200),
        DocRecord(
            "c" * 16, Provenance("T", "seeds/003.txt", "ar", url="https://news.ly/3"), 1, 200
        ),
    ]
    choices = source_choices(docs)
    assert choices == ["example.org", "Ledger", "news.ly", "seeds", "uploads"]
    for choice in choices:
        passing = {
            d.doc_id
            for d in docs
            if Filters.of(sources=[choice]).allows(d.doc_id, facts_of(d.metadata()))
        }
        assert len(passing) == 1, choice


def test_chat_filters_dates_and_bad_input(ui_engine: Engine) -> None:
    respond = make_respond(owner_viewer(ui_engine))
    day = "2019-12-08"  # only the Indonesian seed is dated that day
    *_, done = respond(Q_EN, None, [], [], [], day, day)
    citations = stored_turns(owner_view(ui_engine), done["conversation"])[-1].answer.citations
    assert citations and {(c.lang, c.published) for c in citations} == {("id", day)}
    for date_from, date_to in (("2019-12-31", "2019-01-01"), ("2019-13-01", None), ("8/12", None)):
        with pytest.warns(UserWarning, match="date"):
            out = list(respond(Q_EN, None, [], [], [], date_from, date_to))
        assert out == [{}]  # a warning, and no question asked
    _, chosen, docs, sources, target = refreshed(
        owner_view(ui_engine), ["0" * 16], ["seeds", "gone"], "gone-collection"
    )
    assert target["value"] == "default" and target["choices"] == ["default"]
    assert docs["value"] == [] and sources["value"] == ["seeds"] and chosen["value"] is None


def test_toasts_show_titles_as_text(ui_engine: Engine, monkeypatch) -> None:
    """Gradio renders a toast's text as HTML: a title must not load images or show links."""
    shown: list[str] = []
    monkeypatch.setattr(gr, "Info", shown.append)
    monkeypatch.setattr(gr, "Warning", shown.append)
    lure = "<img src=//attacker.example/x> <a href=//attacker.example>Log in again</a>"
    text = f"{lure}\n\nThe ferry to Cape Varrow leaves the harbour at nine every morning.\n"
    results, _ = ui_engine.library.upload([("lure.txt", io.BytesIO(text.encode()))])
    doc_id = results[0].doc_id
    make_document_action(owner_viewer(ui_engine), reindex_document)(doc_id, [], [])
    make_document_action(owner_viewer(ui_engine), delete_document)(doc_id, [], [])
    assert [m.split()[0] for m in shown] == ["Re-indexed", "Deleted"]
    assert all("&lt;img" in m and "<img" not in m and "<a " not in m for m in shown), shown
