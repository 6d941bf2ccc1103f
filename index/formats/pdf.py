"""PDF files: the text of every page in reading order, with the title, author and date it states.

pypdf opens the file (encryption, metadata); pdfplumber gives each character with its position.
Right-to-left scripts are drawn in visual order, so each line is put back in logical order
(index.formats.bidi) and Arabic presentation forms are folded to plain letters (NFKC).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import pdfplumber
from pdfplumber.utils import cluster_objects
from pypdf import PageObject, PasswordType, PdfReader
from pypdf.errors import LimitReachedError, PdfReadError
from pypdf.filters import decode_stream_data
from pypdf.generic import ArrayObject, StreamObject

from index.formats.base import Extracted, SkipFile
from index.formats.bidi import direction, visual_to_logical
from index.formats.bounds import (
    MAX_EXPANDED_BYTES,
    check_pages,
    check_text,
    expands_too_far,
)

# both log a warning for every damaged object they recover from; the caller reports skips
logging.getLogger("pypdf").setLevel(logging.ERROR)
logging.getLogger("pdfminer").setLevel(logging.ERROR)
_TITLE_CHARS = 200
_LINE_TOLERANCE = 3.0  # points between the tops of characters on one line
_WORD_GAP = 0.2  # a gap wider than this many font sizes separates two words
_LEADING = 1.5  # lines at most this many font sizes apart belong to one paragraph
_PRESENTATION_FORMS = re.compile("[\ufb00-\ufdff\ufe70-\ufefe]")
_FILE_NAME = re.compile(
    r"\.(pdf|docx?|odt|rtf|txt|html?|indd|qxd|pptx?|xlsx?)$"  # report.docx, page.html
    r"|^([a-z]:)?[\\/]|\\",  # /tmp/x, C:\Users\x
    re.I,
)
_GENERIC_TITLES = {"untitled", "untitled document", "document", "title", "no title", "none", "pdf"}
_NO_TEXT = "no text layer: scanned or image-only PDF"
_MIN_COLUMN_LINES = 3  # lines split at a gutter before a page counts as two columns
_MAX_ACROSS = 0.1  # share of a page's lines that may run across its gutter (titles)
_GUTTER_MARGIN = 1.0  # points of clear space on each side of a gutter
_MIN_COLUMN_SHARE = 0.3  # each column spans at least this share of the text's width


class _Unit(NamedTuple):
    """A character with its combining marks, where the page draws it."""

    text: str
    x0: float
    x1: float
    top: float
    size: float


def _is_mark(text: str) -> bool:
    """Whether a character is a combining mark (Arabic harakat, shadda, accents)."""
    return bool(text) and unicodedata.category(text[0]).startswith("M")


def _is_rtl(text: str) -> bool:
    """Whether a character is a right-to-left letter."""
    return bool(text) and unicodedata.bidirectional(text[0]) in ("R", "AL")


def _units(chars: list[dict[str, Any]]) -> list[_Unit]:
    """Characters in drawing order, each combining mark joined to its base character.

    A right-to-left cluster is drawn reversed, mark before base; a left-to-right one base first.
    """
    units: list[_Unit] = []
    marks = ""
    for char in chars:
        text = char["text"]
        if _is_mark(text):
            marks += text
            continue
        if marks and _is_rtl(text):
            text, marks = text + marks, ""
        elif marks and units:
            units[-1] = units[-1]._replace(text=units[-1].text + marks)
            marks = ""
        units.append(_Unit(text, char["x0"], char["x1"], char["top"], char["size"]))
    if marks and units:
        units[-1] = units[-1]._replace(text=units[-1].text + marks)
    return units


def _line_text(units: list[_Unit], rtl_page: bool) -> str:
    """One line's units, left to right, as logical text with words spaced and forms folded."""
    spaced: list[str] = []
    previous: _Unit | None = None
    for unit in sorted(units, key=lambda u: u.x0):
        if previous and unit.x0 - previous.x1 > _WORD_GAP * max(unit.size, previous.size):
            spaced.append(" ")
        spaced.append(unit.text)
        previous = unit
    text = visual_to_logical(spaced, rtl_page)
    text = _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return " ".join(text.split())


def _gutter(lines: list[list[_Unit]]) -> float | None:
    """The x of the gap between two columns of text, or None for a page in one column.

    Candidates lie in the middle of the text's width. At the gutter, no character of most
    lines covers it while both columns hold text: lines split there (text on both sides) are
    many and lines across it (a full-width title) few, and each side is a column of prose
    (its lines wide, not the cells of a table).
    """
    spans = [_gaps(line) for line in lines]
    spans = [s for s in spans if s is not None]
    if len(spans) < 2 * _MIN_COLUMN_LINES:
        return None
    left, right = min(s[0] for s in spans), max(s[1] for s in spans)
    width = right - left
    most_across = _MAX_ACROSS * len(spans)
    best: tuple[int, float] | None = None
    for step in range(int(width * 0.3), int(width * 0.7) + 1, 2):
        x = left + step
        split = across = 0
        for start, end, gaps in spans:
            if not start < x < end:
                continue  # a short line on one side
            if any(g0 + _GUTTER_MARGIN < x < g1 - _GUTTER_MARGIN for g0, g1 in gaps):
                split += 1
            else:
                across += 1
                if across > most_across:
                    break
        if across <= most_across and split >= _MIN_COLUMN_LINES and (not best or split > best[0]):
            best = (split, x)
    if best is None:
        return None
    x = best[1]
    units = [u for line in lines for u in line if u.text.strip()]
    for side in ([u for u in units if u.x1 <= x], [u for u in units if u.x0 >= x]):
        if (
            not side
            or max(u.x1 for u in side) - min(u.x0 for u in side) < _MIN_COLUMN_SHARE * width
        ):
            return None  # not two columns of prose (a table's cells, a margin note)
    return x


def _gaps(line: list[_Unit]) -> tuple[float, float, list[tuple[float, float]]] | None:
    """A line's extent and the gaps between its characters, or None for a blank line."""
    inked = sorted((u for u in line if u.text.strip()), key=lambda u: u.x0)
    if not inked:
        return None
    gaps, reach = [], inked[0].x1
    for unit in inked[1:]:
        if unit.x0 > reach:
            gaps.append((reach, unit.x0))
        reach = max(reach, unit.x1)
    return inked[0].x0, reach, gaps


def _reading_order(lines: list[list[_Unit]], rtl_page: bool) -> list[list[_Unit]]:
    """Lines in reading order: in two columns, the first column's lines before the second's
    (the right one first on a right-to-left page), a full-width line between the parts it
    separates."""
    x = _gutter(lines)
    if x is None:
        return lines
    out: list[list[_Unit]] = []
    first: list[list[_Unit]] = []
    second: list[list[_Unit]] = []
    for line in lines:
        if any(u.x0 < x < u.x1 for u in line):  # across the gutter: a full-width line
            out += first + second + [line]
            first, second = [], []
            continue
        left = [u for u in line if u.x1 <= x]
        right = [u for u in line if u.x0 >= x]
        for side, units in (
            (first, right if rtl_page else left),
            (second, left if rtl_page else right),
        ):
            if units:
                side.append(units)
    return out + first + second


def page_text(chars: list[dict[str, Any]]) -> str:
    """A page's lines in reading order (columns one after the other), blank lines dropped."""
    units = _units(chars)
    rtl_page = direction([unit.text for unit in units]) == "R"
    lines = cluster_objects(units, lambda u: u.top, _LINE_TOLERANCE)
    lines = _reading_order(lines, rtl_page)
    out: list[str] = []
    previous: list[_Unit] | None = None
    for line in lines:
        text = _line_text(line, rtl_page)
        if not text:
            continue
        if previous is not None and _wraps(previous, line):
            out[-1] += " " + text  # the same paragraph, wrapped: sentences stay whole
        else:
            out.append(text)
        previous = line
    return "\n".join(out)


def _wraps(above: list[_Unit], below: list[_Unit]) -> bool:
    """Whether `below` continues the paragraph of `above`: no more than one line's spacing.

    A paragraph break leaves extra space (a margin) or a larger gap than the font's leading.
    """
    size = max(max(u.size for u in above), max(u.size for u in below))
    gap = min(u.top for u in below) - min(u.top for u in above)
    return 0 < gap <= _LEADING * size


def _open(data: bytes) -> PdfReader:
    """The parsed file, decrypted when its user password is empty."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise SkipFile("encrypted PDF: needs a password")
        len(reader.pages)  # reads the page tree, where damage shows
    except SkipFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SkipFile(f"corrupt PDF ({_short(exc)})") from exc
    except NotImplementedError as exc:
        raise SkipFile(f"encrypted PDF: unsupported encryption ({_short(exc)})") from exc
    return reader


def _page_streams(page: PageObject) -> Iterator[StreamObject]:
    """The streams pdfminer decodes to read a page's text: contents and form XObjects."""
    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    parts = contents if isinstance(contents, ArrayObject) else [contents]
    yield from (p.get_object() for p in parts if p is not None)
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    for ref in (xobjects.get_object() if xobjects is not None else {}).values():
        xobject = ref.get_object()
        if isinstance(xobject, StreamObject) and xobject.get("/Subtype") == "/Form":
            yield xobject


def _check_streams(reader: PdfReader) -> None:
    """SkipFile when the page streams decode past pypdf's per-stream limit or, together, past
    MAX_EXPANDED_BYTES; one decoded stream is in memory at a time."""
    total = 0
    seen: set[int] = set()
    try:
        for page in reader.pages:
            for stream in _page_streams(page):
                ref = stream.indirect_reference
                if ref is not None and ref.idnum in seen:
                    continue  # a form drawn on many pages is decoded once
                if ref is not None:
                    seen.add(ref.idnum)
                total += len(decode_stream_data(stream))
                if total > MAX_EXPANDED_BYTES:
                    raise expands_too_far(total)
    except LimitReachedError as exc:
        raise expands_too_far(total) from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, NotImplementedError):
        return  # an odd stream: pdfplumber reads what it can, or says the file is corrupt


def _short(exc: Exception) -> str:
    """An exception's message on one line, at most 100 characters."""
    return " ".join(str(exc).split())[:100] or type(exc).__name__


def _page_chars(data: bytes) -> Iterator[list[dict[str, Any]]]:
    """Each page's characters in drawing order, one page in memory at a time."""
    try:
        with pdfplumber.open(io.BytesIO(data), password="") as pdf:
            for page in pdf.pages:
                chars = page.chars
                page.close()
                yield chars
    except Exception as exc:  # pdfminer raises many types on damaged files
        raise SkipFile(f"corrupt PDF ({_short(exc)})") from exc


def _clean(value: str | None) -> str | None:
    """One line of metadata, whitespace collapsed, or None when empty."""
    text = " ".join((value or "").split())[:_TITLE_CHARS].rstrip()
    return text or None


def _title(value: str | None) -> str:
    """The stated title, or "" when it is a file name or a placeholder."""
    title = _clean(value) or ""
    if _FILE_NAME.search(title) or title.lower().strip(" .-_0123456789") in _GENERIC_TITLES:
        return ""
    return title


def _published(reader: PdfReader) -> str | None:
    """The creation date as YYYY-MM-DD, or None when absent or unreadable."""
    try:
        created = reader.metadata.creation_date if reader.metadata else None
    except (ValueError, TypeError, PdfReadError):
        return None
    return created.date().isoformat() if created else None


def _join_pages(pages: Iterable[str]) -> tuple[str, tuple[int, ...]]:
    """Page texts joined by newlines, and the offset where each page begins (SkipFile past
    MAX_TEXT_CHARS, before the rest is read)."""
    parts: list[str] = []
    starts: list[int] = []
    length = 0
    for page in pages:
        if page and length:
            parts.append("\n")
            length += 1
        starts.append(length)
        parts.append(page)
        length += len(page)
        check_text(length)
    return "".join(parts), tuple(starts)


def read_pdf(data: bytes) -> Extracted:
    """The text of every page of a PDF with its page offsets, title, author and date.

    Raises SkipFile for an encrypted (password needed), corrupt or image-only PDF.
    """
    reader = _open(data)
    check_pages(len(reader.pages))
    _check_streams(reader)
    text, starts = _join_pages(page_text(chars) for chars in _page_chars(data))
    if not text:
        raise SkipFile(_NO_TEXT)
    meta = reader.metadata
    return Extracted(
        text=text,
        title=_title(meta.title if meta else None),
        author=_clean(meta.author if meta else None),
        published=_published(reader),
        page_starts=starts,
    )
