"""Who the browser app is serving: a Gradio request's caller, as their view of the engine."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from assistant.access import OWNER
from assistant.caller_view import CallerView
from assistant.engine import Engine

Viewer = Callable[[gr.Request | None], CallerView]


def owner_viewer(engine: Engine) -> Viewer:
    """Every request is the corpus owner's (a local, single-user Sanad; tests)."""
    return lambda request: CallerView(engine, OWNER)
