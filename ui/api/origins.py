"""Requests for this server, from its own pages: the defence when no token is set.

- DNS rebinding: a page on another site whose name is made to resolve to 127.0.0.1 reaches
  the server with its own name in `Host`. Only the names the server is known by are answered
  (loopback, SANAD_HOST, SANAD_ALLOWED_HOSTS; "*" allows any).
- Cross-site requests: a page elsewhere can POST (even `no-cors`) to the server, and the
  browser then sends its `Origin`. A state-changing request whose Origin is not the server's
  own (scheme aside, the same host and port as `Host`) is refused. Clients that send no
  Origin (curl, scripts, the openai package) are not browsers acting for another site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ui.api.errors import error_body

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(host: str) -> str | None:
    """The name of a Host header value ("[::1]:7860" -> "::1"), None when malformed."""
    try:
        return urlsplit(f"//{host}").hostname
    except ValueError:
        return None


def same_origin(origin: str, host: str) -> bool:
    """Whether an Origin header names the host and port of the request's Host."""
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc.lower() == host.lower()


class OwnOrigin:
    """ASGI middleware: a Host this server is known by, and no foreign Origin on a write."""

    def __init__(self, app: ASGIApp, hosts: tuple[str, ...]) -> None:
        self.app = app
        self.any_host = "*" in hosts
        self.hosts = frozenset(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or refuse it with the API's error body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        refusal = None
        if not self.any_host and host_name(host) not in self.hosts:
            refusal = (421, "unknown_host", "this server is not known by the name in Host")
        elif scope["method"] not in SAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and not same_origin(origin, host):
                refusal = (403, "foreign_origin", "requests from another site are refused")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, code, message = refusal
        await JSONResponse(error_body(code, message), status_code=status)(scope, receive, send)
