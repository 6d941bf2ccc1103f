"""Store work of a request: run in the threadpool through the engine; an outage is a 503."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

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
