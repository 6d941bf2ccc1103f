"""One process serving the JSON API (under /api) and the Gradio UI (at /) over one engine."""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse

from assistant.caller_view import CallerView
from assistant.engine import Engine
from index.chunking import token_count
from index.language import ngram_identifier
from index.owner import DataDirLock, ServerAddress, announce
from index.store import StoreError
from ui.api.app import create_api
from ui.api.callers import Callers
from ui.api.login import login_routes
from ui.app import build_ui
from ui.viewer import Viewer
from ui.workspace import ExportFiles

log = logging.getLogger("sanad.server")
WARM_UP_QUESTION = "warm up"
OPEN_USER = "local"  # the browser's user in an open, single-user Sanad
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def token_auth(token: str) -> Callable[[str, str], bool] | None:
    """Gradio's login check: any user name, the API token as password (None when open)."""
    if not token:
        return None
    expected = token.encode()

    def check(username: str, password: str) -> bool:
        return hmac.compare_digest((password or "").encode(), expected)

    return check


def browser_user(callers: Callers) -> Callable[[Request], str | None]:
    """Gradio's auth dependency: the signed-in user's name (None: no live session)."""

    def user(request: Request) -> str | None:
        if callers.open:
            return OPEN_USER
        access = callers.session_access(request)
        return access.user if access is not None else None

    return user


def browser_viewer(engine: Engine, callers: Callers) -> Viewer:
    """Each Gradio request's caller, by the name the auth dependency gave it."""
    return lambda request: CallerView(engine, callers.named(request.username if request else None))


def create_app(engine: Engine, local_key: str = "") -> FastAPI:
    """The API app with the Gradio UI mounted at `/`: open, behind the API token (no users),
    or behind the login page once users exist (`sanad users add`)."""
    app = create_api(engine, local_key)
    callers: Callers = app.state.callers
    token_only = bool(engine.settings.api_token) and not engine.accounts.has_users()
    if not token_only:  # with the token alone, Gradio's own login page takes the token
        app.include_router(login_routes(callers))

    @app.middleware("http")
    async def to_login(request: Request, call_next: Callable[[Request], Any]) -> Any:
        """The browser root without a session shows the login page once users exist."""
        if request.method == "GET" and request.url.path == "/" and not token_only:
            if not callers.open and callers.session_access(request) is None:
                return RedirectResponse("/login", status_code=303)
        return await call_next(request)

    exports = ExportFiles()
    blocks = build_ui(engine, exports=exports, viewer=browser_viewer(engine, callers))
    login: dict[str, Any] = (
        {
            "auth": token_auth(engine.settings.api_token),
            "auth_message": "Sanad: enter the API token as the password (any user name).",
        }
        if token_only
        else {"auth_dependency": browser_user(callers)}
    )
    mounted = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        **login,
        footer_links=["api"],
        run_history=False,
        ssr_mode=False,
        max_file_size=int(engine.settings.max_file_mb * 2**20),
    )
    inner = mounted.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        """Gradio's and the API's lifespan; on shutdown the conversation downloads go too
        (uvicorn ends a SIGTERM by raising it again, so exit handlers would not run)."""
        try:
            async with inner(app) as state:
                yield state
        finally:
            exports.close()

    mounted.router.lifespan_context = lifespan
    return mounted


def warm_up(engine: Engine) -> None:
    """Load the models and the derived index now, so the first question and ingest are fast."""
    ngram_identifier()
    token_count(WARM_UP_QUESTION)  # the chunker's tokenizer
    engine.embedder.embed_passages([WARM_UP_QUESTION])  # the ingestion path's compiled model
    engine.embedder.embed_queries([WARM_UP_QUESTION])
    engine.retriever.search(WARM_UP_QUESTION, 1)
    engine.library.sweep_staged()  # what uploads killed mid-way left


def http_url(host: str, port: int) -> str:
    """The http URL of host:port, an IPv6 address in brackets (http://[::1]:8000)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def local_url(host: str, port: int) -> str:
    """Where processes on this machine reach a server bound to host:port (loopback for the
    wildcard addresses)."""
    return http_url("127.0.0.1" if host in ("0.0.0.0", "::", "") else host, port)


def serve(engine: Engine, host: str, port: int) -> None:
    """Own the data directory, warm the model, then serve API and UI with uvicorn (one
    process, one loaded model); other sanad processes send their work here (index/owner.py).

    Bound to another address than loopback, it refuses to start open: it needs users or
    SANAD_API_TOKEN."""
    if host not in LOOPBACK and not engine.settings.api_token and not engine.accounts.has_users():
        raise StoreError(
            f"refusing to serve on {host} with no users and no SANAD_API_TOKEN: anyone who "
            "reaches it could read and change everything. Add an admin (`sanad users add NAME "
            "--role admin --password-stdin`), set SANAD_API_TOKEN, or serve on 127.0.0.1"
        )
    key = ""
    if not engine.settings.chroma_url:  # embedded Chroma: this process owns the directory
        data_dir = engine.settings.data_dir
        lock = DataDirLock(data_dir)  # held for the process's lifetime
        server = lock.take(lambda: log.warning("waiting for another sanad process on %s", data_dir))
        if server is not None:
            raise StoreError(f"the server at {server.url} already has {data_dir} open")
        key = secrets.token_urlsafe(32)
        announce(data_dir, ServerAddress(local_url(host, port), key, os.getpid()))
    warm_up(engine)
    app = create_app(engine, key)
    log.info("Sanad on %s (UI at /, API at /api)", http_url(host, port))
    uvicorn.run(app, host=host, port=port, log_level="info")
