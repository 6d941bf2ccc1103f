"""The login page (ar, en, id; right to left in Arabic), and signing in and out of a session."""

from __future__ import annotations

import html
from string import Template
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ui.api.callers import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, Callers
from ui.assets import asset

PAGE_TEXT = {
    "en": {
        "title": "Sign in",
        "user_label": "User name",
        "password_label": "Password",
        "submit": "Sign in",
        "failed": "Wrong user name or password, or the account is disabled.",
    },
    "ar": {
        "title": "تسجيل الدخول",
        "user_label": "اسم المستخدم",
        "password_label": "كلمة المرور",
        "submit": "دخول",
        "failed": "اسم المستخدم أو كلمة المرور غير صحيحة، أو الحساب معطل.",
    },
    "id": {
        "title": "Masuk",
        "user_label": "Nama pengguna",
        "password_label": "Kata sandi",
        "submit": "Masuk",
        "failed": "Nama pengguna atau kata sandi salah, atau akun dinonaktifkan.",
    },
}


def login_page(lang: str, failed: bool = False) -> str:
    """The login form in a language (English for any other), its failure shown."""
    lang = lang if lang in PAGE_TEXT else "en"
    text = {key: html.escape(value) for key, value in PAGE_TEXT[lang].items()}
    error = f'<p class="error" role="alert">{text["failed"]}</p>' if failed else ""
    fields = {**text, "lang": lang, "dir": "rtl" if lang == "ar" else "ltr", "error": error}
    return Template(asset("login.html")).substitute(fields)


def login_routes(callers: Callers) -> APIRouter:
    """GET and POST /login, POST /logout (cookies marked Secure when the page came over
    HTTPS)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    async def page(lang: str = "en") -> HTMLResponse:
        """The login form."""
        return HTMLResponse(login_page(lang))

    @router.post("/login")
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
        lang: str = "en",
    ) -> Response:
        """Sign in: a session cookie and its CSRF token, then the app; 401 and the form again
        on failure (counted by the login throttle)."""
        access = await run_in_threadpool(callers.accounts.login, username, password)
        if access is None or access.user is None:
            return HTMLResponse(login_page(lang, failed=True), status_code=401)
        token, session = await run_in_threadpool(callers.accounts.open_session, access.user)
        response = RedirectResponse("/", status_code=303)
        age = int(callers.accounts.session_seconds)
        secure = request.url.scheme == "https"
        response.set_cookie(
            SESSION_COOKIE, token, max_age=age, httponly=True, samesite="lax", secure=secure
        )
        response.set_cookie(CSRF_COOKIE, session.csrf, max_age=age, samesite="lax", secure=secure)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        """Sign out: the session ends and its cookies are cleared."""
        token = request.cookies.get(SESSION_COOKIE, "")
        session = await run_in_threadpool(callers.accounts.session, token)
        if session is not None:
            echoed = request.headers.get(CSRF_HEADER) or (await request.form()).get("csrf")
            if not session.echoed_by(echoed if isinstance(echoed, str) else None):
                return Response(status_code=403)
            await run_in_threadpool(callers.accounts.close_session, token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        response.delete_cookie(CSRF_COOKIE)
        return response

    return router
