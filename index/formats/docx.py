"""Word (.docx) files: body paragraphs and tables in document order, through python-docx."""

from __future__ import annotations

import io
from collections.abc import Iterator

import docx
from docx.document import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

from index.formats.base import Extracted, SkipFile
from index.formats.bounds import check_zip

_TITLE_CHARS = 200
_CELL_SEPARATOR = " | "


def _lines(text: str) -> Iterator[str]:
    """The non-empty lines of a text, whitespace collapsed."""
    for line in text.splitlines():
        if collapsed := " ".join(line.split()):
            yield collapsed


def _table_lines(table: Table) -> Iterator[str]:
    """One line per row, its cells joined by " | ", skipping cells repeated by merges; a table
    nested in a cell follows its row, its own rows as lines."""
    seen: set[object] = set()  # holding the elements keeps lxml's proxies (and identities)
    for row in table.rows:
        cells, nested = [], []
        for cell in row.cells:
            # a merged cell comes back once per grid column and row it spans
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            words = []
            for block in cell.iter_inner_content():
                if isinstance(block, Table):
                    nested.extend(_table_lines(block))
                else:
                    words.extend(block.text.split())
            if words:
                cells.append(" ".join(words))
        if cells:
            yield _CELL_SEPARATOR.join(cells)
        yield from nested


def _is_heading(paragraph: Paragraph) -> bool:
    name = paragraph.style.name if paragraph.style is not None else ""
    return name == "Title" or name.startswith("Heading")


def _body(document: Document) -> tuple[list[str], str]:
    """The body's lines in order, and the text of its first Title or Heading paragraph."""
    lines: list[str] = []
    heading = ""
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
            continue
        text = list(_lines(block.text))
        if text and not heading and _is_heading(block):
            heading = " ".join(text)
        lines.extend(text)
    return lines, heading


def read_docx(data: bytes) -> Extracted:
    """The text of a Word document (paragraphs, headings, tables) with its title, author, date.

    Raises SkipFile when the bytes are not a .docx document or the document has no text.
    """
    check_zip(data)  # before python-docx and lxml expand it
    try:
        document = docx.Document(io.BytesIO(data))
        lines, heading = _body(document)
        properties = document.core_properties
        title, author, created = properties.title, properties.author, properties.created
    except Exception as exc:  # zipfile, lxml and python-docx raise many types on other files
        raise SkipFile("not a Word (.docx) document") from exc
    if not lines:
        raise SkipFile("no text in the document")
    return Extracted(
        text="\n".join(lines),
        title=" ".join((title or heading).split())[:_TITLE_CHARS],
        author=" ".join((author or "").split())[:_TITLE_CHARS] or None,
        published=created.date().isoformat() if created else None,
    )
