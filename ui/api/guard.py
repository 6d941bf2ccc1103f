"""Store work of a request: run in the threadpool through the engine; an outage is a 503."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from assistant.citations import Answer
from assistant.conversation import ConversationNotFound
from assistant.engine import Engine, StoreUnavailable
from ui.api.errors import ApiError

T = TypeVar("T")


class StoreGuard:
    """Runs store work in the threadpool through the engine; an outage becomes a 503."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def unavailable(exc: StoreUnavailable) -> ApiError:
        """The 503 of a store outage."""
        return ApiError(503, "store_unavailable", str(exc))

    async def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` in the threadpool; a Chroma failure becomes ApiError(503)."""
        try:
            return await run_in_threadpool(self.engine.use_store, fn)
        except StoreUnavailable as exc:
            raise self.unavailable(exc) from exc

    async def start_answer(self, *args: Any) -> tuple[str | Answer | None, Iterator[str | Answer]]:
        """Start `Engine.ask_stream(*args)`: its first item (after validation and retrieval,
        whose errors get a status: 404 unknown conversation, 422 bad question, 503) and the
        rest of the stream."""
        try:
            stream = self.engine.ask_stream(*args)
            first = await self.call(lambda: next(stream, None))
        except ConversationNotFound as exc:
            raise ApiError(404, "not_found", str(exc.args[0])) from exc
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from exc
        return first, stream

    async def answer(self, *args: Any) -> Answer:
        """The whole answer of `Engine.ask_stream(*args)`, errors as in start_answer."""
        first, stream = await self.start_answer(*args)
        rest = await self.call(lambda: list(stream))
        return next(item for item in (first, *rest) if isinstance(item, Answer))
