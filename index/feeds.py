"""RSS and Atom feeds (feedparser): their items, and each item's article as a document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from html import escape, unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser

from index.formats.base import Extracted, SkipFile
from index.formats.html import article_text
from index.web import FetchRules, fetch, is_http_url, read_url, too_large

_FULL_TEXT_CHARS = 400
_REASON_CHARS = 80
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HOST_PREFIX = re.compile(r"^(?:www|w\d+)\.")


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed; `key` (its link, else its id) is the document's source identity."""

    key: str
    link: str | None = None
    title: str | None = None
    author: str | None = None
    published: str | None = None
    content_html: str | None = None
    summary_html: str | None = None


@dataclass
class Feed:
    """A parsed feed: its own title and link, and its items in feed order."""

    title: str | None
    link: str | None
    items: list[FeedItem]


def read_feed(data: bytes, location: str) -> Feed:
    """Parse RSS/Atom bytes; relative links resolve against `location` when it is a URL."""
    headers = {"content-type": "application/xml"}
    if is_http_url(location):
        headers["content-location"] = location
    parsed = feedparser.parse(data, response_headers=headers)
    items = [item for item in map(_item, parsed.entries) if item is not None]
    if not items and (parsed.bozo or not parsed.version):  # broken XML that yields nothing usable
        problem = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise SkipFile(f"not a valid RSS/Atom feed: {str(problem)[:_REASON_CHARS]}")
    return Feed(
        title=_line(parsed.feed.get("title")), link=parsed.feed.get("link") or None, items=items
    )


def _item(entry: Any) -> FeedItem | None:
    """The item of a feedparser entry; None when it has neither link nor id to be known by."""
    link = entry.get("link") or None
    key = link or entry.get("id")
    if not key:
        return None
    contents = entry.get("content") or []
    full = next((c for c in contents if c.get("type") in _HTML_TYPES), None) or next(
        iter(contents), None
    )
    # feedparser copies the content into `summary` when an item has none: summary_detail is unset
    summary = entry.get("summary_detail")
    author = entry.get("author_detail") or {}
    return FeedItem(
        key=key,
        link=link,
        title=_line(entry.get("title")),
        author=_line(author.get("name") or entry.get("author")),
        published=_item_date(entry),
        content_html=_as_html(full),
        summary_html=_as_html(summary),
    )


def _line(value: str | None) -> str | None:
    """Metadata on one line, or None when empty."""
    return " ".join((value or "").split()) or None


def _as_html(detail: Any) -> str | None:
    """The HTML of a feedparser text construct (plain text escaped into paragraphs)."""
    if not detail or not detail.get("value"):
        return None
    if detail.get("type") in _HTML_TYPES:
        return detail["value"]
    lines = (line.strip() for line in detail["value"].splitlines())
    return "".join(f"<p>{escape(line)}</p>" for line in lines if line)


def _item_date(entry: Any) -> str | None:
    """The item's date (published, else updated) as YYYY-MM-DD, in the time zone it states."""
    for field in ("published", "updated"):
        parsed = entry.get(f"{field}_parsed")
        if parsed:
            utc = date(*parsed[:3])
            # feedparser converts to UTC; the publisher's calendar day is the stated one
            stated = _stated_date(entry.get(field) or "")
            near = stated is not None and abs(stated - utc) <= timedelta(days=1)
            return (stated if near else utc).isoformat()
    return None


def _stated_date(raw: str) -> date | None:
    """The calendar day of an RFC 822 or ISO 8601 timestamp in its own offset, if readable."""
    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            return parse(raw.strip()).date()
        except (ValueError, TypeError, IndexError):
            continue
    return None


def load_feed(location: str, rules: FetchRules) -> Feed:
    """The feed at an http(s) URL or in a local file."""
    max_bytes = rules.max_bytes
    if is_http_url(location):
        fetched = fetch(location, rules)
        return read_feed(fetched.data, fetched.url)
    path = Path(location)
    try:
        if path.stat().st_size > max_bytes:
            raise too_large(max_bytes)
        data = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}") from exc
    return read_feed(data, location)


def new_items(feed: Feed, known: set[str]) -> list[FeedItem]:
    """The items whose key is not in `known`, in feed order, each key once."""
    seen = set(known)
    fresh = []
    for item in feed.items:
        if item.key not in seen:
            seen.add(item.key)
            fresh.append(item)
    return fresh


def item_document(item: FeedItem, feed: Feed, rules: FetchRules) -> Extracted:
    """The item's article: its full content from the feed when it carries one, else its page."""
    found = _full_content(item)
    if found is None:
        if not item.link:
            raise SkipFile("no full text in the feed item and no link")
        try:
            found = read_url(item.link, rules)
        except SkipFile:
            found = _summary(item)  # the page cannot be read now: its summary stands in
            if found is None:
                raise
    url = item.link or found.url
    return Extracted(
        text=found.text,
        title=item.title or found.title,
        author=item.author or found.author,
        site=_stated_site(found.site, url) or feed.title,
        url=url,
        published=item.published or found.published,
        summary_only=found.summary_only,
    )


def _full_content(item: FeedItem) -> Extracted | None:
    """The item's own content when it is the article, not a teaser; None otherwise."""
    if not item.content_html:
        return None
    found = Extracted(text=article_text(item.content_html), url=item.link)
    if not found.text:
        return None
    summary = _plain_length(item.summary_html)
    if len(found.text) >= _FULL_TEXT_CHARS or (summary and len(found.text) >= 2 * summary):
        return found
    return None


def _summary(item: FeedItem) -> Extracted | None:
    """The item's summary as a summary-only document (replaced by the page once it reads)."""
    text = article_text(item.summary_html) if item.summary_html else ""
    return Extracted(text=text, url=item.link, summary_only=True) if text else None


def _plain_length(markup: str | None) -> int:
    """Characters of text in an HTML snippet (tags dropped)."""
    return len(" ".join(unescape(re.sub(r"<[^>]*>", " ", markup or "")).split()))


def _stated_site(site: str | None, url: str | None) -> str | None:
    """The site name unless it is only the URL's host name (trafilatura's fallback)."""
    if not site or not url:
        return site
    host = _HOST_PREFIX.sub("", urlsplit(url).netloc.lower())
    return None if site.lower() == host else site
