"""Sanad as an MCP server (the official `mcp` SDK): search, ask, cite and the documents.

Agents get the same use cases as /api (Engine.search, Engine.ask, the citation look-up), with
JSON output schemas. Transports: `sanad mcp` over stdio, and streamable HTTP at /mcp on the
server, behind the API's authentication (ui/api/app.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from assistant.access import OWNER, Access
from assistant.citations import Answer, CitationContext, Passage, shown
from assistant.engine import Engine, StoreUnavailable
from index.filters import Filters

CITATION_IDS = (
    "A citation id is '<doc_id>:<start>-<end>': the characters start..end of document doc_id. "
    "Every quote is that exact span of the document's text, never a paraphrase; check it with "
    "the cite tool or the document resource."
)
INSTRUCTIONS = (
    "Sanad answers questions about a multilingual news corpus (Arabic, English, Indonesian) "
    "with numbered citations to exact passages. " + CITATION_IDS
)


class Passages(BaseModel):
    """Search results, best first."""

    passages: list[Passage]


class DocumentEntry(BaseModel):
    """One document of the corpus."""

    doc_id: str
    title: str
    source: str
    lang: str
    published: str | None
    site: str | None
    url: str | None
    summary_only: bool = False
    uri: str = Field(description="The document's resource URI (its full text).")


class DocumentList(BaseModel):
    """A page of the corpus's documents, ordered by source."""

    total: int
    documents: list[DocumentEntry]


def document_uri(doc_id: str) -> str:
    """The MCP resource URI of a document's text."""
    return f"sanad://documents/{doc_id}"


Caller = Callable[[Mapping[str, str] | None], Access]


def build_mcp(engine: Engine, caller: Caller = lambda headers: OWNER) -> MCPServer:
    """The MCP server over one engine. `caller` gives the rights of a message's HTTP headers
    (their bearer, already verified at /mcp; stdio has none: the local owner)."""
    server = MCPServer(name="sanad", instructions=INSTRUCTIONS)

    def access(ctx: Context) -> Access:
        """The rights of whoever sent this message."""
        return caller(ctx.headers)

    async def run(fn: Any, *args: Any) -> Any:
        """The work in a thread; what the caller got wrong becomes the tool's error message."""
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except (ValueError, LookupError, StoreUnavailable) as exc:  # not found is a LookupError
            raise ToolError(str(exc.args[0] if exc.args else exc)) from exc

    @server.tool(
        description="Find the passages of the news corpus that best answer a question (any of "
        "ar/en/id; passages in every language). Optional filters: languages (ar, en, id), "
        "sources (site names, hosts, ingested folders), published_after/before (YYYY-MM-DD). "
        "Each passage carries its document id and character offsets. " + CITATION_IDS
    )
    async def search(
        question: str,
        k: int = 5,
        languages: list[str] | None = None,
        sources: list[str] | None = None,
        published_after: dt.date | None = None,
        published_before: dt.date | None = None,
        ctx: Context | None = None,
    ) -> Passages:
        filters = Filters.of(languages, None, sources, published_after, published_before)
        who = access(ctx) if ctx else OWNER
        hits = await run(engine.search, question, max(1, min(k, 100)), filters, who)
        return Passages(passages=[Passage.of_chunk(h.chunk, h.score) for h in hits])

    @server.tool(
        description="Answer a question from the news corpus. The answer's text has markers "
        "[n]; citations[n-1] is the passage that says what that line says (quote, document, "
        "offsets, title, source, date, URL). It abstains (grounded false, no citations) when "
        "the corpus holds no evidence. Pass conversation_id from an earlier answer for a "
        "follow-up question. " + CITATION_IDS
    )
    async def ask(
        question: str, conversation_id: str | None = None, ctx: Context | None = None
    ) -> Answer:
        who = access(ctx) if ctx else OWNER
        return await run(lambda: engine.ask(question, conversation_id, access=who))

    @server.tool(
        description="Look up a citation id: its exact quote, the surrounding context and the "
        "document it comes from (title, source, language, date, URL, page). " + CITATION_IDS
    )
    async def cite(citation_id: str, ctx: Context | None = None) -> CitationContext:
        who = access(ctx) if ctx else OWNER
        return await run(engine.use_store, lambda: engine.citation(citation_id, who))

    @server.tool(
        description="List the corpus's documents (id, title, source, language, date, URL), "
        "ordered by source, one page at a time. Read a document's full text as the resource "
        "at its uri."
    )
    async def list_documents(
        offset: int = 0, limit: int = 50, ctx: Context | None = None
    ) -> DocumentList:
        who = access(ctx) if ctx else OWNER
        docs = await run(engine.use_store, lambda: engine.documents(who))
        page = docs[max(offset, 0) : max(offset, 0) + max(1, min(limit, 500))]
        return DocumentList(total=len(docs), documents=[_entry(d) for d in page])

    @server.resource(
        "sanad://documents/{doc_id}",
        description="A document's full text; citation offsets index into it.",
        mime_type="text/plain",
    )
    async def document(doc_id: str, ctx: Context | None = None) -> str:
        who = access(ctx) if ctx else OWNER
        found = await run(engine.use_store, lambda: engine.document(doc_id, who))
        if found is None:
            raise ValueError(f"no document {doc_id}")
        return found[1]

    return server


def _entry(doc: Any) -> DocumentEntry:
    return DocumentEntry(doc_id=doc.doc_id, uri=document_uri(doc.doc_id), **shown(doc.origin))
