"""PDF and Word readers on real files: chromium-printed seed pages, pypdf and python-docx output."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from benchmarks import html_layouts
from benchmarks.pdf_pages import article_html, print_pdf, seed_articles, source_lines
from benchmarks.pdf_text import similarity
from index.documents import published_date, read_file
from index.formats.base import SkipFile
from index.formats.bidi import visual_to_logical
from index.formats.bounds import MAX_PAGES, MAX_TEXT_CHARS
from index.formats.docx import read_docx
from index.formats.html import extract_html, is_boilerplate
from index.formats.pdf import read_pdf

SEED_PAGES = {"ar": "002_c1b219bdab24c0b9", "ar-digits": "004_3bbad0cd6e295111"}
SEED_PAGES |= {"en": "001_b8dc84c3be759f24", "id": "000_8241de82ed160f6f"}
PAGES = [
    "Misrata port reopened on Monday after a week-long strike.",
    "قال مسؤولون إن ميناء مصراتة استأنف العمل يوم الاثنين 14 مايو.",
    "Pelabuhan Misrata kembali dibuka pada hari Senin setelah mogok.",
]
PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")
ARABIC = "قالت المصادر إن خليفة حفتر التقى مسؤولين أمنيين في عمّان سنة 2016."


def paged_html(paragraphs: list[str]) -> str:
    """One paragraph per page, each in its own direction (dir=auto)."""
    body = "".join(f"<p dir=auto>{html.escape(text)}</p>" for text in paragraphs)
    style = "<style>p + p { break-before: page; }</style>"
    return f"<!doctype html><html><meta charset=utf-8><title>Misrata</title>{style}{body}</html>"


TABLE_ROWS = [("Port", "Misrata"), ("Berths", "Twelve"), ("Status", "Closed"), ("Ships", "Nine")]
TABLE_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><body><p>Port status report</p><table>"
    + "".join(
        f"<tr><td style='width:8em'>{a}</td><td style='padding-left:20em'>{b}</td></tr>"
        for a, b in TABLE_ROWS
    )
    + "</table></body></html>"
)


@pytest.fixture(scope="module")
def printed(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """PDFs chromium printed: seed pages, a page per line, an untitled page, an image only."""
    tmp = tmp_path_factory.mktemp("pdf")
    seeds = {name: (lang, text) for name, lang, text in seed_articles()}
    pages = {
        key: article_html(seeds[name][1], seeds[name][0], source_lines(seeds[name][1])[0])
        for key, name in SEED_PAGES.items()
    }
    for lang, name in (("en", "001"), ("ar", "002")):  # set in two columns
        key = next(k for k, n in SEED_PAGES.items() if n.startswith(name))
        text = seeds[SEED_PAGES[key]][1]
        pages[f"columns-{lang}"] = article_html(text, lang, source_lines(text)[0], columns=2)
    pages["table"] = TABLE_PAGE
    pages["paged"] = paged_html(PAGES)
    pages["untitled"] = article_html(PAGES[0], "en")
    pages["image"] = "<html><body><div style='height:300px;background:#c33'></div></body></html>"
    return {
        key: print_pdf(markup, tmp / f"{key}.pdf", chromium_path).read_bytes()
        for key, markup in pages.items()
    }


def with_metadata(data: bytes, **entries: str) -> bytes:
    """The same PDF with its document information replaced by `entries` (/Title etc.)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.metadata = None
    writer.add_metadata({f"/{key}": value for key, value in entries.items()})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("key", list(SEED_PAGES))
def test_pdf_text_matches_the_printed_seed(printed: dict[str, bytes], key: str) -> None:
    name = SEED_PAGES[key]
    text = next(text for stem, _, text in seed_articles() if stem == name)
    got = read_pdf(printed[key])
    ratio = similarity(" ".join(source_lines(text)), got.text)
    assert ratio >= 0.95, f"{key}: similarity {ratio:.4f} to the source"
    assert got.title == source_lines(text)[0]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", got.published or ""), got.published
    assert not PRESENTATION_FORMS.search(got.text)
    assert "\n\n" not in got.text and got.page_starts[0] == 0


@pytest.mark.parametrize("key", ["en", "ar"])
def test_pdf_wrapped_lines_join_into_their_paragraph(printed: dict[str, bytes], key: str) -> None:
    text = next(text for stem, _, text in seed_articles() if stem == SEED_PAGES[key])
    paragraphs = set(source_lines(text))
    lines = read_pdf(printed[key]).text.splitlines()
    whole = sum(line in paragraphs for line in lines)  # a page break may still split one
    assert whole >= len(paragraphs) - 2 and len(lines) <= len(paragraphs) + 2, lines


def test_pdf_arabic_reads_in_logical_order(printed: dict[str, bytes]) -> None:
    text = read_pdf(printed["ar-digits"]).text
    # words right to left, digits and Latin left to right, marks on their letter, brackets
    for phrase in ("خليفة حفتر في بنغازي", "في 14 فيفري 2014", "[ads2]", "تمسّك", "(شرق )"):
        assert phrase in text, phrase


def test_pdf_page_starts_mark_each_page(printed: dict[str, bytes]) -> None:
    got = read_pdf(printed["paged"])
    assert len(got.page_starts) == len(PAGES) == len(PdfReader(io.BytesIO(printed["paged"])).pages)
    ends = [*got.page_starts[1:], len(got.text)]
    for page, (start, end) in enumerate(zip(got.page_starts, ends)):
        assert got.text[start:end].strip() == PAGES[page]
        assert start == 0 or got.text[start - 1] == "\n"


def test_pdf_metadata_title_author_date(printed: dict[str, bytes]) -> None:
    data = with_metadata(
        printed["untitled"],
        Title="  Misrata  port reopens ",
        Author="Libya Desk",
        CreationDate="D:20240305120000Z",
    )
    got = read_pdf(data)
    assert (got.title, got.author, got.published) == (
        "Misrata port reopens",
        "Libya Desk",
        "2024-03-05",
    )
    assert got.text == PAGES[0] and got.page_starts == (0,)


@pytest.mark.parametrize(
    "title", ["page.html", "Microsoft Word - report.docx", "Untitled-1", "C:\\Users\\desk\\a"]
)
def test_pdf_file_names_and_placeholders_are_no_title(
    printed: dict[str, bytes], title: str
) -> None:
    assert read_pdf(with_metadata(printed["untitled"], Title=title)).title == ""


def test_pdf_without_metadata(printed: dict[str, bytes]) -> None:
    got = read_pdf(with_metadata(printed["untitled"]))
    assert (got.title, got.author, got.published) == ("", None, None)


def test_pdf_untitled_page_takes_no_file_name(printed: dict[str, bytes]) -> None:
    assert PdfReader(io.BytesIO(printed["untitled"])).metadata.title == "page.html"
    assert read_pdf(printed["untitled"]).title == ""


def encrypted(data: bytes, user_password: str) -> bytes:
    """The same PDF encrypted with AES-256."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_encrypted_with_a_password_is_skipped(printed: dict[str, bytes]) -> None:
    with pytest.raises(SkipFile, match="encrypted"):
        read_pdf(encrypted(printed["untitled"], "secret"))


def test_pdf_encrypted_with_an_empty_password_is_read(printed: dict[str, bytes]) -> None:
    assert read_pdf(encrypted(printed["untitled"], "")).text == PAGES[0]


@pytest.mark.parametrize("cut", [0.5, 0.95])
def test_pdf_truncated_is_corrupt(printed: dict[str, bytes], cut: float) -> None:
    data = printed["untitled"]
    with pytest.raises(SkipFile, match=r"^corrupt PDF \("):
        read_pdf(data[: int(len(data) * cut)])


@pytest.mark.parametrize("data", [b"", b"hello, not a PDF", b"%PDF-1.7\n\x00\xff garbage"])
def test_pdf_not_a_pdf_is_corrupt(data: bytes) -> None:
    with pytest.raises(SkipFile, match=r"^corrupt PDF \("):
        read_pdf(data)


def test_pdf_image_only_has_no_text_layer(printed: dict[str, bytes]) -> None:
    with pytest.raises(SkipFile, match="no text layer"):
        read_pdf(printed["image"])


def test_pdf_blank_page_has_no_text_layer() -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(SkipFile) as caught:
        read_pdf(out.getvalue())
    assert caught.value.reason == "no text layer: scanned or image-only PDF"


@pytest.mark.parametrize(
    ("visual", "logical"),
    [
        ("2014 يف", "في 2014"),  # digits stay left to right
        ("(قرش) جرملا", "المرج (شرق)"),  # brackets drawn mirrored
        ("مويلا Middle East Eye عقوم", "موقع Middle East Eye اليوم"),
        ("the word رتفح here", "the word حفتر here"),
        ("Misrata 3.5%", "Misrata 3.5%"),
    ],
)
def test_visual_lines_back_to_logical(visual: str, logical: str) -> None:
    assert visual_to_logical(list(visual)) == logical


def test_visual_units_keep_marks_on_their_letter() -> None:
    assert visual_to_logical(["ب", "ذّ", "ك"]) == "كذّب"


def test_visual_line_without_letters_follows_the_page() -> None:
    assert visual_to_logical(list("3465 •"), rtl_default=True) == "• 3465"
    assert visual_to_logical(list("3465 •")) == "3465 •"


def word_document() -> docx.document.Document:
    """A heading, a paragraph, a table with merged cells, an Arabic paragraph."""
    document = docx.Document()
    document.add_heading("Misrata port strike", level=1)
    document.add_paragraph("Dockworkers   stopped work on Monday.")
    table = document.add_table(rows=4, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Port", "Ships", "Status")):
        cell.text = text
    table.cell(1, 0).merge(table.cell(1, 1)).text = "Misrata (both berths)"
    table.cell(1, 2).text = "closed"
    table.cell(1, 2).merge(table.cell(2, 2))
    table.cell(2, 0).text = "Khoms"
    document.add_paragraph(ARABIC)
    document.add_paragraph("   ")
    return document


def docx_bytes(document: docx.document.Document) -> bytes:
    """The document saved to bytes."""
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_body_in_order_with_tables() -> None:
    got = read_docx(docx_bytes(word_document()))
    assert got.text.split("\n") == [
        "Misrata port strike",
        "Dockworkers stopped work on Monday.",
        "Port | Ships | Status",
        "Misrata (both berths) | closed",
        "Khoms",
        ARABIC,
    ]
    assert got.title == "Misrata port strike"
    assert got.page_starts == ()


def test_docx_core_properties() -> None:
    document = word_document()
    document.core_properties.title = "Strike at Misrata"
    document.core_properties.author = "Libya Desk"
    document.core_properties.created = dt.datetime(2024, 3, 5, 12, 0, tzinfo=dt.UTC)
    got = read_docx(docx_bytes(document))
    assert (got.title, got.author, got.published) == (
        "Strike at Misrata",
        "Libya Desk",
        "2024-03-05",
    )


def test_docx_title_falls_back_to_the_title_style() -> None:
    document = docx.Document()
    document.add_paragraph("Not a heading")
    document.add_heading("The report", level=0)
    assert read_docx(docx_bytes(document)).title == "The report"


def test_docx_without_text_is_skipped() -> None:
    document = docx.Document()
    document.add_paragraph("  ")
    document.add_table(rows=2, cols=2)
    with pytest.raises(SkipFile) as caught:
        read_docx(docx_bytes(document))
    assert caught.value.reason == "no text in the document"


def zip_of(**files: str) -> bytes:
    """A zip archive holding the given files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"\x8f\x01 random bytes \xff" * 20,
        zip_of(**{"notes.txt": "hello"}),
        zip_of(**{"[Content_Types].xml": "<Types/>", "word/other.xml": "<x/>"}),
        b"%PDF-1.7 not a word file",
    ],
)
def test_docx_other_files_are_skipped(data: bytes) -> None:
    with pytest.raises(SkipFile) as caught:
        read_docx(data)
    assert caught.value.reason == "not a Word (.docx) document"


# --- decompression bombs: the expanded size is bounded, not only the file's -------------------
def docx_with_padding(spaces: int) -> bytes:
    """A real .docx whose document.xml holds `spaces` spaces inside a comment (streamed)."""
    original = zipfile.ZipFile(io.BytesIO(docx_bytes(word_document())))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in original.infolist():
            data = original.read(member)
            if member.filename != "word/document.xml":
                bomb.writestr(member, data)
                continue
            head, tail = data.split(b"<w:body>", 1)
            with bomb.open(member.filename, "w", force_zip64=True) as part:
                part.write(head + b"<w:body><!--")
                block = b" " * 2**20
                for _ in range(spaces // len(block)):
                    part.write(block)
                part.write(b"-->" + tail)
    return out.getvalue()


@pytest.mark.parametrize("megabytes", [300, 48])  # over the total; one part expanding ~1000x
def test_docx_that_expands_too_far_is_skipped_before_parsing(megabytes: int) -> None:
    data = docx_with_padding(megabytes * 2**20)
    assert len(data) < 2 * 2**20  # a small file, under any size limit
    with pytest.raises(SkipFile, match="expands"):
        read_docx(data)
    assert "Dockworkers" in read_docx(docx_with_padding(2**20)).text  # a little padding reads


def test_pdf_whose_stream_expands_too_far_is_skipped() -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    content = StreamObject()
    content.set_data(b"BT /F1 12 Tf 72 720 Td (Bomb) Tj ET\n" + b" " * (100 * 2**20))
    page[NameObject("/Contents")] = writer._add_object(content.flate_encode())
    out = io.BytesIO()
    writer.write(out)
    assert len(out.getvalue()) < 2**20
    with pytest.raises(SkipFile, match="expands"):
        read_pdf(out.getvalue())


def test_pdf_with_too_many_pages_is_skipped() -> None:
    writer = PdfWriter()
    for _ in range(MAX_PAGES + 1):
        writer.add_blank_page(100, 100)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(SkipFile, match="pages"):
        read_pdf(out.getvalue())


def test_text_past_the_bound_is_skipped(tmp_path: Path) -> None:
    long = tmp_path / "long.txt"
    long.write_text("Headline\n\n" + "word " * (MAX_TEXT_CHARS // 5 + 1), encoding="utf-8")
    with pytest.raises(SkipFile, match="characters of text"):
        read_file(long, "long.txt", str(long), max_bytes=2**30)


def test_docx_tables_nested_in_a_cell_are_read_in_body_order() -> None:
    document = docx.Document()
    document.add_paragraph("Budget of the port authority")
    outer = document.add_table(rows=2, cols=2)
    outer.cell(0, 0).text = "Item"
    outer.cell(0, 1).text = "Cost"
    outer.cell(1, 0).text = "Cranes"
    cell = outer.cell(1, 1)
    cell.text = "By quarter:"
    inner = cell.add_table(rows=2, cols=2)
    for (r, c), text in {
        (0, 0): "Q1",
        (0, 1): "4 million",
        (1, 0): "Q2",
        (1, 1): "6 million",
    }.items():
        inner.cell(r, c).text = text
    document.add_paragraph("Approved on Monday.")
    lines = read_docx(docx_bytes(document)).text.split("\n")
    assert lines == [
        "Budget of the port authority",
        "Item | Cost",
        "Cranes | By quarter:",
        "Q1 | 4 million",
        "Q2 | 6 million",
        "Approved on Monday.",
    ]


@pytest.mark.parametrize(
    ("dateline", "date"),
    [
        ("فى 6 مارس سنة 2022", "2022-03-06"),  # a word for "year" between month and year
        ("القاهرة في 14 أبريل عام 2021 -", "2021-04-14"),
        ("الرباط، ١٢ غشت ٢٠٢٣ - قال الوزير", "2023-08-12"),  # Moroccan month, Arabic-Indic
        ("الجزائر في 5 نونبر 2021", "2021-11-05"),
        ("الدار البيضاء 2 يوليوز 2020", "2020-07-02"),
        ("تونس في 3 جويلية 2019", "2019-07-03"),  # Maghrebi
        ("بيروت 3 تشرين الثاني/نوفمبر 2020", "2020-11-03"),  # Levantine / Egyptian
        ("دمشق ٢١ آذار ٢٠١٨", "2018-03-21"),
    ],
)
def test_arabic_datelines(dateline: str, date: str) -> None:
    assert published_date(f"{dateline}\nنص الخبر هنا.") == date


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_pdf_in_two_columns_reads_one_column_after_the_other(printed, lang) -> None:
    """Issue 25, point 1: chromium sets the seed in two CSS columns (right one first in
    Arabic); the text comes back in reading order, not interleaved across the columns."""
    name = {"en": "001", "ar": "002"}[lang]
    text = next(t for n, lng, t in seed_articles() if n.startswith(name))
    got = read_pdf(printed[f"columns-{lang}"])
    assert similarity(" ".join(source_lines(text)), got.text) >= 0.98
    assert got.page_starts[0] == 0


def test_pdf_table_rows_are_not_taken_for_columns(printed) -> None:
    text = " ".join(read_pdf(printed["table"]).text.split())
    assert " ".join(" ".join(row) for row in TABLE_ROWS) in text, text  # row by row


@pytest.mark.parametrize("lang", ["en", "ar", "id"])
def test_html_site_furniture_is_dropped_and_the_article_kept(lang) -> None:
    """Issue 25, point 6: lines trafilatura keeps on some sites (standards footers, e-mail
    sign-up boxes, comment policies, "read also", copyright) are not part of the article."""
    texts = html_layouts.TEXTS[lang]
    for junk, line in texts["boilerplate"].items():
        got = extract_html(html_layouts.page(lang, "lead div", junk)).text
        assert line not in got and texts["lead"] in got
        assert all(p in got for p in texts["body"])
    prose = (
        "The council said the newsletter it sends by email each week would now carry the "
        "port's schedule, so that traders can plan their deliveries."
    )
    assert not is_boilerplate(prose)  # a sentence of the article that mentions e-mail
