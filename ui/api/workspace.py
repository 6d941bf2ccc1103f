"""The API of a reader's workspace: conversations (list, read, rename, delete, export) and
feedback on answers and citations.

Conversations and feedback live in sqlite, not Chroma, so these routes work while the vector
store is down. Blocking sqlite calls run in the threadpool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from assistant.conversation import TITLE_CHARS, ConversationNotFound, ConversationSummary
from assistant.engine import Engine
from assistant.export import ConversationExport, conversation_export, to_markdown
from assistant.feedback import COMMENT_CHARS, FeedbackRecord, TurnNotFound
from ui.api.callers import CallerAccess
from ui.api.errors import NOT_FOUND, ApiError
from ui.api.text import Text

T = TypeVar("T")
MARKDOWN = "text/markdown; charset=utf-8"
JSONL = "application/x-ndjson"


MAX_OFFSET = 1_000_000_000


class ConversationPage(BaseModel):
    """One page of the conversation history, most recently active first."""

    total: int
    offset: int
    limit: int
    conversations: list[ConversationSummary]


class RenameRequest(BaseModel):
    """A conversation's new title."""

    model_config = ConfigDict(extra="forbid")

    title: Text = Field(description=f"The new title (1 to {TITLE_CHARS} characters kept).")


class FeedbackRequest(BaseModel):
    """A verdict on an answer, or (with citation_id) on one of the passages it cites."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: Text
    turn: int = Field(ge=0, description="The answer's 0-based index in its conversation.")
    rating: Literal["up", "down"] = Field(
        description="up: helpful; down: not helpful, or (with citation_id) the passage does "
        "not support the statement."
    )
    citation_id: Text | None = Field(None, description="One of the answer's citation ids.")
    comment: Text | None = Field(None, max_length=COMMENT_CHARS)


class FeedbackList(BaseModel):
    """Feedback records, oldest first."""

    total: int
    feedback: list[FeedbackRecord]


def attachment(name: str) -> dict[str, str]:
    """The header that makes a browser save the response as `name`."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def workspace_routes(api: APIRouter, engine: Engine) -> None:
    """Add the conversation and feedback routes to the /api router: each caller sees their
    own conversations and feedback (an admin may list everyone's feedback)."""

    async def known(fn: Callable[[], T]) -> T:
        """Run a sqlite call in the threadpool; an unknown conversation or turn becomes 404."""
        try:
            return await run_in_threadpool(fn)
        except (ConversationNotFound, TurnNotFound) as exc:
            raise ApiError(404, "not_found", str(exc.args[0])) from exc

    @api.get("/conversations", response_model=ConversationPage)
    async def conversations(
        q: Annotated[
            str,
            Query(
                max_length=500,
                description="Only those whose title, questions or answers contain this text.",
            ),
        ] = "",
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Skip this many.")] = 0,
        limit: Annotated[int, Query(ge=1, le=500, description="Return at most this many.")] = 50,
        *,
        access: CallerAccess,
    ) -> ConversationPage:
        """The caller's conversations, most recently active first, optionally searched."""
        store = engine.conversations_of(access)
        total, page = await run_in_threadpool(store.summaries, q, offset, limit)
        return ConversationPage(total=total, offset=offset, limit=limit, conversations=page)

    @api.get("/conversations/{conversation_id}", responses=NOT_FOUND)
    async def conversation(conversation_id: str, access: CallerAccess) -> dict[str, Any]:
        """A conversation's stored turns: answers, citations, timings and settings."""
        store = engine.conversations_of(access)
        await known(lambda: store.summary(conversation_id))
        return await run_in_threadpool(store.export, conversation_id)

    @api.patch(
        "/conversations/{conversation_id}",
        response_model=ConversationSummary,
        responses=NOT_FOUND,
    )
    async def rename(
        conversation_id: str, body: RenameRequest, access: CallerAccess
    ) -> ConversationSummary:
        """Rename a conversation."""
        store = engine.conversations_of(access)
        try:
            return await known(lambda: store.rename(conversation_id, body.title))
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from exc

    @api.delete(
        "/conversations/{conversation_id}",
        response_model=ConversationSummary,
        responses=NOT_FOUND,
    )
    async def delete(conversation_id: str, access: CallerAccess) -> ConversationSummary:
        """Delete a conversation, its turns and its feedback, for good."""
        return await known(lambda: engine.conversations_of(access).delete(conversation_id))

    @api.get(
        "/conversations/{conversation_id}/export",
        response_model=ConversationExport,
        responses={
            **NOT_FOUND,
            200: {
                "description": "The conversation as JSON, or as Markdown (format=md).",
                "content": {"text/markdown": {"schema": {"type": "string"}}},
            },
        },
    )
    async def export(
        conversation_id: str,
        format: Annotated[
            Literal["md", "json"], Query(description="md (Markdown) or json.")
        ] = "json",
        *,
        access: CallerAccess,
    ) -> Response:
        """Every answer with its numbered citations (quote, title, source, date, language, id)."""
        store = engine.conversations_of(access)
        done = await known(lambda: conversation_export(store, conversation_id))
        name = f"sanad-{conversation_id}.{format}"
        if format == "md":
            return Response(to_markdown(done), media_type=MARKDOWN, headers=attachment(name))
        return JSONResponse(done.model_dump(mode="json"), headers=attachment(name))

    @api.post("/feedback", response_model=FeedbackRecord, status_code=201, responses=NOT_FOUND)
    async def feedback(body: FeedbackRequest, access: CallerAccess) -> FeedbackRecord:
        """Record a verdict on an answer or one of its citations (replaces an earlier one)."""
        try:
            return await known(
                lambda: engine.feedback_of(access).add(
                    body.conversation_id, body.turn, body.rating, body.citation_id, body.comment
                )
            )
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from exc

    @api.get(
        "/feedback",
        response_model=FeedbackList,
        responses={200: {"content": {JSONL: {"schema": {"type": "string"}}}}},
    )
    async def feedback_list(
        conversation_id: Annotated[
            str | None, Query(description="Only this conversation's feedback.")
        ] = None,
        format: Annotated[
            Literal["json", "jsonl"], Query(description="json, or jsonl (one record a line).")
        ] = "json",
        *,
        access: CallerAccess,
    ) -> Response:
        """The caller's feedback records (an admin's: everyone's) with their question,
        answer, citations and settings."""
        store, everyone = engine.feedback_of(access), access.is_admin
        if format == "jsonl":
            lines = await run_in_threadpool(list, store.jsonl(conversation_id, everyone))
            return Response(
                "".join(lines), media_type=JSONL, headers=attachment("sanad-feedback.jsonl")
            )
        records = await run_in_threadpool(store.records, conversation_id, everyone)
        listed = FeedbackList(total=len(records), feedback=records)
        return JSONResponse(listed.model_dump(mode="json"))
