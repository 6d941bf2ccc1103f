"""OpenAI-compatible chat completions on the same "ask" use case as /api/ask.

Any client written for the OpenAI chat API (the openai package, Open WebUI, LibreChat) gets
Sanad's answer: the text with markers [n], and beside it the citations, each an exact span of
its document (`choices[0].message.citations`; when streaming, in the `delta` of the last
chunk before the one with `finish_reason`).
- The last user message is the question; earlier user messages are the conversation, for
  follow-ups, as in the chat. A system message is not an instruction channel: it is ignored,
  as are parameters Sanad has no use for (temperature, max_tokens...).
- Filters (languages, doc_ids, sources, published_after, published_before) and
  conversation_id ride in the body as extra fields (the openai client's `extra_body`).
- Errors have OpenAI's shape (ui/api/app.py shapes every error under /v1).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool

from assistant.citations import Answer
from assistant.engine import Engine, StoreUnavailable
from ui.api.callers import CallerAccess, current_access
from ui.api.errors import ApiError
from ui.api.filter_fields import FilterFields
from ui.api.guard import StoreGuard
from ui.api.text import Text

MODEL = "sanad"


class OpenAIError(BaseModel):
    """An error as OpenAI's API gives it."""

    message: str
    type: str
    param: str | None = None
    code: str


class OpenAIErrorResponse(BaseModel):
    """The body of every error under /v1."""

    error: OpenAIError


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": OpenAIErrorResponse, "description": description}
    for status, description in (
        (401, "Missing or wrong bearer token"),
        (404, "Unknown conversation"),
        (422, "Invalid request"),
        (503, "Chroma is unreachable"),
    )
}


class TextPart(BaseModel):
    """One part of a message's content (only text parts carry a question)."""

    model_config = ConfigDict(extra="ignore")

    type: str
    text: str | None = None


class Message(BaseModel):
    """One message of the conversation, as OpenAI clients send it."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        """The message's text (the text parts joined)."""
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class ChatCompletionRequest(FilterFields):
    """A chat completion request; unknown OpenAI parameters are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(MODEL, description='Any name; the one model is "sanad".')
    messages: list[Message] = Field(min_length=1, description="The conversation, oldest first.")
    stream: bool = Field(False, description="Server-sent chunks, then [DONE].")
    conversation_id: Text | None = Field(None, description="Continue a stored conversation.")

    def asked(self) -> tuple[str, list[str]]:
        """The question (the last message, the user's) and the user's earlier questions."""
        if self.messages[-1].role != "user":
            raise ApiError(422, "invalid_request", "the last message must be the user's question")
        users = [m.text() for m in self.messages if m.role == "user"]
        return users[-1], [u for u in users[:-1] if u.strip()]


def completion_routes(engine: Engine, guard: StoreGuard) -> APIRouter:
    """GET /v1/models and POST /v1/chat/completions, behind the API's authentication."""
    router = APIRouter(
        prefix="/v1", dependencies=[Depends(current_access)], tags=["openai"], responses=ERRORS
    )

    @router.get("/models")
    async def models() -> dict[str, Any]:
        """The one model: sanad."""
        model = {"id": MODEL, "object": "model", "created": 0, "owned_by": "sanad"}
        return {"object": "list", "data": [model]}

    @router.post(
        "/chat/completions",
        responses={
            200: {
                "description": "The chat completion, or (stream: true) its chunks as "
                "server-sent events, then `data: [DONE]`.",
                "content": {"application/json": {}, "text/event-stream": {}},
            }
        },
    )
    async def chat_completions(body: ChatCompletionRequest, access: CallerAccess) -> Any:
        """Sanad's cited answer to the last user message, as an OpenAI chat completion."""
        question, previous = body.asked()
        args = (question, body.conversation_id, body.filters(), previous, access)
        reply = _Reply(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()))
        if not body.stream:
            return JSONResponse(reply.whole(await guard.answer(*args)))
        first, stream = await guard.start_answer(*args)
        return StreamingResponse(
            reply.chunks(first, stream),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


class _Reply:
    """One completion's id and time, and its JSON forms."""

    def __init__(self, completion_id: str, created: int) -> None:
        self.id = completion_id
        self.created = created

    def _base(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": MODEL}

    def whole(self, answer: Answer) -> dict[str, Any]:
        """The plain (not streamed) completion."""
        message = {"role": "assistant", "content": answer.text, "citations": _citations(answer)}
        return {
            **self._base("chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "conversation_id": answer.conversation_id,
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        """One streamed chunk as a server-sent event."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        data = {**self._base("chat.completion.chunk"), "choices": [choice]}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()

    async def chunks(self, first: str | Answer | None, stream: Any) -> AsyncIterator[bytes]:
        """The answer's text as it comes, the citations, the finish, then [DONE]."""
        yield self.chunk({"role": "assistant", "content": ""})
        items = iterate_in_threadpool(stream)
        item = first
        try:
            while not isinstance(item, Answer):
                if item:
                    yield self.chunk({"content": item})
                item = await anext(items)
        except StoreUnavailable as exc:
            error = {"message": str(exc), "type": "server_error", "code": "store_unavailable"}
            yield f"data: {json.dumps({'error': error})}\n\n".encode()
            return
        yield self.chunk({"citations": _citations(item), "conversation_id": item.conversation_id})
        yield self.chunk({}, finish="stop")
        yield b"data: [DONE]\n\n"


def _citations(answer: Answer) -> list[dict[str, Any]]:
    """The answer's citations as /api/ask gives them."""
    return [c.model_dump(mode="json") for c in answer.citations]
