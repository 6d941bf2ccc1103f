"""Where a text comes from: one value for a document's provenance at every hop.

Reading, storing, citing and every output (API, CLI, UI, exports) carry a `Provenance`: the
title, the source (the input's identity: a file as ingested, or a URL), language, date,
publisher, URL, author, and its `Pages`. Chroma metadata holds no nested values, so
`to_meta`/`from_meta` are the one place where it is flattened and read back.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Pages:
    """Page numbers over a text: page `first` begins at `starts[0]`, page first+i at starts[i].

    A whole document starts at page 1 at offset 0; a chunk starts at the page its first
    character lies on. Formats without pages have no starts (every page is None).
    """

    first: int = 1
    starts: tuple[int, ...] = ()

    def at(self, offset: int) -> int | None:
        """The page a text offset lies on (None for formats without pages)."""
        if not self.starts:
            return None
        return self.first + max(bisect_right(self.starts, offset) - 1, 0)

    def within(self, start: int, end: int) -> Pages:
        """The pages of the span [start, end): its first page, and the breaks inside it."""
        if not self.starts:
            return self
        inside = tuple(s for s in self.starts if start < s < end)
        return Pages(self.at(start) or self.first, (start, *inside))

    @property
    def count(self) -> int:
        """How many pages begin in this text (0 for formats without pages)."""
        return len(self.starts)


DEFAULT_COLLECTION = "default"  # where documents go unless a collection is named (the seeds)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # also a folder of uploads


def checked_name(name: str, what: str = "collection") -> str:
    """A collection (or user) name: 1-64 ASCII letters, digits, '.', '_' or '-', not starting
    with a punctuation mark (never a path); ValueError otherwise."""
    if not NAME_PATTERN.match(name or ""):
        raise ValueError(
            f"bad {what} name {name!r}: use 1-64 letters (a-z, A-Z), digits, '.', '_' or '-'"
        )
    return name


@dataclass(frozen=True)
class Provenance:
    """A document's origin and what a reader checks a citation against."""

    title: str
    source: str  # the input's identity: a file under the folder given, or a URL
    lang: str
    published: str | None = None  # YYYY-MM-DD when stated
    site: str | None = None  # the publisher's name, e.g. from the page or the feed
    url: str | None = None
    author: str | None = None
    pages: Pages = field(default_factory=Pages)
    summary_only: bool = False  # a feed item's summary: its page could not be read (yet)
    collection: str = DEFAULT_COLLECTION  # who may read it: grants are per collection

    def within(self, start: int, end: int) -> Provenance:
        """The provenance of a span of the text (its own pages)."""
        return replace(self, pages=self.pages.within(start, end))

    def to_meta(self) -> dict[str, Any]:
        """Chroma metadata: flat values, nothing None or empty."""
        values = {
            "title": self.title,
            "source": self.source,
            "lang": self.lang,
            "published": self.published,
            "site": self.site,
            "url": self.url,
            "author": self.author,
            "page_first": self.pages.first if self.pages.starts else None,
            "page_starts": ",".join(map(str, self.pages.starts)),
            "summary_only": self.summary_only,
            "collection": self.collection,
        }
        return {key: value for key, value in values.items() if value}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Provenance:
        """Read back what `to_meta` wrote (and the page fields of older data)."""
        starts = _offsets(meta.get("page_starts"))
        first = int(meta.get("page_first", 1))
        if "page" in meta:  # chunks written before one encoding: page + breaks inside
            first = int(meta["page"])
            starts = (int(meta["start"]), *_offsets(meta.get("page_breaks")))
        return cls(
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            lang=str(meta.get("lang", "other")),
            published=meta.get("published") or None,
            site=meta.get("site") or None,
            url=meta.get("url") or None,
            author=meta.get("author") or None,
            pages=Pages(first, starts),
            summary_only=bool(meta.get("summary_only", False)),
            collection=str(meta.get("collection") or DEFAULT_COLLECTION),
        )


def _offsets(value: Any) -> tuple[int, ...]:
    """Offsets stored as a comma-separated string (Chroma metadata holds no lists)."""
    return tuple(int(part) for part in str(value or "").split(",") if part)
