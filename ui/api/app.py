"""The HTTP API: ask (JSON or server-sent events), search, citations, documents, conversations,
ingest.

Every error is JSON `{"error": {"code": ..., "message": ...}}`. Blocking work (the model, Chroma
over HTTP, sqlite) runs in the threadpool so the event loop stays free. When Chroma cannot be
reached the API answers 503 `store_unavailable`; the next request tries again (re-fetching the
collections), so the app recovers by itself once Chroma is back.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import iterate_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.access import Forbidden
from assistant.accounts import AccountError
from assistant.caller_view import WritableLibrary
from assistant.citations import (
    Answer,
    CitationContext,
    CitationNotFound,
    Passage,
    shown,
)
from assistant.engine import Engine, StoreUnavailable
from index.formats.base import SkipFile
from index.library import DocumentNotFound
from index.pipeline import IngestReport
from index.provenance import DEFAULT_COLLECTION
from index.store import DocRecord, is_store_failure
from ui.api.admin import admin_routes, check_writable
from ui.api.callers import BEARER, CallerAccess, Callers, current_access
from ui.api.errors import (
    ERRORS,
    FORBIDDEN,
    NOT_FOUND,
    STATUS_CODES,
    ApiError,
    ErrorDetail,
    ErrorResponse,
    error_body,
)
from ui.api.filter_fields import FilterFields
from ui.api.guard import StoreGuard
from ui.api.limits import BodyLimit
from ui.api.mcp_http import mcp_route
from ui.api.openai_chat import completion_routes
from ui.api.origins import OwnOrigin
from ui.api.text import Text
from ui.api.throttle import Failures, LoginThrottle
from ui.api.workspace import workspace_routes

log = logging.getLogger("sanad.api")
_UNDECODABLE = "There was an error parsing the body"  # FastAPI's words for an unreadable body


# --- models -------------------------------------------------------------------------------
class AskRequest(FilterFields):
    """A question, optionally within a conversation and restricted by filters."""

    question: Text = Field(description="The question (1 to SANAD_MAX_QUESTION_CHARS characters).")
    conversation_id: Text | None = Field(None, description="Continue this conversation.")
    stream: bool = Field(False, description="Answer as server-sent events (delta, answer).")


class SearchRequest(FilterFields):
    """A question whose best passages are wanted, without an answer."""

    question: Text = Field(description="The question (1 to SANAD_MAX_QUESTION_CHARS characters).")
    k: int = Field(5, ge=1, le=100, description="How many passages.")


class SearchResult(BaseModel):
    """The passages of a search, best first."""

    passages: list[Passage]


class DocumentSummary(BaseModel):
    """One ingested document's metadata."""

    doc_id: str
    title: str
    lang: str
    source: str
    site: str | None
    url: str | None
    author: str | None
    published: str | None
    pages: int | None = Field(description="Page count (PDF), else null.")
    n_chunks: int
    collection: str = Field(description="The collection the document belongs to.")

    @classmethod
    def of(cls, doc: DocRecord) -> DocumentSummary:
        """From the stored record."""
        origin = doc.origin
        return cls(
            doc_id=doc.doc_id,
            author=origin.author,
            pages=origin.pages.count or None,
            n_chunks=doc.n_chunks,
            **shown(origin),
        )


class DocumentPage(BaseModel):
    """One page of the document list."""

    total: int
    offset: int
    limit: int
    documents: list[DocumentSummary]


class DocumentText(DocumentSummary):
    """A document with its full original text (citation offsets index into `text`)."""

    text: str
    page_starts: list[int] = Field(description="Offset in `text` where each page begins.")


class UploadedFile(BaseModel):
    """What happened to one uploaded file."""

    name: str
    status: Literal["added", "updated", "unchanged", "skipped"]
    reason: str | None = Field(None, description="Why a skipped file was not ingested.")
    doc_id: str | None = None


class UploadResult(BaseModel):
    """One result per uploaded file, in upload order, and the ingestion summary."""

    files: list[UploadedFile]
    summary: str


class IngestRequest(BaseModel):
    """Files or folders (paths on the server), web pages and feeds to ingest."""

    model_config = ConfigDict(extra="forbid")

    paths: list[Text] = Field([], description="Files or folders on the server.")
    urls: list[Text] = Field([], description="Web pages to fetch and ingest.")
    feeds: list[Text] = Field([], description="RSS/Atom feeds whose new items to ingest.")
    sync: bool = Field(False, description="Also remove documents whose files are gone.")
    collection: str = Field(DEFAULT_COLLECTION, description="The collection to ingest into.")

    @model_validator(mode="after")
    def _something(self) -> IngestRequest:
        if not (self.paths or self.urls or self.feeds):
            raise ValueError("give paths, urls or feeds to ingest")
        return self


class IngestResult(BaseModel):
    """What one ingestion run did (the fields of index.pipeline.IngestReport)."""

    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    skipped: list[tuple[str, str]]
    doc_ids: dict[str, str] = Field(description="Each source read, with its document id.")
    repaired: int
    chunks_embedded: int
    tokens_embedded: int
    seconds: float
    summary: str


class IndexState(BaseModel):
    """This process's derived index: the corpus generation it holds and how it last changed."""

    generation: int
    last_update: Literal["full", "incremental"] | None
    last_update_ms: float | None
    embed_dtype: str = Field(description="The number format this process embeds questions in.")


class Health(BaseModel):
    """Liveness and readiness: the model, Chroma, the corpus size and the derived index."""

    status: Literal["ok", "degraded"]
    model_loaded: bool
    chroma: Literal["reachable", "unreachable"]
    documents: int | None
    chunks: int | None
    index: IndexState | None = None
    error: ErrorDetail | None = None


def _error_response(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The error in the API's shape, or in OpenAI's under /v1 (its clients read that)."""
    if request.url.path.startswith("/v1/"):
        kind = "invalid_request_error" if status < 500 else "server_error"
        if status in (401, 403):
            kind = "authentication_error"
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return JSONResponse(body, status_code=status, headers=headers)
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def _describe_validation(exc: RequestValidationError) -> str:
    """A short human sentence for pydantic's validation errors."""
    parts = []
    for err in exc.errors():
        kind = err.get("type", "")
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        if kind == "json_invalid":
            parts.append("the request body is not valid JSON")
            continue
        if kind == "missing" and not loc:
            parts.append("the request body is missing (expected a JSON object)")
            continue
        where = ".".join(loc) or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid value')}")
    return "invalid request: " + "; ".join(parts or ["the request is malformed"])


# --- the store guard ----------------------------------------------------------------------
# --- the app ------------------------------------------------------------------------------
def _app_version() -> str:
    try:
        return version("sanad")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "0.0.0"


def _sse(event: str, data: Any) -> bytes:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _index_state(engine: Engine) -> IndexState | None:
    """The derived index's state, once this process has built one (health never builds it)."""
    retriever = engine.built_retriever
    if retriever is None:
        return None
    live = retriever.live
    last = live.updates[-1] if live.updates else None
    return IndexState(
        generation=live.generation,
        last_update=last.kind if last else None,
        last_update_ms=round(last.seconds * 1000, 2) if last else None,
        embed_dtype=engine.embedder.dtype,
    )


OUTSIDE_ROOTS = (
    "the server reads only files below the folders in SANAD_INGEST_ROOTS; "
    "this path is not below one of them"
)


def create_api(engine: Engine, local_key: str = "") -> FastAPI:
    """The FastAPI app: JSON API under /api, /healthz, OpenAPI at /api/openapi.json.

    local_key: the key that sanad processes on the same data directory send (index/owner.py).
    """
    settings = engine.settings
    guard = StoreGuard(engine)

    callers = Callers(engine.accounts, settings.api_token, local_key)
    mcp, mcp_running = mcp_route(engine, callers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with mcp_running():
            yield

    app = FastAPI(
        lifespan=lifespan,
        title="Sanad",
        description="Multilingual (ar/en/id) news QA with exact citations.",
        version=_app_version(),
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.callers = callers
    failures = Failures(settings.login_attempts, settings.login_window_s)
    app.state.login_failures = failures
    app.add_middleware(LoginThrottle, failures=failures)
    app.add_middleware(BodyLimit, limit=int(settings.max_request_mb * 2**20))
    app.add_middleware(OwnOrigin, hosts=settings.host_names)  # outermost: checked first

    # -- error handlers --
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(request, exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error_response(request, 422, "invalid_request", _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, ApiError):  # raised while the body was read (its limit)
            cause = exc.__cause__
            return _error_response(request, cause.status, cause.code, cause.message)
        if exc.status_code == 400:  # a body that cannot be decoded: bad input, 422
            said = str(exc.detail or "")  # Starlette names multipart limits (files, fields)
            message = (
                f"the request body is not accepted: {said}"
                if said and said != _UNDECODABLE
                else "the request body is not readable JSON (UTF-8)"
            )
            return _error_response(request, 422, "invalid_request", message)
        code = STATUS_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.detail else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}"
        return _error_response(
            request, exc.status_code, code, message, getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_store_failure(exc):
            err = guard.unavailable(engine.store_unavailable(exc))
            return _error_response(request, err.status, err.code, err.message)
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error_response(
            request, 500, "internal_error", "internal server error (see the server log)"
        )

    # -- auth --
    def is_local(credentials: HTTPAuthorizationCredentials | None) -> bool:
        """Whether the bearer is the key of a sanad process on this data directory."""
        return bool(
            local_key
            and credentials is not None
            and hmac.compare_digest(credentials.credentials.encode(), local_key.encode())
        )

    api = APIRouter(prefix="/api", dependencies=[Depends(current_access)], responses=ERRORS)

    # -- ask --
    @api.post(
        "/ask",
        response_model=Answer,
        responses={
            **NOT_FOUND,
            200: {
                "description": "The answer as JSON, or (stream: true) server-sent events: "
                "`delta` {text} events, then one `answer` event (or an `error` event).",
                "content": {"text/event-stream": {}},
            },
        },
    )
    async def ask(body: AskRequest, access: CallerAccess) -> Any:
        """Answer a question with citations (JSON, or server-sent events when stream is true)."""
        args = (body.question, body.conversation_id, body.filters(), (), access)
        if not body.stream:
            answer = await guard.answer(*args)
            return JSONResponse(answer.model_dump(mode="json"))
        first, stream = await guard.start_answer(*args)
        return StreamingResponse(
            _events(first, stream),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _events(first: str | Answer | None, stream: Any) -> AsyncIterator[bytes]:
        """Server-sent events for an answer stream whose first item was already taken."""

        def event(item: str | Answer) -> bytes:
            if isinstance(item, Answer):
                return _sse("answer", item.model_dump(mode="json"))
            return _sse("delta", {"text": item})

        try:
            if first is None:
                raise RuntimeError("the answerer produced nothing")
            yield event(first)
            if isinstance(first, Answer):
                return
            async for item in iterate_in_threadpool(stream):
                yield event(item)
        except StoreUnavailable as exc:
            err = guard.unavailable(exc)
            yield _sse("error", error_body(err.code, err.message))
        except Exception:
            log.exception("error while streaming an answer")
            yield _sse("error", error_body("internal_error", "the answer failed midway"))

    @api.post("/search", response_model=SearchResult)
    async def search(body: SearchRequest, access: CallerAccess) -> SearchResult:
        """The best passages for a question (hybrid, language-fair retrieval), no answer."""
        filters = body.filters()
        try:
            hits = await guard.call(lambda: engine.search(body.question, body.k, filters, access))
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from exc
        return SearchResult(passages=[Passage.of_chunk(h.chunk, h.score) for h in hits])

    # -- citations, documents --
    @api.get("/citations/{citation_id:path}", response_model=CitationContext, responses=NOT_FOUND)
    async def citation(citation_id: str, access: CallerAccess) -> Any:
        """A citation's quote, its document's metadata and the text around it."""

        def find() -> CitationContext:
            return engine.citation(citation_id, access)

        try:
            found = await guard.call(find)
        except CitationNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        return JSONResponse(found.model_dump(mode="json"))

    @api.get("/documents", response_model=DocumentPage)
    async def documents(
        offset: Annotated[int, Query(ge=0, description="Skip this many documents.")] = 0,
        limit: Annotated[int, Query(ge=1, le=500, description="Return at most this many.")] = 50,
        *,
        access: CallerAccess,
    ) -> DocumentPage:
        """The ingested documents the caller may read, by source, one page at a time."""
        docs = await guard.call(lambda: engine.documents(access))
        page = [DocumentSummary.of(d) for d in docs[offset : offset + limit]]
        return DocumentPage(total=len(docs), offset=offset, limit=limit, documents=page)

    @api.get("/documents/{doc_id}", response_model=DocumentText, responses=NOT_FOUND)
    async def document(doc_id: str, access: CallerAccess) -> DocumentText:
        """One document's metadata and full original text."""
        found = await guard.call(lambda: engine.document(doc_id, access))
        if found is None:
            raise ApiError(404, "not_found", f"no document {doc_id} in the index")
        doc, text = found
        return DocumentText(
            **DocumentSummary.of(doc).model_dump(),
            text=text,
            page_starts=list(doc.origin.pages.starts),
        )

    @api.post("/documents", response_model=UploadResult, responses=FORBIDDEN)
    async def upload(
        files: Annotated[
            list[UploadFile], File(description="Files to ingest (.txt .md .html .pdf .docx).")
        ],
        access: CallerAccess,
        collection: Annotated[
            str | None,
            Form(
                description="The collection to add them to (the caller must write it).",
                max_length=64,
            ),
        ] = None,
        collection_query: Annotated[
            str | None,
            Query(alias="collection", description="The same, as a query parameter.", max_length=64),
        ] = None,
    ) -> UploadResult:
        """Upload and ingest files; each gets a result (skipped ones with the reason)."""
        collection = collection or collection_query or DEFAULT_COLLECTION
        try:
            engine.accounts.check_collection(collection)
        except AccountError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from exc
        check_writable(collection, access)
        streams = [(f.filename or "", f.file) for f in files]
        results, report = await guard.call(
            lambda: engine.library.upload(streams, collection=collection)
        )
        return UploadResult(
            files=[UploadedFile(**dataclasses.asdict(r)) for r in results],
            summary=report.summary(),
        )

    @api.delete(
        "/documents/{doc_id}",
        response_model=DocumentSummary,
        responses={**NOT_FOUND, **FORBIDDEN},
    )
    async def delete_document(doc_id: str, access: CallerAccess) -> DocumentSummary:
        """Delete a document: gone from Chroma and from every process's search at once."""
        try:
            record = await guard.call(lambda: WritableLibrary(engine, access).delete(doc_id))
        except DocumentNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        except Forbidden as exc:
            raise ApiError(403, "forbidden", str(exc)) from exc
        return DocumentSummary.of(record)

    @api.post(
        "/documents/{doc_id}/reindex",
        response_model=IngestResult,
        responses={
            **NOT_FOUND,
            **FORBIDDEN,
            409: {"model": ErrorResponse, "description": "Its file or page cannot be read"},
        },
    )
    async def reindex_document(doc_id: str, access: CallerAccess) -> IngestResult:
        """Read a document's file or page again and embed it anew."""
        try:
            report = await guard.call(lambda: WritableLibrary(engine, access).reindex(doc_id))
        except DocumentNotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        except Forbidden as exc:
            raise ApiError(403, "forbidden", str(exc)) from exc
        except SkipFile as exc:
            raise ApiError(409, "conflict", f"cannot re-index {doc_id}: {exc.reason}") from exc
        return IngestResult(**dataclasses.asdict(report), summary=report.summary())

    workspace_routes(api, engine)
    admin_routes(api, engine)
    app.include_router(completion_routes(engine, guard))
    app.router.routes.append(mcp)

    # -- ingest (admin) --
    @api.post(
        "/ingest",
        response_model=IngestResult,
        responses={
            403: {
                "model": ErrorResponse,
                "description": "Not an admin, or no API token configured",
            }
        },
    )
    async def ingest(
        body: IngestRequest,
        access: CallerAccess,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
    ) -> IngestResult:
        """Ingest files or folders on the server below SANAD_INGEST_ROOTS, web pages and feeds
        (an admin's key, or SANAD_API_TOKEN). A sanad process on this data directory (its
        local key) may ingest any path, as it could itself."""
        local = is_local(credentials)
        if not (local or (access.is_admin and (settings.api_token or access.user))):
            raise ApiError(
                403,
                "forbidden",
                "ingestion over the API needs an admin: set SANAD_API_TOKEN on the server and "
                "send it as a bearer token, use an admin's API key (or run `sanad ingest` on "
                "the server)",
            )
        try:
            engine.accounts.check_collection(body.collection)
        except AccountError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from exc
        roots = None if local else list(settings.ingest_root_paths)
        paths = [Path(p) for p in body.paths]
        for path in paths:  # outside the roots: refused alike, whether it exists or not
            if roots is not None and not any(path.resolve().is_relative_to(r) for r in roots):
                raise ApiError(403, "forbidden", OUTSIDE_ROOTS)
        for path in paths:
            if not path.exists():
                raise ApiError(422, "invalid_request", f"no such file or directory: {path}")

        def run() -> IngestReport:
            return engine.library.ingest_sources(
                paths,
                body.urls,
                body.feeds,
                body.sync,
                progress=False,
                within=roots,
                collection=body.collection,
            )

        try:
            report = await guard.call(run)
        except FileNotFoundError as exc:  # removed between the check and the run
            raise ApiError(422, "invalid_request", str(exc)) from exc
        return IngestResult(**dataclasses.asdict(report), summary=report.summary())

    app.include_router(api)

    # -- health --
    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}})
    async def healthz(request: Request) -> JSONResponse:
        """Readiness: 200 when Chroma answers and the last search or ask succeeded, 503
        (status degraded) otherwise. The corpus size, the index and the error's message are
        for known callers only: anyone may ask whether the server is up."""
        known = callers.known(request)
        try:
            _, n_docs, n_chunks = await guard.call(lambda: engine.store.generation())
        except ApiError as err:
            return _degraded(
                "unreachable", None, None, ErrorDetail(code=err.code, message=err.message), known
            )
        if engine.search_failure:  # Chroma answers, but searches fail: not healthy
            failing = ErrorDetail(code="searches_failing", message=engine.search_failure)
            return _degraded("reachable", n_docs, n_chunks, failing, known)
        health = Health(
            status="ok",
            model_loaded=engine.model_loaded,
            chroma="reachable",
            documents=n_docs if known else None,
            chunks=n_chunks if known else None,
            index=_index_state(engine) if known else None,
        )
        return JSONResponse(health.model_dump(mode="json", exclude_none=True))

    def _degraded(
        chroma: Literal["reachable", "unreachable"],
        documents: int | None,
        chunks: int | None,
        error: ErrorDetail,
        known: bool,
    ) -> JSONResponse:
        """The 503 of /healthz (to an unknown caller: no counts, and the error's code only)."""
        health = Health(
            status="degraded",
            model_loaded=engine.model_loaded,
            chroma=chroma,
            documents=documents if known else None,
            chunks=chunks if known else None,
            error=error
            if known
            else ErrorDetail(code=error.code, message="send a key or sign in for details"),
        )
        return JSONResponse(health.model_dump(mode="json"), status_code=503)

    return app
