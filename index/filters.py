"""Which documents a search may use: languages, documents, sources and a publication-date range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from index.provenance import DEFAULT_COLLECTION


def host_of(url: str) -> str:
    """The host of a URL without a leading "www.", lower-cased ("" when there is none)."""
    host = (urlparse(url).hostname or "") if "://" in url else ""
    return host.removeprefix("www.")


@dataclass(frozen=True)
class DocFacts:
    """What the filters test of one document: the names it answers to and its date."""

    keys: frozenset[str]
    published: dt.date | None
    collection: str = DEFAULT_COLLECTION


def facts_of(meta: Mapping[str, Any]) -> DocFacts:
    """A document's filter facts from its stored (chunk or document) metadata."""
    collection = str(meta.get("collection") or DEFAULT_COLLECTION)
    return DocFacts(frozenset(source_keys(meta)), parse_date(meta.get("published")), collection)


def source_keys(meta: Mapping[str, Any]) -> set[str]:
    """The names a document answers to in a source filter (case-folded).

    Its site name ("Reuters"), its source (a file like "seeds/000.txt", or a URL), every
    folder above a file source ("seeds"), and the host of its URL ("reuters.com").
    """
    keys = {str(meta.get(field) or "").casefold() for field in ("site", "source", "url")}
    source = str(meta.get("source") or "")
    if "://" not in source:
        parts = source.split("/")
        keys |= {"/".join(parts[:i]).casefold() for i in range(1, len(parts))}
    for field in ("source", "url"):
        keys.add(host_of(str(meta.get(field) or "")))
    keys.discard("")
    return keys


@dataclass(frozen=True)
class Filters:
    """Restrictions on the passages a search may return; empty fields restrict nothing.

    Dates are inclusive (`published_after` is the first day allowed, `published_before` the
    last). A document that states no publication date is left out whenever a date bound is
    set: nothing says it falls in the range.

    `collections` is what the caller may read: None is every collection, an empty set none.
    It is set from the caller's rights (assistant/access.py), never from a request.
    """

    langs: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    published_after: dt.date | None = None
    published_before: dt.date | None = None
    collections: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        langs: Sequence[str] | None = None,
        doc_ids: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        published_after: dt.date | None = None,
        published_before: dt.date | None = None,
    ) -> Filters:
        """Build from optional lists (None or empty: no restriction); checks the date range."""
        if published_after and published_before and published_after > published_before:
            raise ValueError(
                f"the date range is empty: {published_after.isoformat()} is after "
                f"{published_before.isoformat()}"
            )
        return cls(
            langs=tuple(dict.fromkeys(langs or ())),
            doc_ids=tuple(dict.fromkeys(doc_ids or ())),
            sources=tuple(dict.fromkeys(s.strip() for s in sources or () if s.strip())),
            published_after=published_after,
            published_before=published_before,
        )

    @property
    def restricts_documents(self) -> bool:
        """Whether any filter other than the languages applies."""
        dated = self.published_after or self.published_before
        return bool(self.doc_ids or self.sources or dated or self.collections is not None)

    def describe(self) -> dict[str, Any]:
        """The filters that apply, JSON-ready (empty when nothing is restricted)."""
        named: dict[str, Any] = {
            "languages": list(self.langs),
            "doc_ids": list(self.doc_ids),
            "sources": list(self.sources),
            "published_after": self.published_after and self.published_after.isoformat(),
            "published_before": self.published_before and self.published_before.isoformat(),
        }
        return {name: value for name, value in named.items() if value}

    def allows(self, doc_id: str, facts: DocFacts) -> bool:
        """Whether a document (its id and filter facts) passes the document filters."""
        if self.collections is not None and facts.collection not in self.collections:
            return False
        if self.doc_ids and doc_id not in self.doc_ids:
            return False
        if self.sources and not any(s.casefold() in facts.keys for s in self.sources):
            return False
        if self.published_after or self.published_before:
            published = facts.published
            if published is None:
                return False
            if self.published_after and published < self.published_after:
                return False
            if self.published_before and published > self.published_before:
                return False
        return True


def parse_date(value: Any) -> dt.date | None:
    """An ISO date (YYYY-MM-DD, or the date part of a timestamp), or None."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
