"""Reading files into Documents: seeds, ids, titles, dates, HTML, and files that are skipped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.documents import (
    Document,
    SkipFile,
    doc_id_for,
    iter_input_files,
    published_date,
    read_document,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
MB = 2**20

SEED_EXPECTED = {
    "000": ("id", "2019-12-08", "Militer Israel Diam-diam Latih Pasukan Pemberontak"),
    "001": ("en", "2019-12-07", "EXCLUSIVE: Israeli military ‘secretly training' Libya’s Haftar"),
    "002": ("ar", None, "موقع أمريكي : إسرائيل أبرز داعمي قوات خليفة حفتر"),
    "003": ("ar", None, "آلاف المرتزقة الروس وصلوا إلى محاور القتال لدعمه"),
    "004": ("ar", None, "“ميديل إيست آي”: قوات غربية تدعم خليفة حفتر في بنغازي"),
}


def _seed(prefix: str) -> Path:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path


@pytest.mark.parametrize("prefix", sorted(SEED_EXPECTED))
def test_seed_documents(prefix):
    path = _seed(prefix)
    doc = read_document(path, SEEDS, 20 * MB)
    lang, published, title = SEED_EXPECTED[prefix]
    assert doc.origin.lang == lang
    assert doc.origin.published == published
    assert doc.origin.title.startswith(title)
    assert doc.origin.source == path.name
    assert doc.text == path.read_text(encoding="utf-8")
    assert re.fullmatch(r"[0-9a-f]{16}", doc.doc_id)
    assert doc.doc_id == doc_id_for(doc.text)


def test_seed_doc_ids_stable_and_distinct(tmp_path):
    ids = [read_document(_seed(p), SEEDS, 20 * MB).doc_id for p in sorted(SEED_EXPECTED)]
    assert len(set(ids)) == len(ids)
    assert ids[1] == "0c3ed8b728380086"  # pinned: ids are stored in Chroma and conversations
    text = _seed("001").read_text(encoding="utf-8")
    copy = tmp_path / "elsewhere" / "copy.txt"
    copy.parent.mkdir()
    copy.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    assert read_document(copy, tmp_path, 20 * MB).doc_id == ids[1]


def test_doc_id_normalisation():
    assert doc_id_for("a  b\n\nc ") == doc_id_for(" a b c")
    assert doc_id_for("café") == doc_id_for("cafe\u0301")  # NFC
    assert doc_id_for("a b") != doc_id_for("ab")


def test_crlf_and_bom(tmp_path):
    path = tmp_path / "note.txt"
    path.write_bytes("\ufeffTitle line\r\nSecond line.\r\n".encode())
    doc = read_document(path, tmp_path, MB)
    assert doc.text == "Title line\nSecond line.\n"
    assert doc.origin.title == "Title line"
    assert doc.origin.source == "note.txt"


def test_markdown_kept_as_is(tmp_path):
    path = tmp_path / "sub" / "a.md"
    path.parent.mkdir()
    path.write_text("# Haftar and Israel\n\n*Cairo* — talks were held.\n", encoding="utf-8")
    doc = read_document(path, tmp_path, MB)
    assert doc.text == "# Haftar and Israel\n\n*Cairo* — talks were held.\n"
    assert doc.origin.title == "# Haftar and Israel"
    assert doc.origin.source == "sub/a.md"


NEWS_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Port strike halts fuel imports | Tripoli Times</title>
<meta property="og:site_name" content="Tripoli Times">
<meta name="author" content="Amal Haddad">
<meta property="article:published_time" content="2024-02-10T08:00:00Z">
<script>var secret = 1;</script><style>p {color: red}</style></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World news</a></li></ul></nav>
<div class="share">Share on Facebook · Share on X</div>
<article><h1>Port strike halts fuel imports</h1>
<p>Dockworkers at the port of Misrata went on strike on Monday over unpaid wages, halting fuel
and grain imports into western Libya.</p>
<p>The port authority said ships were waiting offshore and that talks with the union would
resume on Wednesday.</p>
<p>A union spokesman said the strike would continue until the workers were paid in full.</p>
</article>
<section id="comments"><h2>Comments</h2><p>Great article, subscribe to my channel!</p></section>
<footer>© 2024 Tripoli Times. All rights reserved.</footer></body></html>"""


def test_html_main_text_and_metadata(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(NEWS_PAGE, encoding="utf-8")
    doc = read_document(path, tmp_path, MB)
    assert "Dockworkers at the port of Misrata went on strike on Monday" in doc.text
    assert "paid in full." in doc.text
    for debris in ("Home", "Share on", "Great article", "All rights reserved", "secret", "color"):
        assert debris not in doc.text
    assert doc.origin.title == "Port strike halts fuel imports"
    assert (doc.origin.site, doc.origin.author, doc.origin.published) == (
        "Tripoli Times",
        "Amal Haddad",
        "2024-02-10",
    )
    assert doc.origin.lang == "en" and "\n\n" not in doc.text
    assert doc.location == str(path) and doc.origin.pages.starts == ()


def test_html_date_falls_back_to_the_dateline(tmp_path):
    path = tmp_path / "page.htm"
    body = "TRIPOLI, 7 December 2019 (Reuters) - " + "The council approved the budget. " * 12
    path.write_text(f"<html><body><article><p>{body}</p></article></body></html>")
    assert read_document(path, tmp_path, MB).origin.published == "2019-12-07"


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("latin1.txt", "Café à Tripoli, déclaré".encode("latin-1"), "not UTF-8 text"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary file"),
        ("controls.txt", bytes(range(1, 9)) * 20 + b"text", "binary file"),
        ("empty.txt", b"", "empty"),
        ("blank.md", b" \n\t\r\n", "empty"),
        ("blank.html", b"<html><script>x()</script></html>", "no main text found on the page"),
        ("sheet.xlsx", b"PK\x03\x04", "unsupported file type (.xlsx)"),
    ],
)
def test_skipped_files(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SkipFile) as caught:
        read_document(path, tmp_path, MB)
    assert caught.value.reason == reason


def test_oversize(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 300_000)
    with pytest.raises(SkipFile, match="larger than 1 MB"):
        read_document(path, tmp_path, MB)
    assert read_document(path, tmp_path, 2 * MB).origin.title.startswith("word word")


@pytest.mark.parametrize(
    "text,date",
    [
        ("Ahad, 6 Rajab 1446 H / 8 Desember 2019 20:43 wib\nJudul", "2019-12-08"),
        ("Title\n3 min read\n07 December, 2019\nBody", "2019-12-07"),
        ("Posted December 7, 2019 by staff", "2019-12-07"),
        ("Updated: 2019-12-07T10:00:00Z", "2019-12-07"),
        ("الأحد ٨ ديسمبر ٢٠١٩", "2019-12-08"),
        ("الجزائر في 14 جانفي 2020", "2020-01-14"),
        ("عمّان، 5 آذار/مارس 2024", "2024-03-05"),
        ("بيروت - 12 تشرين الأول / أكتوبر 2023", "2023-10-12"),
        ("نشر في 3 أوت 2019", "2019-08-03"),
        ("دمشق، 12 كانون الأول 2019", "2019-12-12"),
        ("Paris, le 5 février 2020", "2020-02-05"),
        ("No date here at all.", None),
        ("Haftar attacked on 4 April last year.", None),
        ("31 February 2019", None),
        ("x" * 900 + "\n7 December 2019", None),
    ],
)
def test_published_date(text, date):
    assert published_date(text) == date


def test_date_inside_long_sentence_is_not_a_dateline():
    sentence = "هذا ويذكر أن أول ظهور حفتر كان في 14 فيفري 2014 عبر قناة العربية ليعلن " * 3
    assert published_date("عنوان\n" + sentence) is None
    assert published_date("TOBRUK, 7 December 2019 (Reuters) - " + "words " * 40) == "2019-12-07"


def test_iter_input_files(tmp_path):
    (tmp_path / "corpus" / "sub").mkdir(parents=True)
    (tmp_path / "corpus" / ".git").mkdir()
    for name in ("corpus/b.txt", "corpus/a.md", "corpus/sub/c.html", "corpus/x.pdf",
                 "corpus/.hidden.txt", "corpus/.git/config", "single.txt"):  # fmt: skip
        (tmp_path / name).write_text("text")
    corpus = tmp_path / "corpus"
    page = "<html><body><p>The council met on Monday.</p></body></html>"
    (corpus / "sub" / "c.html").write_text(page)
    found = list(iter_input_files([corpus, tmp_path / "single.txt"]))
    assert found == [
        (corpus / "a.md", corpus),
        (corpus / "b.txt", corpus),
        (corpus / "sub" / "c.html", corpus),
        (corpus / "x.pdf", corpus),
        (tmp_path / "single.txt", tmp_path),
    ]
    docs = [read_document(f, root, MB) for f, root in found if f.suffix != ".pdf"]
    assert all(isinstance(d, Document) for d in docs)
    assert [d.origin.source for d in docs] == ["a.md", "b.txt", "sub/c.html", "single.txt"]


def test_iter_input_files_missing(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="nope"):
        list(iter_input_files([missing]))
