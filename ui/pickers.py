"""The chat's filters: document and source pickers, languages and dates."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from assistant.engine import ReadableStore
from index.filters import Filters, host_of
from index.language import LANGS
from index.store import DocRecord

LANGUAGES = list(zip(("العربية (ar)", "English (en)", "Indonesia (id)"), LANGS, strict=True))
TITLE_CHARS = 90
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- filters and document pickers --------------------------------------------------------------
def sorted_documents(store: ReadableStore) -> list[DocRecord]:
    """Every document the caller may read, sorted by title."""
    return sorted(store.documents(), key=lambda d: (d.origin.title.casefold(), d.doc_id))


def document_choices(docs: Sequence[DocRecord], with_source: bool = False) -> list[tuple[str, str]]:
    """(label, doc_id) for a document picker: the title, and with `with_source` its source."""
    return [(document_label(d) if with_source else short_title(d), d.doc_id) for d in docs]


def short_title(doc: DocRecord) -> str:
    """A document's title (its source when it has none), shortened for a picker."""
    return shorten(doc.origin.title or doc.origin.source, TITLE_CHARS)


def document_label(doc: DocRecord) -> str:
    """How the Documents tab names a document: "title — source"."""
    return f"{short_title(doc)} — {doc.origin.source}"


def source_names(doc: DocRecord) -> set[str]:
    """The names a document offers the source filter: site, top-level folder, URL hosts."""
    names = {doc.origin.site or "", host_of(doc.origin.source), host_of(doc.origin.url or "")}
    if "://" not in doc.origin.source and "/" in doc.origin.source:
        names.add(doc.origin.source.split("/", 1)[0])
    names.discard("")
    return names


def source_choices(docs: Sequence[DocRecord]) -> list[str]:
    """The distinct source names of the documents, sorted."""
    names = set().union(*(source_names(d) for d in docs))
    return sorted(names, key=str.casefold)


def shorten(text: str, limit: int) -> str:
    """The text cut to `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def language_filter(langs: Sequence[str] | None) -> list[str] | None:
    """None (no filter) when every language or none is ticked."""
    chosen = [lang for lang in (langs or []) if lang in {code for _, code in LANGUAGES}]
    return chosen if 0 < len(chosen) < len(LANGUAGES) else None


def parse_day(value: str | None, label: str) -> dt.date | None:
    """A YYYY-MM-DD date from a date box (None when empty), or ValueError naming the box."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if _DAY.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(f"{label}: “{text}” is not a date (YYYY-MM-DD).")


def chat_filters(
    langs: Sequence[str] | None,
    doc_ids: Sequence[str] | None,
    sources: Sequence[str] | None,
    date_from: str | None,
    date_to: str | None,
) -> Filters:
    """The chat's filter controls as Filters; ValueError on a bad date or an empty range."""
    return Filters.of(
        language_filter(langs),
        doc_ids,
        sources,
        parse_day(date_from, "From"),
        parse_day(date_to, "To"),
    )
