"""The answer contract (Answer, Citation), stable citation ids, marker validation, look-up."""

from __future__ import annotations

import re
from typing import Any, Literal, Protocol, Self

from pydantic import BaseModel, Field

from index.provenance import DEFAULT_COLLECTION, Provenance
from index.store import ChunkRecord, DocRecord

CONTEXT_CHARS = 300
_ID = re.compile(r"^([0-9a-f]{16}):(\d{1,9})-(\d{1,9})$")
MARKER = re.compile(r"\[(\d{1,3})\]")  # a citation marker [n] in an answer
MARKER_RUN = re.compile(r"(?:\[\d{1,3}\])+")  # markers side by side: [1][3]


class CitationNotFound(LookupError):
    """A citation id that is malformed or points to no stored span."""


class SourceSpan(BaseModel):
    """Where a span of text comes from: its document, character offsets in it, and what a
    reader checks it against (publisher, date, URL, PDF page)."""

    doc_id: str
    source: str
    title: str
    lang: str
    start: int
    end: int
    site: str | None = Field(None, description="The publisher (site or feed name), if known.")
    published: str | None = Field(None, description="Publication date (YYYY-MM-DD) if stated.")
    url: str | None = None
    page: int | None = Field(None, description="The page the span starts on (PDF sources).")
    collection: str = Field(
        DEFAULT_COLLECTION, description="The collection the document belongs to."
    )
    summary_only: bool = Field(
        False, description="The source is a feed item's summary: its page could not be read."
    )

    @classmethod
    def of(cls, doc_id: str, origin: Provenance, start: int, end: int, **more: Any) -> Self:
        """The span [start, end) of a document, with what a reader checks it against."""
        page = origin.pages.at(start)
        return cls(doc_id=doc_id, start=start, end=end, page=page, **shown(origin), **more)


def shown(origin: Provenance) -> dict[str, Any]:
    """The provenance every output shows, as flat fields (the API's JSON has them so)."""
    return {
        "source": origin.source,
        "title": origin.title,
        "lang": origin.lang,
        "site": origin.site,
        "published": origin.published,
        "url": origin.url,
        "summary_only": origin.summary_only,
        "collection": origin.collection,
    }


class Passage(SourceSpan):
    """A retrieved chunk: `text == document.text[start:end]`, with its fused score."""

    chunk_id: str
    text: str
    score: float

    @classmethod
    def of_chunk(cls, chunk: ChunkRecord, score: float) -> Self:
        """A retrieved chunk as the span of its document that it is."""
        return cls.of(
            chunk.doc_id,
            chunk.origin,
            chunk.start,
            chunk.end,
            chunk_id=chunk.id,
            text=chunk.text,
            score=score,
        )


class Citation(SourceSpan):
    """One cited span: `quote == document.text[start:end]`, always."""

    id: str
    n: int
    quote: str


class Answer(BaseModel):
    """What the CLI, the API and the UI show for a question."""

    question: str
    language: str
    text: str
    grounded: bool
    citations: list[Citation] = Field(default_factory=list)
    evidence: float | None = Field(
        None, description="probability that the best cited sentence answers the question"
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)
    mode: Literal["extractive", "llm"] = "extractive"
    notice: str | None = None
    conversation_id: str | None = None
    turn: int | None = Field(
        None, description="The answer's 0-based index in its conversation (for feedback)."
    )


class CitationContext(BaseModel):
    """A citation with its document's metadata and the text around the quote."""

    citation: Citation
    published: str | None
    context: str
    context_start: int
    context_end: int


def citation_id(doc_id: str, start: int, end: int) -> str:
    """Stable id of a span: the document's content hash and the character offsets."""
    return f"{doc_id}:{start}-{end}"


def parse_citation_id(cid: str) -> tuple[str, int, int]:
    """Split a citation id into (doc_id, start, end) or raise CitationNotFound."""
    match = _ID.match(cid.strip())
    if not match:
        raise CitationNotFound(f"malformed citation id {cid!r} (expected <doc_id>:<start>-<end>)")
    start, end = int(match.group(2)), int(match.group(3))
    if end <= start:
        raise CitationNotFound(f"citation id {cid!r} has an empty span")
    return match.group(1), start, end


class DocumentLookup(Protocol):
    """What resolving a citation needs: a document and its text by id (the Store, or a
    caller's view of it)."""

    def document(self, doc_id: str) -> tuple[DocRecord, str] | None:
        """The document and its text, or None."""
        ...


def resolve(store: DocumentLookup, cid: str) -> tuple[DocRecord, str, int, int]:
    """The cited document, its text and the span, or CitationNotFound (given a caller's view
    of the store, also for a document they cannot read: to them it does not exist)."""
    doc_id, start, end = parse_citation_id(cid)
    found = store.document(doc_id)
    if found is None:
        raise CitationNotFound(f"no document {doc_id} in the index")
    doc, text = found
    if end > len(text):
        raise CitationNotFound(f"span {start}-{end} lies outside document {doc_id}")
    return doc, text, start, end


def lookup(store: DocumentLookup, cid: str, context_chars: int = CONTEXT_CHARS) -> CitationContext:
    """Resolve a citation id to its quote, document metadata and surrounding context."""
    doc, text, start, end = resolve(store, cid)
    doc_id = doc.doc_id
    lo, hi = max(0, start - context_chars), min(len(text), end + context_chars)
    return CitationContext(
        citation=Citation.of(
            doc_id,
            doc.origin,
            start,
            end,
            id=citation_id(doc_id, start, end),
            n=1,
            quote=text[start:end],
        ),
        published=doc.origin.published,
        context=text[lo:hi],
        context_start=lo,
        context_end=hi,
    )


def validate_markers(text: str, valid: set[int]) -> tuple[str, list[int]]:
    """Drop [n] markers that point to no passage; return the text and the cited numbers."""
    used: list[int] = []

    def keep(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in valid:
            return ""
        if n not in used:
            used.append(n)
        return match.group(0)

    cleaned = MARKER.sub(keep, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?،؛؟])", r"\1", cleaned)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip(), used


def renumber(text: str, order: list[int]) -> str:
    """Rewrite markers so the cited passages are numbered 1..k in order of first use."""
    mapping = {old: new for new, old in enumerate(order, 1)}
    return MARKER.sub(lambda m: f"[{mapping.get(int(m.group(1)), m.group(1))}]", text)
