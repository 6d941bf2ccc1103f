"""Handlers name what they update; `keyed` turns the names into the event's components.

A handler returns (or yields) a dict such as `{"transcript": html, "conversation": cid}`:
only the outputs it names change (the others are skipped), and the same handler is testable
without a page.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import gradio as gr
from gradio.blocks import Block

Outputs = dict[str, Any]


def keyed(
    handler: Callable[..., Any], components: Mapping[str, Block], names: tuple[str, ...]
) -> tuple[Callable[..., Any], list[Block]]:
    """The handler with its named outputs mapped to components, and the event's outputs."""
    chosen = {name: components[name] for name in names}

    def mapped(out: Outputs) -> Any:
        unknown = set(out) - set(chosen)
        if unknown:
            raise KeyError(f"{handler.__name__} updates outputs not wired: {sorted(unknown)}")
        values = [out.get(name, gr.skip()) for name in chosen]  # in the event's output order
        return values[0] if len(values) == 1 else values

    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def streaming(*args: Any, **kwargs: Any) -> Any:
            for out in handler(*args, **kwargs):
                yield mapped(out)

        return streaming, list(chosen.values())

    @functools.wraps(handler)
    def once(*args: Any, **kwargs: Any) -> Any:
        return mapped(handler(*args, **kwargs))

    return once, list(chosen.values())
