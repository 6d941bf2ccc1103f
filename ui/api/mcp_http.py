"""The MCP server (ui/mcp_server.py) over streamable HTTP at /mcp, behind the API's token."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.engine import Engine
from ui.api.callers import Callers
from ui.api.errors import error_body
from ui.mcp_server import build_mcp

MCP_PATH = "/mcp"


class TokenGate:
    """ASGI: pass requests whose bearer is one of the keys (none set: everything passes,
    unless `closed` says otherwise: once users exist, MCP needs an admin key)."""

    def __init__(
        self, app: ASGIApp, keys: tuple[str, ...], closed: Callable[[], bool] = lambda: False
    ) -> None:
        self.app = app
        self.keys = tuple(k.encode() for k in keys if k)
        self.closed = closed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request, or 401 with the API's error body."""
        given = Headers(scope=scope).get("authorization", "")
        scheme, _, token = given.partition(" ")
        ok = scheme.lower() == "bearer" and any(
            hmac.compare_digest(token.encode(), key) for key in self.keys
        )
        if (self.keys or self.closed()) and not ok:
            body = error_body("unauthorized", "missing or wrong bearer token")
            response = JSONResponse(body, 401, headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class McpEndpoint:
    """ASGI: the MCP server's streamable HTTP endpoint. The SDK's session manager runs once
    per instance, so each run of the app (its lifespan) builds a fresh one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.current: ASGIApp | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Inside: the endpoint answers (stateless streamable HTTP, JSON answers)."""
        server = build_mcp(self.engine)
        starlette = server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            # Host and Origin are checked for the whole app (ui/api/origins.py).
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        (endpoint,) = [r.endpoint for r in starlette.routes if getattr(r, "path", "") == MCP_PATH]
        async with server.session_manager.run():
            self.current = endpoint
            try:
                yield
            finally:
                self.current = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request to the running endpoint (503 while the app is not running)."""
        if self.current is None:
            body = error_body("unavailable", "the MCP endpoint is not running")
            await JSONResponse(body, 503)(scope, receive, send)
            return
        await self.current(scope, receive, send)


def mcp_route(
    engine: Engine, keys: tuple[str, ...], callers: Callers
) -> tuple[Route, Callable[[], AbstractAsyncContextManager[None]]]:
    """The /mcp route, behind the keys, and what must run around it while the app serves.

    Its tools act as the owner of the corpus, so it takes only the admin keys, and is closed
    once users exist (until then it is open with the rest of an open Sanad)."""
    endpoint = McpEndpoint(engine)
    gate = TokenGate(endpoint, keys, lambda: not callers.open)
    return Route(MCP_PATH, endpoint=gate), endpoint.running
