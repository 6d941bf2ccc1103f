"""The browser app's stylesheet and scripts, kept as files in ui/static/ (package data)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def asset(name: str) -> str:
    """The text of ui/static/<name>."""
    return resources.files("ui").joinpath("static", name).read_text(encoding="utf-8")
