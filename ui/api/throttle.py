"""Login throttling per client: a token cannot be guessed at the speed of the network.

A failed authentication is a 401 from the API (wrong or missing bearer token on a guarded
route) or a refused POST to the app's /login. After `attempts` failures within `window`
seconds, a client's further attempts (requests that carry credentials, and logins) are
answered 429 with Retry-After until the oldest failure leaves the window; a success forgets
the client's failures. Clients are told apart by address: behind a proxy they share one.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui.api.errors import error_body

LOGIN_PATH = "/login"


class Failures:
    """Recent failed authentications per client, thread-safe, on an injectable clock."""

    def __init__(
        self, attempts: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds before the client may try again (0: it may now)."""
        with self._lock:
            recent = self._recent(client)
            if len(recent) < self.attempts:
                return 0.0
            return recent[0] + self.window - self.clock()

    def record(self, client: str, failed: bool) -> None:
        """Count a failure, or forget the client's failures after a success."""
        with self._lock:
            if failed:
                self._seen[client] = self._recent(client)
                self._seen[client].append(self.clock())
            else:
                self._seen.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        """The client's failures still inside the window (a client with none is dropped)."""
        recent = self._seen.setdefault(client, deque())
        while recent and recent[0] <= self.clock() - self.window:
            recent.popleft()
        if not recent:
            del self._seen[client]
            return deque()  # not stored: record() stores the first failure
        return recent


class LoginThrottle:
    """ASGI middleware refusing a client's credentials for a while after repeated failures."""

    def __init__(self, app: ASGIApp, failures: Failures) -> None:
        self.app = app
        self.failures = failures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse with 429 while the client waits; otherwise pass on and count the outcome."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        login = scope["method"] == "POST" and scope["path"].rstrip("/") == LOGIN_PATH
        if not login and "authorization" not in Headers(scope=scope):
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        wait = self.failures.wait(client)
        if wait > 0:
            body = error_body("too_many_attempts", "too many failed logins; try again later")
            headers = {"Retry-After": str(math.ceil(wait))}
            await JSONResponse(body, status_code=429, headers=headers)(scope, receive, send)
            return

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                failed = status == 401 or (login and status >= 400)
                if failed or status < 400:
                    self.failures.record(client, failed)
            await send(message)

        await self.app(scope, receive, observed)
