"""The MCP server (ui/mcp_server.py) over streamable HTTP at /mcp, behind the API's keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.access import NOBODY, Access
from assistant.engine import Engine
from ui.api.callers import Callers
from ui.api.errors import error_body
from ui.mcp_server import build_mcp

MCP_PATH = "/mcp"


class TokenGate:
    """ASGI: pass requests whose bearer is a valid key (the admin token, the local key or a
    user's API key); an open Sanad (no users, no token) passes everything."""

    def __init__(self, app: ASGIApp, callers: Callers) -> None:
        self.app = app
        self.callers = callers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request, or 401 with the API's error body."""
        given = Headers(scope=scope).get("authorization", "")
        if self.callers.authorization(given) is None:
            body = error_body("unauthorized", "missing or wrong bearer token or API key")
            response = JSONResponse(body, 401, headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class McpEndpoint:
    """ASGI: the MCP server's streamable HTTP endpoint. The SDK's session manager runs once
    per instance, so each run of the app (its lifespan) builds a fresh one."""

    def __init__(self, engine: Engine, callers: Callers) -> None:
        self.engine = engine
        self.callers = callers
        self.current: ASGIApp | None = None

    def caller(self, headers: Mapping[str, str] | None) -> Access:
        """The rights of a message's bearer (verified by TokenGate for this request)."""
        return self.callers.authorization((headers or {}).get("authorization", "")) or NOBODY

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Inside: the endpoint answers (stateless streamable HTTP, JSON answers)."""
        server = build_mcp(self.engine, self.caller)
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
    engine: Engine, callers: Callers
) -> tuple[Route, Callable[[], AbstractAsyncContextManager[None]]]:
    """The /mcp route, behind the API's keys, and what must run around it while the app
    serves. Its tools act with the rights of the key that called them."""
    endpoint = McpEndpoint(engine, callers)
    return Route(MCP_PATH, endpoint=TokenGate(endpoint, callers)), endpoint.running
