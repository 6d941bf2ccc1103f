"""Bring your own news: one file of each format, uploads, deletes, re-index, feeds, filters."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest

from assistant.engine import Engine
from benchmarks.pdf_pages import article_html, print_pdf
from index.filters import Filters
from index.formats.base import SkipFile
from index.library import DocumentNotFound
from tests.conftest import SEEDS, make_engine

PDF_AR = """عمّان، 5 مارس 2024
افتتحت بلدية الزرقاء مكتبة عامة جديدة في وسط المدينة بحضور وزير الثقافة.
وقال رئيس البلدية إن المشروع استغرق عامين من العمل.
تضم المكتبة الجديدة في الزرقاء اثني عشر ألف كتاب باللغتين العربية والإنجليزية.
وستفتح المكتبة أبوابها للجمهور يوميا من الساعة التاسعة صباحا حتى السادسة مساء."""
HTML_EN = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Desalination plant opens in Aqaba | Gulf Wire</title>
<meta property="og:site_name" content="Gulf Wire"><meta name="author" content="Omar Saleh">
<meta property="article:published_time" content="2024-02-10T08:00:00Z"></head><body>
<nav><a href="/">Home</a> <a href="/business">Business</a></nav>
<article><h1>Desalination plant opens in Aqaba</h1>
<p>A new desalination plant opened in Aqaba on Saturday and will supply drinking water to
three hundred thousand residents of southern Jordan.</p>
<p>The plant cost 120 million dollars and was financed by a consortium of regional banks.</p>
</article><footer>Subscribe to our newsletter</footer></body></html>"""
TXT_ID = """Jakarta, 12 Januari 2024
Pemerintah kota Jakarta meresmikan jalur bus listrik baru yang menghubungkan Blok M dan Kota.
Jalur tersebut melayani empat puluh ribu penumpang setiap hari menurut dinas perhubungan."""
MD_EN = """# Tunis port expansion approved

TUNIS, 3 April 2024 - The Tunisian parliament approved the expansion of the port of Rades,
which will double its container capacity by 2027, the transport minister said.
"""
DOCX_AR = [
    ("heading", "الحكومة تعلن خطة لتحلية مياه البحر"),
    ("para", "أعلنت الحكومة خطة لبناء ثلاث محطات لتحلية مياه البحر على الساحل الجنوبي."),
    ("table", [["المحطة", "السعة"], ["العقبة", "مئة مليون متر مكعب"]]),
    ("para", "وتبلغ كلفة الخطة ملياري دولار وتنتهي الأعمال فيها عام 2028."),
]


def make_docx(path: Path) -> Path:
    """A Word file with a heading, paragraphs, a table in between and core properties."""
    document = docx.Document()
    for kind, value in DOCX_AR:
        if kind == "heading":
            document.add_heading(value, level=1)
        elif kind == "para":
            document.add_paragraph(value)
        else:
            table = document.add_table(rows=len(value), cols=len(value[0]))
            for r, row in enumerate(value):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
    document.core_properties.author = "وزارة المياه"
    document.core_properties.created = dt.datetime(2024, 1, 20, 9, 0)
    document.save(path)
    return path


@pytest.fixture(scope="module")
def formats_dir(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Path:
    """A folder with one file of each supported format, made here."""
    folder = tmp_path_factory.mktemp("formats") / "news"
    folder.mkdir()
    markup = article_html(PDF_AR, "ar", "مكتبة الزرقاء", page_breaks=True)
    print_pdf(markup, folder / "zarqa.pdf", chromium_path)
    (folder / "aqaba.html").write_text(HTML_EN, encoding="utf-8")
    (folder / "jakarta.txt").write_text(TXT_ID, encoding="utf-8")
    (folder / "tunis.md").write_text(MD_EN, encoding="utf-8")
    make_docx(folder / "water.docx")
    return folder


@pytest.fixture(scope="module")
def news_engine(tmp_path_factory: pytest.TempPathFactory, seeded, formats_dir: Path) -> Engine:
    """The seeds plus the folder of formats, in a private index."""
    engine = seeded(tmp_path_factory.mktemp("news"))
    report = engine.ingest([SEEDS, formats_dir], progress=False)
    assert not report.skipped and len(report.unchanged) == 5, report
    return engine


def by_source(engine: Engine) -> dict[str, object]:
    return {d.origin.source: d for d in engine.store.documents()}


def test_one_file_of_each_format(news_engine: Engine):
    docs = by_source(news_engine)
    expected = {  # source: (lang, published, site, a sentence of the text)
        "news/zarqa.pdf": ("ar", "2024-03-05", None, "تضم المكتبة الجديدة في الزرقاء"),
        "news/aqaba.html": ("en", "2024-02-10", "Gulf Wire", "A new desalination plant opened"),
        "news/jakarta.txt": ("id", "2024-01-12", None, "meresmikan jalur bus listrik"),
        "news/tunis.md": ("en", "2024-04-03", None, "approved the expansion of the port"),
        "news/water.docx": ("ar", "2024-01-20", None, "ثلاث محطات لتحلية مياه البحر"),
    }
    for source, (lang, published, site, sentence) in expected.items():
        doc = docs[source]
        _, text = news_engine.store.document(doc.doc_id)
        assert (doc.origin.lang, doc.origin.published, doc.origin.site) == (
            lang,
            published,
            site,
        ), source
        assert sentence in text, (source, text[:300])
    html_text = news_engine.store.document(docs["news/aqaba.html"].doc_id)[1]
    assert "Subscribe" not in html_text and "Business" not in html_text
    assert docs["news/aqaba.html"].origin.author == "Omar Saleh"
    pdf = docs["news/zarqa.pdf"]
    assert (
        len(pdf.origin.pages.starts) == 5 and pdf.origin.pages.starts[0] == 0
    )  # one line per page
    docx_text = news_engine.store.document(docs["news/water.docx"].doc_id)[1]
    assert docx_text.index("المحطة | السعة") < docx_text.index("وتبلغ كلفة الخطة")
    assert docs["news/water.docx"].origin.author == "وزارة المياه"


def test_citations_of_a_pdf_carry_the_page_and_exact_spans(news_engine: Engine):
    pdf = by_source(news_engine)["news/zarqa.pdf"]
    answer = news_engine.ask(
        "كم كتابا تضم المكتبة الجديدة في الزرقاء؟", filters=Filters.of(doc_ids=[pdf.doc_id])
    )
    assert answer.citations, answer
    _, text = news_engine.store.document(pdf.doc_id)
    for citation in answer.citations:
        assert text[citation.start : citation.end] == citation.quote
        assert citation.page == pdf.page_at(citation.start)
        assert citation.published == "2024-03-05"
    cited = next(c for c in answer.citations if "اثني عشر ألف" in c.quote)
    assert cited.page == 4


def test_every_format_keeps_quotes_exact(news_engine: Engine):
    for doc in news_engine.store.documents():
        _, text = news_engine.store.document(doc.doc_id)
        for hit in news_engine.retriever.search(
            doc.origin.title, k=3, filters=Filters.of(doc_ids=[doc.doc_id])
        ):
            assert text[hit.chunk.start : hit.chunk.end] == hit.chunk.text


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (Filters.of(published_after=dt.date(2024, 2, 10)), {"zarqa.pdf", "aqaba.html", "tunis.md"}),
        (
            Filters.of(published_after=dt.date(2024, 1, 1), published_before=dt.date(2024, 2, 10)),
            {"aqaba.html", "jakarta.txt", "water.docx"},
        ),
        (Filters.of(sources=["gulf wire"]), {"aqaba.html"}),
        (Filters.of(sources=["news/jakarta.txt", "Gulf Wire"]), {"jakarta.txt", "aqaba.html"}),
        (Filters.of(sources=["seeds"]), {p.name for p in SEEDS.glob("*.txt")}),
        (Filters.of(langs=["ar"], sources=["news"]), {"zarqa.pdf", "water.docx"}),
    ],
)
def test_filters_by_date_source_and_language(news_engine: Engine, filters, allowed):
    hits = news_engine.retriever.search("water, transport and libraries", k=30, filters=filters)
    assert hits
    assert {Path(h.chunk.origin.source).name for h in hits} <= allowed
    assert len({h.chunk.doc_id for h in hits}) >= min(2, len(allowed))


def test_an_empty_date_range_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        Filters.of(published_after=dt.date(2024, 3, 1), published_before=dt.date(2024, 2, 1))


# --- uploads, delete, re-index ------------------------------------------------------------
@pytest.fixture
def library_engine(tmp_path: Path, embedder) -> Engine:
    """An empty private index (uploads land in its data directory); the test sites it reads
    by URL are on loopback, which ingestion refuses unless allowed."""
    return make_engine(tmp_path, embedder, max_file_mb=0.01, fetch_allow="127.0.0.1")


def test_upload_reports_each_file_and_writes_only_inside_the_data_dir(library_engine, tmp_path):
    good = TXT_ID.encode()
    files = [
        ("jakarta.txt", io.BytesIO(good)),
        ("../escape.txt", io.BytesIO(good)),
        ("sub/dir.txt", io.BytesIO(good)),
        ("..\\win.txt", io.BytesIO(good)),
        ("tool.exe", io.BytesIO(b"MZ")),
        ("big.txt", io.BytesIO(b"word " * 5000)),
        ("broken.pdf", io.BytesIO(b"%PDF-1.7 garbage")),
        ("fake.docx", io.BytesIO(b"PK\x03\x04 not a zip")),
        ("blank.html", io.BytesIO(b"<html><body><script>x()</script></body></html>")),
    ]
    results, _ = library_engine.library.upload(files)
    status = {r.name: (r.status, r.reason) for r in results}
    assert status["jakarta.txt"] == ("added", None)
    assert len(results) == len(files)
    for name in ("../escape.txt", "sub/dir.txt", "..\\win.txt"):
        assert status[name][0] == "skipped" and "path separator" in status[name][1]
    assert "unsupported file type (.exe" in status["tool.exe"][1]
    assert "larger than" in status["big.txt"][1]
    assert status["broken.pdf"][0] == "skipped" and "PDF" in status["broken.pdf"][1]
    assert status["fake.docx"][0] == "skipped" and "docx" in status["fake.docx"][1].lower()
    assert status["blank.html"][0] == "skipped"
    uploads = library_engine.library.uploads
    assert sorted(p.name for p in uploads.iterdir()) == ["jakarta.txt"]
    assert not (tmp_path / "escape.txt").exists() and not (uploads.parent / "escape.txt").exists()
    (doc,) = library_engine.store.documents()
    assert doc.origin.source == "uploads/jakarta.txt" and doc.origin.published == "2024-01-12"


def test_a_failed_reupload_keeps_the_earlier_file(library_engine):
    library_engine.library.upload([("note.md", io.BytesIO(MD_EN.encode()))])
    results, _ = library_engine.library.upload([("note.md", io.BytesIO(b"\x00\x01binary"))])
    assert results[0].status == "skipped"
    assert (library_engine.library.uploads / "note.md").read_text() == MD_EN
    assert [d.origin.source for d in library_engine.store.documents()] == ["uploads/note.md"]


def test_an_uploaded_file_is_in_place_before_its_document_is_committed(library_engine, monkeypatch):
    store, uploads = library_engine.store, library_engine.library.uploads
    commit = store.commit_documents
    seen: list[list[str]] = []

    def checking(records, *args, **kwargs):
        seen.append([(uploads / Path(r.location).name).read_text() for r in records])
        return commit(records, *args, **kwargs)

    monkeypatch.setattr(store, "commit_documents", checking)
    library_engine.library.upload([("note.md", io.BytesIO(MD_EN.encode()))])
    assert seen == [[MD_EN]]  # a kill after the commit finds the file its record names


def test_uploads_staged_by_a_killed_process_are_removed_at_start(
    library_engine, tmp_path, embedder
):
    uploads = library_engine.library.uploads
    uploads.mkdir(parents=True, exist_ok=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = uploads / f".tmp-{dead.pid}-{'0' * 32}-report.pdf"
    legacy = uploads / f".tmp-{'a' * 32}-old.txt"  # named before staged files carried a pid
    live = uploads / f".tmp-{os.getpid()}-{'1' * 32}-arriving.txt"
    for path in (left, legacy, live):
        path.write_bytes(b"partial")
    fresh = make_engine(tmp_path, embedder)
    assert fresh.library.sweep_staged() == 0  # the start already swept
    assert not left.exists() and not legacy.exists() and live.exists()


def test_delete_reaches_every_process_at_once(library_engine, tmp_path, embedder):
    library_engine.library.upload(
        [("jakarta.txt", io.BytesIO(TXT_ID.encode())), ("tunis.md", io.BytesIO(MD_EN.encode()))]
    )
    other = make_engine(tmp_path, embedder)  # a second reader of the same Chroma data
    question = "jalur bus listrik Jakarta"
    doc_id = next(d.doc_id for d in library_engine.store.documents() if d.origin.lang == "id")
    assert doc_id in {h.chunk.doc_id for h in other.retriever.search(question, k=5)}
    assert doc_id in {h.chunk.doc_id for h in library_engine.retriever.search(question, k=5)}
    record = library_engine.library.delete(doc_id)
    assert record.origin.source == "uploads/jakarta.txt"
    for engine in (library_engine, other):
        assert doc_id not in {h.chunk.doc_id for h in engine.retriever.search(question, k=5)}
        assert doc_id not in {d.doc_id for d in engine.store.documents()}
    assert not (library_engine.library.uploads / "jakarta.txt").exists()
    with pytest.raises(DocumentNotFound):
        library_engine.library.delete(doc_id)


def test_reindex_reads_the_file_again(library_engine):
    library_engine.library.upload([("tunis.md", io.BytesIO(MD_EN.encode()))])
    (doc,) = library_engine.store.documents()
    report = library_engine.library.reindex(doc.doc_id)
    assert report.updated == ["uploads/tunis.md"] and report.chunks_embedded >= 1
    assert [d.doc_id for d in library_engine.store.documents()] == [doc.doc_id]
    (library_engine.library.uploads / "tunis.md").unlink()
    with pytest.raises(SkipFile, match="gone"):
        library_engine.library.reindex(doc.doc_id)
    assert [d.doc_id for d in library_engine.store.documents()] == [doc.doc_id]  # kept


def test_a_failed_reindex_leaves_the_document_searchable(library_engine, monkeypatch):
    library_engine.library.upload([("tunis.md", io.BytesIO(MD_EN.encode()))])
    (doc,) = library_engine.store.documents()
    question = "Tunis"
    found = [h.chunk.id for h in library_engine.retriever.search(question, k=3)]
    assert found and all(i.startswith(doc.doc_id) for i in found)

    def fail(texts: list[str]) -> None:
        raise RuntimeError("the model ran out of memory")

    monkeypatch.setattr(library_engine.embedder, "embed_passages", fail)
    with pytest.raises(RuntimeError, match="out of memory"):
        library_engine.library.reindex(doc.doc_id)
    assert library_engine.store.documents() == [doc]
    assert [h.chunk.id for h in library_engine.retriever.search(question, k=3)] == found
    monkeypatch.undo()  # the model works again: the next re-index replaces the version
    assert library_engine.library.reindex(doc.doc_id).chunks_embedded == doc.n_chunks
    assert [h.chunk.id for h in library_engine.retriever.search(question, k=3)] == found


# --- web pages and feeds ----------------------------------------------------------------
FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Gulf Wire</title><link>{base}/</link><description>News</description>
<item><title>Desalination plant opens in Aqaba</title><link>{base}/aqaba.html</link>
<pubDate>Sat, 10 Feb 2024 08:00:00 GMT</pubDate><description>A plant opened.</description></item>
<item><title>Gone</title><link>{base}/missing.html</link>
<pubDate>Sun, 11 Feb 2024 08:00:00 GMT</pubDate><description>Short.</description></item>
</channel></rss>"""


@pytest.fixture
def news_site() -> Iterator[tuple[str, list[str], dict[str, str]]]:
    """A local site serving a feed and its article page; yields (base URL, requested paths,
    pages the test adds)."""
    requests: list[str] = []
    added: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            base = f"http://127.0.0.1:{self.server.server_port}"
            pages = {"/feed.xml": FEED.format(base=base), "/aqaba.html": HTML_EN, **added}
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header(
                "Content-Type", "application/rss+xml" if "xml" in self.path else "text/html"
            )
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", requests, added
    server.shutdown()


def test_feed_items_become_documents_and_a_rerun_fetches_only_new_ones(library_engine, news_site):
    base, requests, pages = news_site
    report = library_engine.library.ingest_feeds([f"{base}/feed.xml"], progress=False)
    assert report.added == [f"{base}/aqaba.html", f"{base}/missing.html"] and not report.skipped
    docs = {d.origin.source: d for d in library_engine.store.documents()}
    doc = docs[f"{base}/aqaba.html"]
    assert (doc.origin.published, doc.origin.site, doc.origin.url) == (
        "2024-02-10",
        "Gulf Wire",
        f"{base}/aqaba.html",
    )
    # Issue 25, point 2: an item whose page cannot be read is stored as its summary, marked so
    gone = docs[f"{base}/missing.html"]
    assert gone.origin.summary_only and not doc.origin.summary_only
    assert library_engine.store.document(gone.doc_id)[1] == "Short."
    hit = library_engine.search("Short", 10)
    assert any(h.chunk.origin.summary_only for h in hit)
    requests.clear()
    again = library_engine.library.ingest_feeds([f"{base}/feed.xml"], progress=False)
    assert not again.added and "/aqaba.html" not in requests
    assert requests.count("/feed.xml") == 1 and "/missing.html" in requests  # tried again
    pages["/missing.html"] = HTML_EN.replace("Aqaba", "Salalah")  # the page answers now
    later = library_engine.library.ingest_feeds([f"{base}/feed.xml"], progress=False)
    assert later.updated == [f"{base}/missing.html"]
    replaced = [
        d for d in library_engine.store.documents() if d.origin.source.endswith("missing.html")
    ]
    assert len(replaced) == 1 and not replaced[0].origin.summary_only
    assert "Salalah" in library_engine.store.document(replaced[0].doc_id)[1]


def test_a_url_is_ingested_and_an_unreachable_one_reported(library_engine, news_site):
    base, _, _ = news_site
    report = library_engine.library.ingest_urls(
        [f"{base}/aqaba.html", "http://127.0.0.1:9/nothing"], progress=False
    )
    assert report.added == [f"{base}/aqaba.html"]
    assert "unreachable" in dict(report.skipped)["http://127.0.0.1:9/nothing"]
    library_engine.library.options.fetch_allow = ()  # the default: nothing internal
    report = library_engine.library.ingest_urls([f"{base}/aqaba.html"], progress=False)
    assert "internal address" in dict(report.skipped)[f"{base}/aqaba.html"]
    (doc,) = library_engine.store.documents()
    assert doc.location == f"{base}/aqaba.html" and doc.origin.site == "Gulf Wire"
