"""What every format reader returns, and how it says a file is not ingested."""

from __future__ import annotations

from dataclasses import dataclass


class SkipFile(Exception):
    """An input that is not ingested; `reason` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Extracted:
    """The text a reader found (citations index into it) and the metadata the input states.

    `page_starts[i]` is the offset in `text` where page i + 1 begins (PDF only; empty
    otherwise), so page_starts[0] == 0. `published` is an ISO date (YYYY-MM-DD) stated by the
    input itself (page metadata, feed item, file properties), never the time of reading.
    """

    text: str
    title: str = ""
    author: str | None = None
    site: str | None = None
    url: str | None = None
    published: str | None = None
    page_starts: tuple[int, ...] = ()
    summary_only: bool = False  # a feed item's summary, standing in for its unreadable page
