"""The MCP server (ui/mcp_server.py) over streamable HTTP at /mcp, behind the API's token."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.engine import Engine
from ui.api.errors import error_body
from ui.mcp_server import build_mcp

MCP_PATH = "/mcp"


class TokenGate:
    """ASGI: pass requests whose bearer is one of the keys (none set: everything passes)."""

    def __init__(self, app: ASGIApp, keys: tuple[str, ...]) -> None:
        self.app = app
        self.keys = tuple(k.encode() for k in keys if k)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request, or 401 with the API's error body."""
        given = Headers(scope=scope).get("authorization", "")
        scheme, _, token = given.partition(" ")
        ok = scheme.lower() == "bearer" and any(
            hmac.compare_digest(token.encode(), key) for key in self.keys
        )
        if self.keys and not ok:
            body = error_body("unauthorized", "missing or wrong bearer token")
            response = JSONResponse(body, 401, headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def mcp_route(
    engine: Engine, keys: tuple[str, ...]
) -> tuple[Route, Callable[[], AbstractAsyncContextManager[Any]]]:
    """The /mcp route (stateless streamable HTTP, JSON answers) and what must run around it
    while the app serves (the SDK's session manager)."""
    server = build_mcp(engine)
    starlette = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        # Host and Origin are checked for the whole app (ui/api/origins.py), by its settings.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    (endpoint,) = [r.endpoint for r in starlette.routes if getattr(r, "path", "") == MCP_PATH]

    @asynccontextmanager
    async def running() -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    return Route(MCP_PATH, endpoint=TokenGate(endpoint, keys)), running
