"""Who is calling: a bearer key, a browser session, or nobody; and what they may do.

- A bearer is the admin token (SANAD_API_TOKEN), the key of a sanad process on this data
  directory, or a user's API key. A wrong one is a 401 (counted by the login throttle).
- A browser session is the `sanad_session` cookie (HttpOnly, SameSite=Lax) set by POST /login;
  a state-changing request with it must echo the session's CSRF token in `X-CSRF-Token` (the
  page reads it from the `sanad_csrf` cookie): another site's form cannot.
- Nobody: the single user of an open Sanad (no users, no token), or a 401.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.access import NOBODY, OWNER, Access
from assistant.accounts import AccountError, Accounts, Session
from ui.api.errors import ApiError

SESSION_COOKIE = "sanad_session"
CSRF_COOKIE = "sanad_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class Callers:
    """Resolves a request to the caller's Access (or raises the ApiError to answer)."""

    def __init__(self, accounts: Accounts, api_token: str, local_key: str = "") -> None:
        self.accounts = accounts
        self._admin_keys = tuple(k.encode() for k in (api_token, local_key) if k)
        self.api_token = api_token

    @property
    def open(self) -> bool:
        """Whether anyone who reaches the server is its single user (no token, no users)."""
        return not self.api_token and not self.accounts.has_users()

    def is_admin_key(self, secret: str) -> bool:
        """Whether the bearer is SANAD_API_TOKEN or the local processes' key."""
        given = secret.encode()
        return any(hmac.compare_digest(given, key) for key in self._admin_keys)

    def bearer(self, secret: str) -> Access | None:
        """The rights a bearer key carries, or None for no valid key."""
        if self.is_admin_key(secret):
            return OWNER
        return self.accounts.key_access(secret)

    def named(self, user: str | None) -> Access:
        """The rights of the browser app's user (Gradio's name for a request): the owner's
        while no user exists, else the named user's (NOBODY for none, or a disabled one)."""
        if not self.accounts.has_users():
            return OWNER
        try:
            return self.accounts.access(user) if user else NOBODY
        except AccountError:
            return NOBODY

    def authorization(self, header: str) -> Access | None:
        """The rights an Authorization header carries: the owner's in an open Sanad, else its
        bearer key's (None: no bearer, or a wrong one)."""
        if self.open:
            return OWNER
        scheme, _, secret = header.partition(" ")
        return self.bearer(secret.strip()) if scheme.lower() == "bearer" else None

    def signed_in(self, request: Request) -> tuple[Session, Access] | None:
        """The browser's live session and its user's rights (None: none, or a user disabled)."""
        token = request.cookies.get(SESSION_COOKIE, "")
        session = self.accounts.session(token) if token else None
        if session is None:
            return None
        try:
            return session, self.accounts.access(session.user)
        except AccountError:
            return None

    def session_access(self, request: Request) -> Access | None:
        """The signed-in browser's rights (None: no live session)."""
        found = self.signed_in(request)
        return found[1] if found else None

    def known(self, request: Request) -> bool:
        """Whether the request comes from someone the server knows (open Sanad, a valid key or a
        live session), without answering for it (a wrong key is not a failed login here)."""
        if self.open:
            return True
        header = request.headers.get("authorization", "")
        if header:
            return self.authorization(header) is not None
        return self.signed_in(request) is not None

    def resolve(self, request: Request) -> Access:
        """The caller's rights; ApiError 401 (no or wrong credentials) or 403 (CSRF).

        An open Sanad ignores credentials (clients such as the openai package always send one).
        """
        if self.open:
            return OWNER
        header = request.headers.get("authorization", "")
        if header:
            access = self.authorization(header)
            if access is None:
                raise ApiError(401, "unauthorized", "wrong bearer token or API key", _CHALLENGE)
            return access
        found = self.signed_in(request)
        if found is not None:
            session, access = found
            if request.method not in SAFE_METHODS and not session.echoed_by(
                request.headers.get(CSRF_HEADER)
            ):
                raise ApiError(403, "forbidden", "missing or wrong X-CSRF-Token header")
            return access
        raise ApiError(
            401,
            "unauthorized",
            "missing credentials (Authorization: Bearer <API key>, or log in at /login)",
            _CHALLENGE,
        )


BEARER = HTTPBearer(
    auto_error=False,
    description="A user's API key, or SANAD_API_TOKEN (an admin); needed on every /api route "
    "once users exist or a token is set.",
)


async def current_access(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> Access:
    """The FastAPI dependency: the caller's rights, by the app's Callers (the bearer scheme
    is declared for the OpenAPI schema; `resolve` reads the header itself)."""
    callers: Callers = request.app.state.callers
    return callers.resolve(request)


CallerAccess = Annotated[Access, Depends(current_access)]
