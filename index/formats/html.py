"""Web pages: the article's main text and metadata, through trafilatura (dates by htmldate)."""

from __future__ import annotations

import logging
import re

import trafilatura
from bs4 import BeautifulSoup

from index.formats.base import Extracted, SkipFile

_TITLE_CHARS = 200
# trafilatura logs an ERROR for every page it cannot parse; the caller reports the skip itself
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DOCUMENT = re.compile(r"<(?:html|body)\b", re.IGNORECASE)


def _clean(value: str | None, limit: int = _TITLE_CHARS) -> str | None:
    """One line of metadata, whitespace collapsed, or None when empty."""
    text = " ".join((value or "").split())[:limit].rstrip()
    return text or None


def _as_document(markup: str | bytes) -> str | bytes:
    """A fragment (feed content, a bare <p>) wrapped in a body: trafilatura parses only pages."""
    head = markup[:65536]
    if _DOCUMENT.search(head if isinstance(head, str) else head.decode("latin-1")):
        return markup
    if isinstance(markup, str):
        return f"<html><body>{markup}</body></html>"
    return b"<html><body>" + markup + b"</body></html>"


# Lines trafilatura keeps on some sites that are no part of the article (ar, en, id):
# benchmarks/html_layouts.py.
_BOILERPLATE = re.compile(
    "|".join(
        [
            r"trust principles|مبادئ الثقة|prinsip kepercayaan",  # agency standards footers
            r"\b(get|receive|sign up)\b.{0,80}\b(e-?mail|newsletter|inbox)\b",
            r"اشترك.{0,40}(النشرة|نشرتنا|البريد)|dapatkan berita.{0,60}\bemail\b",
            r"daftar (untuk|ke) buletin|berlangganan buletin",
            r"comments are moderated|comment policy|التعليقات تخضع|komentar dimoderasi",
            r"^(read (also|more)|see also|related|اقرأ أيضا|اقرأ أيضاً|إقرأ أيضا|baca juga)\s*:",
            r"^©|all rights reserved|جميع الحقوق محفوظة|hak cipta dilindungi",
        ]
    ),
    re.IGNORECASE,
)
_BOILERPLATE_WORDS = 30  # a longer line is prose, whatever it mentions


def is_boilerplate(line: str) -> bool:
    """Whether a short line is a site's furniture (a sign-up box, a comment policy...)."""
    return len(line.split()) <= _BOILERPLATE_WORDS and bool(_BOILERPLATE.search(line))


def extract_html(markup: str | bytes, url: str | None = None) -> Extracted:
    """The main text of a page (no navigation, share bars or comments) with its metadata.

    Paragraphs come out one per line. The date is what the page states (meta tags, JSON-LD,
    the URL, a dateline), never the time of reading; None when the page states none.
    """
    markup = _as_document(markup)
    found = trafilatura.bare_extraction(
        markup,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        # htmldate's fallback guesses from any date on the page; only stated dates count
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    lines = (" ".join(line.split()) for line in (found.text or "").splitlines()) if found else ()
    text = "\n".join(line for line in lines if line and not is_boilerplate(line))
    if not text:
        raise SkipFile("no main text found on the page")
    date = found.date if found.date and _ISO_DATE.match(found.date) else None
    return Extracted(
        text=text,
        title=_clean(found.title) or "",
        author=_clean(found.author),
        site=_clean(found.sitename),
        url=found.url or url,
        published=date,
    )


_BLOCKS = [
    "p", "div", "section", "article", "header", "footer", "aside", "main", "blockquote",
    "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table",
    "tr", "figure", "figcaption", "br", "hr", "address",
]  # fmt: skip
_NOT_TEXT = ["script", "style", "noscript", "template", "iframe", "object", "embed", "svg"]


def article_text(markup: str) -> str:
    """The text of markup that is the article itself (a feed item's full content): every
    block, headings included, one per line. trafilatura, made to find an article inside a
    page, drops headings of such markup."""
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(_NOT_TEXT):
        tag.decompose()
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(" ")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    return "\n".join(line for line in lines if line)
