"""Browser-test fixtures shared by the UI tests: the served app, a headless chromium, a page.

A test module that uses them names this module in `pytest_plugins` and defines a module-scoped
`ui_engine` fixture: the engine its server answers from. The modules also import its helpers
(ask, screenshot) before pytest loads it as a plugin, so pytest leaves its asserts as they are:
PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.engine import Engine
from benchmarks.pdf_pages import CHROMIUM_ARGS as LAUNCH_ARGS
from tests.conftest import serving
from ui.server import create_app

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server_url(ui_engine: Engine) -> Iterator[str]:
    """The real app (API + UI) served by uvicorn in a background thread."""
    with serving(create_app(ui_engine)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    """One headless chromium (Debian's; never `playwright install`) for the module."""
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=LAUNCH_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, server_url: str) -> Iterator[Any]:
    """A fresh page on the UI, failing the test on any dialog (alert, confirm, prompt)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server_url)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    page.goto(server_url + "/")
    page.wait_for_selector("#sanad-question textarea")
    yield page
    context.close()


def ask(page: Any, question: str) -> Any:
    """Type a question, send it and wait for its finished answer; return that message."""
    answers = page.locator("#sanad-transcript .sanad-bot:not(.sanad-pending)")
    before = answers.count()
    page.fill("#sanad-question textarea", question)
    page.press("#sanad-question textarea", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll("
        "'#sanad-transcript .sanad-bot:not(.sanad-pending)').length > n",
        arg=before,
        timeout=TIMEOUT_MS,
    )
    return answers.nth(before)


def screenshot(page: Any, name: str, full_page: bool = True) -> None:
    """Save a screenshot (of the whole page, or of the viewport) to tests/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)
