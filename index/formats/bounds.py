"""How far a file may expand: a small file must not become gigabytes in memory.

A .docx is a zip and a PDF holds compressed streams, so the size limit on the file
(SANAD_MAX_FILE_MB) bounds nothing of what reading it costs. These bounds are checked before
the expensive parse (zip members' declared sizes, which zipfile never reads past; PDF page
streams decoded one at a time under pypdf's per-stream limit) and on the text extracted.
"""

from __future__ import annotations

import io
import zipfile

from index.formats.base import SkipFile

MAX_EXPANDED_BYTES = 128 * 2**20  # a .docx's zip members together; a PDF's page streams
MAX_RATIO = 200  # uncompressed / compressed size of one zip member (of more than 4 MB)
_RATIO_FLOOR = 4 * 2**20
MAX_PAGES = 5000
MAX_TEXT_CHARS = 10_000_000  # about 5,000 pages of text


def expands_too_far(total: int) -> SkipFile:
    """The refusal of a file whose content expands past MAX_EXPANDED_BYTES."""
    return SkipFile(f"its content expands past {MAX_EXPANDED_BYTES // 2**20} MB")


def check_zip(data: bytes) -> None:
    """SkipFile when a zip's members would expand too far (in all or one by its ratio)."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip: the reader says what it is not
    total = sum(m.file_size for m in members)
    if total > MAX_EXPANDED_BYTES:
        raise expands_too_far(total)
    for m in members:
        if m.file_size > _RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise SkipFile(f"a part expands {m.file_size // max(m.compress_size, 1)} times")


def check_pages(count: int) -> None:
    """SkipFile for a document of more than MAX_PAGES pages."""
    if count > MAX_PAGES:
        raise SkipFile(f"more than {MAX_PAGES} pages ({count})")


def check_text(length: int) -> None:
    """SkipFile for extracted text longer than MAX_TEXT_CHARS."""
    if length > MAX_TEXT_CHARS:
        raise SkipFile(f"more than {MAX_TEXT_CHARS:,} characters of text")
