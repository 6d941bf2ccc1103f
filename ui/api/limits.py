"""Bounded request bodies: a body over the limit is refused with 413 before it is stored.

A declared `Content-Length` over the limit is answered at once, without reading the body. A
body without one (chunked) is counted as it arrives; once it passes the limit, reading stops,
and the request ends as `payload_too_large`. Uploads are therefore never spooled to disk
beyond the limit, whichever route (API or the browser app) receives them.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui.api.errors import ApiError, error_body


def too_large(limit: int) -> ApiError:
    """The 413 of a body over `limit` bytes."""
    return ApiError(413, "payload_too_large", f"the request body is over {limit // 2**20} MB")


class BodyLimit:
    """ASGI middleware refusing request bodies over `limit` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a counting `receive`, or answer 413 at once."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            error = too_large(self.limit)
            response = JSONResponse(error_body(error.code, error.message), status_code=error.status)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise too_large(self.limit)
            return message

        await self.app(scope, counted, send)
