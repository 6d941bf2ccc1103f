"""Read files into Documents (text, title, language, source, date) through the format readers."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from index.chunking import is_debris
from index.formats.base import Extracted, SkipFile
from index.formats.bounds import check_text
from index.formats.docx import read_docx
from index.formats.html import extract_html
from index.formats.pdf import read_pdf
from index.language import detect_language, normalize_for_search
from index.provenance import DEFAULT_COLLECTION, Pages, Provenance

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Document",
    "SkipFile",
    "read_document",
    "read_file",
    "to_document",
]

_TITLE_CHARS = 200
_DATE_HEAD_CHARS = 800
_CONTROL_SHARE = 0.05


@dataclass(frozen=True)
class Document:
    """One input's text (offsets refer to it) and what is known about it."""

    doc_id: str
    text: str  # what the reader extracted (UTF-8, LF line ends); citation offsets refer to it
    origin: Provenance
    location: str | None = None  # what re-indexing reads again: an absolute path or a URL


def doc_id_for(text: str, collection: str = DEFAULT_COLLECTION) -> str:
    """First 16 hex chars of sha256 over NFC text with whitespace runs collapsed (preceded by
    the collection's name outside the default one: one text may be in several collections)."""
    canonical = " ".join(unicodedata.normalize("NFC", text).split())
    if collection != DEFAULT_COLLECTION:
        canonical = f"{collection}\0{canonical}"
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def in_collection(doc: Document, collection: str) -> Document:
    """The document as stored in `collection` (its id depends on the collection)."""
    if doc.origin.collection == collection:
        return doc
    origin = replace(doc.origin, collection=collection)
    return replace(doc, doc_id=doc_id_for(doc.text, collection), origin=origin)


_MONTHS = {
    1: "january jan januari janvier يناير جانفي كانون_الثاني",
    2: "february feb februari février فبراير فيفري شباط",
    3: "march mar maret mars مارس آذار",
    4: "april apr avril أبريل ابريل إبريل أفريل نيسان",
    5: "may mei mai مايو ماي أيار",
    6: "june jun juni juin يونيو يونيه جوان حزيران",
    7: "july jul juli juillet يوليو يوليه يوليوز جويلية تموز",
    8: "august aug agustus agu août أغسطس اغسطس أوت غشت آب",
    9: "september sep sept septembre سبتمبر شتنبر أيلول",
    10: "october oct oktober okt octobre أكتوبر اكتوبر تشرين_الأول",
    11: "november nov nopember novembre نوفمبر نونبر تشرين_الثاني",
    12: "december dec desember des décembre ديسمبر دجنبر كانون_الأول",
}
_MONTH_OF = {
    normalize_for_search(name.replace("_", " ")): month
    for month, names in _MONTHS.items()
    for name in names.split()
}
_MONTH_NAME = "|".join(map(re.escape, sorted(_MONTH_OF, key=len, reverse=True)))
# "آذار/مارس": Levantine and Egyptian names side by side; the first one is read
_MONTH = rf"({_MONTH_NAME})(?:\s*/\s*(?:{_MONTH_NAME}))?\.?(?![^\W\d_])"
_DAY = r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(\d{4})(?!\d)"
# "6 مارس سنة 2022": a word for "year" may stand between the month and the year
_YEAR_WORD = r"(?:(?:سنة|عام|لسنة|لعام|year)\s+)?"
_DATE_PATTERNS = [
    (re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"), ("y", "m", "d")),
    (re.compile(rf"{_DAY}\s+{_MONTH},?\s+{_YEAR_WORD}{_YEAR}"), ("d", "m", "y")),
    (re.compile(rf"(?<![^\W\d_]){_MONTH}\s+{_DAY},?\s+{_YEAR_WORD}{_YEAR}"), ("m", "d", "y")),
]
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_DATELINE_CHARS = 120
_DATE_LEAD_WORDS = 3


def _date_in(line: str) -> tuple[int, str] | None:
    """Earliest valid date in a normalised line: (position, ISO date)."""
    found = []
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(line):
            parts = dict(zip(order, match.groups(), strict=True))
            month = int(parts["m"]) if parts["m"].isdigit() else _MONTH_OF[parts["m"]]
            try:
                date = dt.date(int(parts["y"]), month, int(parts["d"]))
            except ValueError:
                continue
            if 1900 <= date.year <= 2100:
                found.append((match.start(), date.isoformat()))
    return min(found) if found else None


def _dateline_date(raw: str) -> str | None:
    """The ISO date a line states if it reads as a dateline (short, or date in its first words)."""
    line = " ".join(normalize_for_search(raw).translate(_DIGITS).split())
    hit = _date_in(line)
    if hit and (len(line) <= _DATELINE_CHARS or len(line[: hit[0]].split()) <= _DATE_LEAD_WORDS):
        return hit[1]
    return None


def published_date(text: str) -> str | None:
    """The date a text states in a dateline near its top, as YYYY-MM-DD, or None."""
    for line in text[:_DATE_HEAD_CHARS].splitlines():
        date = _dateline_date(line)
        if date:
            return date
    return None


def title_of(text: str) -> str:
    """First non-empty line that reads as a headline (not debris, a dateline or one word)."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    for line in lines:
        if len(line.split()) > 1 and not is_debris(line) and not _dateline_date(line):
            return line[:_TITLE_CHARS].rstrip()
    return lines[0][:_TITLE_CHARS].rstrip() if lines else ""


def _decode(data: bytes) -> str:
    """UTF-8 text of a file's bytes, or SkipFile for binary and non-UTF-8 content."""
    if b"\x00" in data:
        raise SkipFile("binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SkipFile("not UTF-8 text") from None
    sample = text[:8192]
    controls = sum(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v" for ch in sample)
    if controls > _CONTROL_SHARE * len(sample):
        raise SkipFile("binary file")
    return text.replace("\r\n", "\n")


def _read_text(data: bytes) -> Extracted:
    """A plain-text or Markdown file as it is."""
    return Extracted(text=_decode(data))


_READERS: dict[str, Callable[[bytes], Extracted]] = {
    ".txt": _read_text,
    ".md": _read_text,
    ".html": extract_html,
    ".htm": extract_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
SUPPORTED_SUFFIXES = frozenset(_READERS)
# Where the file's own properties give a date (PDF, DOCX), a dateline at the top of the text
# comes first: the properties often date the file (a print, a conversion), not the article.
_DATELINE_FIRST = {".pdf", ".docx"}


def to_document(
    found: Extracted, source: str, location: str | None, dateline_first: bool = False
) -> Document:
    """A Document from what a reader extracted; SkipFile when there is no text."""
    text = found.text
    if not text.strip():
        raise SkipFile("empty")
    check_text(len(text))
    dateline = published_date(text)
    published = (dateline or found.published) if dateline_first else found.published or dateline
    origin = Provenance(
        title=found.title or title_of(text),
        source=source,
        lang=detect_language(text),
        published=published,
        site=found.site,
        url=found.url,
        author=found.author,
        pages=Pages(1, found.page_starts),
        summary_only=found.summary_only,
    )
    return Document(doc_id_for(text), text, origin, location)


def read_document(path: Path, root: Path, max_bytes: int) -> Document:
    """Read one file into a Document named by its path below `root`, or raise SkipFile."""
    return read_file(path, path.relative_to(root).as_posix(), str(path), max_bytes)


def read_file(path: Path, source: str, location: str, max_bytes: int) -> Document:
    """Read one file through its format's reader into a Document called `source`."""
    suffix = Path(source).suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise SkipFile(f"unsupported file type ({suffix or 'no suffix'})")
    if path.stat().st_size > max_bytes:
        raise SkipFile(f"larger than {max_bytes / 2**20:.3g} MB")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SkipFile(f"unreadable ({err.strerror})") from None
    return to_document(reader(data), source, location, dateline_first=suffix in _DATELINE_FIRST)


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def iter_input_files(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """(file, root) for each given file and every non-hidden file below each given folder."""
    for path in paths:
        if path.is_file():
            yield path, path.parent
        elif path.is_dir():
            found = []
            for folder, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not _is_hidden(d)]
                found += [Path(folder, f) for f in files if not _is_hidden(f)]
            yield from ((f, path) for f in sorted(found) if f.is_file())
        else:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
